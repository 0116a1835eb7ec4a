/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_slug.c: controller/slug.c against what the original wrapper's
 * sanitize_name_for_path(title, 50) gives in Python for the same titles
 * (the expected strings were printed by Python 3.12).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../controller/slug.h"

static void
check(const char *title, const char *want)
{
	char out[SLUG_MAX];

	(void)slug_title(title, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
t_ascii_as_the_original(void **state)
{
	(void)state;
	check("  ECS Service: Fail AZ 'one'/\"two\" v1.2  ", "ecs-service:-fail-az-onetwo-v12");
}

static void
t_cut_at_50_characters_never_inside_one(void **state)
{
	char title[128];

	(void)state;
	/* 49 'a' then "é": byte 50 is the middle of "é"; 50 characters keep it */
	memset(title, 'a', 49);
	memcpy(title + 49, "\xc3\xa9tail", sizeof("\xc3\xa9tail"));
	check(title, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9");
}

static void
t_unicode_lower_case_as_python(void **state)
{
	(void)state;
	check("\xc3\x9c" "BUNG \xce\xa3\xce\x9f\xce\xa6\xce\x8f\xce\xa3", /* Übung ΣΟΦΏΣ */
	    "\xc3\xbc" "bung-\xcf\x83\xce\xbf\xcf\x86\xcf\x8e\xcf\x82");  /* übung-σοφώς */
	check("\xc4\xb0" "STANBUL", "i\xcc\x87stanbul");	/* İ: two code points */
	check("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8");	/* Deseret, beyond the BMP */
}

static void
t_bad_utf8_is_replaced_not_copied(void **state)
{
	(void)state;
	check("a\xff" "b\xc3", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ascii_as_the_original),
		cmocka_unit_test(t_cut_at_50_characters_never_inside_one),
		cmocka_unit_test(t_unicode_lower_case_as_python),
		cmocka_unit_test(t_bad_utf8_is_replaced_not_copied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
