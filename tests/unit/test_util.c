/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util.c: the strict parsers, bounded copies, hex, clocks and time
 * formatting of common/util.c, the error table of common/err.c and the
 * process identity helpers of common/proc.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/err.h"
#include "../../faults/proc.h"
#include "../../common/util.h"

/* ---- str_trim */

static void
t_str_trim(void **state)
{
	char a[] = "  key = value \t\r\n", b[] = "\t\t", c[] = "x", d[] = "";

	(void)state;
	assert_string_equal(str_trim(a), "key = value");
	assert_string_equal(str_trim(b), "");
	assert_string_equal(str_trim(c), "x");
	assert_string_equal(str_trim(d), "");
}

/* ---- parse_i64 */

static void
t_parse_i64_accepts_plain_numbers(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_int_equal(parse_i64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_i64("+7", -10, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_i64("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
}

static void
t_parse_i64_bounds_are_inclusive(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_i64("1", 1, 64, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_i64("64", 1, 64, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(parse_i64("0", 1, 64, &v), CE_INVALID);
	assert_int_equal(parse_i64("65", 1, 64, &v), CE_INVALID);
	assert_int_equal(parse_i64("-1", 0, 64, &v), CE_INVALID);
}

static void
t_parse_i64_rejects_junk_and_leaves_out_untouched(void **state)
{
	static const char *const bad[] = {
		"", " 5", "5 ", "\t5", "5\n", "5x", "x5", "0x10", "1e3", "1.0",
		"-", "+", "--5", "+-5", "- 5", "5-", "\xd9\xa1",
	};
	int64_t v = 12345;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (parse_i64(bad[i], INT64_MIN, INT64_MAX, &v) != CE_INVALID)
			fail_msg("parse_i64 accepted '%s'", bad[i]);
		assert_int_equal(v, 12345);
	}
	assert_int_equal(parse_i64(NULL, 0, 10, &v), CE_INVALID);
	assert_int_equal(v, 12345);
}

static void
t_parse_i64_detects_overflow(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	v = 3;
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
	    CE_INVALID);
	assert_int_equal(parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
	    CE_INVALID);
	assert_int_equal(parse_i64("99999999999999999999999", INT64_MIN, INT64_MAX, &v),
	    CE_INVALID);
	assert_int_equal(v, 3);
}

/* ---- parse_duration_ms */

static void
t_parse_duration_units(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{ "90", 90000 }, { "90s", 90000 }, { "1500ms", 1500 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "0", 0 }, { "0ms", 0 }, { "12h", 43200000 },
	};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		v = -1;
		if (parse_duration_ms(ok[i].s, 0, INT64_MAX, &v) != 0)
			fail_msg("parse_duration_ms rejected '%s'", ok[i].s);
		assert_int_equal(v, ok[i].ms);
	}
}

static void
t_parse_duration_rejects_bad_text(void **state)
{
	static const char *const bad[] = {
		"", "s", "ms", "1d", "1.5s", "-1s", "+1s", "1 s", " 1s", "1s ",
		"1S", "1MS", "1hh", "1sm", "1msx", "h1", "1e3",
		"1234567890123456789012345678901234",
	};
	int64_t v = 777;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (parse_duration_ms(bad[i], 0, INT64_MAX, &v) != CE_INVALID)
			fail_msg("parse_duration_ms accepted '%s'", bad[i]);
		assert_int_equal(v, 777);
	}
	assert_int_equal(parse_duration_ms(NULL, 0, INT64_MAX, &v), CE_INVALID);
}

static void
t_parse_duration_bounds_and_overflow(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_duration_ms("1s", 1000, 43200000, &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(parse_duration_ms("999ms", 1000, 43200000, &v), CE_INVALID);
	assert_int_equal(parse_duration_ms("12h", 1000, 43200000, &v), 0);
	assert_int_equal(parse_duration_ms("721m", 1000, 43200000, &v), CE_INVALID);
	/* The largest count that cannot overflow in hours, and one more. */
	assert_int_equal(parse_duration_ms("2562047788015h", 0, INT64_MAX, &v), 0);
	assert_true(v == INT64_C(2562047788015) * 3600000);
	assert_int_equal(parse_duration_ms("2562047788016h", 0, INT64_MAX, &v),
	    CE_INVALID);
	assert_int_equal(parse_duration_ms("9223372036854775807ms", 0, INT64_MAX, &v),
	    CE_INVALID);
	assert_int_equal(parse_duration_ms("99999999999999999999h", 0, INT64_MAX, &v),
	    CE_INVALID);
}

/* ---- strings and hex */

static void
t_str_copy_fits_and_truncates(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(str_copy(buf, sizeof(buf), "abc"), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, sizeof(buf), "1234567"), 0);
	assert_string_equal(buf, "1234567");
	assert_int_equal(str_copy(buf, sizeof(buf), "12345678"), -1);
	assert_string_equal(buf, "1234567");
	assert_int_equal(str_copy(buf, 3, "abcdef"), -1);
	assert_string_equal(buf, "ab");
	assert_int_equal(str_copy(buf, 1, "x"), -1);
	assert_string_equal(buf, "");
	assert_int_equal(str_copy(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");
	memcpy(buf, "keepme!", 8);
	assert_int_equal(str_copy(buf, 0, "x"), -1);
	assert_string_equal(buf, "keepme!");
}

static void
t_str_charset_ok(void **state)
{
	(void)state;
	assert_true(str_charset_ok("abcXYZ019", NULL));
	assert_true(str_charset_ok("", NULL));
	assert_false(str_charset_ok("a-b", NULL));
	assert_true(str_charset_ok("a-b", "-"));
	assert_true(str_charset_ok("a_b.c:d/e-f", "_.:/-"));
	assert_false(str_charset_ok("a b", "_.:/-"));
	assert_false(str_charset_ok("a%b", "_.:/-"));
	assert_false(str_charset_ok("caf\xc3\xa9", "_.-"));
	assert_false(str_charset_ok("x\x7f", "_"));
	assert_false(str_charset_ok("ab\n", NULL));
}

static void
t_hex_round_trip(void **state)
{
	unsigned char in[256], out[256];
	char hex[513];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	hex_encode(in, sizeof(in), hex);
	assert_int_equal(strlen(hex), 512);
	assert_memory_equal(hex, "000102030405060708090a0b0c0d0e0f10", 34);
	assert_string_equal(hex + 500, "fafbfcfdfeff");
	assert_int_equal(hex_decode(hex, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
}

static void
t_hex_decode_rejects_bad_input(void **state)
{
	unsigned char out[4] = { 9, 9, 9, 9 };

	(void)state;
	assert_int_equal(hex_decode("DEADbeef", out, 4), 0);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(hex_decode("deadbee", out, 4), CE_INVALID);
	assert_int_equal(hex_decode("deadbeef00", out, 4), CE_INVALID);
	assert_int_equal(hex_decode("", out, 4), CE_INVALID);
	assert_int_equal(hex_decode("deadbeeg", out, 4), CE_INVALID);
	assert_int_equal(hex_decode("dead beef", out, 4), CE_INVALID);
	assert_int_equal(hex_decode(" eadbeef", out, 4), CE_INVALID);
	assert_int_equal(hex_decode("0x", out, 1), CE_INVALID);
	assert_int_equal(hex_decode("", out, 0), 0);
}

/* ---- time */

static void
t_fmt_rfc3339(void **state)
{
	char buf[32], small[25];

	(void)state;
	fmt_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	fmt_rfc3339(INT64_C(1764000000123), buf, sizeof(buf));
	assert_string_equal(buf, "2025-11-24T16:00:00.123Z");
	fmt_rfc3339(INT64_C(951782400005), buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.005Z");
	fmt_rfc3339(INT64_C(4102444799999), small, sizeof(small));
	assert_string_equal(small, "2099-12-31T23:59:59.999Z");
	/* Too small a buffer truncates, still terminated. */
	fmt_rfc3339(0, small, 11);
	assert_string_equal(small, "1970-01-01");
}

static void
t_clocks(void **state)
{
	int64_t w = wall_ms(), t = (int64_t)time(NULL) * 1000;
	int64_t m1 = mono_ms(), m2;

	(void)state;
	assert_true(w >= t - 2000 && w <= t + 2000);
	usleep(20000);
	m2 = mono_ms();
	assert_true(m2 - m1 >= 19);
	assert_true(m2 - m1 < 5000);
}

/* ---- err */

static void
t_err_names_and_statuses(void **state)
{
	struct errbuf eb;
	char longarg[400];

	(void)state;
	assert_string_equal(err_name(CE_OK), "ok");
	assert_string_equal(err_name(CE_INVALID), "invalid_argument");
	assert_string_equal(err_name(CE_UNAUTHORIZED), "unauthenticated");
	assert_string_equal(err_name(CE_TOO_MANY), "too_many_faults");
	assert_string_equal(err_name(-999), "internal");
	assert_int_equal(err_http_status(CE_OK), 200);
	assert_int_equal(err_http_status(CE_INVALID), 400);
	assert_int_equal(err_http_status(CE_NOT_FOUND), 404);
	assert_int_equal(err_http_status(CE_METHOD), 405);
	assert_int_equal(err_http_status(CE_CONFLICT), 409);
	assert_int_equal(err_http_status(CE_TOO_LARGE), 413);
	assert_int_equal(err_http_status(CE_UNAVAILABLE), 422);
	assert_int_equal(err_http_status(CE_TOO_MANY), 429);
	assert_int_equal(err_http_status(CE_BUSY), 503);
	assert_int_equal(err_http_status(-999), 500);
	assert_int_equal(err_from_http_status(201), CE_OK);
	assert_int_equal(err_from_http_status(400), CE_INVALID);
	assert_int_equal(err_from_http_status(401), CE_UNAUTHORIZED);
	assert_int_equal(err_from_http_status(429), CE_TOO_MANY);
	assert_int_equal(err_from_http_status(418), CE_INTERNAL);

	assert_int_equal(err_set(NULL, CE_CONFLICT, "x %d", 1), CE_CONFLICT);
	assert_int_equal(err_set(&eb, CE_INVALID, "load: %d is out of range", 101),
	    CE_INVALID);
	assert_string_equal(eb.msg, "load: 101 is out of range");
	memset(longarg, 'a', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	(void)err_set(&eb, CE_INVALID, "%s", longarg);
	assert_int_equal(strlen(eb.msg), ERRBUF_MAX - 1);
}

/* ---- proc */

/* Field 22 of /proc/<pid>/stat, parsed independently of proc.c. */
static uint64_t
stat_field22(pid_t pid)
{
	char path[64], buf[2048], *p, *save = NULL, *tok;
	ssize_t n;
	int fd, field = 2;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	assert_non_null(p);
	for (tok = strtok_r(p + 1, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		if (++field == 22)
			return strtoull(tok, NULL, 10);
	}
	fail_msg("no field 22 in %s", path);
	return 0;
}

static void
t_proc_starttime_self(void **state)
{
	uint64_t st = 0;

	(void)state;
	assert_int_equal(proc_starttime(getpid(), &st), 0);
	assert_true(st > 0);
	assert_true(st == stat_field22(getpid()));
}

/* A child that waits on a pipe, so the test decides when it changes. */
static pid_t
spawn_waiter(int *go_wr, int *ready_rd, const char *newname)
{
	int go[2], ready[2];
	pid_t pid;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		if (newname != NULL)
			(void)prctl(PR_SET_NAME, newname, 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(go[0]);
	close(ready[1]);
	*go_wr = go[1];
	*ready_rd = ready[0];
	return pid;
}

static void
t_proc_starttime_survives_odd_command_names(void **state)
{
	uint64_t before = 0, after = 0;
	int go, ready, status;
	char c;
	pid_t pid = spawn_waiter(&go, &ready, ") 1 2 (x) ");

	(void)state;
	assert_int_equal(proc_starttime(pid, &before), 0);
	assert_int_equal(write(go, "g", 1), 1);
	assert_int_equal(read(ready, &c, 1), 1);
	assert_int_equal(proc_starttime(pid, &after), 0);
	assert_true(before == after);
	assert_true(after == stat_field22(pid));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(go);
	close(ready);
}

static void
t_proc_kill_exact_checks_identity(void **state)
{
	uint64_t st = 0;
	int go, ready, status;
	pid_t pid = spawn_waiter(&go, &ready, NULL);

	(void)state;
	assert_int_equal(proc_starttime(pid, &st), 0);
	/* A different start time means another process: no signal sent. */
	assert_int_equal(proc_kill_exact(pid, st + 1, SIGKILL), CE_NOT_FOUND);
	assert_int_equal(proc_kill_exact(pid, st - 1, SIGKILL), CE_NOT_FOUND);
	usleep(50000);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	/* The right identity is signalled. */
	assert_int_equal(proc_kill_exact(pid, st, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* Gone (reaped): not found, and no stray signal anywhere. */
	assert_int_equal(proc_starttime(pid, &st), CE_NOT_FOUND);
	assert_int_equal(proc_kill_exact(pid, st, SIGTERM), CE_NOT_FOUND);
	close(go);
	close(ready);
}

static void
t_proc_kill_exact_refuses_init_and_bad_pids(void **state)
{
	uint64_t st = 0;

	(void)state;
	assert_int_equal(proc_starttime(1, &st), 0);
	assert_int_equal(proc_kill_exact(1, st, 0), CE_INVALID);
	assert_int_equal(proc_kill_exact(0, 0, 0), CE_INVALID);
	assert_int_equal(proc_kill_exact(-1, 0, 0), CE_INVALID);
	assert_int_equal(proc_starttime(-5, &st), CE_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_str_trim),
		cmocka_unit_test(t_parse_i64_accepts_plain_numbers),
		cmocka_unit_test(t_parse_i64_bounds_are_inclusive),
		cmocka_unit_test(t_parse_i64_rejects_junk_and_leaves_out_untouched),
		cmocka_unit_test(t_parse_i64_detects_overflow),
		cmocka_unit_test(t_parse_duration_units),
		cmocka_unit_test(t_parse_duration_rejects_bad_text),
		cmocka_unit_test(t_parse_duration_bounds_and_overflow),
		cmocka_unit_test(t_str_copy_fits_and_truncates),
		cmocka_unit_test(t_str_charset_ok),
		cmocka_unit_test(t_hex_round_trip),
		cmocka_unit_test(t_hex_decode_rejects_bad_input),
		cmocka_unit_test(t_fmt_rfc3339),
		cmocka_unit_test(t_clocks),
		cmocka_unit_test(t_err_names_and_statuses),
		cmocka_unit_test(t_proc_starttime_self),
		cmocka_unit_test(t_proc_starttime_survives_odd_command_names),
		cmocka_unit_test(t_proc_kill_exact_checks_identity),
		cmocka_unit_test(t_proc_kill_exact_refuses_init_and_bad_pids),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
