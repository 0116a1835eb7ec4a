/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_table.c: the fault catalogue, the one description of every fault's
 * parameters, targets and revertibility (see spec.h), and the names of
 * fault states. The agent validates against it; chaosctl builds its
 * inject flags and help from it.
 */
#include <stdio.h>
#include <string.h>

#include "netaddr.h"
#include "signals.h"
#include "spec.h"
#include "util.h"

/* What every network fault can be scoped to (faults/network). */
#define NET_SCOPE_PARAMS \
	{ .name = "interface", .type = SPEC_STRING, .min = 1, .max = 15, \
	  .charset = "_.:@-", .check = net_check_ifname, \
	  .help = "interface; default: the one of the default route in the target" }, \
	{ .name = "dest", .type = SPEC_STRING, .min = 1, .max = 128, \
	  .charset = ":./,", .check = net_check_cidrs, \
	  .help = "only traffic to these CIDRs (IPv4 or IPv6, comma-separated, up to 8)" }, \
	{ .name = "dest_port", .type = SPEC_STRING, .min = 1, .max = 64, .charset = ",", \
	  .check = net_check_ports, \
	  .help = "only traffic to these ports (comma-separated, up to 8)" }, \
	{ .name = "source_port", .type = SPEC_STRING, .min = 1, .max = 64, .charset = ",", \
	  .check = net_check_ports, \
	  .help = "only traffic from these ports (comma-separated, up to 8)" }, \
	{ .name = "protocol", .type = SPEC_ENUM, .def_str = "all", \
	  .choices = "all|tcp|udp|icmp", .help = "only this protocol" }, \
	{ .name = "force", .type = SPEC_BOOL, .def = 0, \
	  .help = "replace a root qdisc someone else set up (restored on revert)" }
const struct spec_fault spec_faults[] = {
	{
		.name = "burn-cpu",
		.summary = "burn CPU on the host, or inside containers against their CPU limit",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "load", .type = SPEC_INT, .unit = "%", .min = 1,
			  .max = 100, .def = 100,
			  .help = "CPU load to hold on each burned core" },
			{ .name = "cores", .type = SPEC_INT, .unit = "cores",
			  .min = 0, .max = 1024, .def = 0,
			  .help = "number of cores to burn; 0 burns every online core" },
		},
	},
	{
		.name = "kill-container",
		.summary = "send a signal to the containers of a task (default SIGKILL)",
		.targets = SPEC_TARGET_CONTAINER,
		.revertible = false,
		.params = {
			{ .name = "signal", .type = SPEC_ENUM, .def_str = "KILL",
			  .choices = SIGNAL_CHOICES,
			  .help = "signal to send, without the SIG prefix" },
		},
	},
	{
		.name = "stop-container",
		.summary = "stop containers: SIGTERM, then SIGKILL after the grace period",
		.targets = SPEC_TARGET_CONTAINER,
		.revertible = false,
		.params = {
			{ .name = "grace", .type = SPEC_INT, .unit = "s", .min = 0,
			  .max = 300, .def = 10,
			  .help = "seconds between SIGTERM and SIGKILL" },
		},
	},
	{
		.name = "restart-container",
		.summary = "restart containers (stop with a grace period, then start)",
		.targets = SPEC_TARGET_CONTAINER,
		.revertible = false,
		.params = {
			{ .name = "grace", .type = SPEC_INT, .unit = "s", .min = 0,
			  .max = 300, .def = 10,
			  .help = "seconds between SIGTERM and SIGKILL" },
		},
	},
	{
		.name = "pause-container",
		.summary = "freeze containers; they are unpaused at the deadline",
		.targets = SPEC_TARGET_CONTAINER,
		.revertible = true,
	},
	{
		.name = "latency",
		.summary = "delay packets leaving an interface (netem), optionally only some",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "delay", .type = SPEC_MILLIS, .unit = "ms", .min = 1,
			  .max = 60000, .def = 100, .help = "added delay" },
			{ .name = "jitter", .type = SPEC_MILLIS, .unit = "ms", .min = 0,
			  .max = 60000, .def = 0, .help = "random variation of the delay" },
			{ .name = "correlation", .type = SPEC_INT, .unit = "%", .min = 0,
			  .max = 100, .def = 0, .help = "how much each delay depends on the last" },
			{ .name = "distribution", .type = SPEC_ENUM, .def_str = "uniform",
			  .choices = "uniform|normal|pareto|paretonormal",
			  .help = "shape of the jitter" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "loss",
		.summary = "drop a share of the packets leaving an interface (netem)",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "percent", .type = SPEC_INT, .unit = "%", .min = 1,
			  .max = 100, .def = 10, .help = "share of packets dropped" },
			{ .name = "correlation", .type = SPEC_INT, .unit = "%", .min = 0,
			  .max = 100, .def = 0,
			  .help = "burstiness: how much each loss depends on the last" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "corrupt",
		.summary = "flip a bit in a share of the packets leaving an interface (netem)",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "percent", .type = SPEC_INT, .unit = "%", .min = 1,
			  .max = 100, .def = 5, .help = "share of packets corrupted" },
			{ .name = "correlation", .type = SPEC_INT, .unit = "%", .min = 0,
			  .max = 100, .def = 0,
			  .help = "how much each corruption depends on the last" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "duplicate",
		.summary = "send a share of the packets leaving an interface twice (netem)",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "percent", .type = SPEC_INT, .unit = "%", .min = 1,
			  .max = 100, .def = 5, .help = "share of packets duplicated" },
			{ .name = "correlation", .type = SPEC_INT, .unit = "%", .min = 0,
			  .max = 100, .def = 0,
			  .help = "how much each duplicate depends on the last" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "reorder",
		.summary = "send a share of the packets at once and delay the rest (netem)",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "percent", .type = SPEC_INT, .unit = "%", .min = 1,
			  .max = 100, .def = 25, .help = "share of packets sent out of order" },
			{ .name = "correlation", .type = SPEC_INT, .unit = "%", .min = 0,
			  .max = 100, .def = 0,
			  .help = "how much each reordering depends on the last" },
			{ .name = "delay", .type = SPEC_MILLIS, .unit = "ms", .min = 1,
			  .max = 60000, .def = 10, .help = "delay of the packets kept in order" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "rate",
		.summary = "limit the bandwidth leaving an interface (netem rate)",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			{ .name = "rate", .type = SPEC_RATE, .unit = "kbit/s", .min = 8,
			  .max = 100000000, .def = 1000, .help = "bandwidth limit" },
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "blackhole",
		.summary = "drop every packet leaving an interface that matches the scope",
		.targets = SPEC_TARGET_HOST | SPEC_TARGET_CONTAINER,
		.revertible = true,
		.params = {
			NET_SCOPE_PARAMS,
		},
	},
	{
		.name = "kill-process",
		.summary = "send a signal to host processes chosen by exact name or pid",
		.targets = SPEC_TARGET_HOST,
		.revertible = false,
		.params = {
			{ .name = "name", .type = SPEC_STRING, .min = 1, .max = 64,
			  .help = "exact process name (e.g. dockerd, agent)" },
			{ .name = "pid", .type = SPEC_INT, .min = 1, .max = 4194304,
			  .help = "process id (instead of name)" },
			{ .name = "signal", .type = SPEC_ENUM, .def_str = "KILL",
			  .choices = SIGNAL_CHOICES,
			  .help = "signal to send, without the SIG prefix" },
			{ .name = "all", .type = SPEC_BOOL, .def = 0,
			  .help = "signal every process with that name, not only the oldest" },
		},
	},
};

const size_t spec_nfaults = NELEM(spec_faults);

static const char *const state_names[] = {
	[FAULT_PENDING] = "pending",
	[FAULT_ACTIVE] = "active",
	[FAULT_REVERTED] = "reverted",
	[FAULT_EXPIRED] = "expired",
	[FAULT_FAILED] = "failed",
	[FAULT_COMPLETED] = "completed",
	[FAULT_REVERT_FAILED] = "revert_failed",
};

const char *
fault_state_name(enum fault_state s)
{
	if ((size_t)s < NELEM(state_names))
		return state_names[s];
	return "unknown";
}

const char *
fault_state_choices(void)
{
	static char buf[128];
	size_t i, used = 0;

	if (buf[0] != '\0')
		return buf;
	for (i = 0; i < NELEM(state_names); i++) {
		int w = snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "|" : "",
		    state_names[i]);

		if (w < 0 || (size_t)w >= sizeof(buf) - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

int
fault_state_parse(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(state_names); i++)
		if (strcmp(state_names[i], s) == 0)
			return (int)i;
	return -1;
}
