/* SPDX-License-Identifier: Apache-2.0 */
/* util.c: strict parsing, bounded copies, hex and clocks. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "util.h"

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return CE_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return CE_INVALID;
	if (v < min || v > max)
		return CE_INVALID;
	*out = v;
	return 0;
}

int
parse_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out)
{
	static const struct {
		const char *suffix;
		int64_t mult;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	char num[32];
	size_t n = 0, i;
	int64_t v, mult = 1000;

	if (s == NULL)
		return CE_INVALID;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return CE_INVALID;
	memcpy(num, s, n);
	num[n] = '\0';
	if (s[n] != '\0') {
		for (i = 0; i < NELEM(units); i++)
			if (strcmp(s + n, units[i].suffix) == 0)
				break;
		if (i == NELEM(units))
			return CE_INVALID;
		mult = units[i].mult;
	}
	if (parse_i64(num, 0, INT64_MAX / 3600000, &v) != 0)
		return CE_INVALID;
	v *= mult;
	if (v < min_ms || v > max_ms)
		return CE_INVALID;
	*out = v;
	return 0;
}

int
str_copy(char *dst, size_t n, const char *src)
{
	size_t len;

	if (n == 0)
		return -1;
	len = strlen(src);
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

bool
str_charset_ok(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (extra != NULL && strchr(extra, c) != NULL)
			continue;
		return false;
	}
	return true;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *in, unsigned char *out, size_t len)
{
	size_t i;

	if (strlen(in) != 2 * len)
		return CE_INVALID;
	for (i = 0; i < len; i++) {
		int hi = hex_digit(in[2 * i]), lo = hex_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return CE_INVALID;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return CE_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fmt_rfc3339(int64_t epoch_ms, char *buf, size_t len)
{
	time_t t = (time_t)(epoch_ms / 1000);
	struct tm tm;
	char base[24];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		(void)snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	(void)snprintf(buf, len, "%s.%03dZ", base, (int)(epoch_ms % 1000));
}

char *
str_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
	    s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}
