/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c: Prometheus text exposition of the parent's counters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "registry.h"
#include "../common/util.h"

#define NAMED_MAX 32

struct named {
	char name[48];
	char state[16];
	uint64_t n;
};

static uint64_t requests[600];
static uint64_t worker_restarts;
static uint64_t conns_evicted, conns_timed_out;
static struct named auth_failures[NAMED_MAX];
static struct named started[NAMED_MAX];
static struct named ended[NAMED_MAX];

/* Revert lateness histogram, bounds in seconds. */
static const double bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };
static uint64_t buckets[NELEM(bounds) + 1];
static uint64_t lateness_count;
static double lateness_sum;

static void
bump(struct named *tab, const char *name, const char *state)
{
	size_t i;

	for (i = 0; i < NAMED_MAX; i++) {
		if (tab[i].name[0] == '\0') {
			(void)str_copy(tab[i].name, sizeof(tab[i].name), name);
			(void)str_copy(tab[i].state, sizeof(tab[i].state), state);
		}
		if (strcmp(tab[i].name, name) == 0 && strcmp(tab[i].state, state) == 0) {
			tab[i].n++;
			return;
		}
	}
}

void
metrics_request(int status)
{
	if (status >= 100 && status < 600)
		requests[status]++;
}

void
metrics_auth_failure(const char *reason)
{
	bump(auth_failures, reason, "");
}

void
metrics_fault_started(const char *type)
{
	bump(started, type, "");
}

void
metrics_fault_ended(const char *type, const char *state)
{
	bump(ended, type, state);
}

void
metrics_revert_lateness(int64_t us)
{
	double s = (double)(us < 0 ? 0 : us) / 1e6;
	size_t i;

	for (i = 0; i < NELEM(bounds) && s > bounds[i]; i++)
		;
	buckets[i]++;
	lateness_count++;
	lateness_sum += s;
}

void
metrics_worker_restart(void)
{
	worker_restarts++;
}

void
metrics_connections_cut(uint64_t evicted, uint64_t timed_out)
{
	conns_evicted += evicted;
	conns_timed_out += timed_out;
}

struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			char *nb = realloc(o->buf, o->cap * 2);

			if (nb == NULL) {
				o->failed = 1;
				return;
			}
			o->buf = nb;
			o->cap *= 2;
		}
	}
}

char *
metrics_render(struct registry *reg)
{
	struct out o = { malloc(4096), 0, 4096, 0 };
	struct fault **all;
	uint64_t cum = 0;
	size_t i, j, n;

	if (o.buf == NULL)
		return NULL;
	o.buf[0] = '\0';
	emit(&o, "# HELP chaos_agent_faults Faults known to the agent by type and state.\n"
	    "# TYPE chaos_agent_faults gauge\n");
	all = registry_all(reg, &n);
	for (j = 0; j < spec_nfaults; j++) {
		size_t counts[FAULT_STATE_LAST + 1] = { 0 };
		int s;

		for (i = 0; i < n; i++)
			if (all[i]->req.spec == &spec_faults[j])
				counts[all[i]->state]++;
		for (s = FAULT_PENDING; s <= FAULT_STATE_LAST; s++)
			emit(&o, "chaos_agent_faults{type=\"%s\",state=\"%s\"} %zu\n",
			    spec_faults[j].name, fault_state_name((enum fault_state)s),
			    counts[s]);
	}
	emit(&o, "# HELP chaos_agent_faults_started_total Faults that took effect.\n"
	    "# TYPE chaos_agent_faults_started_total counter\n");
	for (i = 0; i < NAMED_MAX && started[i].name[0] != '\0'; i++)
		emit(&o, "chaos_agent_faults_started_total{type=\"%s\"} %llu\n",
		    started[i].name, (unsigned long long)started[i].n);
	emit(&o, "# HELP chaos_agent_faults_ended_total Faults that ended, by final state.\n"
	    "# TYPE chaos_agent_faults_ended_total counter\n");
	for (i = 0; i < NAMED_MAX && ended[i].name[0] != '\0'; i++)
		emit(&o, "chaos_agent_faults_ended_total{type=\"%s\",state=\"%s\"} %llu\n",
		    ended[i].name, ended[i].state, (unsigned long long)ended[i].n);
	emit(&o, "# HELP chaos_agent_requests_total HTTP requests answered, by status.\n"
	    "# TYPE chaos_agent_requests_total counter\n");
	for (i = 0; i < NELEM(requests); i++)
		if (requests[i] != 0)
			emit(&o, "chaos_agent_requests_total{status=\"%zu\"} %llu\n", i,
			    (unsigned long long)requests[i]);
	emit(&o, "# HELP chaos_agent_auth_failures_total Rejected request signatures, by reason.\n"
	    "# TYPE chaos_agent_auth_failures_total counter\n");
	for (i = 0; i < NAMED_MAX && auth_failures[i].name[0] != '\0'; i++)
		emit(&o, "chaos_agent_auth_failures_total{reason=\"%s\"} %llu\n",
		    auth_failures[i].name, (unsigned long long)auth_failures[i].n);
	emit(&o, "# HELP chaos_agent_revert_lateness_seconds Delay between a fault's "
	    "deadline and its revert.\n"
	    "# TYPE chaos_agent_revert_lateness_seconds histogram\n");
	for (i = 0; i < NELEM(bounds); i++) {
		cum += buckets[i];
		emit(&o, "chaos_agent_revert_lateness_seconds_bucket{le=\"%g\"} %llu\n",
		    bounds[i], (unsigned long long)cum);
	}
	cum += buckets[NELEM(bounds)];
	emit(&o, "chaos_agent_revert_lateness_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "chaos_agent_revert_lateness_seconds_sum %.6f\n"
	    "chaos_agent_revert_lateness_seconds_count %llu\n",
	    (unsigned long long)cum, lateness_sum, (unsigned long long)lateness_count);
	emit(&o, "# HELP chaos_agent_connections_cut_total Connections the agent closed "
	    "before their request was complete: evicted for a new one when full, or "
	    "past request_timeout.\n"
	    "# TYPE chaos_agent_connections_cut_total counter\n"
	    "chaos_agent_connections_cut_total{reason=\"evicted\"} %llu\n"
	    "chaos_agent_connections_cut_total{reason=\"request_timeout\"} %llu\n",
	    (unsigned long long)conns_evicted, (unsigned long long)conns_timed_out);
	emit(&o, "# HELP chaos_agent_worker_restarts_total HTTP worker restarts.\n"
	    "# TYPE chaos_agent_worker_restarts_total counter\n"
	    "chaos_agent_worker_restarts_total %llu\n",
	    (unsigned long long)worker_restarts);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
