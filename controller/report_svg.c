/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_svg.c: the report's timeline as inline SVG. One row per
 * steady-state probe (a point per run of it, green when its tolerance was
 * met, red when not), one for the method's activities, one for the
 * rollbacks and one per agent with the windows of its faults; below it,
 * on the same time axis, the load probes' latency and error rate. Sizes
 * are in the viewBox's units; the page scales the picture to its width.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "../common/err.h"

#define W 1000.0		/* the picture's width */
#define LABELS 240.0		/* the lanes' label column: RP_LABEL_MAX characters at 11px */
#define RIGHT 50.0		/* room for the series' right axis */
#define PLOT (W - LABELS - RIGHT)
#define AXIS 30.0		/* the time axis above the lanes */
#define LANE 24.0
#define LEGEND 28.0
#define SERIES_H 150.0

static const char *const kind_class[] = {
	[RP_HYPOTHESIS] = "hypothesis", [RP_ACTION] = "action", [RP_PROBE] = "probe",
	[RP_ROLLBACK] = "rollback", [RP_FAULT] = "fault", [RP_LANE_REST] = "rest",
};
static const char *const ok_class[] = {
	[RP_BAD] = "bad", [RP_GOOD] = "good", [RP_UNKNOWN] = "unknown",
};

static double
x_of(const struct rp_model *m, double t)
{
	double x = LABELS + (t - m->t0) / (m->t1 - m->t0) * PLOT;

	return fmin(fmax(x, LABELS), LABELS + PLOT);
}

/* A step between ticks giving at most 10 of them over span seconds. */
static double
tick_step(double span)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
	    3600, 7200, 14400, 21600, 43200, 86400 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 10)
			return steps[i];
	return ceil(span / 10 / 86400) * 86400;
}

/* Grid lines and "+30s" labels every tick, from y0 to y1. */
static void
ticks(struct rp_out *o, const struct rp_model *m, double y0, double y1, bool labels)
{
	double step = tick_step(m->t1 - m->t0), s;

	for (s = 0; s <= m->t1 - m->t0 + 1e-9; s += step) {
		double x = x_of(m, m->t0 + s);

		rp_printf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\"/>\n", x, y0, x, y1);
		if (!labels)
			continue;
		if (step >= 60)
			rp_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">+%.0fm"
			    "</text>\n", x, y0 - 6, s / 60);
		else
			rp_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">+%.0fs"
			    "</text>\n", x, y0 - 6, s);
	}
}

static void
lanes(struct rp_out *o, const struct rp_model *m)
{
	size_t i;

	for (i = 0; i < m->nlanes; i++) {
		double y = AXIS + (double)i * LANE;

		rp_printf(o, "<rect class=\"lane-bg%s\" x=\"0\" y=\"%.1f\" width=\"%.0f\" "
		    "height=\"%.0f\"/>\n", i % 2 ? " odd" : "", y, W, LANE);
		rp_printf(o, "<text class=\"lane\" data-kind=\"%s\" x=\"%.0f\" y=\"%.1f\" "
		    "text-anchor=\"end\"><title>", kind_class[m->lanes[i].kind], LABELS - 8,
		    y + LANE / 2 + 4);
		rp_esc(o, m->lanes[i].key, sizeof(m->lanes[i].key));
		rp_puts(o, "</title>");
		if (m->lanes[i].kind == RP_FAULT)
			rp_puts(o, "agent ");
		rp_esc_label(o, m->lanes[i].label,
		    RP_LABEL_MAX - (m->lanes[i].kind == RP_FAULT ? 6 : 0));
		rp_puts(o, "</text>\n");
	}
}

/* An item's tooltip: its name, what it says of itself, and when. */
static void
item_title(struct rp_out *o, const struct rp_model *m, const struct rp_item *it)
{
	rp_puts(o, "<title>");
	rp_esc(o, it->name, 200);
	if (it->detail != NULL) {
		rp_puts(o, " (");
		rp_esc(o, it->detail, 64);
		rp_puts(o, ")");
	}
	rp_printf(o, ": %s, +%.1f s", ok_class[it->ok], it->t0 - m->t0);
	if (!isnan(it->t1) && it->t1 >= it->t0)
		rp_printf(o, " to +%.1f s%s", it->t1 - m->t0, it->open_end ?
		    " (its deadline; no end recorded)" : "");
	rp_puts(o, "</title>");
}

static void
item(struct rp_out *o, const struct rp_model *m, const struct rp_item *it)
{
	double y = AXIS + (double)it->lane * LANE, x0 = x_of(m, it->t0), x1, w;

	if (it->kind == RP_HYPOTHESIS) {
		rp_printf(o, "<circle class=\"pt %s\" data-kind=\"hypothesis\" cx=\"%.1f\" "
		    "cy=\"%.1f\" r=\"5\">", ok_class[it->ok], x0, y + LANE / 2);
		item_title(o, m, it);
		rp_puts(o, "</circle>\n");
		return;
	}
	x1 = !isnan(it->t1) && it->t1 >= it->t0 ? x_of(m, it->t1) : x0;
	w = fmax(x1 - x0, 3);
	rp_printf(o, "<rect class=\"bar %s %s%s\" data-kind=\"%s\" x=\"%.1f\" y=\"%.1f\" "
	    "width=\"%.1f\" height=\"%.0f\" rx=\"2\">", kind_class[it->kind], ok_class[it->ok],
	    it->open_end ? " open" : "", kind_class[it->kind], x0, y + 5, w, LANE - 10);
	item_title(o, m, it);
	rp_puts(o, "</rect>\n");
	/* A fault's type inside its window, when it fits (about 6.5 units a character). */
	if (it->kind == RP_FAULT && w > 6.5 * (double)strnlen(it->name, 40) + 8) {
		rp_printf(o, "<text class=\"bar-label\" x=\"%.1f\" y=\"%.1f\">", x0 + 4,
		    y + LANE / 2 + 4);
		rp_esc(o, it->name, 40);
		rp_puts(o, "</text>\n");
	}
}

static void
legend(struct rp_out *o, double y)
{
	static const struct {
		const char *shape, *cls, *label;
	} keys[] = {
		{ "c", "pt good", "probe: tolerance met" },
		{ "c", "pt bad", "probe: not met" },
		{ "r", "bar action", "action" },
		{ "r", "bar probe", "method probe" },
		{ "r", "bar rollback", "rollback" },
		{ "r", "bar fault", "fault window" },
		{ "r", "bar fault open", "fault, end not recorded" },
	};
	/* From the left edge: under the plot alone the keys would not fit. */
	double x = 8;
	size_t i;

	rp_printf(o, "<g class=\"legend\" transform=\"translate(0 %.1f)\">\n", y);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].shape[0] == 'c')
			rp_printf(o, "<circle class=\"%s\" cx=\"%.1f\" cy=\"10\" r=\"5\"/>\n",
			    keys[i].cls, x + 5);
		else
			rp_printf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"4\" width=\"14\" "
			    "height=\"12\"/>\n", keys[i].cls, x);
		rp_printf(o, "<text x=\"%.1f\" y=\"14\">%s</text>\n", x + 18, keys[i].label);
		x += 30 + 6.6 * (double)strlen(keys[i].label);	/* 11px text, roughly */
	}
	rp_puts(o, "</g>\n");
}

static int
by_time(const void *a, const void *b)
{
	const struct rp_point *p = a, *q = b;

	return (p->t > q->t) - (p->t < q->t);
}

/* A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
static double
nice_max(double v)
{
	double p = 1;

	if (!(v > 0))
		return 1;
	while (p < v && p < 1e12)
		p *= 10;
	while (p / 10 >= v && p > 1e-6)
		p /= 10;
	if (p / 5 >= v)
		return p / 5;
	if (p / 2 >= v)
		return p / 2;
	return p;
}

/* One series as a polyline and its points; field picks the value (offsetof). */
static void
series_line(struct rp_out *o, const struct rp_model *m, const struct rp_point *pts, size_t n,
    size_t field, double max, const char *cls)
{
	double top = 20, h = SERIES_H - 50;
	size_t i, drawn = 0;

	rp_printf(o, "<polyline class=\"%s\" data-series=\"%s\" points=\"", cls, cls);
	for (i = 0; i < n; i++) {
		double v = *(const double *)(const void *)((const char *)&pts[i] + field);

		if (v < 0)
			continue;
		rp_printf(o, "%s%.1f,%.1f", drawn++ ? " " : "", x_of(m, pts[i].t),
		    top + h - fmin(v / max, 1) * h);
	}
	rp_puts(o, "\"/>\n");
}

/* Latency (left axis, ms) and error rate (right axis, %) of the load probes. */
static void
series(struct rp_out *o, const struct rp_model *m)
{
	struct rp_point *pts;
	double ms = 0, err = 0, top = 20, h = SERIES_H - 50;
	size_t i;

	if (m->npoints == 0 || !m->timed)
		return;
	if ((pts = malloc(m->npoints * sizeof(*pts))) == NULL) {
		if (o->err == 0)
			o->err = CE_NOMEM;
		return;
	}
	memcpy(pts, m->points, m->npoints * sizeof(*pts));
	qsort(pts, m->npoints, sizeof(*pts), by_time);
	for (i = 0; i < m->npoints; i++) {
		ms = fmax(ms, fmax(pts[i].p50_ms, pts[i].p99_ms));
		err = fmax(err, pts[i].error_rate);
	}
	ms = nice_max(ms);
	err = nice_max(fmax(err, 0.01));
	rp_printf(o, "<h3>Users' view: the load probes' latency and errors</h3>\n"
	    "<svg id=\"series\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n<title>latency and error rate of the load "
	    "probes</title>\n", W, SERIES_H);
	ticks(o, m, top, top + h, false);
	rp_printf(o, "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	    LABELS, top + h, LABELS + PLOT, top + h);
	rp_printf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%g ms</text>\n",
	    LABELS - 8, top + 4, ms);
	rp_printf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", LABELS - 8,
	    top + h);
	rp_printf(o, "<text x=\"%.0f\" y=\"%.0f\">%g %%</text>\n", LABELS + PLOT + 4, top + 4,
	    err * 100);
	series_line(o, m, pts, m->npoints, offsetof(struct rp_point, p50_ms), ms, "p50");
	series_line(o, m, pts, m->npoints, offsetof(struct rp_point, p99_ms), ms, "p99");
	series_line(o, m, pts, m->npoints, offsetof(struct rp_point, error_rate), err, "err");
	rp_printf(o, "<g class=\"legend\" transform=\"translate(0 %.0f)\">"
	    "<line class=\"p50\" x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\"/>"
	    "<text x=\"%.0f\" y=\"14\">p50 latency</text>"
	    "<line class=\"p99\" x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\"/>"
	    "<text x=\"%.0f\" y=\"14\">p99 latency</text>"
	    "<line class=\"err\" x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\"/>"
	    "<text x=\"%.0f\" y=\"14\">error rate (right axis)</text></g>\n",
	    SERIES_H - 24, LABELS, LABELS + 20, LABELS + 24, LABELS + 130, LABELS + 150,
	    LABELS + 154, LABELS + 260, LABELS + 280, LABELS + 284);
	rp_puts(o, "</svg>\n");
	free(pts);
}

void
rp_svg_timeline(struct rp_out *o, const struct rp_model *m)
{
	double h = AXIS + (double)m->nlanes * LANE + LEGEND;
	char start[48];
	size_t i;

	rp_puts(o, "<section id=\"timeline-section\">\n<h2>Timeline</h2>\n");
	if (!m->timed || m->nlanes == 0) {
		rp_puts(o, "<p class=\"note\" id=\"no-timeline\">Nothing in the journal has a "
		    "time: there is no timeline to draw.</p>\n</section>\n");
		return;
	}
	rp_fmt_time(m->t0, start, sizeof(start));
	rp_printf(o, "<p class=\"note\">From %s, %.1f s. Hover over a point or bar for its "
	    "name and times.</p>\n", start, m->t1 - m->t0);
	rp_printf(o, "<svg id=\"timeline\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n<title>timeline of the run</title>\n", W, h);
	lanes(o, m);
	ticks(o, m, AXIS, AXIS + (double)m->nlanes * LANE, true);
	rp_printf(o, "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
	    LABELS, AXIS, LABELS + PLOT, AXIS);
	/* Bars first, then the points over them. */
	for (i = 0; i < m->nitems; i++)
		if (m->items[i].kind != RP_HYPOTHESIS)
			item(o, m, &m->items[i]);
	for (i = 0; i < m->nitems; i++)
		if (m->items[i].kind == RP_HYPOTHESIS)
			item(o, m, &m->items[i]);
	legend(o, AXIS + (double)m->nlanes * LANE + 2);
	rp_puts(o, "</svg>\n");
	if (m->lanes_shared > 0)
		rp_printf(o, "<p class=\"note\" id=\"shared\">%zu item(s) whose probe, activity "
		    "or agent found no row of its own (the first %d are taken) are in the last "
		    "row.</p>\n", m->lanes_shared, RP_LANES_MAX - 1);
	if (m->items_dropped > 0)
		rp_printf(o, "<p class=\"note\" id=\"dropped\">Not drawn: %zu item(s) beyond the "
		    "picture's bounds (%d items, an hour either side of the run).</p>\n",
		    m->items_dropped, RP_ITEMS_MAX);
	series(o, m);
	rp_puts(o, "</section>\n");
}
