/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h: small helpers every module needs: strict number parsing, bounded
 * string copies, hex, time. Nothing here allocates.
 */
#ifndef CHAOS_UTIL_H
#define CHAOS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Parse the whole of s as a base-10 signed integer within [min, max].
 * Leading/trailing spaces, signs on empty strings, and trailing garbage are
 * rejected. Returns 0 and stores *out, or CE_INVALID (out untouched).
 */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Parse a duration as people write it: "90", "90s", "1500ms", "2m", "1h",
 * with an optional unit. Result in milliseconds within [min_ms, max_ms].
 * Returns 0 or CE_INVALID.
 */
int parse_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out);

/*
 * Copy src into dst of size n, always NUL-terminating. Returns 0, or -1 if
 * src did not fit (dst then holds a truncated copy).
 */
int str_copy(char *dst, size_t n, const char *src);

/*
 * Trim spaces and tabs at both ends of s, and a line end (CR, LF) at its
 * end, in place. Returns the trimmed start inside s.
 */
char *str_trim(char *s);

/* True if every byte of s is in the set [A-Za-z0-9] plus the bytes of extra. */
bool str_charset_ok(const char *s, const char *extra);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/*
 * Decode exactly 2*len hex digits from in into out. Returns 0 or CE_INVALID
 * (non-hex digit or wrong length).
 */
int hex_decode(const char *in, unsigned char *out, size_t len);

/*
 * Fill buf with len bytes from the kernel's random generator (getrandom(2),
 * waiting until it is seeded). Returns 0, or CE_SYSTEM with errno set.
 */
int random_bytes(void *buf, size_t len);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t mono_ms(void);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t wall_ms(void);

/*
 * Format epoch milliseconds as RFC 3339 UTC with milliseconds
 * ("2026-11-25T01:02:03.456Z") into buf (at least 25 bytes).
 */
void fmt_rfc3339(int64_t epoch_ms, char *buf, size_t len);

#endif
