/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_xml.c: chaosctl's reader of AWS answers (controller/xml.c) over
 * arbitrary bytes. A tree it returns must hold together (parents, last
 * children, text lengths, the depth and element bounds); a refusal must
 * say why; nothing may be left behind either way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "fuzz.h"
#include "../../common/err.h"
#include "../../controller/xml.h"

static size_t
check_node(const struct xml_node *n, const struct xml_node *parent, size_t depth)
{
	const struct xml_node *c, *last = NULL;
	size_t count = 1;

	FUZZ_CHECK(depth <= XML_DEPTH_MAX);
	FUZZ_CHECK(n->parent == parent);
	FUZZ_CHECK(n->name != NULL && n->name[0] != '\0' && strchr(n->name, ':') == NULL);
	FUZZ_CHECK(n->text != NULL && n->text[n->textlen] == '\0');
	FUZZ_CHECK(n->textlen == 0 || n->textlen < n->textcap);
	for (c = n->child; c != NULL; c = c->next) {
		count += check_node(c, n, depth + 1);
		last = c;
	}
	FUZZ_CHECK(n->last_child == last);
	/* The lookup finds the first child of a name. */
	if (n->child != NULL)
		FUZZ_CHECK(xml_child(n, n->child->name) == n->child);
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errbuf eb = { "" };
	struct xml_node *doc = xml_parse((const char *)data, size, &eb);

	if (doc != NULL) {
		FUZZ_CHECK(doc->next == NULL);
		FUZZ_CHECK(check_node(doc, NULL, 1) <= XML_NODES_MAX);
		FUZZ_CHECK(xml_find(doc, doc->name) == doc);
		xml_free(doc);
	} else {
		FUZZ_CHECK(strncmp(eb.msg, "malformed XML answer: ", 22) == 0 ||
		    strcmp(eb.msg, "out of memory") == 0);
	}
	return 0;
}
