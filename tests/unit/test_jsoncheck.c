/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jsoncheck.c: the strict JSON gate of common/jsoncheck.c. Each
 * refusal is one a lenient parser (cJSON) accepts, which is why the gate
 * exists; the messages must name the field or the byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../common/err.h"
#include "../../common/jsoncheck.h"

static void
ok(const char *s)
{
	struct errbuf eb = { "" };

	if (jsoncheck(s, strlen(s), &eb) != 0)
		fail_msg("refused %s: %s", s, eb.msg);
}

/* Refused, with a message holding needle. len < 0: strlen. */
static void
bad_len(const char *s, long len, const char *needle)
{
	struct errbuf eb = { "" };
	size_t n = len < 0 ? strlen(s) : (size_t)len;

	if (jsoncheck(s, n, &eb) != CE_INVALID)
		fail_msg("accepted %s", s);
	if (strstr(eb.msg, needle) == NULL)
		fail_msg("message for %s is '%s', wanted '%s'", s, eb.msg, needle);
}

static void
bad(const char *s, const char *needle)
{
	bad_len(s, -1, needle);
}

static void
t_accepts_what_rfc8259_allows(void **state)
{
	(void)state;
	ok("{}");
	ok("[]");
	ok(" \t\r\n{\"a\":1} \n");
	ok("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":50,\"cores\":1}}");
	ok("[0,-0,1.5,-2e10,3E+2,4e-3,0.25,true,false,null,\"\"]");
	ok("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\ud83d\\ude00\"");
	ok("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");	/* 2, 3 and 4 bytes */
	ok("{\"a\":{\"b\":[{\"c\":[[[]]]}]}}");
	ok("1");
	ok("\"\xef\xbf\xbf\"");		/* U+FFFF is a valid scalar value */
	ok("\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF, the last */
}

static void
t_refuses_nul_escaped_or_raw_naming_the_field(void **state)
{
	(void)state;
	bad("{\"target\":{\"family\":\"web\\u0000;id\"}}", "target.family: holds a NUL");
	bad("{\"params\":{\"name\":\"victim\\u0000;rm -rf /\"}}", "params.name: holds a NUL");
	bad("{\"type\":\"burn-cpu\\u0000x\"}", "type: holds a NUL");
	bad("{\"labels\":{\"a\\u0000b\":\"x\"}}", "labels: a key holds a NUL");
	bad_len("{\"type\":\"a\0b\"}", 14, "type: holds a NUL byte");
	bad("{\"labels\":{\"team\":\"a\\u0000\"}}", "labels.team");
	bad("[\"x\",\"\\u0000\"]", "[1]: holds a NUL");
}

static void
t_refuses_invalid_utf8(void **state)
{
	(void)state;
	bad("{\"labels\":{\"a\":\"\xff\"}}", "labels.a: not valid JSON: invalid UTF-8");
	bad("\"\xc0\xaf\"", "invalid UTF-8");		/* overlong '/' */
	bad("\"\xe0\x80\xaf\"", "invalid UTF-8");	/* overlong, 3 bytes */
	bad("\"\xed\xa0\x80\"", "invalid UTF-8");	/* a UTF-16 surrogate */
	bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8");	/* over U+10FFFF */
	bad("\"\xc3\"", "invalid UTF-8");		/* cut short */
	bad("\"\x80\"", "invalid UTF-8");		/* a lone continuation */
	bad("\"\\ud800\"", "high surrogate");
	bad("\"\\ud800\\u0041\"", "high surrogate");
	bad("\"\\udc00\"", "low surrogate");
	bad("{\"\xfe\":1}", "invalid UTF-8");
}

static void
t_refuses_what_cjson_would_let_through(void **state)
{
	(void)state;
	bad("{\"a\":1}garbage", "unexpected data after the value (at byte 7");
	bad("{\"a\":1}{\"b\":2}", "send exactly one value");
	bad("\xef\xbb\xbf{\"a\":1}", "byte order mark");
	bad("{\"duration\":05}", "duration: not valid JSON: numbers must not have leading zeros");
	bad("{\"duration\":-05}", "leading zeros");
	bad("{\"a\":\"x\ty\"}", "a: not valid JSON: raw control character");
	bad("{\"a\":\"x\ny\"}", "raw control character");
	bad("{\"a\":1,}", "expected a quoted key");
	bad("[1,]", "unexpected character");
	bad("{'a':1}", "expected a quoted key");
	bad("{\"a\":.5}", "unexpected character");
	bad("{\"a\":1.}", "decimal point");
	bad("{\"a\":1e}", "exponent");
	bad("{\"a\":+1}", "unexpected character");
	bad("{\"a\":tru}", "expected a JSON value");
	bad("{\"a\":NaN}", "unexpected character");
	bad("{\"a\":\"\\x41\"}", "invalid escape");
	bad("{\"a\":\"\\u12G4\"}", "four hex digits");
	bad("{\"a\":\"open", "unterminated string");
	bad("{\"a\" 1}", "expected ':'");
	bad("{\"a\":1 \"b\":2}", "expected ',' or '}'");
	bad("", "empty");
	bad("  ", "empty");
	bad("{\"a\":", "expected a value");
}

static void
t_depth_is_bounded(void **state)
{
	char deep[2 * JSONCHECK_DEPTH_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < JSONCHECK_DEPTH_MAX; i++)
		deep[i] = '[';
	for (i = 0; i < JSONCHECK_DEPTH_MAX; i++)
		deep[JSONCHECK_DEPTH_MAX + i] = ']';
	deep[2 * JSONCHECK_DEPTH_MAX] = '\0';
	ok(deep);
	/* One level more. */
	memmove(deep + 1, deep, 2 * JSONCHECK_DEPTH_MAX);
	deep[0] = '[';
	deep[2 * JSONCHECK_DEPTH_MAX + 1] = ']';
	deep[2 * JSONCHECK_DEPTH_MAX + 2] = '\0';
	bad(deep, "nested too deeply");
}

static void
t_accepted_text_means_the_same_to_cjson(void **state)
{
	static const char *const docs[] = {
		"{\"type\":\"kill-process\",\"params\":{\"name\":\"victim\"}}",
		"{\"labels\":{\"team\":\"caf\xc3\xa9 \\u00e9\"}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		cJSON *d = cJSON_ParseWithLength(docs[i], strlen(docs[i]));
		char *out;

		assert_int_equal(jsoncheck(docs[i], strlen(docs[i]), NULL), 0);
		assert_non_null(d);
		out = cJSON_PrintUnformatted(d);
		/* What the agent prints back passes the same gate. */
		assert_int_equal(jsoncheck(out, strlen(out), NULL), 0);
		cJSON_free(out);
		cJSON_Delete(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_accepts_what_rfc8259_allows),
		cmocka_unit_test(t_refuses_nul_escaped_or_raw_naming_the_field),
		cmocka_unit_test(t_refuses_invalid_utf8),
		cmocka_unit_test(t_refuses_what_cjson_would_let_through),
		cmocka_unit_test(t_depth_is_bounded),
		cmocka_unit_test(t_accepted_text_means_the_same_to_cjson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
