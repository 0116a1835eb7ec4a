/* SPDX-License-Identifier: Apache-2.0 */
/* output.c: text tables for people. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "../common/spec.h"

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

	return s != NULL ? s : "-";
}

void
ctl_print_fault_header(FILE *out)
{
	fprintf(out, "%-28s %-20s %-17s %-9s %-24s %s\n", "AGENT", "FAULT", "TYPE",
	    "STATE", "EXPIRES|ENDED", "PARAMS");
}

int
ctl_labels_add(struct ctl_labels *l, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || (size_t)(eq - arg) > SPEC_LABEL_KEY_MAX ||
	    strlen(eq + 1) > SPEC_LABEL_VALUE_MAX)
		return ctl_usage_error("--label: '%.80s' is not KEY=VALUE (a fault label, as "
		    "given to inject --fault-label)", arg);
	if (l->n == CTL_LABELS_MAX)
		return ctl_usage_error("--label: at most %d labels", CTL_LABELS_MAX);
	l->kv[l->n++] = arg;
	return 0;
}

bool
ctl_labels_match(const struct ctl_labels *l, const cJSON *fault)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(fault, "labels");
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *eq = strchr(l->kv[i], '=');
		char k[SPEC_LABEL_KEY_MAX + 1];
		const char *v;

		memcpy(k, l->kv[i], (size_t)(eq - l->kv[i]));
		k[eq - l->kv[i]] = '\0';
		v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, k));
		if (v == NULL || strcmp(v, eq + 1) != 0)
			return false;
	}
	return true;
}

void
ctl_print_fault_row(FILE *out, const char *agent, const cJSON *fault)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(fault, "params"), *p;
	const char *state = str(fault, "state");
	char ps[256] = "";
	size_t used = 0;

	cJSON_ArrayForEach(p, params) {
		char *v = cJSON_PrintUnformatted(p);
		int w;

		if (v == NULL)
			continue;
		w = snprintf(ps + used, sizeof(ps) - used, "%s%s=%s", used ? " " : "",
		    p->string, v);
		cJSON_free(v);
		if (w < 0 || (size_t)w >= sizeof(ps) - used)
			break;
		used += (size_t)w;
	}
	fprintf(out, "%-28s %-20s %-17s %-9s %-24s %s\n", agent, str(fault, "id"),
	    str(fault, "type"), state, strcmp(state, "active") == 0 ||
	    strcmp(state, "pending") == 0 ? str(fault, "expires_at") : str(fault, "ended_at"),
	    ps);
	if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fault, "error")) != NULL)
		fprintf(out, "%-28s   error: %s\n", "", str(fault, "error"));
	{
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(fault, "detail"), *c;

		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(detail, "containers")) {
			const cJSON *hit = cJSON_GetObjectItemCaseSensitive(c, "hit");

			fprintf(out, "%-28s   container %s (%.12s)%s%s\n", "", str(c, "name"),
			    str(c, "id"), cJSON_IsTrue(hit) ? "" : ": not hit",
			    cJSON_GetObjectItemCaseSensitive(c, "error") != NULL ? "" : "");
			if (cJSON_GetObjectItemCaseSensitive(c, "error") != NULL)
				fprintf(out, "%-28s     %s\n", "", str(c, "error"));
		}
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(detail, "victims")) {
			const cJSON *pid = cJSON_GetObjectItemCaseSensitive(c, "pid");
			const cJSON *sig = cJSON_GetObjectItemCaseSensitive(c, "signalled");

			fprintf(out, "%-28s   process %s (pid %.0f)%s\n", "", str(c, "comm"),
			    cJSON_IsNumber(pid) ? pid->valuedouble : 0.0,
			    cJSON_IsFalse(sig) ? ": exited before the signal" : "");
		}
	}
}

void
ctl_print_target_row(FILE *out, const char *agent, const cJSON *t)
{
	const cJSON *ecs = cJSON_GetObjectItemCaseSensitive(t, "ecs");
	const char *task = str(ecs, "task_arn"), *slash = strrchr(task, '/');
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(t, "pid");

	fprintf(out, "%-28s %-12.12s %-24s %-9s %-7.0f %-16s %-16s %s%s%s\n", agent,
	    str(t, "id"), str(t, "name"), str(t, "state"),
	    cJSON_IsNumber(pid) ? pid->valuedouble : 0.0, str(ecs, "family"),
	    str(ecs, "container_name"), slash != NULL ? slash + 1 : task,
	    cJSON_GetObjectItemCaseSensitive(t, "protected") != NULL ? "  [protected]" : "",
	    cJSON_GetObjectItemCaseSensitive(t, "netns_owner") != NULL ? "  [shares netns]" :
	    "");
}

void
ctl_print_dry_run(FILE *out, const char *agent, const cJSON *doc)
{
	const cJSON *t;
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(doc, "targets");

	if (targets == NULL) {
		fprintf(out, "%-28s dry run: %s would act on the host\n", agent, str(doc, "type"));
		return;
	}
	fprintf(out, "%-28s dry run: %s would hit %d of %.0f matching container(s)\n",
	    agent, str(doc, "type"), cJSON_GetArraySize(targets),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "matched")));
	cJSON_ArrayForEach(t, targets) {
		const cJSON *ecs = cJSON_GetObjectItemCaseSensitive(t, "ecs");

		fprintf(out, "%-28s   hit  %s (%.12s) family=%s container=%s\n", "",
		    str(t, "name"), str(t, "id"), str(ecs, "family"), str(ecs, "container_name"));
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "skipped"))
		fprintf(out, "%-28s   skip %s (%.12s): %s\n", "", str(t, "name"), str(t, "id"),
		    str(t, "reason"));
}
