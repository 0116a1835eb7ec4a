/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nonce.c: the replay cache (see nonce.h). Nonces live in a ring, oldest
 * first (all share one lifetime, so expiry is FIFO), indexed by hash
 * chains; both are allocated once at the configured size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nonce.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/util.h"

#define JOURNAL "nonces"
#define MAGIC "CHAOSNC1"
#define MAGIC_LEN 8
#define REC_LEN (SIGN_NONCE_LEN + 8)

struct nonce_ent {
	unsigned char nonce[SIGN_NONCE_LEN];
	int64_t expires;
	uint32_t next;		/* next ring index + 1 in this chain; 0 ends it */
};

struct nonce_cache {
	int64_t lifetime;
	struct nonce_ent *ring;
	uint32_t cap, head, count;
	uint32_t *buckets;	/* ring index + 1 of the chain head; 0 = empty */
	uint32_t nbuckets;	/* power of two */
	int fd;			/* the journal, O_APPEND; -1 without one */
	bool journal_broken;	/* opening failed: refuse rather than forget */
	size_t records;		/* records in the journal */
	char path[512], tmp[520];
};

struct nonce_cache *
nonce_new(size_t cap, int64_t lifetime)
{
	struct nonce_cache *c;

	if (cap == 0 || cap > (1u << 24))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->lifetime = lifetime;
	c->cap = (uint32_t)cap;
	c->fd = -1;
	for (c->nbuckets = 64; c->nbuckets < c->cap; c->nbuckets <<= 1)
		;
	c->ring = calloc(c->cap, sizeof(*c->ring));
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->ring == NULL || c->buckets == NULL) {
		nonce_free(c);
		return NULL;
	}
	return c;
}

void
nonce_free(struct nonce_cache *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->ring);
	free(c->buckets);
	free(c);
}

size_t
nonce_count(const struct nonce_cache *c)
{
	return c->count;
}

size_t
nonce_journal_records(const struct nonce_cache *c)
{
	return c->records;
}

/* Nonces are random, but do not rely on it: mix all of them. */
static uint32_t
nonce_hash(const struct nonce_cache *c, const unsigned char *n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < SIGN_NONCE_LEN; i++)
		h = (h ^ n[i]) * 16777619u;
	return h & (c->nbuckets - 1);
}

static void
unlink_ent(struct nonce_cache *c, uint32_t idx)
{
	uint32_t *link = &c->buckets[nonce_hash(c, c->ring[idx].nonce)];

	while (*link != 0) {
		if (*link - 1 == idx) {
			*link = c->ring[idx].next;
			return;
		}
		link = &c->ring[*link - 1].next;
	}
}

static bool
seen(const struct nonce_cache *c, const unsigned char *nonce)
{
	uint32_t i = c->buckets[nonce_hash(c, nonce)];

	for (; i != 0; i = c->ring[i - 1].next)
		if (memcmp(c->ring[i - 1].nonce, nonce, SIGN_NONCE_LEN) == 0)
			return true;
	return false;
}

static void
expire(struct nonce_cache *c, int64_t now)
{
	while (c->count > 0 && c->ring[c->head].expires <= now) {
		unlink_ent(c, c->head);
		c->head = (c->head + 1) % c->cap;
		c->count--;
	}
}

static bool
insert(struct nonce_cache *c, const unsigned char *nonce, int64_t expires)
{
	uint32_t idx, b;

	if (c->count == c->cap)
		return false;
	idx = (c->head + c->count) % c->cap;
	memcpy(c->ring[idx].nonce, nonce, SIGN_NONCE_LEN);
	c->ring[idx].expires = expires;
	b = nonce_hash(c, nonce);
	c->ring[idx].next = c->buckets[b];
	c->buckets[b] = idx + 1;
	c->count++;
	return true;
}

static void
rec_encode(unsigned char *rec, const unsigned char *nonce, int64_t expires)
{
	uint64_t v = (uint64_t)expires;
	size_t i;

	memcpy(rec, nonce, SIGN_NONCE_LEN);
	for (i = 0; i < 8; i++)
		rec[SIGN_NONCE_LEN + i] = (unsigned char)(v >> (8 * i));
}

static int64_t
rec_expires(const unsigned char *rec)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)rec[SIGN_NONCE_LEN + i] << (8 * i);
	return (int64_t)v;
}

/*
 * Replace the journal with the live entries only: a temporary file,
 * synced, renamed over the old one. Returns 0 or -1 (errno set); on
 * failure the old journal stays in use.
 */
static int
rewrite(struct nonce_cache *c)
{
	unsigned char rec[REC_LEN];
	char dir[512], *slash;
	uint32_t i;
	int fd, dfd, saved;

	if ((fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return -1;
	if (file_write_all(fd, MAGIC, MAGIC_LEN) != 0)
		goto fail;
	for (i = 0; i < c->count; i++) {
		const struct nonce_ent *e = &c->ring[(c->head + i) % c->cap];

		rec_encode(rec, e->nonce, e->expires);
		if (file_write_all(fd, rec, sizeof(rec)) != 0)
			goto fail;
	}
	if (fsync(fd) != 0 || rename(c->tmp, c->path) != 0)
		goto fail;
	(void)str_copy(dir, sizeof(dir), c->path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	/* The new file is opened for appending; the old descriptor goes. */
	close(fd);
	if ((fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->records = c->count;
	return 0;
fail:
	saved = errno;
	close(fd);
	(void)unlink(c->tmp);
	errno = saved;
	return -1;
}

static int
by_expiry(const void *a, const void *b)
{
	const struct nonce_ent *x = a, *y = b;

	return (x->expires > y->expires) - (x->expires < y->expires);
}

/* Start a journal holding what the cache holds now. */
static int
fresh(struct nonce_cache *c, struct errbuf *eb)
{
	if (rewrite(c) != 0)
		return err_set(eb, CE_SYSTEM, "cannot write the replay journal '%s': %s",
		    c->path, strerror(errno));
	return 0;
}

int
nonce_journal_open(struct nonce_cache *c, const char *dir, int64_t now, struct errbuf *eb)
{
	unsigned char *buf = NULL;
	char bad[540];
	struct stat st;
	size_t max = MAGIC_LEN + (size_t)c->cap * 2 * REC_LEN, n, i;
	ssize_t got;
	int fd = -1, r;

	c->journal_broken = true;
	if (snprintf(c->path, sizeof(c->path), "%s/%s", dir, JOURNAL) >= (int)sizeof(c->path) ||
	    snprintf(c->tmp, sizeof(c->tmp), "%s.tmp", c->path) >= (int)sizeof(c->tmp))
		return err_set(eb, CE_INVALID, "state_dir path too long");
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		if (errno != ENOENT)
			return err_set(eb, CE_SYSTEM, "cannot open the replay journal "
			    "'%s': %s", c->path, strerror(errno));
		if ((r = fresh(c, eb)) == 0)
			c->journal_broken = false;
		return r;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max ||
	    (size_t)st.st_size < MAGIC_LEN) {
		close(fd);
		goto corrupt;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return err_set(eb, CE_NOMEM, "out of memory reading the replay journal");
	}
	for (n = 0; n < (size_t)st.st_size; n += (size_t)got) {
		got = read(fd, buf + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR) {
			got = 0;
			continue;
		}
		if (got <= 0)
			break;
	}
	close(fd);
	if (n != (size_t)st.st_size || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
		free(buf);
		goto corrupt;
	}
	/* A torn last record (a crash mid-append) is dropped, not fatal. */
	for (i = MAGIC_LEN; i + REC_LEN <= n; i += REC_LEN) {
		int64_t exp = rec_expires(buf + i);

		/* Expired, or dated beyond any lifetime from now: nothing to keep. */
		if (exp <= now || exp > now + c->lifetime + 86400)
			continue;
		if (seen(c, buf + i))
			continue;
		if (!insert(c, buf + i, exp))
			break;
	}
	free(buf);
	/*
	 * This code appends in expiry order, but a damaged or edited journal
	 * may not be: FIFO expiry needs an ordered ring, so sort what was
	 * loaded (the cache was empty, so it starts at index 0) and rebuild
	 * the chains.
	 */
	if (c->head == 0 && c->count > 1) {
		uint32_t a;

		qsort(c->ring, c->count, sizeof(*c->ring), by_expiry);
		memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
		for (a = 0; a < c->count; a++) {
			uint32_t h = nonce_hash(c, c->ring[a].nonce);

			c->ring[a].next = c->buckets[h];
			c->buckets[h] = a + 1;
		}
	}
	if ((r = fresh(c, eb)) == 0)
		c->journal_broken = false;
	return r;
corrupt:
	(void)snprintf(bad, sizeof(bad), "%s.corrupt", c->path);
	(void)rename(c->path, bad);
	if ((r = fresh(c, eb)) != 0)
		return r;
	c->journal_broken = false;
	return err_set(eb, CE_INVALID, "the replay journal '%s' was unreadable (kept as "
	    "'%s'); requests signed before now plus the signature window are refused",
	    c->path, bad);
}

enum nonce_result
nonce_check(struct nonce_cache *c, const unsigned char nonce[SIGN_NONCE_LEN], int64_t now,
    bool sync)
{
	unsigned char rec[REC_LEN];
	int64_t expires = now + c->lifetime;

	expire(c, now);
	if (seen(c, nonce))
		return NONCE_REPLAY;
	if (c->count == c->cap)
		return NONCE_FULL;
	if (c->journal_broken)
		return NONCE_IO;
	/* A ring keeps its order: an entry never expires before the last one. */
	if (c->count > 0) {
		int64_t last = c->ring[(c->head + c->count - 1) % c->cap].expires;

		if (expires < last)
			expires = last;
	}
	if (c->fd >= 0) {
		if (c->records >= 2 * (size_t)c->cap && rewrite(c) != 0)
			return NONCE_IO;
		rec_encode(rec, nonce, expires);
		if (file_write_all(c->fd, rec, sizeof(rec)) != 0) {
			/* A partial record would shift the rest: rewrite next time. */
			c->records = 2 * (size_t)c->cap;
			return NONCE_IO;
		}
		c->records++;
		if (sync && fdatasync(c->fd) != 0)
			return NONCE_IO;
	}
	(void)insert(c, nonce, expires);
	return NONCE_OK;
}
