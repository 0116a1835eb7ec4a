/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_strikes.c: the strike table of agent/strikes.c: keys per address
 * family, counting and forgetting, and a flood of addresses that cannot
 * grow it or wipe out the strikes of the addresses that keep misbehaving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../agent/strikes.h"

static void
key4(const char *addr, unsigned char key[STRIKES_KEY_LEN])
{
	struct sockaddr_in in;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(1234);
	assert_int_equal(inet_pton(AF_INET, addr, &in.sin_addr), 1);
	strikes_key((const struct sockaddr *)&in, key);
}

static void
key6(const char *addr, unsigned char key[STRIKES_KEY_LEN])
{
	struct sockaddr_in6 in6;

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
	strikes_key((const struct sockaddr *)&in6, key);
}

static void
t_keys(void **state)
{
	unsigned char a[STRIKES_KEY_LEN], b[STRIKES_KEY_LEN], z[STRIKES_KEY_LEN] = { 0 };
	static const unsigned char mapped[STRIKES_KEY_LEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7,
	};

	(void)state;
	key4("10.0.0.7", a);
	assert_memory_equal(a, mapped, STRIKES_KEY_LEN);
	key4("10.0.0.8", b);
	assert_memory_not_equal(a, b, STRIKES_KEY_LEN);
	/* One IPv6 /64 is one key; another /64 is another. */
	key6("2001:db8:1:2::1", a);
	key6("2001:db8:1:2:ffff:ffff:ffff:fffe", b);
	assert_memory_equal(a, b, STRIKES_KEY_LEN);
	key6("2001:db8:1:3::1", b);
	assert_memory_not_equal(a, b, STRIKES_KEY_LEN);
	strikes_key(NULL, a);
	assert_memory_equal(a, z, STRIKES_KEY_LEN);
}

static void
t_count_and_forget(void **state)
{
	struct strikes *s = strikes_new(42);
	unsigned char a[STRIKES_KEY_LEN], b[STRIKES_KEY_LEN];

	(void)state;
	assert_non_null(s);
	key4("192.0.2.1", a);
	key4("192.0.2.2", b);
	assert_int_equal(strikes_of(s, a, 1000), 0);
	strikes_add(s, a, 1000);
	strikes_add(s, a, 2000);
	strikes_add(s, a, 3000);
	assert_int_equal(strikes_of(s, a, 3000), 3);
	assert_int_equal(strikes_of(s, b, 3000), 0);
	/* Forgotten STRIKES_FORGET_MS after the last strike, not the first. */
	assert_int_equal(strikes_of(s, a, 3000 + STRIKES_FORGET_MS - 1), 3);
	assert_int_equal(strikes_of(s, a, 3000 + STRIKES_FORGET_MS), 0);
	/* A strike after that starts again from one. */
	strikes_add(s, a, 3000 + STRIKES_FORGET_MS);
	assert_int_equal(strikes_of(s, a, 3000 + STRIKES_FORGET_MS), 1);
	strikes_free(s);
	strikes_free(NULL);
}

/*
 * 1,000 addresses that keep being cut, as the slow-client flood of the
 * integration tests, all keep their strikes. After a flood of 100,000
 * addresses struck once each, the fixed table holds the latest of them:
 * the least recently struck entries are the ones replaced.
 */
static void
t_floods(void **state)
{
	struct strikes *s = strikes_new(0x5eed);
	unsigned char k[STRIKES_KEY_LEN];
	char addr[32];
	int64_t now = 1;
	unsigned i, round, kept = 0;

	(void)state;
	assert_non_null(s);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 1000; i++) {
			(void)snprintf(addr, sizeof(addr), "127.77.%u.%u", 1 + i / 250,
			    1 + i % 250);
			key4(addr, k);
			strikes_add(s, k, now++);
		}
	for (i = 0; i < 1000; i++) {
		(void)snprintf(addr, sizeof(addr), "127.77.%u.%u", 1 + i / 250, 1 + i % 250);
		key4(addr, k);
		kept += strikes_of(s, k, now) > 0;
	}
	print_message("1000 struck addresses: %u keep their strikes\n", kept);
	assert_true(kept >= 990);
	for (i = 0; i < 100000; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		key4(addr, k);
		strikes_add(s, k, now++);
	}
	for (kept = 0, i = 100000 - 1000; i < 100000; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		key4(addr, k);
		kept += strikes_of(s, k, now) > 0;
	}
	print_message("after 100000 once-struck addresses: %u of the latest 1000 kept\n",
	    kept);
	assert_true(kept >= 990);
	strikes_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_keys),
		cmocka_unit_test(t_count_and_forget),
		cmocka_unit_test(t_floods),
	};

	return cmocka_run_group_tests_name("strikes", tests, NULL, NULL);
}
