/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_inject.c: "chaosctl inject FAULT": start one fault on every target
 * agent. The fault's flags, their bounds, defaults and help come from the
 * spec table the agents validate against, so they cannot drift apart.
 * --wait follows the faults to their end (inject_wait.c); Ctrl-C reverts
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "ctl.h"
#include "discover.h"
#include "fanout.h"
#include "inject.h"
#include "ledger.h"
#include "../common/err.h"
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
_Static_assert(INJECT_OPTS_MAX >= SPEC_PARAMS_MAX + 16 + NSELECTORS,
    "INJECT_OPTS_MAX holds every option inject_options makes");

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

/* What one "chaosctl inject" is building and then follows. */
struct inject {
	const struct spec_fault *f;
	cJSON *doc;		/* the request: type, params, labels, duration... */
	cJSON *params, *labels;	/* inside doc */
	cJSON *target;		/* the selectors; owned until it joins doc */
	bool wait, dry_run, have_duration, help;
	struct alarm_watch aw;	/* --stop-alarm */
	char *body;		/* doc printed: the body of every request... */
	char **bodies;		/* ...or, with --service, one per task */
	size_t nbodies;
};

void
inject_options(const struct spec_fault *f, struct ctl_opt *opts)
{
	size_t i, np = spec_nparams(f);

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
}

/*
 * Set "K" to "V" in obj from a K=V argument. Returns false when arg is not
 * KEY=VALUE with a key of at most SPEC_LABEL_KEY_MAX bytes.
 */
static bool
set_label(cJSON *obj, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char k[SPEC_LABEL_KEY_MAX + 1];

	if (eq == NULL || eq == arg || (size_t)(eq - arg) > SPEC_LABEL_KEY_MAX)
		return false;
	memcpy(k, arg, (size_t)(eq - arg));
	k[eq - arg] = '\0';
	cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
	cJSON_AddStringToObject(obj, k, eq + 1);
	return true;
}

/* One fault parameter (--load, --delay, ...), checked against its spec. */
static int
opt_param(struct inject *in, int id, const char *arg)
{
	const struct spec_param *p = &in->f->params[id];

	if (cJSON_GetObjectItemCaseSensitive(in->params, p->name) != NULL)
		return ctl_usage_error("--%s: given twice", flag_name(p->name));
	return add_param(in->params, p, arg);
}

/* One container selector (--task, --family, --label, --container-count...). */
static int
opt_selector(struct inject *in, int id, const char *arg)
{
	cJSON *labels;
	int64_t v;
	bool pct = id == O_PERCENT;

	if (id >= O_SEL_STRING) {
		const char *field = selectors[id - O_SEL_STRING].field;

		if (cJSON_GetObjectItemCaseSensitive(in->target, field) != NULL)
			return ctl_usage_error("--%s: given twice",
			    selectors[id - O_SEL_STRING].flag);
		cJSON_AddStringToObject(in->target, field, arg);
		return 0;
	}
	if (id == O_SEL_LABEL) {
		if ((labels = cJSON_GetObjectItemCaseSensitive(in->target, "labels")) == NULL)
			labels = cJSON_AddObjectToObject(in->target, "labels");
		if (!set_label(labels, arg))
			return ctl_usage_error("--label: '%s' is not KEY=VALUE (a Docker label "
			    "of the containers to hit)", arg);
		return 0;
	}
	if (parse_i64(arg, 1, pct ? 100 : 1000, &v) != 0)
		return ctl_usage_error("--container-%s: '%s' is not allowed (allowed: "
		    "integer 1..%d)", pct ? "percent" : "count", arg, pct ? 100 : 1000);
	cJSON_DeleteItemFromObjectCaseSensitive(in->target, pct ? "percent" : "count");
	cJSON_AddNumberToObject(in->target, pct ? "percent" : "count", (double)v);
	return 0;
}

/* --duration: whole seconds, as people write them. */
static int
opt_duration(struct inject *in, const char *arg)
{
	int64_t ms;

	if (parse_duration_ms(arg, 1000, (int64_t)SPEC_DURATION_MAX * 1000, &ms) != 0 ||
	    ms % 1000 != 0)
		return ctl_usage_error("--duration: '%s' is not a whole number of seconds "
		    "from 1 to %d (write 90, 90s, 5m or 1h)", arg, SPEC_DURATION_MAX);
	cJSON_AddNumberToObject(in->doc, "duration", (double)(ms / 1000));
	in->have_duration = true;
	return 0;
}

/* One option of the command line into the request. */
static int
inject_opt(struct inject *in, int id, const char *arg)
{
	if (id >= 0 && (size_t)id < spec_nparams(in->f))
		return opt_param(in, id, arg);
	switch (id) {
	case O_SEL_LABEL:
	case O_COUNT:
	case O_PERCENT:
		return opt_selector(in, id, arg);
	case O_DRY_RUN:
		in->dry_run = true;
		return 0;
	case O_STOP_ALARM:
		return alarm_watch_add(&in->aw, arg);
	case O_DURATION:
		return opt_duration(in, arg);
	case O_TAG:
		if (!set_label(in->labels, arg))
			return ctl_usage_error("--fault-label: '%s' is not KEY=VALUE", arg);
		return 0;
	case O_CLIENT_ID:
		cJSON_DeleteItemFromObjectCaseSensitive(in->doc, "client_id");
		cJSON_AddStringToObject(in->doc, "client_id", arg);
		return 0;
	case O_WAIT:
		in->wait = true;
		return 0;
	case O_HELP:
		in->help = true;
		return 0;
	}
	return opt_selector(in, id, arg);	/* O_SEL_STRING + k */
}

/* The command line after FAULT into in; stops at --help. */
static int
inject_parse(struct inject *in, int argc, char **argv)
{
	struct ctl_opt opts[INJECT_OPTS_MAX];
	const char *arg;
	int id, r;

	inject_options(in->f, opts);
	for (int a = 2; a < argc && !in->help; a++) {
		if ((id = ctl_getopt(opts, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		if (id == -1)
			return ctl_usage_error("inject: unexpected argument '%s'", argv[a]);
		if ((r = inject_opt(in, id, arg)) != 0)
			return r;
	}
	return 0;
}

/* What the options alone cannot check: a duration, a target, if needed. */
static int
inject_complete(struct inject *in)
{
	if (!in->have_duration && in->f->revertible)
		return ctl_usage_error("inject %s: --duration is required (e.g. --duration 120)",
		    in->f->name);
	if (cJSON_GetArraySize(in->target) > 0) {
		cJSON_AddItemToObject(in->doc, "target", in->target);
		in->target = NULL;
	} else if (in->f->targets == SPEC_TARGET_CONTAINER) {
		return ctl_usage_error("inject %s: choose containers with --task, --family, "
		    "--container, --container-id, --ecs-cluster or --label", in->f->name);
	}
	if (in->dry_run)
		cJSON_AddBoolToObject(in->doc, "dry_run", 1);
	return 0;
}

/* Check locally with the agents' own validator: errors before any request. */
static int
inject_validate(const struct inject *in)
{
	struct fault_req req;
	struct errbuf eb = { "" };

	if (spec_validate(in->doc, SPEC_DURATION_MAX, &req, &eb) != 0)
		return ctl_usage_error("inject %s: %s", in->f->name, eb.msg);
	fault_req_release(&req);
	return 0;
}

/*
 * The start requests. With --service, one fault per task of the service on
 * each host, so only those tasks' containers are hit (host-only faults hit
 * the hosts), and the fault without container selectors on each task's
 * sidecar, whose target is its own task (its containers share one network
 * namespace; a container-only fault keeps them, and the sidecar answers
 * 422); otherwise the same fault on every target agent.
 */
static int
inject_requests(struct ctl *ctl, struct inject *in, struct fanout *fo)
{
	size_t h, t, i;
	int r;

	if ((in->body = cJSON_PrintUnformatted(in->doc)) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	if (!ctl->by_service || !(in->f->targets & SPEC_TARGET_CONTAINER) ||
	    ctl->hosts == NULL) {
		for (i = 0; i < ctl->nagents; i++)
			if ((r = fanout_add(fo, ctl->agents[i], "POST", in->body,
			    "/v1/faults")) != 0)
				return r;
		return 0;
	}
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(in->doc,
	    "target"), "task") != NULL)
		return ctl_usage_error("inject: --task and --service choose tasks both ways; "
		    "give one");
	for (h = 0; h < ctl->nhosts; h++)
		in->nbodies += ctl->hosts[h].ntasks;
	if ((in->bodies = calloc(in->nbodies, sizeof(*in->bodies))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	for (h = 0, i = 0; h < ctl->nhosts; h++) {
		if (ctl->hosts[h].sidecar) {
			cJSON *d = cJSON_Duplicate(in->doc, 1);

			/* A container-only fault keeps its selectors: the sidecar
			 * then says why it cannot (422), not that they are needed. */
			if (in->f->targets & SPEC_TARGET_HOST)
				cJSON_DeleteItemFromObjectCaseSensitive(d, "target");
			in->bodies[i++] = cJSON_PrintUnformatted(d);
			cJSON_Delete(d);
			if (in->bodies[i - 1] == NULL)
				return ctl_error(CE_NOMEM, "out of memory");
			if ((r = fanout_add(fo, ctl->hosts[h].url, "POST", in->bodies[i - 1],
			    "/v1/faults")) != 0)
				return r;
			continue;
		}
		for (t = 0; t < ctl->hosts[h].ntasks; t++, i++) {
			cJSON *d = cJSON_Duplicate(in->doc, 1), *tg;

			if ((tg = cJSON_GetObjectItemCaseSensitive(d, "target")) == NULL)
				tg = cJSON_AddObjectToObject(d, "target");
			cJSON_DeleteItemFromObjectCaseSensitive(tg, "kind");
			cJSON_AddStringToObject(tg, "kind", "container");
			cJSON_AddStringToObject(tg, "task", ctl->hosts[h].tasks[t]);
			in->bodies[i] = cJSON_PrintUnformatted(d);
			cJSON_Delete(d);
			if ((r = fanout_add(fo, ctl->hosts[h].url, "POST", in->bodies[i],
			    "/v1/faults")) != 0)
				return r;
		}
	}
	return 0;
}

/*
 * The faults the agents started, into ts (one per request at most), each
 * noted in the run's ledger. Returns how many.
 */
static size_t
inject_record(const struct inject *in, const struct fanout *fo, struct tracked *ts)
{
	size_t i, nt = 0;

	for (i = 0; i < fo->n; i++) {
		const struct ctl_req *q = &fo->reqs[i];
		const char *fid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->json,
		    "id"));

		if (ctl_result_class(q) != EXIT_ALL_OK || fid == NULL)
			continue;
		ts[nt].agent = q->agent;
		(void)str_copy(ts[nt].id, sizeof(ts[nt].id), fid);
		/* Under 'chaosctl run', the run reports (and may revert) what we started. */
		if (!in->dry_run)
			ledger_note(q->agent, q->json);
		inject_track(&ts[nt], q->json);
		nt++;
	}
	return nt;
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

/* --wait: follow the faults to their end, then show how each ended. */
static int
inject_follow(struct ctl *ctl, struct inject *in, const struct fanout *fo,
    struct tracked *ts, size_t nt, int r)
{
	cJSON *extra, *arr;
	size_t i;
	int w;

	if (nt == 0) {
		if (ctl->output == OUT_JSON)
			ctl_print_json(ctl, fo->reqs, fo->n, NULL);
		return r;
	}
	if ((w = inject_wait(ctl, ts, nt, &in->aw)) == EXIT_INTERRUPTED || w > r)
		r = w;
	if (ctl->output == OUT_TEXT) {
		for (i = 0; i < nt; i++)
			printf("%-28s %-20s ended: %s\n", ts[i].agent, ts[i].id, ts[i].state);
		return r;
	}
	extra = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(extra, "ended");
	for (i = 0; i < nt; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "agent", ts[i].agent);
		cJSON_AddStringToObject(o, "id", ts[i].id);
		cJSON_AddStringToObject(o, "state", ts[i].state);
		cJSON_AddItemToArray(arr, o);
	}
	ctl_print_json(ctl, fo->reqs, fo->n, extra);
	cJSON_Delete(extra);
	return r;
}

static void
inject_release(struct inject *in)
{
	size_t i;

	for (i = 0; in->bodies != NULL && i < in->nbodies; i++)
		free(in->bodies[i]);
	free(in->bodies);
	free(in->body);
	cJSON_Delete(in->doc);
	cJSON_Delete(in->target);
}

int
cmd_inject(struct ctl *ctl, int argc, char **argv)
{
	struct fanout fo = FANOUT_INIT;
	struct tracked *ts = NULL;
	struct inject in;
	size_t nt;
	int r;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			usage_inject(stdout);
			return EXIT_ALL_OK;
		}
		usage_inject(stderr);
		return ctl_usage_error("inject: name a fault");
	}
	memset(&in, 0, sizeof(in));
	if ((in.f = spec_find(argv[1])) == NULL) {
		usage_inject(stderr);
		return ctl_usage_error("inject: unknown fault '%s'", argv[1]);
	}
	in.doc = cJSON_CreateObject();
	cJSON_AddStringToObject(in.doc, "type", in.f->name);
	in.params = cJSON_AddObjectToObject(in.doc, "params");
	in.labels = cJSON_AddObjectToObject(in.doc, "labels");
	in.target = cJSON_CreateObject();
	if ((r = inject_parse(&in, argc, argv)) != 0)
		goto out;
	if (in.help) {
		fault_usage(stdout, in.f);
		goto out;
	}
	if ((r = inject_complete(&in)) != 0 ||
	    (!in.dry_run && (r = alarm_watch_start(&in.aw, ctl->region, ctl->endpoint)) != 0) ||
	    (r = inject_validate(&in)) != 0 ||
	    (r = inject_requests(ctl, &in, &fo)) != 0)
		goto out;
	if ((ts = calloc(fo.n, sizeof(*ts))) == NULL) {
		r = ctl_error(CE_NOMEM, "out of memory");
		goto out;
	}
	if ((r = fanout_send(ctl, &fo)) != 0)
		goto out;
	r = fanout_exit_code(&fo);
	nt = inject_record(&in, &fo, ts);
	if (ctl->output == OUT_TEXT && !in.dry_run)
		ctl_print_fault_header(stdout);
	/* With --wait, the JSON document waits for the faults to end. */
	if (ctl->output == OUT_TEXT || !in.wait)
		fanout_print(ctl, &fo, in.dry_run ? dry_run_row : fault_row, NULL);
	if (in.wait)
		r = inject_follow(ctl, &in, &fo, ts, nt, r);
out:
	fanout_release(&fo);
	free(ts);
	inject_release(&in);
	return r;
}
