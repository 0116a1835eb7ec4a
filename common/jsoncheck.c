/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsoncheck.c: a recursive-descent recognizer of RFC 8259 JSON that builds
 * nothing. It keeps the path of keys and array indexes it is in, so a
 * refusal names the field a person has to fix ("target.family: ...").
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsoncheck.h"
#include "util.h"

#define KEY_SHOWN_MAX 64	/* bytes of a key quoted in a message */

struct seg {
	const unsigned char *key;	/* raw key text between its quotes, or NULL */
	size_t keylen;
	size_t index;			/* array index when key is NULL */
};

struct jc {
	const unsigned char *start, *p, *end;
	size_t depth;
	struct seg path[JSONCHECK_DEPTH_MAX];
	struct errbuf *eb;
};

/* The current field as people write it: "target.labels.app", "body". */
static void
path_text(const struct jc *j, char *buf, size_t len)
{
	size_t used = 0, i, k;

	buf[0] = '\0';
	for (i = 0; i < j->depth && used + 8 < len; i++) {
		const struct seg *s = &j->path[i];

		if (s->key == NULL) {
			int w = snprintf(buf + used, len - used, "[%zu]", s->index);

			if (w < 0 || (size_t)w >= len - used)
				break;
			used += (size_t)w;
			continue;
		}
		if (used > 0)
			buf[used++] = '.';
		/* Keys are shown as printable ASCII only: this text goes to logs. */
		for (k = 0; k < s->keylen && k < KEY_SHOWN_MAX && used + 4 < len; k++) {
			unsigned char c = s->key[k];

			buf[used++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		buf[used] = '\0';
	}
	if (used == 0)
		(void)snprintf(buf, len, "body");
}

static int
fail(struct jc *j, const char *why, bool at)
{
	char where[256];

	path_text(j, where, sizeof(where));
	if (at)
		return err_set(j->eb, CE_INVALID, "%s: not valid JSON: %s (at byte %zu)",
		    where, why, (size_t)(j->p - j->start));
	return err_set(j->eb, CE_INVALID, "%s: %s", where, why);
}

static void
skip_ws(struct jc *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r'))
		j->p++;
}

/* Read the four hex digits after "\u"; -1 when they are not hex. */
static long
read_u4(struct jc *j)
{
	long v = 0;
	int i, h;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hex_digit((char)j->p[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	j->p += 4;
	return v;
}

/*
 * Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. The
 * ranges exclude overlong forms, surrogates and code points over U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A string at j->p (on its opening quote); a key when key is non-NULL. */
static int
string(struct jc *j, struct seg *key)
{
	const unsigned char *s;

	j->p++;
	s = j->p;
	for (;;) {
		unsigned char c;

		if (j->p >= j->end)
			return fail(j, "unterminated string", true);
		c = *j->p;
		if (c == '"')
			break;
		if (c == '\\') {
			long u, lo;

			if (j->end - j->p < 2)
				return fail(j, "unterminated string", true);
			c = j->p[1];
			j->p += 2;
			if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
				continue;
			if (c != 'u')
				return fail(j, "invalid escape in a string (allowed: \\\" \\\\ "
				    "\\/ \\b \\f \\n \\r \\t \\uXXXX)", true);
			if ((u = read_u4(j)) < 0)
				return fail(j, "\\u must be followed by four hex digits", true);
			if (u == 0)
				return fail(j, key != NULL ? "a key holds a NUL character "
				    "(\\u0000), which is not allowed" : "holds a NUL "
				    "character (\\u0000), which is not allowed", false);
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(j, "a \\u escape holds a lone low surrogate "
				    "(not valid Unicode)", true);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
					return fail(j, "a \\u escape holds a high surrogate "
					    "without its low surrogate (not valid Unicode)", true);
				j->p += 2;
				if ((lo = read_u4(j)) < 0xdc00 || lo > 0xdfff)
					return fail(j, "a \\u escape holds a high surrogate "
					    "without its low surrogate (not valid Unicode)", true);
			}
			continue;
		}
		if (c == 0)
			return fail(j, key != NULL ? "a key holds a NUL byte, which is not "
			    "allowed" : "holds a NUL byte, which is not allowed", false);
		if (c < 0x20)
			return fail(j, "raw control character in a string (escape it, "
			    "e.g. \\n)", true);
		if (c < 0x80) {
			j->p++;
			continue;
		}
		{
			size_t n = utf8_len(j->p, j->end);

			if (n == 0)
				return fail(j, "invalid UTF-8 in a string", true);
			j->p += n;
		}
	}
	if (key != NULL) {
		key->key = s;
		key->keylen = (size_t)(j->p - s);
	}
	j->p++;
	return 0;
}

static bool
digit(const struct jc *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static int
number(struct jc *j)
{
	if (*j->p == '-')
		j->p++;
	if (!digit(j))
		return fail(j, "a number needs digits", true);
	if (*j->p == '0') {
		j->p++;
		if (digit(j))
			return fail(j, "numbers must not have leading zeros", true);
	} else {
		while (digit(j))
			j->p++;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digit(j))
			return fail(j, "a decimal point must be followed by digits", true);
		while (digit(j))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digit(j))
			return fail(j, "an exponent needs digits", true);
		while (digit(j))
			j->p++;
	}
	return 0;
}

static int
literal(struct jc *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return fail(j, "unexpected characters (expected a JSON value)", true);
	j->p += n;
	return 0;
}

static int value(struct jc *j);

/* Descend into an object or array (the segment is filled in as it goes). */
static int
push(struct jc *j)
{
	if (j->depth == JSONCHECK_DEPTH_MAX)
		return fail(j, "nested too deeply", true);
	memset(&j->path[j->depth], 0, sizeof(j->path[0]));
	j->depth++;
	return 0;
}

/*
 * After a member or element: 1 on ',' (another follows), 0 on the closing
 * bracket (the level ends), or the error.
 */
static int
next_or_close(struct jc *j, char close)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == ',') {
		j->p++;
		return 1;
	}
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	return fail(j, close == '}' ? "expected ',' or '}' after a member" :
	    "expected ',' or ']' after an element", true);
}

static int
object(struct jc *j)
{
	struct seg *s;
	int r;

	if ((r = push(j)) != 0)
		return r;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	s = &j->path[j->depth - 1];
	for (;;) {
		skip_ws(j);
		if (j->p >= j->end || *j->p != '"') {
			j->depth--;
			return fail(j, "expected a quoted key", true);
		}
		s->key = NULL;
		/* A bad key is reported against the object that holds it. */
		j->depth--;
		if ((r = string(j, s)) != 0)
			return r;
		j->depth++;
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "expected ':' after the key", true);
		j->p++;
		if ((r = value(j)) != 0)
			return r;
		if ((r = next_or_close(j, '}')) <= 0)
			return r;
	}
}

static int
array(struct jc *j)
{
	struct seg *s;
	int r;

	if ((r = push(j)) != 0)
		return r;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	s = &j->path[j->depth - 1];
	for (s->index = 0;; s->index++) {
		if ((r = value(j)) != 0)
			return r;
		if ((r = next_or_close(j, ']')) <= 0)
			return r;
	}
}

static int
value(struct jc *j)
{
	skip_ws(j);
	if (j->p >= j->end)
		return fail(j, "expected a value, found the end of the body", true);
	switch (*j->p) {
	case '{':
		return object(j);
	case '[':
		return array(j);
	case '"':
		return string(j, NULL);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return number(j);
		return fail(j, "unexpected character (expected a JSON value)", true);
	}
}

int
jsoncheck(const char *text, size_t len, struct errbuf *eb)
{
	struct jc j;
	int r;

	memset(&j, 0, sizeof(j));
	j.start = j.p = (const unsigned char *)text;
	j.end = j.start + len;
	j.eb = eb;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		return err_set(eb, CE_INVALID, "body: not valid JSON: starts with a byte "
		    "order mark (send plain UTF-8 JSON)");
	skip_ws(&j);
	if (j.p == j.end)
		return err_set(eb, CE_INVALID, "body: not valid JSON: empty (expected one "
		    "value)");
	if ((r = value(&j)) != 0)
		return r;
	skip_ws(&j);
	if (j.p != j.end)
		return err_set(eb, CE_INVALID, "body: not valid JSON: unexpected data after "
		    "the value (at byte %zu; send exactly one value)",
		    (size_t)(j.p - j.start));
	return 0;
}
