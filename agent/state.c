/* SPDX-License-Identifier: Apache-2.0 */
/* state.c: atomic state file writes and crash recovery. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "registry.h"
#include "state.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"

#define STATE_FILE "state.json"
#define STATE_MAX (1024 * 1024)

static int
path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? CE_INVALID : 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write text to dir/STATE_FILE atomically. */
static int
write_atomic(const char *dir, const char *text, struct errbuf *eb)
{
	char tmp[512], dst[512];
	int fd = -1, dfd = -1, r = CE_SYSTEM;

	if (path_join(tmp, sizeof(tmp), dir, STATE_FILE ".tmp") != 0 ||
	    path_join(dst, sizeof(dst), dir, STATE_FILE) != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_set(eb, CE_SYSTEM, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		err_set(eb, CE_SYSTEM, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(eb, CE_SYSTEM, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		err_set(eb, CE_SYSTEM, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	/* The rename itself must reach the disk before the fault takes effect. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		err_set(eb, CE_SYSTEM, "cannot sync '%s': %s", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	return r;
}

int
state_save(const char *dir, struct registry *reg, struct errbuf *eb)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	struct fault **all;
	char *text = NULL;
	size_t i, n;
	int r = CE_NOMEM;

	if (doc == NULL || cJSON_AddNumberToObject(doc, "version", 1) == NULL ||
	    (arr = cJSON_AddArrayToObject(doc, "faults")) == NULL)
		goto out;
	all = registry_all(reg, &n);
	for (i = 0; i < n; i++) {
		struct fault *f = all[i];
		cJSON *o;

		/* No record yet (a target being resolved): nothing to undo. */
		if ((f->state != FAULT_PENDING && f->state != FAULT_ACTIVE &&
		    !f->revert_failed) || f->record == NULL)
			continue;
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o))
			goto out;
		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "type", f->req.spec->name);
		cJSON_AddNumberToObject(o, "expires_ms", (double)f->expires_ms);
		cJSON_AddItemToObject(o, "record", cJSON_Duplicate(f->record, 1));
	}
	if ((text = cJSON_Print(doc)) == NULL)
		goto out;
	r = write_atomic(dir, text, eb);
out:
	free(text);
	cJSON_Delete(doc);
	return r;
}

int
state_recover(const char *dir, int *nreverted, struct errbuf *eb)
{
	char path[512], bad[560], *text = NULL;
	cJSON *doc = NULL;
	const cJSON *f;
	size_t used = 0;
	ssize_t n;
	int fd, r = 0;

	*nreverted = 0;
	if (path_join(path, sizeof(path), dir, STATE_FILE) != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(eb, CE_SYSTEM, "cannot open '%s': %s", path, strerror(errno));
	}
	if ((text = malloc(STATE_MAX + 1)) == NULL) {
		close(fd);
		return CE_NOMEM;
	}
	while (used < STATE_MAX && (n = read(fd, text + used, STATE_MAX - used)) > 0)
		used += (size_t)n;
	close(fd);
	text[used] = '\0';
	doc = cJSON_Parse(text);
	if (!cJSON_IsObject(doc) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "faults"))) {
		(void)snprintf(bad, sizeof(bad), "%s.corrupt", path);
		(void)rename(path, bad);
		r = err_set(eb, CE_INVALID, "state file '%s' is unreadable; kept as '%s'",
		    path, bad);
		goto out;
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "faults")) {
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "type"));
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "id"));
		const struct fault_ops *ops = type != NULL ? fault_ops_find(type) : NULL;
		struct errbuf reb = { "" };

		if (ops == NULL) {
			log_warnx("state: fault '%s' has unknown type '%s'; left alone",
			    id != NULL ? id : "?", type != NULL ? type : "?");
			continue;
		}
		if (ops->revert(NULL, cJSON_GetObjectItemCaseSensitive(f, "record"), &reb) != 0)
			log_warnx("state: reverting %s fault %s failed: %s", type,
			    id != NULL ? id : "?", reb.msg);
		else
			log_info("state: reverted leftover %s fault %s", type,
			    id != NULL ? id : "?");
		(*nreverted)++;
	}
	r = write_atomic(dir, "{\"version\":1,\"faults\":[]}\n", eb);
out:
	cJSON_Delete(doc);
	free(text);
	return r;
}

int
state_lock(const char *dir, struct errbuf *eb)
{
	char path[512];
	int fd;

	if (path_join(path, sizeof(path), dir, "lock") != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return err_set(eb, CE_SYSTEM, "cannot open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return err_set(eb, CE_BUSY, "state directory '%s' is in use by another "
		    "chaos-agent (lock '%s' held)", dir, path);
	}
	return fd;
}
