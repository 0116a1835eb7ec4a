/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_inject.c: "chaosctl inject FAULT": start one fault on every target
 * agent. The fault's flags, their bounds, defaults and help come from the
 * spec table the agents validate against, so they cannot drift apart.
 * --wait follows the faults to their end; Ctrl-C reverts them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "ctl.h"
#include "discover.h"
#include "fanout.h"
#include "ledger.h"
#include "../common/err.h"
#include "../common/limits.h"
#include "../common/spec.h"
#include "../common/util.h"

enum {
	O_DURATION = 1000, O_TAG, O_CLIENT_ID, O_WAIT, O_HELP, O_DRY_RUN,
	O_SEL_LABEL, O_COUNT, O_PERCENT, O_STOP_ALARM, O_SEL_STRING,
};

/* Container selectors: the flag and the target field it fills. */
static const struct {
	const char *flag, *field;
} selectors[] = {
	{ "container-id", "container_id" },
	{ "task", "task" },
	{ "family", "family" },
	{ "revision", "revision" },
	{ "container", "container_name" },
	{ "ecs-cluster", "cluster" },
};
#define NSELECTORS (sizeof(selectors) / sizeof(selectors[0]))

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Index of the fault's parameter name, or -1. */
static int
fault_req_param_index(const struct spec_fault *f, const char *name)
{
	size_t i, n = spec_nparams(f);

	for (i = 0; i < n; i++)
		if (strcmp(f->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The flag of a parameter: dest_port is --dest-port. */
static const char *
flag_name(const char *param)
{
	static char names[SPEC_PARAMS_MAX * 6][40];
	static size_t next;
	char *n = names[next++ % NELEM(names)];
	size_t i;

	for (i = 0; param[i] != '\0' && i < sizeof(names[0]) - 1; i++)
		n[i] = param[i] == '_' ? '-' : param[i];
	n[i] = '\0';
	return n;
}

static void
fault_usage(FILE *out, const struct spec_fault *f)
{
	size_t i, n = spec_nparams(f);

	fprintf(out, "usage: chaosctl inject %s %s[options]\n\n%s.\n", f->name,
	    f->revertible ? "--duration D " : "", f->summary);
	fprintf(out, "Targets: %s%s%s. %s\n\nfault options:\n",
	    (f->targets & SPEC_TARGET_HOST) ? "the host" : "",
	    (f->targets & SPEC_TARGET_HOST) && (f->targets & SPEC_TARGET_CONTAINER) ?
	    ", or " : "", (f->targets & SPEC_TARGET_CONTAINER) ?
	    "the containers chosen by the selectors below" : "",
	    f->revertible ? "Reverted at its deadline, on 'chaosctl revert' and when the "
	    "agent stops." : "Takes effect once; nothing to revert.");
	for (i = 0; i < n; i++) {
		const struct spec_param *p = &f->params[i];
		char allowed[160], flag[64], def[64] = "";

		spec_param_describe(p, allowed, sizeof(allowed));
		(void)snprintf(flag, sizeof(flag), "--%s%s", flag_name(p->name),
		    p->type == SPEC_BOOL ? "" : " VALUE");
		if (p->required)
			(void)snprintf(def, sizeof(def), "; required");
		else if (p->type == SPEC_INT || p->type == SPEC_MILLIS || p->type == SPEC_RATE)
			(void)snprintf(def, sizeof(def), "; default %lld", (long long)p->def);
		else if (p->def_str != NULL)
			(void)snprintf(def, sizeof(def), "; default %s", p->def_str);
		fprintf(out, "  %-18s %s\n  %-18s (%s%s)\n", flag, p->help, "", allowed, def);
	}
	if (f->targets & SPEC_TARGET_CONTAINER)
		fprintf(out,
"\ncontainer selectors (combine them; every one must match):\n"
"  --task ARN|ID      the containers of one ECS task (full ARN or task id)\n"
"  --family NAME      tasks of this task definition family\n"
"  --revision N       ... and this task definition revision\n"
"  --container NAME   the container of this name in the task definition\n"
"  --ecs-cluster NAME tasks of this ECS cluster (name or ARN) on each host\n"
"  --container-id ID  one container by Docker id (12+ characters) or name;\n"
"                     the only way to hit the ECS agent or a pause container\n"
"  --label K=V        containers with this Docker label (repeatable)\n"
"  --container-count N    hit N of the matching containers, chosen at random\n"
"  --container-percent P  hit P %% of them (rounded up), chosen at random\n"
"                     (--count and --percent too, for faults without a\n"
"                     parameter of that name)\n"
"  --dry-run          show what would be hit; change nothing\n");
	fprintf(out,
"\ncommon options:\n");
	if (f->revertible)
		fprintf(out,
"  --duration D       how long the fault lasts: seconds, or 90s, 5m, 1h (required;\n"
"                     each agent refuses more than its max_duration)\n");
	fprintf(out,
"  --fault-label K=V  attach a label to the fault itself (repeatable)\n"
"  --client-id ID     idempotency key: sending the same id again returns the\n"
"                     existing fault instead of starting a second one\n"
"  --wait             follow the faults until they end; Ctrl-C reverts them\n"
"  --stop-alarm NAME  a CloudWatch alarm (repeatable): no start while it is in\n"
"                     ALARM; with --wait, the faults are reverted when it fires\n"
"\nTargets and key: see 'chaosctl --help'.\n");
}

void
usage_inject(FILE *out)
{
	size_t i;

	fprintf(out, "usage: chaosctl inject FAULT [--duration D] [fault options] [--wait]\n\n"
	    "Start FAULT on every target agent. Faults:\n");
	for (i = 0; i < spec_nfaults; i++)
		fprintf(out, "  %-18s %s\n", spec_faults[i].name, spec_faults[i].summary);
	fprintf(out, "\n'chaosctl inject FAULT --help' lists a fault's options.\n"
	    "examples: chaosctl --agent http://10.0.1.17:8421 --key-file agent.key \\\n"
	    "            inject burn-cpu --duration 120 --load 80 --cores 1\n"
	    "          chaosctl ... inject pause-container --family web --percent 50 "
	    "--duration 60\n"
	    "          chaosctl ... inject kill-process --name dockerd\n");
}

/* Add one parameter's value to params, parsed per its spec type. */
static int
add_param(cJSON *params, const struct spec_param *p, const char *arg)
{
	char allowed[160];
	int64_t v;

	spec_param_describe(p, allowed, sizeof(allowed));
	switch (p->type) {
	case SPEC_INT:
		if (parse_i64(arg, p->min, p->max, &v) != 0)
			return ctl_usage_error("--%s: '%s' is not allowed (allowed: %s)",
			    flag_name(p->name), arg, allowed);
		cJSON_AddNumberToObject(params, p->name, (double)v);
		break;
	case SPEC_MILLIS: {
		char buf[40];

		/* A bare number means milliseconds here: "200" == "200ms". */
		(void)snprintf(buf, sizeof(buf), "%s%s", arg,
		    arg[0] != '\0' && str_charset_ok(arg, "") &&
		    strspn(arg, "0123456789") == strlen(arg) ? "ms" : "");
		if (parse_duration_ms(buf, p->min, p->max, &v) != 0)
			return ctl_usage_error("--%s: '%s' is not allowed (allowed: %s; "
			    "write e.g. 200ms or 1s)", flag_name(p->name), arg, allowed);
		cJSON_AddNumberToObject(params, p->name, (double)v);
		break;
	}
	case SPEC_RATE: {
		/* "512kbit", "10mbit", "1gbit", or a bare number of kbit/s. */
		static const struct { const char *suffix; int64_t mult; } units[] = {
			{ "gbit", 1000000 }, { "mbit", 1000 }, { "kbit", 1 },
		};
		char num[32];
		size_t u, alen = strlen(arg);
		int64_t mult = 1;

		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t sl = strlen(units[u].suffix);

			if (alen > sl && strcmp(arg + alen - sl, units[u].suffix) == 0) {
				mult = units[u].mult;
				alen -= sl;
				break;
			}
		}
		if (alen == 0 || alen >= sizeof(num))
			return ctl_usage_error("--%s: '%s' is not a rate (allowed: %s)",
			    flag_name(p->name), arg, allowed);
		memcpy(num, arg, alen);
		num[alen] = '\0';
		if (parse_i64(num, 0, p->max, &v) != 0 || v > p->max / mult ||
		    v * mult < p->min || v * mult > p->max)
			return ctl_usage_error("--%s: '%s' is not allowed (allowed: %s)",
			    flag_name(p->name), arg, allowed);
		cJSON_AddNumberToObject(params, p->name, (double)(v * mult));
		break;
	}
	case SPEC_BOOL:
		cJSON_AddBoolToObject(params, p->name, arg == NULL ||
		    strcmp(arg, "true") == 0);
		break;
	case SPEC_STRING:
	case SPEC_ENUM:
		cJSON_AddStringToObject(params, p->name, arg);
		break;
	}
	return 0;
}

struct tracked {
	const char *agent;
	char id[FAULT_ID_MAX];
	char state[16];
	double remaining_ms;
	bool done;
};

static void
track_update(struct tracked *t, const cJSON *fault)
{
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fault, "state"));

	if (st != NULL)
		(void)str_copy(t->state, sizeof(t->state), st);
	t->remaining_ms = cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(fault, "remaining_ms"));
	t->done = st != NULL && strcmp(st, "active") != 0 && strcmp(st, "pending") != 0;
}

/* One request for each fault not yet ended, at /v1/faults/ID, sent. */
static int
track_send(struct ctl *ctl, const struct tracked *ts, size_t n, const char *method,
    struct fanout *fo)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		if (!ts[i].done && (r = fanout_add(fo, ts[i].agent, method, NULL,
		    "/v1/faults/%s", ts[i].id)) != 0)
			return r;
	return fanout_send(ctl, fo);
}

/* Ask each agent to revert its fault now (after Ctrl-C). */
static void
revert_tracked(struct ctl *ctl, struct tracked *ts, size_t n)
{
	struct fanout fo = FANOUT_INIT;
	size_t i, m = 0;

	if (track_send(ctl, ts, n, "DELETE", &fo) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct ctl_req *q;
		char e[512];

		if (ts[i].done)
			continue;
		q = &fo.reqs[m++];
		if (ctl_result_class(q) == EXIT_ALL_OK) {
			track_update(&ts[i], q->json);
			fprintf(stderr, "chaosctl: reverted %s on %s\n", ts[i].id, q->agent);
		} else {
			ctl_result_error(q, e, sizeof(e));
			fprintf(stderr, "chaosctl: could not revert %s on %s: %s (it still "
			    "ends at its deadline)\n", ts[i].id, q->agent, e);
		}
	}
out:
	fanout_release(&fo);
}

/*
 * Follow the started faults until every one has ended. Returns the exit
 * code: 0 when all expired or were reverted, 1 if one failed, 3 if an
 * agent stopped answering, 130 when interrupted (faults reverted).
 */
static int
wait_faults(struct ctl *ctl, struct tracked *ts, size_t n, struct alarm_watch *aw)
{
	char name[256] = "";
	bool fired = false;
	struct sigaction sa, old_int, old_term;
	bool tty = isatty(STDERR_FILENO) && ctl->output == OUT_TEXT;
	struct fanout fo = FANOUT_INIT;
	int r = EXIT_ALL_OK;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (;;) {
		size_t m = 0, active = 0, unreachable = 0;
		double left = 0;
		struct timespec ts1 = { 0, 500 * 1000000L };

		for (i = 0; i < n; i++)
			if (!ts[i].done)
				m++;
		if (m == 0 || interrupted)
			break;
		if (alarm_watch_fired(aw, name, sizeof(name))) {
			fprintf(stderr, "\nchaosctl: stop alarm %s is in ALARM\n", name);
			fired = true;
			break;
		}
		/* Cannot ask (no memory): the faults still end at their deadlines. */
		if ((r = track_send(ctl, ts, n, "GET", &fo)) != 0)
			break;
		for (i = 0, m = 0; i < n; i++) {
			if (ts[i].done)
				continue;
			if (ctl_result_class(&fo.reqs[m]) == EXIT_ALL_OK)
				track_update(&ts[i], fo.reqs[m].json);
			else
				unreachable++;
			m++;
		}
		fanout_release(&fo);
		for (i = 0; i < n; i++) {
			if (!ts[i].done) {
				active++;
				if (ts[i].remaining_ms / 1000 > left)
					left = ts[i].remaining_ms / 1000;
			}
		}
		if (tty && active > 0)
			fprintf(stderr, "\r\033[Kwaiting: %zu of %zu fault(s) active, %.0fs "
			    "left%s (Ctrl-C reverts)", active, n, left, unreachable ?
			    ", some agents not answering" : "");
		if (active == 0)
			break;
		for (int k = 0; k < 2 && !interrupted; k++)
			(void)nanosleep(&ts1, NULL);
	}
	fanout_release(&fo);
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (interrupted) {
		fprintf(stderr, "chaosctl: interrupted; reverting the faults\n");
		revert_tracked(ctl, ts, n);
		r = EXIT_INTERRUPTED;
	} else if (fired) {
		fprintf(stderr, "chaosctl: reverting the faults\n");
		revert_tracked(ctl, ts, n);
		r = EXIT_SOME_FAILED;
	} else if (r == EXIT_ALL_OK) {
		for (i = 0; i < n; i++)
			if (strcmp(ts[i].state, "failed") == 0)
				r = EXIT_SOME_FAILED;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return r;
}

/* Text rows for the start results: what a dry run would hit, or the fault. */
static void
dry_run_row(FILE *out, const struct ctl_req *r, void *arg)
{
	(void)arg;
	ctl_print_dry_run(out, r->agent, r->json);
}

static void
fault_row(FILE *out, const struct ctl_req *r, void *arg)
{
	(void)arg;
	ctl_print_fault_row(out, r->agent, r->json);
}

int
cmd_inject(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_opt opts[SPEC_PARAMS_MAX + 16 + NSELECTORS];
	const struct spec_fault *f;
	cJSON *doc = NULL, *params, *labels;
	struct fanout fo = FANOUT_INIT;
	struct tracked *ts = NULL;
	char *body = NULL;
	const char *arg;
	bool wait = false, have_duration = false, dry_run = false, per_task = false;
	struct alarm_watch aw;
	char **bodies = NULL;
	size_t nreq = 0;
	cJSON *target = NULL, *tlabels = NULL;
	size_t i, np, nt = 0;
	int id, r = EXIT_USAGE;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			usage_inject(stdout);
			return EXIT_ALL_OK;
		}
		usage_inject(stderr);
		return ctl_usage_error("inject: name a fault");
	}
	if ((f = spec_find(argv[1])) == NULL) {
		usage_inject(stderr);
		return ctl_usage_error("inject: unknown fault '%s'", argv[1]);
	}
	memset(&aw, 0, sizeof(aw));
	np = spec_nparams(f);
	for (i = 0; i < np; i++) {
		opts[i].name = flag_name(f->params[i].name);
		opts[i].has_arg = f->params[i].type != SPEC_BOOL;
		opts[i].id = (int)i;
	}
	if (f->targets & SPEC_TARGET_CONTAINER) {
		for (size_t k = 0; k < NSELECTORS; k++)
			opts[i++] = (struct ctl_opt){ selectors[k].flag, true,
			    O_SEL_STRING + (int)k };
		opts[i++] = (struct ctl_opt){ "label", true, O_SEL_LABEL };
		opts[i++] = (struct ctl_opt){ "container-count", true, O_COUNT };
		opts[i++] = (struct ctl_opt){ "container-percent", true, O_PERCENT };
		/* Short forms, unless the fault has a parameter of that name (loss --percent). */
		if (fault_req_param_index(f, "count") < 0)
			opts[i++] = (struct ctl_opt){ "count", true, O_COUNT };
		if (fault_req_param_index(f, "percent") < 0)
			opts[i++] = (struct ctl_opt){ "percent", true, O_PERCENT };
	}
	opts[i++] = (struct ctl_opt){ "dry-run", false, O_DRY_RUN };
	opts[i++] = (struct ctl_opt){ "stop-alarm", true, O_STOP_ALARM };
	opts[i++] = (struct ctl_opt){ "duration", true, O_DURATION };
	opts[i++] = (struct ctl_opt){ "fault-label", true, O_TAG };
	opts[i++] = (struct ctl_opt){ "client-id", true, O_CLIENT_ID };
	opts[i++] = (struct ctl_opt){ "wait", false, O_WAIT };
	opts[i++] = (struct ctl_opt){ "help", false, O_HELP };
	opts[i] = (struct ctl_opt){ NULL, false, 0 };

	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "type", f->name);
	params = cJSON_AddObjectToObject(doc, "params");
	labels = cJSON_AddObjectToObject(doc, "labels");
	target = cJSON_CreateObject();
	for (int a = 2; a < argc; a++) {
		if ((id = ctl_getopt(opts, argc, argv, &a, &arg)) == -2)
			goto out;
		if (id == -1) {
			r = ctl_usage_error("inject: unexpected argument '%s'", argv[a]);
			goto out;
		}
		if (id >= 0 && (size_t)id < np) {
			if (cJSON_GetObjectItemCaseSensitive(params, f->params[id].name) != NULL) {
				r = ctl_usage_error("--%s: given twice",
				    flag_name(f->params[id].name));
				goto out;
			}
			if ((r = add_param(params, &f->params[id], arg)) != 0)
				goto out;
			r = EXIT_USAGE;
			continue;
		}
		if (id >= O_SEL_STRING && id < O_SEL_STRING + (int)NSELECTORS) {
			const char *field = selectors[id - O_SEL_STRING].field;

			if (cJSON_GetObjectItemCaseSensitive(target, field) != NULL) {
				r = ctl_usage_error("--%s: given twice",
				    selectors[id - O_SEL_STRING].flag);
				goto out;
			}
			cJSON_AddStringToObject(target, field, arg);
			continue;
		}
		switch (id) {
		case O_SEL_LABEL: {
			const char *eq = strchr(arg, '=');
			char k[SPEC_LABEL_KEY_MAX + 1];

			if (eq == NULL || eq == arg || (size_t)(eq - arg) > SPEC_LABEL_KEY_MAX) {
				r = ctl_usage_error("--label: '%s' is not KEY=VALUE (a Docker "
				    "label of the containers to hit)", arg);
				goto out;
			}
			memcpy(k, arg, (size_t)(eq - arg));
			k[eq - arg] = '\0';
			if (tlabels == NULL)
				tlabels = cJSON_AddObjectToObject(target, "labels");
			cJSON_DeleteItemFromObjectCaseSensitive(tlabels, k);
			cJSON_AddStringToObject(tlabels, k, eq + 1);
			break;
		}
		case O_COUNT:
		case O_PERCENT: {
			int64_t v;
			bool pct = id == O_PERCENT;

			if (parse_i64(arg, 1, pct ? 100 : 1000, &v) != 0) {
				r = ctl_usage_error("--container-%s: '%s' is not allowed (allowed: "
				    "integer 1..%d)", pct ? "percent" : "count", arg, pct ? 100 : 1000);
				goto out;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(target, pct ? "percent" : "count");
			cJSON_AddNumberToObject(target, pct ? "percent" : "count", (double)v);
			break;
		}
		case O_DRY_RUN:
			dry_run = true;
			break;
		case O_STOP_ALARM:
			if ((r = alarm_watch_add(&aw, arg)) != 0)
				goto out;
			r = EXIT_USAGE;
			break;
		case O_DURATION: {
			int64_t ms;

			if (parse_duration_ms(arg, 1000, (int64_t)SPEC_DURATION_MAX * 1000, &ms) != 0 ||
			    ms % 1000 != 0) {
				r = ctl_usage_error("--duration: '%s' is not a whole number of "
				    "seconds from 1 to %d (write 90, 90s, 5m or 1h)", arg,
				    SPEC_DURATION_MAX);
				goto out;
			}
			cJSON_AddNumberToObject(doc, "duration", (double)(ms / 1000));
			have_duration = true;
			break;
		}
		case O_TAG: {
			const char *eq = strchr(arg, '=');
			char k[SPEC_LABEL_KEY_MAX + 1];

			if (eq == NULL || eq == arg || (size_t)(eq - arg) > SPEC_LABEL_KEY_MAX) {
				r = ctl_usage_error("--fault-label: '%s' is not KEY=VALUE", arg);
				goto out;
			}
			memcpy(k, arg, (size_t)(eq - arg));
			k[eq - arg] = '\0';
			cJSON_DeleteItemFromObjectCaseSensitive(labels, k);
			cJSON_AddStringToObject(labels, k, eq + 1);
			break;
		}
		case O_CLIENT_ID:
			cJSON_DeleteItemFromObjectCaseSensitive(doc, "client_id");
			cJSON_AddStringToObject(doc, "client_id", arg);
			break;
		case O_WAIT:
			wait = true;
			break;
		case O_HELP:
			fault_usage(stdout, f);
			r = EXIT_ALL_OK;
			goto out;
		}
	}
	if (!have_duration && f->revertible) {
		r = ctl_usage_error("inject %s: --duration is required (e.g. --duration 120)",
		    f->name);
		goto out;
	}
	if (cJSON_GetArraySize(target) > 0) {
		cJSON_AddItemToObject(doc, "target", target);
		target = NULL;
	} else if (f->targets == SPEC_TARGET_CONTAINER) {
		r = ctl_usage_error("inject %s: choose containers with --task, --family, "
		    "--container, --container-id, --ecs-cluster or --label", f->name);
		goto out;
	}
	if (dry_run)
		cJSON_AddBoolToObject(doc, "dry_run", 1);
	if (!dry_run && (r = alarm_watch_start(&aw, ctl->region, ctl->endpoint)) != 0)
		goto out;
	/* Check locally with the agents' own validator: errors before any request. */
	{
		struct fault_req req;
		struct errbuf eb = { "" };
		int v = spec_validate(doc, SPEC_DURATION_MAX, &req, &eb);

		if (v != 0) {
			r = ctl_usage_error("inject %s: %s", f->name, eb.msg);
			goto out;
		}
		fault_req_release(&req);
	}
	/*
	 * --service: one fault per task of the service on each host, so only
	 * those tasks' containers are hit (host-only faults hit the hosts).
	 */
	per_task = ctl->by_service && (f->targets & SPEC_TARGET_CONTAINER) &&
	    ctl->hosts != NULL;
	nreq = ctl->nagents;
	if (per_task) {
		size_t h;

		if (cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(doc, "target"), "task") != NULL) {
			r = ctl_usage_error("inject: --task and --service choose tasks both ways; "
			    "give one");
			goto out;
		}
		for (h = 0, nreq = 0; h < ctl->nhosts; h++)
			nreq += ctl->hosts[h].ntasks;
	}
	if ((body = cJSON_PrintUnformatted(doc)) == NULL ||
	    (bodies = calloc(nreq, sizeof(*bodies))) == NULL ||
	    (ts = calloc(nreq, sizeof(*ts))) == NULL) {
		r = ctl_error(CE_NOMEM, "out of memory");
		goto out;
	}
	if (!per_task) {
		for (i = 0; i < nreq; i++)
			if ((r = fanout_add(&fo, ctl->agents[i], "POST", body, "/v1/faults")) != 0)
				goto out;
	} else {
		size_t h, t, k = 0;

		for (h = 0; h < ctl->nhosts; h++)
			for (t = 0; t < ctl->hosts[h].ntasks; t++, k++) {
				cJSON *d = cJSON_Duplicate(doc, 1), *tg;

				if ((tg = cJSON_GetObjectItemCaseSensitive(d, "target")) == NULL)
					tg = cJSON_AddObjectToObject(d, "target");
				cJSON_DeleteItemFromObjectCaseSensitive(tg, "kind");
				cJSON_AddStringToObject(tg, "kind", "container");
				cJSON_AddStringToObject(tg, "task", ctl->hosts[h].tasks[t]);
				bodies[k] = cJSON_PrintUnformatted(d);
				cJSON_Delete(d);
				if ((r = fanout_add(&fo, ctl->hosts[h].url, "POST", bodies[k],
				    "/v1/faults")) != 0)
					goto out;
			}
	}
	if ((r = fanout_send(ctl, &fo)) != 0)
		goto out;
	r = fanout_exit_code(&fo);
	for (i = 0; i < fo.n; i++) {
		const struct ctl_req *q = &fo.reqs[i];
		const char *fid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->json,
		    "id"));

		if (ctl_result_class(q) != EXIT_ALL_OK || fid == NULL)
			continue;
		ts[nt].agent = q->agent;
		(void)str_copy(ts[nt].id, sizeof(ts[nt].id), fid);
		/* Under 'chaosctl run --stop-alarm', the run reverts what we started. */
		if (!dry_run)
			ledger_note(q->agent, fid);
		track_update(&ts[nt], q->json);
		nt++;
	}
	if (ctl->output == OUT_TEXT && !dry_run)
		ctl_print_fault_header(stdout);
	/* With --wait, the JSON document waits for the faults to end. */
	if (ctl->output == OUT_TEXT || !wait)
		fanout_print(ctl, &fo, dry_run ? dry_run_row : fault_row, NULL);
	if (wait && nt > 0) {
		int w = wait_faults(ctl, ts, nt, &aw);

		if (w == EXIT_INTERRUPTED || w > r)
			r = w;
		if (ctl->output == OUT_TEXT) {
			for (i = 0; i < nt; i++)
				printf("%-28s %-20s ended: %s\n", ts[i].agent, ts[i].id,
				    ts[i].state);
		} else {
			cJSON *extra = cJSON_CreateObject(), *arr;

			arr = cJSON_AddArrayToObject(extra, "ended");
			for (i = 0; i < nt; i++) {
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "agent", ts[i].agent);
				cJSON_AddStringToObject(o, "id", ts[i].id);
				cJSON_AddStringToObject(o, "state", ts[i].state);
				cJSON_AddItemToArray(arr, o);
			}
			ctl_print_json(ctl, fo.reqs, fo.n, extra);
			cJSON_Delete(extra);
		}
	} else if (wait && ctl->output == OUT_JSON) {
		ctl_print_json(ctl, fo.reqs, fo.n, NULL);
	}
out:
	fanout_release(&fo);
	if (bodies != NULL)
		for (i = 0; i < nreq; i++)
			free(bodies[i]);
	free(bodies);
	free(ts);
	free(body);
	cJSON_Delete(doc);
	cJSON_Delete(target);
	return r;
}
