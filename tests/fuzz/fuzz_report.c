/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_report.c: the run report (controller/report.c, report_svg.c) over
 * arbitrary run directories. The input is the journal, then optionally
 * faults.json, faults.ledger and run.json, separated by 0x1e bytes. A
 * journal is untrusted: whatever it holds, the page must be whole, below
 * its cap, and made only of the page's own tags, so nothing from the
 * input ever becomes markup.
 */
#include <stdbool.h>
#include <stddef.h>

#include "fuzz.h"
#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../controller/report.h"

/* The elements the page is made of; a '<' before anything else came from the input. */
static const char *const tags[] = {
	"!DOCTYPE html>", "html", "head", "meta", "title", "style", "body", "header", "h1",
	"h2", "h3", "p", "span", "section", "table", "tr", "th", "td", "pre", "footer",
	"svg", "g", "rect", "circle", "line", "text", "polyline",
};

static bool
known_tag(const char *p)
{
	size_t i, n;

	if (*p == '/')
		p++;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		n = strlen(tags[i]);
		if (strncmp(p, tags[i], n) == 0 && (tags[i][n - 1] == '>' || p[n] == ' ' ||
		    p[n] == '>' || p[n] == '/'))
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *part[4] = { NULL }, *p = text;
	struct report_in in = { 0 };
	struct errbuf eb = { "" };
	struct buf out;
	size_t n = 0, i;
	int rc;

	/* fuzz_cstr stops at a NUL; the parts at each 0x1e. */
	part[n++] = p;
	while (n < 4 && (p = strchr(p, 0x1e)) != NULL) {
		*p++ = '\0';
		part[n++] = p;
	}
	in.journal = part[0];
	in.faults = part[1];
	in.ledger = part[2];
	in.run = part[3];
	in.source = "fuzz/run";
	buf_init(&out, REPORT_PAGE_MAX);
	rc = report_render(&in, &out, &eb);
	FUZZ_CHECK(rc == 0 || rc == CE_INVALID);
	if (rc == CE_INVALID) {
		FUZZ_CHECK(strstr(eb.msg, "fuzz/run") != NULL);
	} else {
		const char *s = buf_str(&out);

		FUZZ_CHECK(out.len <= REPORT_PAGE_MAX);
		FUZZ_CHECK(strncmp(s, "<!DOCTYPE html>\n", 16) == 0);
		FUZZ_CHECK(out.len > 8 && strcmp(s + out.len - 8, "</html>\n") == 0);
		for (i = 0; i < out.len; i++)
			if (s[i] == '<')
				FUZZ_CHECK(known_tag(s + i + 1));
	}
	buf_release(&out);
	free(text);
	return 0;
}
