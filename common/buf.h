/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h: a growing byte buffer whose cap is mandatory, and the libcurl
 * write callback that fills one. Every HTTP answer the kit reads (an
 * agent's, AWS's, the Docker engine's) lands in one of these, so none can
 * grow without bound and a too-large answer is told apart from a lack of
 * memory the same way everywhere.
 */
#ifndef CHAOS_BUF_H
#define CHAOS_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;		/* NUL-terminated once anything was added; owned */
	size_t len;		/* bytes held, without the NUL */
	size_t alloc;		/* bytes allocated (grows geometrically) */
	size_t max;		/* the cap: more than max bytes are refused */
	bool overflow;		/* an append was refused for the cap */
};

/* Start b empty, to hold at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/*
 * Append len bytes of p. Returns 0; CE_TOO_LARGE when the result would
 * exceed the cap (b->overflow is set); or CE_NOMEM. Nothing else of b
 * changes on failure.
 */
int buf_append(struct buf *b, const void *p, size_t len);

/*
 * A CURLOPT_WRITEFUNCTION whose CURLOPT_WRITEDATA is a struct buf. It
 * returns less than it was given when the append fails, which makes
 * libcurl abort the transfer with CURLE_WRITE_ERROR; b->overflow then says
 * whether the answer was too large or memory ran out.
 */
size_t buf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* The text held, or "" when nothing was added. Borrowed from b. */
const char *buf_str(const struct buf *b);

/*
 * Hand the data over: returns it (caller frees; NULL when nothing was
 * added) with its length in *len (may be NULL), and leaves b empty with
 * its cap.
 */
char *buf_steal(struct buf *b, size_t *len);

/*
 * Free the data and leave b empty. Its cap stays, and so does overflow, so
 * a caller may release first and then ask why a transfer failed. NULL-safe.
 */
void buf_release(struct buf *b);

#endif
