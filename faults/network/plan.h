/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.h: the tc commands of a network fault, as argv arrays built from
 * validated values only (no shell, no string pasting of client input).
 *
 * Layout on the interface, always the same so a revert (or crash recovery)
 * can find and remove exactly what a fault added:
 *
 *   root  prio, handle cafe:, 3 bands, priomap all to band 1 (cafe:1)
 *         cafe:1  everything not matched: untouched
 *         cafe:3  netem, handle caf3:, with the fault's impairment
 *   u32 filters on cafe:
 *         prio 1 (IPv4) and 2 (IPv6): the control path -> cafe:1
 *         prio 3 (IPv4) and 4 (IPv6): the fault's scope  -> cafe:3
 *
 * Control path: the agent's port (as source port), the instance and task
 * metadata addresses and the caller's address are matched first and never
 * impaired.
 */
#ifndef CHAOS_NET_PLAN_H
#define CHAOS_NET_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/netaddr.h"

#define NET_HANDLE "cafe:"
#define NET_NETEM_HANDLE "caf3:"
#define NET_WORDS_MAX 40
#define NET_WORD_MAX 64
#define NET_CMDS_MAX 80
#define NET_FILTERS_MAX 64	/* scope filters per fault */
#define NET_EXCLUDE_MAX 8

struct net_cmd {
	int n;
	char w[NET_WORDS_MAX][NET_WORD_MAX];
};

struct net_plan {
	int n;
	struct net_cmd cmd[NET_CMDS_MAX];
};

enum net_proto { NET_PROTO_ALL = 0, NET_PROTO_ICMP = 1, NET_PROTO_TCP = 6, NET_PROTO_UDP = 17 };

struct net_scope {
	struct net_cidr dest[NET_LIST_MAX];
	int ndest;
	uint16_t dport[NET_LIST_MAX];
	int ndport;
	uint16_t sport[NET_LIST_MAX];
	int nsport;
	enum net_proto proto;
	/* Never impaired: destinations, and the agent's own port. */
	struct net_cidr exclude[NET_EXCLUDE_MAX];
	int nexclude;
	uint16_t agent_port;	/* 0: none */
};

/* The netem options: "delay", "100ms", ... (at most 16 words). */
struct net_netem {
	int n;
	char w[16][NET_WORD_MAX];
};

/*
 * The commands that install a fault on ifname. Returns 0, or -1 with why
 * (a scope that needs more than NET_FILTERS_MAX filters).
 */
int net_plan_install(const char *tc, const char *ifname, const struct net_netem *netem,
    const struct net_scope *scope, struct net_plan *out, char *why, size_t len);

/* The commands that remove it: filters first, then the qdiscs. */
void net_plan_remove(const char *tc, const char *ifname, struct net_plan *out);

/* "tc qdisc show dev IF root": what holds the root now. */
void net_plan_show_root(const char *tc, const char *ifname, struct net_plan *out);

/* "tc qdisc del dev IF root": clear a root someone else set up (force). */
void net_plan_del_root(const char *tc, const char *ifname, struct net_plan *out);

/*
 * "tc qdisc add dev IF root handle H KIND": put back the root a forced
 * fault replaced, from the kind and handle tc showed before. Returns 0, or
 * -1 when kind or handle are not plain words (kind [a-z0-9_], handle
 * [0-9a-f:]).
 */
int net_plan_restore_root(const char *tc, const char *ifname, const char *kind,
    const char *handle, struct net_plan *out);

/* Add a word to the netem options (truncating silently is not an option). */
int net_netem_add(struct net_netem *ne, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
