/* SPDX-License-Identifier: Apache-2.0 */
/* alarm.c: see alarm.h. CloudWatch speaks the Query protocol (XML answers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "alarm.h"
#include "aws.h"
#include "ctl.h"
#include "xml.h"
#include "../common/err.h"
#include "../common/util.h"

/*
 * Look the alarms up. Returns 0 when none is in ALARM, 1 when one is (its
 * name in fired), or a CE_* code (CE_NOT_FOUND for an alarm that does not
 * exist) with eb set.
 */
static int
alarms_check(const struct aws *a, const char *const *names, size_t n, char *fired,
    size_t len, struct errbuf *eb)
{
	char body[8192], enc[512], seen[ALARMS_MAX] = { 0 };
	size_t used, i;
	struct aws_resp r;
	struct xml_node *doc;
	const struct xml_node *res, *kinds[2], *m;
	struct errbuf xe;
	int rc, k, firing = 0;

	used = (size_t)snprintf(body, sizeof(body), "Action=DescribeAlarms&Version=2010-08-01"
	    "&AlarmTypes.member.1=MetricAlarm&AlarmTypes.member.2=CompositeAlarm");
	for (i = 0; i < n && i < ALARMS_MAX; i++) {
		if (aws_form_value(names[i], enc, sizeof(enc)) != 0 ||
		    used + strlen(enc) + 40 >= sizeof(body))
			return err_set(eb, CE_INVALID, "alarm name too long");
		used += (size_t)snprintf(body + used, sizeof(body) - used,
		    "&AlarmNames.member.%zu=%s", i + 1, enc);
	}
	if ((rc = aws_call(a, "monitoring", "monitoring", "POST", "/",
	    "application/x-www-form-urlencoded; charset=utf-8", NULL, body, used, &r, eb)) != 0)
		return rc;
	doc = xml_parse(r.body, r.len, &xe);
	aws_resp_free(&r);
	if (doc == NULL)
		return err_set(eb, CE_SYSTEM, "cloudwatch DescribeAlarms: the answer is not "
		    "XML (%s)", xe.msg);
	res = xml_child(doc, "DescribeAlarmsResult");
	kinds[0] = xml_child(res, "MetricAlarms");
	kinds[1] = xml_child(res, "CompositeAlarms");
	for (k = 0; k < 2; k++)
		for (m = kinds[k] != NULL ? kinds[k]->child : NULL; m != NULL; m = m->next) {
			char name[256], state[32];

			xml_text(xml_child(m, "AlarmName"), name, sizeof(name));
			xml_text(xml_child(m, "StateValue"), state, sizeof(state));
			for (i = 0; i < n && i < ALARMS_MAX; i++)
				if (strcmp(names[i], name) == 0)
					seen[i] = 1;
			if (strcmp(state, "ALARM") == 0 && !firing) {
				firing = 1;
				(void)str_copy(fired, len, name);
			}
		}
	xml_free(doc);
	for (i = 0; i < n && i < ALARMS_MAX; i++)
		if (!seen[i])
			return err_set(eb, CE_NOT_FOUND, "CloudWatch alarm '%s' does not exist "
			    "(region %s)", names[i], a->region);
	return firing;
}

int
alarm_watch_add(struct alarm_watch *w, const char *name)
{
	if (w->n == ALARMS_MAX)
		return ctl_usage_error("--stop-alarm: at most %d", ALARMS_MAX);
	w->names[w->n++] = name;
	return 0;
}

int
alarm_watch_start(struct alarm_watch *w, const char *region, const char *endpoint)
{
	struct errbuf eb = { "" };
	char name[256] = "";
	int firing;

	if (w->n == 0)
		return 0;
	if (aws_init(&w->aws, region, endpoint, &eb) != 0)
		return ctl_error(CE_UNAVAILABLE, "--stop-alarm: %s", eb.msg);
	/* An alarm that does not exist is the user's to fix. */
	if ((firing = alarms_check(&w->aws, w->names, w->n, name, sizeof(name), &eb)) < 0)
		return ctl_error(firing == CE_NOT_FOUND ? CE_NOT_FOUND : CE_UNAVAILABLE,
		    "--stop-alarm: %s", eb.msg);
	if (firing == 1) {
		fprintf(stderr, "chaosctl: stop alarm %s is in ALARM: not starting\n", name);
		return EXIT_SOME_FAILED;
	}
	w->next_poll = mono_ms() + ALARM_POLL_MS;
	return 0;
}

bool
alarm_watch_fired(struct alarm_watch *w, char *fired, size_t len)
{
	struct errbuf eb = { "" };
	int r;

	if (w->n == 0 || mono_ms() < w->next_poll)
		return false;
	if ((r = aws_refresh(&w->aws, &eb)) == 0)
		r = alarms_check(&w->aws, w->names, w->n, fired, len, &eb);
	/* From the end of this look: a slow AWS is not asked back to back. */
	w->next_poll = mono_ms() + ALARM_POLL_MS;
	if (r < 0)
		fprintf(stderr, "chaosctl: checking the stop alarms: %s\n", eb.msg);
	return r == 1;
}
