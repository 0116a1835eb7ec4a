/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr.h: the scope lists of network faults, parsed strictly: CIDR
 * lists ("10.0.0.0/8,fd00::/64,192.0.2.7") and port lists ("3306,8080").
 * Shared by the spec validator (so chaosctl and the agent's worker refuse
 * the same inputs) and the network backend that turns them into filters.
 */
#ifndef CHAOS_NETADDR_H
#define CHAOS_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_LIST_MAX 8		/* entries per list */

struct net_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network byte order, host bits cleared */
	int prefix;		/* 0..32 or 0..128 */
};

/* Parse "a/n,b,..." (a bare address is a host route). Returns the count or -1. */
int net_parse_cidrs(const char *s, struct net_cidr *out, size_t max, char *why, size_t len);

/* Parse "p,q,..." ports 1..65535. Returns the count or -1. */
int net_parse_ports(const char *s, uint16_t *out, size_t max, char *why, size_t len);

/* Print c as "addr/prefix". */
void net_cidr_format(const struct net_cidr *c, char *buf, size_t len);

/* spec_param check hooks: 0 when s is valid, else -1 with why. */
int net_check_cidrs(const char *s, char *why, size_t len);
int net_check_ports(const char *s, char *why, size_t len);
int net_check_ifname(const char *s, char *why, size_t len);

#endif
