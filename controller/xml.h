/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xml.h: the small XML tree chaosctl reads AWS Query answers into (EC2,
 * CloudWatch, errors), parsed with expat. Elements and their text only:
 * attributes, comments and processing instructions are dropped. Bounded:
 * nesting depth and the number of nodes are capped, so an answer cannot
 * make chaosctl build an unbounded tree. expat rather than libxml2: the
 * shared libxml2 brings ICU, lzma and libstdc++ into every chaosctl start,
 * for the few AWS commands that read XML.
 */
#ifndef CHAOS_CTL_XML_H
#define CHAOS_CTL_XML_H

#include <stddef.h>

struct errbuf;

/* One element: its local name (namespace prefix dropped) and text. */
struct xml_node {
	char *name;
	char *text;			/* concatenated character data; "" when none */
	size_t textlen;
	size_t textcap;			/* bytes allocated at text */
	struct xml_node *parent;
	struct xml_node *child, *last_child, *next;
};

#define XML_DEPTH_MAX 64
#define XML_NODES_MAX 200000

/*
 * Parse len bytes of XML into a tree (free with xml_free). Returns the
 * root element, or NULL with eb saying why (malformed, too deep, too many
 * elements, out of memory).
 */
struct xml_node *xml_parse(const char *buf, size_t len, struct errbuf *eb);

/* Free a tree; NULL-safe. */
void xml_free(struct xml_node *root);

/* The first child element of n named name, or NULL (n may be NULL). */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);

/* The first element named name at or below n, depth first, or NULL. */
const struct xml_node *xml_find(const struct xml_node *n, const char *name);

/* The text of n into out ("" for NULL), truncated to fit. */
void xml_text(const struct xml_node *n, char *out, size_t len);

#endif
