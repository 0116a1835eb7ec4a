/* SPDX-License-Identifier: Apache-2.0 */
/* buf.c: see buf.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	char *nd;
	size_t need, want;

	/* Written so that no sum can wrap around. */
	if (len > b->max || b->len > b->max - len) {
		b->overflow = true;
		return CE_TOO_LARGE;
	}
	/*
	 * Grow by doubling (up to the cap and its NUL), so that many small
	 * appends (a report written piece by piece) copy the data a few
	 * times, not once per append.
	 */
	need = b->len + len + 1;
	if (need > b->alloc) {
		want = b->alloc > 0 ? b->alloc : 256;
		while (want < need)
			want = want > SIZE_MAX / 2 ? need : want * 2;
		/* Never more than the cap and its NUL (need is within them). */
		if (want - 1 > b->max)
			want = b->max + 1;
		if ((nd = realloc(b->data, want)) == NULL)
			return CE_NOMEM;
		b->data = nd;
		b->alloc = want;
	}
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

size_t
buf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;

	/* libcurl guarantees size is 1; a short count aborts the transfer. */
	return buf_append(userdata, ptr, n) == 0 ? n : 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *d = b->data;

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return d;
}

void
buf_release(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}
