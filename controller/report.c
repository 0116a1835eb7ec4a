/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c: see report.h. The journal (and the run directory's
 * faults.json, faults.ledger and run.json) is read into a model of lanes
 * and items; the page is the summary, the timeline (report_svg.c) and one
 * table per part of the run. Nothing the journal says reaches the page
 * unescaped or uncut; a missing field shows as a dash, never as an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/util.h"

#define RP_NAME_MAX 200		/* bytes of a name or title shown */
#define RP_OUTPUT_MAX 2048	/* bytes of an activity's output shown */
#define RP_FAULTS_MAX 1024	/* faults listed from the ledger and the records */
/* Items further than this from the run's own start and end are not drawn. */
#define RP_SLACK_S 3600.0

/* A fault of the run: the ledger's note and the agent's record, merged. */
struct rp_fault {
	const char *agent, *id, *type;
	const char *state, *end_reason, *error;	/* NULL when unknown */
	double t0, t1, deadline;	/* NAN when unknown */
	bool recorded;		/* the agent's record was collected */
};

struct rp_ctx {
	const struct report_in *in;
	cJSON *journal, *faults_doc, *run_doc;
	char *ledger;		/* a copy of the ledger, cut into its fields */
	struct rp_fault *faults;
	size_t nfaults;
	double start, end;	/* the journal's, NAN when absent */
	struct rp_model m;
	struct rp_out o;
};

/* ------------------------------------------------------------ output */

void
rp_puts(struct rp_out *o, const char *s)
{
	if (o->err == 0)
		o->err = buf_append(&o->b, s, strlen(s));
}

void
rp_printf(struct rp_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Every format here is short numbers and fixed words: a cut is a bug, not input. */
	if (o->err == 0)
		o->err = buf_append(&o->b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* The length of s cut to at most max bytes, not inside a UTF-8 sequence. */
static size_t
cut_len(const char *s, size_t max, bool *cut)
{
	size_t n = strnlen(s, max + 1);

	*cut = n > max;
	if (!*cut)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* rp_esc() and rp_esc_label(): say the size where s was cut only when note. */
static void
esc_cut(struct rp_out *o, const char *s, size_t max, bool note)
{
	size_t n, i, run = 0;
	bool cut;

	if (s == NULL)
		s = "";
	n = cut_len(s, max, &cut);
	for (i = 0; i < n && o->err == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\n': case '\t': break;
		default:
			/* Control characters are not text: show the replacement character. */
			if (c < 0x20 || c == 0x7f)
				rep = "\xef\xbf\xbd";
		}
		if (rep == NULL)
			continue;
		o->err = buf_append(&o->b, s + run, i - run);
		rp_puts(o, rep);
		run = i + 1;
	}
	if (o->err == 0)
		o->err = buf_append(&o->b, s + run, n - run);
	if (cut && note)
		rp_printf(o, "\xe2\x80\xa6 (cut at %zu bytes)", n);
	else if (cut)
		rp_puts(o, "\xe2\x80\xa6");
}

void
rp_esc(struct rp_out *o, const char *s, size_t max)
{
	esc_cut(o, s, max, true);
}

void
rp_esc_label(struct rp_out *o, const char *s, size_t max)
{
	esc_cut(o, s, max, false);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
rp_fmt_time(double t, char *buf, size_t len)
{
	int64_t s = (int64_t)floor(t), days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	int64_t sod = s - days * 86400, z = days + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	(void)snprintf(buf, len, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld UTC", (long long)y,
	    (long long)m, (long long)d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
	    (long long)(sod % 60));
}

/* n digits of s as a number; -1 when one is not a digit. */
static int64_t
digits(const char *s, int n)
{
	int64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * An ISO-8601 time as Chaos Toolkit and the agents write it, into Unix
 * seconds: "2026-11-25T01:10:50[.863904][+00:00|Z]", no offset meaning UTC
 * (chaostoolkit-lib before 1.43.1). Returns false for anything else.
 */
static bool
parse_time(const char *s, double *out)
{
	int64_t y, mo, d, h, mi, sec, off = 0;
	double frac = 0, scale = 0.1;
	const char *p;

	if (s == NULL || strnlen(s, 20) < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return false;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		int64_t oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : -1;

		if (oh < 0 || oh > 23 || om < 0 || om > 59 || p[6] != '\0')
			return false;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
	} else if (*p == 'Z') {
		if (p[1] != '\0')
			return false;
	} else if (*p != '\0') {
		return false;
	}
	*out = (double)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off) +
	    frac;
	return true;
}

/* ------------------------------------------------------------ reading */

static const cJSON *
get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *
get_str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(get(o, key));
}

static double
get_time(const cJSON *o, const char *key)
{
	double t;

	return parse_time(get_str(o, key), &t) ? t : NAN;
}

/*
 * The lane of key, made when new. The last lane is shared: once the others
 * are taken, every new key's items go there, so that a journal with more
 * activities than rows still has each of them drawn.
 */
static size_t
lane_for(struct rp_model *m, enum rp_kind kind, const char *key, const char *label)
{
	size_t i, n;
	bool cut;

	for (i = 0; i < m->nlanes; i++)
		if (m->lanes[i].kind == kind && strcmp(m->lanes[i].key, key) == 0)
			return i;
	if (m->nlanes == RP_LANES_MAX - 1) {
		(void)str_copy(m->lanes[i].key, sizeof(m->lanes[i].key), "(the rest)");
		(void)str_copy(m->lanes[i].label, sizeof(m->lanes[i].label), "(the rest)");
		m->lanes[i].kind = RP_LANE_REST;
		m->nlanes++;
	}
	if (m->nlanes == RP_LANES_MAX) {
		m->lanes_shared++;
		return RP_LANES_MAX - 1;
	}
	(void)str_copy(m->lanes[i].key, sizeof(m->lanes[i].key), key);
	n = cut_len(label, sizeof(m->lanes[i].label) - 1, &cut);
	memcpy(m->lanes[i].label, label, n);
	m->lanes[i].label[n] = '\0';
	m->lanes[i].kind = kind;
	m->nlanes++;
	return i;
}

/* Keep an item for the timeline when it has a time near the run's. */
static void
add_item(struct rp_ctx *c, const struct rp_item *it)
{
	struct rp_model *m = &c->m;

	if (isnan(it->t0))
		return;
	if (!isnan(c->start) && !isnan(c->end) &&
	    (it->t0 < c->start - RP_SLACK_S || it->t0 > c->end + RP_SLACK_S)) {
		m->items_dropped++;
		return;
	}
	if (m->nitems == RP_ITEMS_MAX) {
		m->items_dropped++;
		return;
	}
	m->items[m->nitems++] = *it;
}

/* A load probe's summary (chaoskit.load: p50_ms, p99_ms, error_rate): a series point. */
static void
add_point(struct rp_ctx *c, const cJSON *output, double t0, double t1)
{
	const cJSON *p50 = get(output, "p50_ms"), *p99 = get(output, "p99_ms");
	const cJSON *er = get(output, "error_rate");
	struct rp_point *p;

	if (!cJSON_IsObject(output) || isnan(t0) || c->m.npoints == RP_POINTS_MAX ||
	    (!cJSON_IsNumber(p99) && !cJSON_IsNumber(er)))
		return;
	if (!isnan(c->start) && !isnan(c->end) &&
	    (t0 < c->start - RP_SLACK_S || t0 > c->end + RP_SLACK_S))
		return;
	p = &c->m.points[c->m.npoints++];
	p->t = isnan(t1) || t1 < t0 ? t0 : (t0 + t1) / 2;
	p->p50_ms = cJSON_IsNumber(p50) && p50->valuedouble >= 0 ? p50->valuedouble : -1;
	p->p99_ms = cJSON_IsNumber(p99) && p99->valuedouble >= 0 ? p99->valuedouble : -1;
	p->error_rate = cJSON_IsNumber(er) && er->valuedouble >= 0 ?
	    fmin(er->valuedouble, 1.0) : -1;
}

static enum rp_ok
activity_ok(const cJSON *a)
{
	const char *st = get_str(a, "status");

	if (st == NULL)
		return RP_UNKNOWN;
	return strcmp(st, "succeeded") == 0 ? RP_GOOD : RP_BAD;
}

/* The steady-state probes of one hypothesis run (before, during #n, after). */
static void
model_hypothesis(struct rp_ctx *c, const cJSON *state, const char *phase)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, get(state, "probes")) {
		const cJSON *act = get(p, "activity"), *met = get(p, "tolerance_met");
		const char *name = get_str(act, "name");
		struct rp_item it = { 0 };

		if (name == NULL)
			name = "(unnamed probe)";
		it.kind = RP_HYPOTHESIS;
		it.name = name;
		it.detail = phase;
		it.t0 = get_time(p, "start");
		it.t1 = get_time(p, "end");
		it.ok = cJSON_IsBool(met) ? (cJSON_IsTrue(met) ? RP_GOOD : RP_BAD) : RP_UNKNOWN;
		it.lane = lane_for(&c->m, RP_HYPOTHESIS, name, name);
		add_item(c, &it);
		add_point(c, get(p, "output"), it.t0, it.t1);
	}
}

/*
 * The method's or the rollbacks' activities: bars, one row per activity
 * name, so that background activities running side by side stay apart.
 */
static void
model_activities(struct rp_ctx *c, const cJSON *list, bool rollbacks)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, list) {
		const cJSON *act = get(a, "activity");
		const char *type = get_str(act, "type"), *name = get_str(act, "name");
		struct rp_item it = { 0 };
		char key[256];

		it.kind = rollbacks ? RP_ROLLBACK : type != NULL && strcmp(type, "probe") == 0 ?
		    RP_PROBE : RP_ACTION;
		it.name = name != NULL ? name : "(unnamed activity)";
		it.t0 = get_time(a, "start");
		it.t1 = get_time(a, "end");
		it.ok = activity_ok(a);
		(void)snprintf(key, sizeof(key), "%s%.200s", rollbacks ? "rollback: " : "",
		    it.name);
		it.lane = lane_for(&c->m, it.kind, key, key);
		add_item(c, &it);
		if (it.kind == RP_PROBE)
			add_point(c, get(a, "output"), it.t0, it.t1);
	}
}

/* Find or add the run's fault (agent, id). NULL when the list is full. */
static struct rp_fault *
fault_slot(struct rp_ctx *c, const char *agent, const char *id)
{
	size_t i;

	for (i = 0; i < c->nfaults; i++)
		if (strcmp(c->faults[i].agent, agent) == 0 && strcmp(c->faults[i].id, id) == 0)
			return &c->faults[i];
	if (c->nfaults == RP_FAULTS_MAX)
		return NULL;
	c->faults[c->nfaults] = (struct rp_fault){ .agent = agent, .id = id, .t0 = NAN,
	    .t1 = NAN, .deadline = NAN };
	return &c->faults[c->nfaults++];
}

/*
 * faults.json, as chaosctl run collects it after the run:
 * {"faults": [{"agent", "id", "fault": <the agent's record>} | {"agent", "id", "error"}]}.
 */
static void
read_records(struct rp_ctx *c)
{
	const cJSON *e;

	if (c->in->faults == NULL || (c->faults_doc = cJSON_Parse(c->in->faults)) == NULL)
		return;
	cJSON_ArrayForEach(e, get(c->faults_doc, "faults")) {
		const char *agent = get_str(e, "agent"), *id = get_str(e, "id");
		const cJSON *rec = get(e, "fault");
		struct rp_fault *f;

		if (agent == NULL || id == NULL || (f = fault_slot(c, agent, id)) == NULL)
			continue;
		if (!cJSON_IsObject(rec)) {
			f->error = get_str(e, "error");
			continue;
		}
		f->recorded = true;
		f->type = get_str(rec, "type");
		f->state = get_str(rec, "state");
		f->end_reason = get_str(rec, "end_reason");
		f->error = get_str(rec, "error");
		f->t0 = get_time(rec, "created_at");
		f->t1 = get_time(rec, "ended_at");
		f->deadline = get_time(rec, "expires_at");
	}
}

/*
 * faults.ledger: "agent id [type created_at expires_at]" lines, one per
 * fault a 'chaosctl inject' of the run started (ledger.h). What the
 * records already say wins.
 */
static void
read_ledger(struct rp_ctx *c)
{
	char *line, *next;

	if (c->in->ledger == NULL || (c->ledger = strdup(c->in->ledger)) == NULL)
		return;
	for (line = c->ledger; line != NULL && *line != '\0'; line = next) {
		char *field[5] = { NULL }, *save = NULL, *tok;
		struct rp_fault *f;
		size_t n = 0;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (tok = strtok_r(line, " ", &save); tok != NULL && n < 5;
		    tok = strtok_r(NULL, " ", &save))
			field[n++] = tok;
		if (n < 2 || (f = fault_slot(c, field[0], field[1])) == NULL)
			continue;
		if (f->type == NULL)
			f->type = field[2];
		if (isnan(f->t0) && field[3] != NULL)
			(void)parse_time(field[3], &f->t0);
		if (isnan(f->deadline) && field[4] != NULL)
			(void)parse_time(field[4], &f->deadline);
	}
}

/* "10.99.0.11:8421" of "http://10.99.0.11:8421". */
static const char *
agent_label(const char *agent)
{
	const char *p = strstr(agent, "://");

	return p != NULL ? p + 3 : agent;
}

static void
model_faults(struct rp_ctx *c)
{
	size_t i;

	read_records(c);
	read_ledger(c);
	for (i = 0; i < c->nfaults; i++) {
		const struct rp_fault *f = &c->faults[i];
		struct rp_item it = { 0 };

		it.kind = RP_FAULT;
		it.name = f->type != NULL ? f->type : f->id;
		it.detail = f->end_reason;
		it.t0 = f->t0;
		it.t1 = f->t1;
		if (isnan(it.t1) || it.t1 < it.t0) {
			/* Still active when collected, or no record: up to its deadline. */
			it.t1 = f->deadline;
			it.open_end = true;
		}
		if (f->state == NULL)
			it.ok = RP_UNKNOWN;
		else if (strcmp(f->state, "failed") == 0 || strcmp(f->state, "revert_failed") == 0)
			it.ok = RP_BAD;
		else
			it.ok = RP_GOOD;
		it.lane = lane_for(&c->m, RP_FAULT, f->agent, agent_label(f->agent));
		add_item(c, &it);
	}
}

/* The axis: the journal's start and end, widened to what is drawn. */
static void
model_axis(struct rp_ctx *c)
{
	struct rp_model *m = &c->m;
	size_t i;

	m->t0 = c->start;
	m->t1 = c->end;
	for (i = 0; i < m->nitems; i++) {
		const struct rp_item *it = &m->items[i];
		double e = isnan(it->t1) || it->t1 < it->t0 ? it->t0 : it->t1;

		if (isnan(m->t0) || it->t0 < m->t0)
			m->t0 = it->t0;
		if (isnan(m->t1) || e > m->t1)
			m->t1 = e;
	}
	for (i = 0; i < m->npoints; i++) {
		if (isnan(m->t0) || m->points[i].t < m->t0)
			m->t0 = m->points[i].t;
		if (isnan(m->t1) || m->points[i].t > m->t1)
			m->t1 = m->points[i].t;
	}
	m->timed = !isnan(m->t0) && !isnan(m->t1);
	if (m->timed && m->t1 - m->t0 < 1)
		m->t1 = m->t0 + 1;
}

static int
build_model(struct rp_ctx *c)
{
	const cJSON *ss = get(c->journal, "steady_states"), *d;

	c->m.items = calloc(RP_ITEMS_MAX, sizeof(*c->m.items));
	c->m.points = calloc(RP_POINTS_MAX, sizeof(*c->m.points));
	c->faults = calloc(RP_FAULTS_MAX, sizeof(*c->faults));
	if (c->m.items == NULL || c->m.points == NULL || c->faults == NULL)
		return CE_NOMEM;
	c->start = get_time(c->journal, "start");
	c->end = get_time(c->journal, "end");
	if (!isnan(c->start) && !isnan(c->end) && c->end < c->start)
		c->end = c->start;
	model_hypothesis(c, get(ss, "before"), "before");
	cJSON_ArrayForEach(d, get(ss, "during"))
		model_hypothesis(c, d, "during");
	model_hypothesis(c, get(ss, "after"), "after");
	model_activities(c, get(c->journal, "run"), false);
	model_activities(c, get(c->journal, "rollbacks"), true);
	model_faults(c);
	model_axis(c);
	return 0;
}

/* ------------------------------------------------------------ the page */

static const char page_style[] =
"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;"
"max-width:1200px;padding:16px 24px;color:#1b1b1b;background:#fff}"
"h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;"
"border-bottom:1px solid #ddd;padding-bottom:4px}"
".verdict{display:inline-block;padding:3px 10px;border-radius:4px;color:#fff;"
"font-weight:600}.v-held{background:#2e7d32}.v-deviated{background:#c62828}"
".v-other{background:#ef6c00}"
"table{border-collapse:collapse;width:100%;margin:6px 0}"
"th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}"
"th{background:#f4f4f4;font-weight:600}table.summary th{width:180px}"
"pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.3 ui-monospace,"
"monospace;max-height:240px;overflow:auto}"
".good{color:#2e7d32}.bad{color:#c62828}.unknown{color:#757575}"
".note{color:#555;font-size:13px}"
"svg{display:block;width:100%;height:auto;margin:4px 0}"
"svg text{font:11px system-ui,sans-serif;fill:#333}"
"svg .lane-bg{fill:#fafafa}svg .lane-bg.odd{fill:#f0f0f0}"
"svg .grid{stroke:#ccc;stroke-width:1}svg .axis{stroke:#555;stroke-width:1}"
"svg .pt.good{fill:#2e7d32}svg .pt.bad{fill:#c62828}svg .pt.unknown{fill:#9e9e9e}"
"svg .bar{stroke-width:1}"
"svg .bar.action{fill:#1565c0;stroke:#0d47a1}"
"svg .bar.probe{fill:#00838f;stroke:#006064}"
"svg .bar.rollback{fill:#6a1b9a;stroke:#4a148c}"
"svg .bar.fault{fill:#ef6c00;stroke:#e65100}"
"svg .bar.bad{stroke:#c62828;stroke-width:3}"
"svg .bar-label{fill:#fff}svg .bar.open{fill-opacity:.45;stroke-dasharray:4 3}"
"svg .p50{fill:none;stroke:#1565c0;stroke-width:1.5}"
"svg .p99{fill:none;stroke:#6a1b9a;stroke-width:2}"
"svg .err{fill:none;stroke:#c62828;stroke-width:2;stroke-dasharray:5 3}"
"svg .legend rect,svg .legend circle{stroke:none}";

/* One row of the summary table. */
static void
summary_row(struct rp_out *o, const char *label, const char *value, size_t max)
{
	rp_printf(o, "<tr><th>%s</th><td>", label);
	if (value == NULL || value[0] == '\0')
		rp_puts(o, "\xe2\x80\x94");
	else
		rp_esc(o, value, max);
	rp_puts(o, "</td></tr>\n");
}

static void
summary_time(struct rp_out *o, const char *label, double t)
{
	char buf[48];

	if (isnan(t)) {
		summary_row(o, label, NULL, 0);
		return;
	}
	rp_fmt_time(t, buf, sizeof(buf));
	summary_row(o, label, buf, sizeof(buf));
}

/* How the rollbacks went, in words. */
static void
rollback_outcome(const cJSON *rollbacks, char *buf, size_t len)
{
	const cJSON *a;
	size_t n = 0, ok = 0, bad = 0;

	cJSON_ArrayForEach(a, rollbacks) {
		enum rp_ok r = activity_ok(a);

		n++;
		ok += r == RP_GOOD;
		bad += r == RP_BAD;
	}
	if (n == 0)
		(void)snprintf(buf, len, "none played");
	else if (ok == n)
		(void)snprintf(buf, len, "%zu played, all succeeded", n);
	else
		(void)snprintf(buf, len, "%zu played: %zu succeeded, %zu failed, %zu without a "
		    "status (interrupted)", n, ok, bad, n - ok - bad);
}

static void
write_summary(struct rp_ctx *c)
{
	struct rp_out *o = &c->o;
	const cJSON *j = c->journal, *run = c->run_doc, *dev = get(j, "deviated");
	const cJSON *intr = get(j, "interruption"), *dur = get(j, "duration");
	const cJSON *cs = get(run, "chaos_status");
	const char *status = get_str(j, "status"), *title = get_str(get(j, "experiment"),
	    "title"), *cls, *word, *user = get_str(run, "user"), *host = get_str(run, "host");
	char buf[256];

	if (status != NULL && strcmp(status, "completed") == 0 && cJSON_IsFalse(dev))
		cls = "v-held", word = "the hypothesis held";
	else if (cJSON_IsTrue(dev))
		cls = "v-deviated", word = "deviated: the hypothesis did not hold after the method";
	else
		cls = "v-other", word = status != NULL ? status : "no status";
	rp_puts(o, "<header>\n<h1>");
	rp_esc(o, title != NULL ? title : "(untitled experiment)", RP_NAME_MAX);
	rp_printf(o, "</h1>\n<p><span class=\"verdict %s\" id=\"verdict\">", cls);
	rp_esc(o, word, RP_NAME_MAX);
	rp_puts(o, "</span></p>\n</header>\n<section id=\"summary\">\n<h2>Summary</h2>\n"
	    "<table class=\"summary\">\n");
	summary_row(o, "experiment", title, RP_NAME_MAX);
	summary_row(o, "context", get_str(run, "context"), RP_NAME_MAX);
	summary_row(o, "status", status, 64);
	summary_row(o, "deviated", cJSON_IsBool(dev) ? (cJSON_IsTrue(dev) ? "yes" : "no") : NULL,
	    8);
	if (cJSON_IsObject(intr)) {
		summary_row(o, "interrupted", get_str(intr, "reason") != NULL ?
		    get_str(intr, "reason") : get_str(intr, "name"), RP_NAME_MAX);
	}
	rollback_outcome(get(j, "rollbacks"), buf, sizeof(buf));
	summary_row(o, "rollbacks", buf, sizeof(buf));
	summary_time(o, "start", c->start);
	summary_time(o, "end", c->end);
	if (cJSON_IsNumber(dur) && isfinite(dur->valuedouble)) {
		(void)snprintf(buf, sizeof(buf), "%.1f s", dur->valuedouble);
		summary_row(o, "duration", buf, sizeof(buf));
	} else {
		summary_row(o, "duration", NULL, 0);
	}
	if (user != NULL || host != NULL) {
		(void)snprintf(buf, sizeof(buf), "%.64s@%.128s", user != NULL ? user : "?",
		    host != NULL ? host : "?");
		summary_row(o, "run by", buf, sizeof(buf));
	}
	summary_row(o, "node", get_str(j, "node"), RP_NAME_MAX);
	summary_row(o, "platform", get_str(j, "platform"), RP_NAME_MAX);
	summary_row(o, "chaostoolkit-lib", get_str(j, "chaoslib-version"), 64);
	summary_row(o, "configuration", get_str(run, "conf"), RP_NAME_MAX * 2);
	if (cJSON_IsNumber(cs)) {
		(void)snprintf(buf, sizeof(buf), "%d", (int)cs->valuedouble);
		summary_row(o, "chaos exit status", buf, sizeof(buf));
	}
	summary_row(o, "run directory", c->in->source, RP_NAME_MAX * 2);
	rp_puts(o, "</table>\n</section>\n");
}

/* "+12.3 s" from the run's start, or the absolute time when it has none. */
static void
cell_time(struct rp_ctx *c, double t)
{
	char buf[48];

	if (isnan(t))
		rp_puts(&c->o, "<td>\xe2\x80\x94</td>");
	else if (!isnan(c->m.t0))
		rp_printf(&c->o, "<td>+%.1f\xc2\xa0s</td>", t - c->m.t0);	/* no break */
	else {
		rp_fmt_time(t, buf, sizeof(buf));
		rp_printf(&c->o, "<td>%s</td>", buf);
	}
}

static void
cell_duration(struct rp_out *o, const cJSON *a)
{
	const cJSON *d = get(a, "duration");

	if (cJSON_IsNumber(d) && isfinite(d->valuedouble))
		rp_printf(o, "<td>%.2f\xc2\xa0s</td>", d->valuedouble);
	else
		rp_puts(o, "<td>\xe2\x80\x94</td>");
}

/* A JSON value, printed compactly and cut. */
static void
put_json(struct rp_out *o, const cJSON *v, size_t max)
{
	char *text;

	if (cJSON_IsString(v)) {
		rp_esc(o, v->valuestring, max);
		return;
	}
	if ((text = cJSON_PrintUnformatted(v)) == NULL) {
		if (o->err == 0)
			o->err = CE_NOMEM;
		return;
	}
	rp_esc(o, text, max);
	free(text);
}

/* The last line of a Python traceback: the exception and its message. */
static void
put_exception(struct rp_out *o, const cJSON *exc)
{
	const cJSON *last = NULL, *e;

	cJSON_ArrayForEach(e, exc)
		if (cJSON_IsString(e))
			last = e;
	if (last == NULL)
		return;
	rp_puts(o, "<pre class=\"bad\">");
	rp_esc(o, last->valuestring, 500);
	rp_puts(o, "</pre>");
}

/*
 * An activity's output: a process's exit status, stdout and stderr; an
 * HTTP answer's status and body; anything else as compact JSON.
 */
static void
cell_output(struct rp_out *o, const cJSON *a)
{
	const cJSON *out = get(a, "output"), *st = get(out, "status");

	rp_puts(o, "<td>");
	if (cJSON_IsObject(out) && (cJSON_IsString(get(out, "stdout")) ||
	    cJSON_IsString(get(out, "stderr")))) {
		if (cJSON_IsNumber(st))
			rp_printf(o, "exit %d", (int)st->valuedouble);
		rp_puts(o, "<pre>");
		rp_esc(o, get_str(out, "stdout"), RP_OUTPUT_MAX * 3 / 4);
		rp_puts(o, "</pre>");
		if (get_str(out, "stderr") != NULL && get_str(out, "stderr")[0] != '\0') {
			rp_puts(o, "<pre class=\"note\">");
			rp_esc(o, get_str(out, "stderr"), RP_OUTPUT_MAX / 4);
			rp_puts(o, "</pre>");
		}
	} else if (cJSON_IsObject(out) && cJSON_IsNumber(st) && get(out, "body") != NULL) {
		rp_printf(o, "HTTP %d<pre>", (int)st->valuedouble);
		put_json(o, get(out, "body"), RP_OUTPUT_MAX);
		rp_puts(o, "</pre>");
	} else if (out != NULL && !cJSON_IsNull(out)) {
		rp_puts(o, "<pre>");
		put_json(o, out, RP_OUTPUT_MAX);
		rp_puts(o, "</pre>");
	}
	put_exception(o, get(a, "exception"));
	rp_puts(o, "</td>");
}

static void
cell_status(struct rp_out *o, const cJSON *a)
{
	const char *st = get_str(a, "status");
	enum rp_ok ok = activity_ok(a);

	rp_printf(o, "<td class=\"%s\">", ok == RP_GOOD ? "good" : ok == RP_BAD ? "bad" :
	    "unknown");
	rp_esc(o, st != NULL ? st : "no status (interrupted)", 64);
	rp_puts(o, "</td>");
}

static void
cell_name(struct rp_out *o, const cJSON *a)
{
	const cJSON *act = get(a, "activity");
	const char *name = get_str(act, "name"), *ptype = get_str(get(act, "provider"), "type");

	rp_puts(o, "<td>");
	rp_esc(o, name != NULL ? name : "(unnamed)", RP_NAME_MAX);
	if (ptype != NULL) {
		rp_puts(o, " <span class=\"note\">");
		rp_esc(o, ptype, 32);
		rp_puts(o, "</span>");
	}
	rp_puts(o, "</td>");
}

/* "N more not shown" once a table reached its bound. */
static void
rows_dropped(struct rp_out *o, size_t shown, size_t total, int cols)
{
	if (total > shown)
		rp_printf(o, "<tr><td colspan=\"%d\" class=\"note\">%zu more not shown</td></tr>\n",
		    cols, total - shown);
}

/* The hypothesis table's rows of one run of it; *rows counts them all. */
static void
hypothesis_rows(struct rp_ctx *c, const cJSON *state, const char *phase, size_t *rows)
{
	struct rp_out *o = &c->o;
	const cJSON *p;

	cJSON_ArrayForEach(p, get(state, "probes")) {
		const cJSON *met = get(p, "tolerance_met");

		if ((*rows)++ >= RP_ROWS_MAX)
			continue;
		rp_puts(o, "<tr><td>");
		rp_esc(o, phase, 32);
		rp_puts(o, "</td>");
		cell_name(o, p);
		cell_time(c, get_time(p, "start"));
		cell_duration(o, p);
		if (cJSON_IsBool(met))
			rp_printf(o, "<td class=\"%s\">%s</td>", cJSON_IsTrue(met) ? "good" : "bad",
			    cJSON_IsTrue(met) ? "met" : "not met");
		else
			rp_puts(o, "<td class=\"unknown\">\xe2\x80\x94</td>");
		cell_output(o, p);
		rp_puts(o, "</tr>\n");
	}
}

static void
write_hypothesis(struct rp_ctx *c)
{
	struct rp_out *o = &c->o;
	const cJSON *ss = get(c->journal, "steady_states"), *d;
	size_t rows = 0, n = 0;
	char phase[32];

	rp_puts(o, "<section id=\"hypothesis\">\n<h2>Steady-state hypothesis</h2>\n"
	    "<table>\n<tr><th>when</th><th>probe</th><th>start</th><th>took</th>"
	    "<th>tolerance</th><th>output</th></tr>\n");
	hypothesis_rows(c, get(ss, "before"), "before", &rows);
	cJSON_ArrayForEach(d, get(ss, "during")) {
		(void)snprintf(phase, sizeof(phase), "during #%zu", ++n);
		hypothesis_rows(c, d, phase, &rows);
	}
	hypothesis_rows(c, get(ss, "after"), "after", &rows);
	rows_dropped(o, rows < RP_ROWS_MAX ? rows : RP_ROWS_MAX, rows, 6);
	if (rows == 0)
		rp_puts(o, "<tr><td colspan=\"6\" class=\"note\">no probe ran</td></tr>\n");
	rp_puts(o, "</table>\n</section>\n");
}

static void
write_activities(struct rp_ctx *c, const char *id, const char *heading, const cJSON *list)
{
	struct rp_out *o = &c->o;
	const cJSON *a;
	size_t rows = 0;

	rp_printf(o, "<section id=\"%s\">\n<h2>%s</h2>\n<table>\n<tr><th>type</th><th>name</th>"
	    "<th>start</th><th>took</th><th>status</th><th>output</th></tr>\n", id, heading);
	cJSON_ArrayForEach(a, list) {
		const char *type = get_str(get(a, "activity"), "type");

		if (rows++ >= RP_ROWS_MAX)
			continue;
		rp_puts(o, "<tr><td>");
		rp_esc(o, type != NULL ? type : "?", 16);
		rp_puts(o, "</td>");
		cell_name(o, a);
		cell_time(c, get_time(a, "start"));
		cell_duration(o, a);
		cell_status(o, a);
		cell_output(o, a);
		rp_puts(o, "</tr>\n");
	}
	rows_dropped(o, rows < RP_ROWS_MAX ? rows : RP_ROWS_MAX, rows, 6);
	if (rows == 0)
		rp_puts(o, "<tr><td colspan=\"6\" class=\"note\">none</td></tr>\n");
	rp_puts(o, "</table>\n</section>\n");
}

static void
write_faults(struct rp_ctx *c)
{
	struct rp_out *o = &c->o;
	size_t i;

	rp_puts(o, "<section id=\"faults\">\n<h2>Faults on the agents</h2>\n<table>\n"
	    "<tr><th>agent</th><th>fault</th><th>type</th><th>start</th><th>end</th>"
	    "<th>state</th><th>end reason</th></tr>\n");
	for (i = 0; i < c->nfaults && i < RP_ROWS_MAX; i++) {
		const struct rp_fault *f = &c->faults[i];

		rp_puts(o, "<tr><td>");
		rp_esc(o, f->agent, RP_NAME_MAX);
		rp_puts(o, "</td><td>");
		rp_esc(o, f->id, 64);
		rp_puts(o, "</td><td>");
		rp_esc(o, f->type != NULL ? f->type : "?", 64);
		rp_puts(o, "</td>");
		cell_time(c, f->t0);
		if (!isnan(f->t1) && f->t1 >= f->t0) {
			cell_time(c, f->t1);
		} else if (!isnan(f->deadline)) {
			rp_puts(o, "<td>");
			if (!isnan(c->m.t0))
				rp_printf(o, "deadline +%.1f s", f->deadline - c->m.t0);
			rp_puts(o, " <span class=\"note\">(no end recorded)</span></td>");
		} else {
			rp_puts(o, "<td>\xe2\x80\x94</td>");
		}
		rp_puts(o, "<td>");
		rp_esc(o, f->state != NULL ? f->state : f->recorded ? "?" : "no record", 32);
		if (f->error != NULL) {
			rp_puts(o, "<pre class=\"bad\">");
			rp_esc(o, f->error, 500);
			rp_puts(o, "</pre>");
		}
		rp_puts(o, "</td><td>");
		rp_esc(o, f->end_reason != NULL ? f->end_reason : "\xe2\x80\x94", 32);
		rp_puts(o, "</td></tr>\n");
	}
	rows_dropped(o, i, c->nfaults, 7);
	if (c->nfaults == 0)
		rp_puts(o, "<tr><td colspan=\"7\" class=\"note\">no fault was noted: the run "
		    "injected none through chaosctl, or this is not a chaosctl run directory"
		    "</td></tr>\n");
	else if (c->faults_doc == NULL)
		rp_puts(o, "<tr><td colspan=\"7\" class=\"note\">the agents' records were not "
		    "collected (chaosctl run had no agent key): starts and deadlines are the "
		    "ledger's</td></tr>\n");
	rp_puts(o, "</table>\n</section>\n");
}

static void
write_page(struct rp_ctx *c)
{
	struct rp_out *o = &c->o;
	const char *title = get_str(get(c->journal, "experiment"), "title");

	rp_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    /* Belt and braces: nothing on the page may fetch or run anything. */
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n<title>");
	rp_esc(o, title != NULL ? title : "chaos run", RP_NAME_MAX);
	rp_puts(o, " \xe2\x80\x94 chaos run report</title>\n<style>");
	rp_puts(o, page_style);
	rp_puts(o, "</style>\n</head>\n<body>\n");
	write_summary(c);
	rp_svg_timeline(o, &c->m);
	write_hypothesis(c);
	write_activities(c, "method", "Method", get(c->journal, "run"));
	write_activities(c, "rollbacks", "Rollbacks", get(c->journal, "rollbacks"));
	write_faults(c);
	rp_puts(o, "<footer class=\"note\"><p>Made by chaosctl " CHAOS_VERSION " from ");
	rp_esc(o, c->in->source, RP_NAME_MAX * 2);
	rp_puts(o, ".</p></footer>\n</body>\n</html>\n");
}

int
report_render(const struct report_in *in, struct buf *out, struct errbuf *eb)
{
	struct rp_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.o.b = *out;
	if (in->journal == NULL || (c.journal = cJSON_Parse(in->journal)) == NULL ||
	    !cJSON_IsObject(c.journal)) {
		rc = err_set(eb, CE_INVALID, "%s is not a JSON object (a Chaos Toolkit journal)",
		    in->source != NULL ? in->source : "the journal");
		goto out;
	}
	if (in->run != NULL)
		c.run_doc = cJSON_Parse(in->run);
	if ((rc = build_model(&c)) != 0) {
		err_set(eb, rc, "out of memory");
		goto out;
	}
	write_page(&c);
	if ((rc = c.o.err) != 0)
		err_set(eb, rc, rc == CE_TOO_LARGE ? "the page outgrew %zu bytes" :
		    "out of memory", out->max);
out:
	*out = c.o.b;
	cJSON_Delete(c.journal);
	cJSON_Delete(c.faults_doc);
	cJSON_Delete(c.run_doc);
	free(c.ledger);
	free(c.faults);
	free(c.m.items);
	free(c.m.points);
	return rc;
}

/* A side file of the run directory: NULL when absent or unreadable. */
static char *
read_side(const char *dir, const char *name)
{
	struct errbuf eb;
	char path[PATH_MAX], *text = NULL;
	size_t len;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    file_read(name, path, REPORT_SIDE_MAX, 0, &text, &len, NULL, &eb) != 0)
		return NULL;
	return text;
}

/* Write the page to path through a temporary file beside it. */
static int
write_file(const char *path, const struct buf *page, struct errbuf *eb)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return err_set(eb, CE_INVALID, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) < 0)
		return err_set(eb, CE_INVALID, "cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, 0644) != 0 || file_write_all(fd, page->data, page->len) != 0 ||
	    fsync(fd) != 0) {
		err_set(eb, CE_INVALID, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(tmp);
		return CE_INVALID;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		err_set(eb, CE_INVALID, "cannot write %s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return CE_INVALID;
	}
	return 0;
}

int
report_write(const char *dir, const char *journal_path, const char *out_path, size_t *size,
    struct errbuf *eb)
{
	struct report_in in = { 0 };
	struct buf page;
	char *journal = NULL, *faults, *ledger, *run, def[PATH_MAX];
	size_t len;
	int rc;

	if ((rc = file_read("journal", journal_path, REPORT_JOURNAL_MAX, 0, &journal, &len,
	    NULL, eb)) != 0)
		return rc;
	faults = read_side(dir, REPORT_FAULTS);
	ledger = read_side(dir, REPORT_LEDGER);
	run = read_side(dir, REPORT_RUN);
	in = (struct report_in){ journal, faults, ledger, run, dir };
	buf_init(&page, REPORT_PAGE_MAX);
	if ((rc = report_render(&in, &page, eb)) != 0)
		goto out;
	if (out_path == NULL) {
		if (snprintf(def, sizeof(def), "%s/%s", dir, REPORT_HTML) >= (int)sizeof(def)) {
			rc = err_set(eb, CE_INVALID, "%s: path too long", dir);
			goto out;
		}
		out_path = def;
	}
	if (strcmp(out_path, "-") == 0) {
		if (fwrite(page.data, 1, page.len, stdout) != page.len || fflush(stdout) != 0)
			rc = err_set(eb, CE_INVALID, "cannot write the page to stdout: %s",
			    strerror(errno));
	} else {
		rc = write_file(out_path, &page, eb);
	}
	if (rc == 0 && size != NULL)
		*size = page.len;
out:
	buf_release(&page);
	free(journal);
	free(faults);
	free(ledger);
	free(run);
	return rc;
}
