/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsoncheck.h: a strict JSON (RFC 8259) gate in front of cJSON. cJSON is
 * lenient where a security boundary must not be: it reads "\u0000" into a
 * C string that ends there, keeps invalid UTF-8 and echoes it back, stops
 * at the end of the first value and ignores what follows, and reads
 * numbers with strtod ("05"). Every request body passes this check first,
 * so what cJSON then parses is exactly one well-formed value whose strings
 * are valid UTF-8 without NUL or raw control characters.
 */
#ifndef CHAOS_JSONCHECK_H
#define CHAOS_JSONCHECK_H

#include <stddef.h>

struct errbuf;

/* How deep objects and arrays may nest. */
#define JSONCHECK_DEPTH_MAX 32

/*
 * Check that text[0..len) is exactly one JSON value, optionally surrounded
 * by JSON white space, with nothing else: no byte order mark, no trailing
 * data, no leading zeros or other number forms outside the grammar, no raw
 * control characters, no invalid or overlong UTF-8, no unpaired surrogate
 * escapes, no NUL (raw or "\u0000") in any string or key, at most
 * JSONCHECK_DEPTH_MAX levels. Returns 0, or CE_INVALID with eb naming the
 * field (e.g. "target.family: ...") or the byte offset of the problem.
 */
int jsoncheck(const char *text, size_t len, struct errbuf *eb);

#endif
