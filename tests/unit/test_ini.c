/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ini.c: the INI reader of controller/ini.c, which reads experiment
 * configurations (chaosctl run) and the AWS shared files. It must read
 * them as Python's configparser does, and every refusal must point at the
 * file and line.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/err.h"
#include "../../controller/ini.h"

/* Parse text that must be accepted. */
static void
parse_ok(const char *text, struct ini *ini)
{
	struct errbuf eb = { "" };

	if (ini_parse(text, "t.conf", ini, &eb) != 0)
		fail_msg("refused: %s\n%s", eb.msg, text);
}

/* Parse text that must be refused with a message starting with prefix. */
static void
parse_bad(const char *text, const char *prefix, const char *needle)
{
	struct errbuf eb = { "" };
	struct ini ini;

	assert_int_equal(ini_parse(text, "t.conf", &ini, &eb), CE_INVALID);
	if (strncmp(eb.msg, prefix, strlen(prefix)) != 0 || strstr(eb.msg, needle) == NULL)
		fail_msg("message '%s' lacks '%s' or '%s'", eb.msg, prefix, needle);
	/* A refusal leaves nothing to free. */
	assert_null(ini.sections);
	assert_null(ini.file);
}

static const char *
get(const struct ini *ini, const char *section, const char *key)
{
	const struct ini_kv *kv = ini_get(ini, section, key);

	return kv != NULL ? kv->value : NULL;
}

static void
t_reads_sections_keys_and_values(void **state)
{
	struct ini ini;
	const struct ini_section *s;

	(void)state;
	parse_ok("[DEFAULT]\n"
	    "experiment_path = experiment.yaml\n"
	    "Rollback_Strategy: always\n"
	    "[live]\n"
	    "  fail_fast=true  \n"
	    "empty =\n", &ini);
	assert_string_equal(ini.file, "t.conf");
	s = ini.sections;
	assert_non_null(s);
	assert_string_equal(s->name, "DEFAULT");
	assert_int_equal(s->line, 1);
	assert_string_equal(s->next->name, "live");
	assert_int_equal(s->next->line, 4);
	assert_null(s->next->next);
	assert_string_equal(get(&ini, NULL, "experiment_path"), "experiment.yaml");
	/* Keys are case-insensitive: stored lower-cased. */
	assert_string_equal(get(&ini, NULL, "rollback_strategy"), "always");
	assert_null(get(&ini, NULL, "Rollback_Strategy"));
	/* An indented first key is a key, not a continuation. */
	assert_string_equal(get(&ini, "live", "fail_fast"), "true");
	assert_int_equal(ini_get(&ini, "live", "fail_fast")->line, 5);
	assert_string_equal(get(&ini, "live", "empty"), "");
	ini_free(&ini);
	assert_null(ini.sections);
}

static void
t_splits_at_the_first_delimiter(void **state)
{
	struct ini ini;

	(void)state;
	parse_ok("[s]\n"
	    "url = http://10.0.0.1:8421\n"
	    "pair: a=b\n"
	    "eq = x = y\n", &ini);
	assert_string_equal(get(&ini, "s", "url"), "http://10.0.0.1:8421");
	assert_string_equal(get(&ini, "s", "pair"), "a=b");
	assert_string_equal(get(&ini, "s", "eq"), "x = y");
	ini_free(&ini);
}

static void
t_sections_fall_back_to_default(void **state)
{
	struct ini ini;

	(void)state;
	parse_ok("[DEFAULT]\na = 1\nb = 2\n[ctx]\nb = 3\n", &ini);
	assert_string_equal(get(&ini, "ctx", "a"), "1");
	assert_string_equal(get(&ini, "ctx", "b"), "3");
	assert_string_equal(get(&ini, NULL, "b"), "2");
	/* An unknown section falls back too; ini_section tells them apart. */
	assert_string_equal(get(&ini, "nosuch", "a"), "1");
	assert_null(ini_section(&ini, "nosuch"));
	assert_non_null(ini_section(&ini, "ctx"));
	assert_null(get(&ini, "ctx", "c"));
	ini_free(&ini);

	/* Without [DEFAULT] there is nothing to fall back to. */
	parse_ok("[ctx]\nb = 3\n", &ini);
	assert_null(get(&ini, "ctx", "a"));
	assert_null(get(&ini, NULL, "b"));
	ini_free(&ini);
}

static void
t_continuation_lines_join_with_newlines(void **state)
{
	struct ini ini;
	const struct ini_kv *kv;

	(void)state;
	parse_ok("[live]\n"
	    "var_overrides =\n"
	    "    environment = live\n"
	    "\n"
	    "    # a comment between continuation lines\n"
	    "\tduration:int = 10\n"
	    "list = a,\n"
	    "  b\n"
	    "next = 1\n", &ini);
	kv = ini_get(&ini, "live", "var_overrides");
	assert_non_null(kv);
	/* An empty first value does not start the joined value with a newline. */
	assert_string_equal(kv->value, "environment = live\nduration:int = 10");
	assert_int_equal(kv->line, 2);
	assert_int_equal(kv->nvlines, 2);
	assert_int_equal(kv->vlines[0], 3);
	assert_int_equal(kv->vlines[1], 6);
	kv = ini_get(&ini, "live", "list");
	assert_string_equal(kv->value, "a,\nb");
	assert_int_equal(kv->nvlines, 2);
	assert_int_equal(kv->vlines[0], 7);
	assert_int_equal(kv->vlines[1], 8);
	assert_string_equal(get(&ini, "live", "next"), "1");
	ini_free(&ini);
}

static void
t_comments_blank_lines_and_crlf(void **state)
{
	struct ini ini;

	(void)state;
	parse_ok("# top comment\r\n"
	    "; another\r\n"
	    "\r\n"
	    "[s]\r\n"
	    "k = v  \r\n"
	    "   \t\r\n"
	    "last = no newline at the end", &ini);
	assert_string_equal(ini.sections->name, "s");
	assert_string_equal(get(&ini, "s", "k"), "v");
	assert_string_equal(get(&ini, "s", "last"), "no newline at the end");
	assert_int_equal(ini_get(&ini, "s", "last")->line, 7);
	ini_free(&ini);

	parse_ok("", &ini);
	assert_null(ini.sections);
	ini_free(&ini);
}

static void
t_refusals_name_the_file_and_line(void **state)
{
	(void)state;
	parse_bad("k = v\n", "t.conf:1:", "before any [section]");
	parse_bad("[s]\n[s\n", "t.conf:2:", "malformed section header");
	parse_bad("[s]\n[]\n", "t.conf:2:", "malformed section header");
	parse_bad("[s] x\n", "t.conf:1:", "malformed section header");
	parse_bad("[s]\nk = 1\n[t]\n[s]\n", "t.conf:4:", "section [s] given twice");
	parse_bad("[s]\njust words\n", "t.conf:2:", "expected 'key = value'");
	parse_bad("[s]\n = v\n", "t.conf:2:", "a value without a key");
	parse_bad("[s]\nK = 1\n\nk = 2\n", "t.conf:4:", "'k' given twice in [s] (first on line 2)");
}

static void
t_same_key_in_two_sections_is_fine(void **state)
{
	struct ini ini;

	(void)state;
	parse_ok("[a]\nk = 1\n[b]\nk = 2\n", &ini);
	assert_string_equal(get(&ini, "a", "k"), "1");
	assert_string_equal(get(&ini, "b", "k"), "2");
	ini_free(&ini);
}

/* Write content (len bytes) to a new temporary file; its path into path[64]. */
static void
temp_file(char *path, const void *content, size_t len)
{
	int fd;

	(void)snprintf(path, 64, "/tmp/test_ini.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void
t_load_reads_regular_text_files_only(void **state)
{
	struct errbuf eb = { "" };
	struct ini ini;
	char path[64];
	char *big;

	(void)state;
	temp_file(path, "[s]\nk = v\n", 10);
	assert_int_equal(ini_load(path, &ini, &eb), 0);
	assert_string_equal(ini.file, path);
	assert_string_equal(get(&ini, "s", "k"), "v");
	ini_free(&ini);
	unlink(path);

	assert_int_equal(ini_load("/nonexistent/x.conf", &ini, &eb), CE_NOT_FOUND);
	assert_non_null(strstr(eb.msg, "/nonexistent/x.conf"));
	assert_null(ini.sections);
	assert_int_equal(ini_load("/tmp", &ini, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "not a regular file"));

	temp_file(path, "[s]\nk = v\0w\n", 12);
	assert_int_equal(ini_load(path, &ini, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "not a text file"));
	unlink(path);

	/* 1 MiB is the cap. */
	assert_non_null(big = malloc(1024 * 1024 + 1));
	memset(big, '#', 1024 * 1024 + 1);
	temp_file(path, big, 1024 * 1024 + 1);
	assert_int_equal(ini_load(path, &ini, &eb), CE_TOO_LARGE);
	unlink(path);
	temp_file(path, big, 1024 * 1024);
	assert_int_equal(ini_load(path, &ini, &eb), 0);
	assert_null(ini.sections);
	ini_free(&ini);
	unlink(path);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_reads_sections_keys_and_values),
		cmocka_unit_test(t_splits_at_the_first_delimiter),
		cmocka_unit_test(t_sections_fall_back_to_default),
		cmocka_unit_test(t_continuation_lines_join_with_newlines),
		cmocka_unit_test(t_comments_blank_lines_and_crlf),
		cmocka_unit_test(t_refusals_name_the_file_and_line),
		cmocka_unit_test(t_same_key_in_two_sections_is_fine),
		cmocka_unit_test(t_load_reads_regular_text_files_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
