/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host.h: what the network faults read about a host or a namespace, from
 * /proc and the module tree only (no tc, no netlink): is tc installed, can
 * sch_netem load, which interface holds the default route, which
 * namespace a process is in.
 */
#ifndef CHAOS_NET_HOST_H
#define CHAOS_NET_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The tc binary, or NULL when iproute2 is not installed. */
const char *net_tc_path(void);

/* Is sch_netem loaded, built in or loadable? Fills why when it is not. */
bool net_netem_present(char *why, size_t len);

/*
 * The interface of the default route (IPv4, else IPv6) in pid's network
 * namespace, into out. Returns 0, or -1 when there is none.
 */
int net_default_ifname(pid_t pid, char *out, size_t len);

/* Does pid's namespace have an interface named ifname? */
bool net_ifname_exists(pid_t pid, const char *ifname);

/* The inode of pid's network namespace. Returns 0 or -1. */
int net_ns_inode(pid_t pid, uint64_t *ino);

#endif
