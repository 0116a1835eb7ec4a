/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_netplan.c: the tc commands network faults run (faults/network/plan.c)
 * and the scope lists they come from (common/netaddr.c). The exact argv
 * matters: it is what the kernel gets, and what revert must undo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../common/netaddr.h"
#include "../../faults/network/plan.h"

static struct net_plan plan;

/* Command i of plan as one string. */
static const char *
line(int i)
{
	static char buf[4096];
	size_t used = 0;
	int k;

	buf[0] = '\0';
	assert_true(i < plan.n);
	for (k = 0; k < plan.cmd[i].n; k++) {
		int w = snprintf(buf + used, sizeof(buf) - used, "%s%s", k ? " " : "",
		    plan.cmd[i].w[k]);
		assert_true(w > 0 && (size_t)w < sizeof(buf) - used);
		used += (size_t)w;
	}
	return buf;
}

/* Is there a command equal to s? */
static bool
has(const char *s)
{
	int i;

	for (i = 0; i < plan.n; i++)
		if (strcmp(line(i), s) == 0)
			return true;
	return false;
}

static int
count_prefix(const char *prefix)
{
	int i, n = 0;

	for (i = 0; i < plan.n; i++)
		n += strncmp(line(i), prefix, strlen(prefix)) == 0;
	return n;
}

static void
control_path(struct net_scope *sc)
{
	char why[128];

	assert_int_equal(net_parse_cidrs("169.254.169.254,169.254.170.2,fd00:ec2::254,10.9.8.7",
	    sc->exclude, NET_EXCLUDE_MAX, why, sizeof(why)), 4);
	sc->nexclude = 4;
	sc->agent_port = 8421;
}

static void
t_latency_without_scope(void **state)
{
	struct net_scope sc;
	struct net_netem ne;
	char why[128] = "";

	(void)state;
	memset(&sc, 0, sizeof(sc));
	memset(&ne, 0, sizeof(ne));
	control_path(&sc);
	assert_int_equal(net_netem_add(&ne, "delay"), 0);
	assert_int_equal(net_netem_add(&ne, "100ms"), 0);
	assert_int_equal(net_netem_add(&ne, "20ms"), 0);
	assert_int_equal(net_plan_install("/sbin/tc", "eth1", &ne, &sc, &plan, why,
	    sizeof(why)), 0);
	assert_string_equal(line(0), "/sbin/tc qdisc add dev eth1 root handle cafe: prio "
	    "bands 3 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
	assert_string_equal(line(1), "/sbin/tc qdisc add dev eth1 parent cafe:3 handle caf3: "
	    "netem limit 100000 delay 100ms 20ms");
	/* The control path is matched first and sent to the untouched band. */
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ip prio 1 u32 "
	    "match ip dst 169.254.169.254/32 flowid cafe:1"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ip prio 1 u32 "
	    "match ip dst 169.254.170.2/32 flowid cafe:1"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ip prio 1 u32 "
	    "match ip dst 10.9.8.7/32 flowid cafe:1"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ipv6 prio 2 u32 "
	    "match ip6 dst fd00:ec2::254/128 flowid cafe:1"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ip prio 1 u32 "
	    "match ip protocol 6 0xff match ip sport 8421 0xffff flowid cafe:1"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ipv6 prio 2 u32 "
	    "match ip6 protocol 6 0xff match ip6 sport 8421 0xffff flowid cafe:1"));
	/* No scope: everything else, IPv4 and IPv6, goes to netem. */
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ip prio 3 u32 "
	    "match u32 0 0 flowid cafe:3"));
	assert_true(has("/sbin/tc filter add dev eth1 parent cafe: protocol ipv6 prio 4 u32 "
	    "match u32 0 0 flowid cafe:3"));
	assert_int_equal(plan.n, 2 + 6 + 2);
	/* Exclusions always come before the scope. */
	assert_int_equal(count_prefix("/sbin/tc filter add dev eth1 parent cafe: protocol ip "
	    "prio 3"), 1);
}

static void
t_port_and_dest_scope(void **state)
{
	struct net_scope sc;
	struct net_netem ne;
	char why[128] = "";

	(void)state;
	memset(&sc, 0, sizeof(sc));
	memset(&ne, 0, sizeof(ne));
	assert_int_equal(net_netem_add(&ne, "loss"), 0);
	assert_int_equal(net_netem_add(&ne, "30%%"), 0);
	assert_int_equal(net_parse_cidrs("10.0.0.0/8,fd00::/64", sc.dest, NET_LIST_MAX, why,
	    sizeof(why)), 2);
	sc.ndest = 2;
	assert_int_equal(net_parse_ports("3306,5432", sc.dport, NET_LIST_MAX, why,
	    sizeof(why)), 2);
	sc.ndport = 2;
	sc.proto = NET_PROTO_TCP;
	assert_int_equal(net_plan_install("tc", "ens5", &ne, &sc, &plan, why, sizeof(why)), 0);
	assert_string_equal(line(1), "tc qdisc add dev ens5 parent cafe:3 handle caf3: netem "
	    "limit 100000 loss 30%");
	assert_true(has("tc filter add dev ens5 parent cafe: protocol ip prio 3 u32 "
	    "match ip dst 10.0.0.0/8 match ip protocol 6 0xff match ip dport 3306 0xffff "
	    "flowid cafe:3"));
	assert_true(has("tc filter add dev ens5 parent cafe: protocol ip prio 3 u32 "
	    "match ip dst 10.0.0.0/8 match ip protocol 6 0xff match ip dport 5432 0xffff "
	    "flowid cafe:3"));
	assert_true(has("tc filter add dev ens5 parent cafe: protocol ipv6 prio 4 u32 "
	    "match ip6 dst fd00::/64 match ip6 protocol 6 0xff match ip6 dport 3306 0xffff "
	    "flowid cafe:3"));
	assert_int_equal(count_prefix("tc filter add"), 4);
	/* No catch-all once a scope is given. */
	assert_int_equal(count_prefix("tc filter add dev ens5 parent cafe: protocol ip prio 3 "
	    "u32 match u32 0 0"), 0);
}

static void
t_ipv6_only_and_icmp(void **state)
{
	struct net_scope sc;
	struct net_netem ne;
	char why[128] = "";

	(void)state;
	memset(&sc, 0, sizeof(sc));
	memset(&ne, 0, sizeof(ne));
	assert_int_equal(net_netem_add(&ne, "loss"), 0);
	assert_int_equal(net_netem_add(&ne, "100%%"), 0);
	assert_int_equal(net_parse_cidrs("2001:db8::1", sc.dest, NET_LIST_MAX, why,
	    sizeof(why)), 1);
	sc.ndest = 1;
	sc.proto = NET_PROTO_ICMP;
	assert_int_equal(net_plan_install("tc", "lo", &ne, &sc, &plan, why, sizeof(why)), 0);
	assert_int_equal(count_prefix("tc filter add dev lo parent cafe: protocol ip "), 0);
	/* ICMPv6 is next header 58, not 1. */
	assert_true(has("tc filter add dev lo parent cafe: protocol ipv6 prio 4 u32 "
	    "match ip6 dst 2001:db8::1/128 match ip6 protocol 58 0xff flowid cafe:3"));
}

static void
t_scope_too_wide(void **state)
{
	struct net_scope sc;
	struct net_netem ne;
	char why[128] = "";

	(void)state;
	memset(&sc, 0, sizeof(sc));
	memset(&ne, 0, sizeof(ne));
	assert_int_equal(net_parse_cidrs("10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,"
	    "10.0.0.6,10.0.0.7,10.0.0.8", sc.dest, NET_LIST_MAX, why, sizeof(why)), 8);
	sc.ndest = 8;
	assert_int_equal(net_parse_ports("1,2,3,4,5,6,7,8", sc.dport, NET_LIST_MAX, why,
	    sizeof(why)), 8);
	sc.ndport = 8;
	assert_int_equal(net_parse_ports("9,10", sc.sport, NET_LIST_MAX, why, sizeof(why)), 2);
	sc.nsport = 2;
	assert_int_equal(net_plan_install("tc", "eth0", &ne, &sc, &plan, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than 64 filters"));
	sc.nsport = 0;
	assert_int_equal(net_plan_install("tc", "eth0", &ne, &sc, &plan, why, sizeof(why)), 0);
	assert_int_equal(count_prefix("tc filter add"), 64);
}

static void
t_remove_filters_then_qdiscs(void **state)
{
	(void)state;
	net_plan_remove("tc", "eth0", &plan);
	assert_int_equal(plan.n, 3);
	assert_string_equal(line(0), "tc filter del dev eth0 parent cafe:");
	assert_string_equal(line(1), "tc qdisc del dev eth0 parent cafe:3 handle caf3:");
	assert_string_equal(line(2), "tc qdisc del dev eth0 root handle cafe:");
}

static void
t_cidr_and_port_lists(void **state)
{
	struct net_cidr c[NET_LIST_MAX];
	uint16_t p[NET_LIST_MAX];
	char why[128], s[64];

	(void)state;
	assert_int_equal(net_parse_cidrs("10.1.2.3/8", c, NET_LIST_MAX, why, sizeof(why)), 1);
	net_cidr_format(&c[0], s, sizeof(s));
	assert_string_equal(s, "10.0.0.0/8");	/* host bits cleared */
	assert_int_equal(net_parse_cidrs("fd00::1:2/112,::1", c, NET_LIST_MAX, why,
	    sizeof(why)), 2);
	net_cidr_format(&c[0], s, sizeof(s));
	assert_string_equal(s, "fd00::1:0/112");
	net_cidr_format(&c[1], s, sizeof(s));
	assert_string_equal(s, "::1/128");
	assert_int_equal(c[1].family, AF_INET6);
	assert_int_equal(net_parse_cidrs("10.0.0.0/33", c, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "prefix"));
	assert_int_equal(net_parse_cidrs("example.com", c, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_parse_cidrs("10.0.0.1,,10.0.0.2", c, NET_LIST_MAX, why,
	    sizeof(why)), -1);
	assert_int_equal(net_parse_cidrs("", c, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_parse_cidrs("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
	    "1.1.1.7,1.1.1.8,1.1.1.9", c, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_parse_ports("80,443", p, NET_LIST_MAX, why, sizeof(why)), 2);
	assert_int_equal(p[1], 443);
	assert_int_equal(net_parse_ports("0", p, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_parse_ports("65536", p, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_parse_ports("80-90", p, NET_LIST_MAX, why, sizeof(why)), -1);
	assert_int_equal(net_check_ifname("eth0", why, sizeof(why)), 0);
	assert_int_equal(net_check_ifname("a/b", why, sizeof(why)), -1);
	assert_int_equal(net_check_ifname("0123456789abcdef", why, sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_latency_without_scope),
		cmocka_unit_test(t_port_and_dest_scope),
		cmocka_unit_test(t_ipv6_only_and_icmp),
		cmocka_unit_test(t_scope_too_wide),
		cmocka_unit_test(t_remove_filters_then_qdiscs),
		cmocka_unit_test(t_cidr_and_port_lists),
	};

	return cmocka_run_group_tests_name("netplan", tests, NULL, NULL);
}
