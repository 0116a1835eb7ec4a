/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_buf.c: the capped buffer of common/buf.c and its libcurl write
 * callback, driven both directly and by a real libcurl transfer of a local
 * file, to show that an answer over the cap aborts the transfer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "../../common/buf.h"
#include "../../common/err.h"

static void
t_appends_and_stays_nul_terminated(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_null(b.data);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append(&b, "def", 3), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "abcdef");
	assert_string_equal(buf_str(&b), "abcdef");
	assert_false(b.overflow);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 16);
}

static void
t_cap_is_inclusive_and_a_refusal_changes_nothing(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), 0);
	assert_false(b.overflow);
	assert_int_equal(buf_append(&b, "9", 1), CE_TOO_LARGE);
	assert_true(b.overflow);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	/* Released, it still tells why the last append failed. */
	buf_release(&b);
	assert_true(b.overflow);
	assert_null(b.data);
}

/*
 * 100,000 one-byte appends up to an odd cap: the data is whole, the cap
 * holds to the byte, and the buffer was reallocated a few dozen times, not
 * once per append (a report is written in many small pieces).
 */
static void
t_many_small_appends_grow_geometrically(void **state)
{
	struct buf b;
	size_t i, grew = 0, last = 0;

	(void)state;
	buf_init(&b, 100000);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(buf_append(&b, i % 2 ? "b" : "a", 1), 0);
		if (b.alloc != last) {
			grew++;
			last = b.alloc;
		}
		assert_true(b.alloc >= b.len + 1 && b.alloc <= 100001);
	}
	assert_int_equal(b.len, 100000);
	assert_int_equal(buf_append(&b, "x", 1), CE_TOO_LARGE);
	assert_int_equal(b.len, 100000);
	assert_true(b.data[0] == 'a' && b.data[99999] == 'b' && b.data[100000] == '\0');
	print_message("100000 appends: %zu allocations\n", grew);
	assert_true(grew <= 20);
	buf_release(&b);
	assert_int_equal(b.alloc, 0);
}

static void
t_huge_lengths_do_not_wrap_around(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), CE_TOO_LARGE);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), CE_TOO_LARGE);
	assert_int_equal(b.len, 2);
	buf_release(&b);
}

static void
t_steal_hands_over_the_data(void **state)
{
	struct buf b;
	size_t len = 99;
	char *d;

	(void)state;
	buf_init(&b, 32);
	assert_null(buf_steal(&b, &len));
	assert_int_equal(len, 0);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	d = buf_steal(&b, &len);
	assert_string_equal(d, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 32);
	free(d);
	buf_release(&b);
	buf_release(NULL);
}

static void
t_curl_callback_takes_all_or_nothing(void **state)
{
	struct buf b;
	char chunk[6] = "abcdef";

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_curl_write(chunk, 1, 6, &b), 6);
	/* 6 + 6 > 10: a short count, which is libcurl's signal to abort. */
	assert_int_equal(buf_curl_write(chunk, 1, 6, &b), 0);
	assert_true(b.overflow);
	assert_int_equal(b.len, 6);
	buf_release(&b);
}

/* A real transfer of a local file of size bytes into a buffer capped at max. */
static CURLcode
fetch_file(size_t size, size_t max, struct buf *b)
{
	char path[] = "/tmp/test_buf.XXXXXX", url[64];
	char *content = malloc(size);
	CURLcode cc;
	CURL *c;
	int fd;

	assert_non_null(content);
	memset(content, 'x', size);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, content, size), (ssize_t)size);
	close(fd);
	free(content);
	(void)snprintf(url, sizeof(url), "file://%s", path);
	buf_init(b, max);
	assert_non_null(c = curl_easy_init());
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_curl_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	unlink(path);
	return cc;
}

static void
t_curl_transfer_within_the_cap_is_whole(void **state)
{
	struct buf b;

	(void)state;
	assert_int_equal(fetch_file(100000, 100000, &b), CURLE_OK);
	assert_int_equal(b.len, 100000);
	assert_false(b.overflow);
	assert_int_equal(strspn(b.data, "x"), 100000);
	buf_release(&b);
}

static void
t_curl_transfer_over_the_cap_aborts(void **state)
{
	struct buf b;

	(void)state;
	assert_int_equal(fetch_file(100001, 100000, &b), CURLE_WRITE_ERROR);
	assert_true(b.overflow);
	assert_true(b.len <= 100000);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_appends_and_stays_nul_terminated),
		cmocka_unit_test(t_cap_is_inclusive_and_a_refusal_changes_nothing),
		cmocka_unit_test(t_many_small_appends_grow_geometrically),
		cmocka_unit_test(t_huge_lengths_do_not_wrap_around),
		cmocka_unit_test(t_steal_hands_over_the_data),
		cmocka_unit_test(t_curl_callback_takes_all_or_nothing),
		cmocka_unit_test(t_curl_transfer_within_the_cap_is_whole),
		cmocka_unit_test(t_curl_transfer_over_the_cap_aborts),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
