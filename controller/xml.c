/* SPDX-License-Identifier: Apache-2.0 */
/* xml.c: AWS Query answers as a small bounded tree, with expat (see xml.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "xml.h"
#include "../common/err.h"
#include "../common/util.h"

struct build {
	XML_Parser p;
	struct xml_node *root, *cur;
	size_t depth, nodes;
	const char *why;	/* a limit hit, or NULL */
};

static void
node_free(struct xml_node *n)
{
	while (n != NULL) {
		struct xml_node *next = n->next;

		node_free(n->child);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

void
xml_free(struct xml_node *root)
{
	node_free(root);
}

static void
stop(struct build *b, const char *why)
{
	b->why = why;
	XML_StopParser(b->p, XML_FALSE);
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct build *b = ud;
	const char *colon = strrchr(name, ':');
	struct xml_node *n;

	(void)attrs;
	if (b->why != NULL)
		return;
	if (++b->depth > XML_DEPTH_MAX) {
		stop(b, "nested too deeply");
		return;
	}
	if (++b->nodes > XML_NODES_MAX) {
		stop(b, "too many elements");
		return;
	}
	/* The name without its prefix: no element may be left without one. */
	if (colon != NULL && colon[1] == '\0') {
		stop(b, "an element name ending in ':'");
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->name = strdup(colon != NULL ? colon + 1 : name)) == NULL ||
	    (n->text = calloc(1, 1)) == NULL) {
		if (n != NULL) {
			free(n->name);
			free(n);
		}
		stop(b, "out of memory");
		return;
	}
	n->parent = b->cur;
	if (b->cur == NULL) {
		if (b->root != NULL) {
			node_free(n);
			stop(b, "more than one root element");
			return;
		}
		b->root = n;
	} else if (b->cur->last_child == NULL) {
		b->cur->child = b->cur->last_child = n;
	} else {
		b->cur->last_child->next = n;
		b->cur->last_child = n;
	}
	b->cur = n;
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct build *b = ud;

	(void)name;
	if (b->why != NULL || b->cur == NULL)
		return;
	b->depth--;
	b->cur = b->cur->parent;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct build *b = ud;
	struct xml_node *n = b->cur;
	char *t;

	if (b->why != NULL || n == NULL || len <= 0)
		return;
	if (n->textlen + (size_t)len + 1 > n->textcap) {
		/* Doubling: expat hands text over in many small pieces. */
		size_t cap = n->textcap > 0 ? n->textcap : 64;

		while (cap < n->textlen + (size_t)len + 1)
			cap *= 2;
		if ((t = realloc(n->text, cap)) == NULL) {
			stop(b, "out of memory");
			return;
		}
		n->text = t;
		n->textcap = cap;
	}
	memcpy(n->text + n->textlen, s, (size_t)len);
	n->textlen += (size_t)len;
	n->text[n->textlen] = '\0';
}

/*
 * AWS answers carry no document type declaration; one can only declare
 * entities (the "billion laughs", external files), so none is parsed.
 */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
    int internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	stop(ud, "a document type declaration (AWS answers have none)");
}

struct xml_node *
xml_parse(const char *buf, size_t len, struct errbuf *eb)
{
	struct build b;

	memset(&b, 0, sizeof(b));
	if (len > (size_t)INT32_MAX) {
		(void)err_set(eb, CE_TOO_LARGE, "XML answer too large");
		return NULL;
	}
	if ((b.p = XML_ParserCreate("UTF-8")) == NULL) {
		(void)err_set(eb, CE_NOMEM, "out of memory");
		return NULL;
	}
	XML_SetUserData(b.p, &b);
	XML_SetElementHandler(b.p, on_start, on_end);
	XML_SetCharacterDataHandler(b.p, on_text);
	XML_SetStartDoctypeDeclHandler(b.p, on_doctype);
	if (XML_Parse(b.p, buf, (int)len, XML_TRUE) != XML_STATUS_OK || b.why != NULL ||
	    b.root == NULL) {
		(void)err_set(eb, CE_INVALID, "malformed XML answer: %s (line %lu)",
		    b.why != NULL ? b.why : b.root == NULL ? "no element" :
		    XML_ErrorString(XML_GetErrorCode(b.p)),
		    (unsigned long)XML_GetCurrentLineNumber(b.p));
		XML_ParserFree(b.p);
		node_free(b.root);
		return NULL;
	}
	XML_ParserFree(b.p);
	return b.root;
}

const struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	for (c = n != NULL ? n->child : NULL; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct xml_node *
xml_find(const struct xml_node *n, const char *name)
{
	const struct xml_node *c, *f;

	if (n == NULL)
		return NULL;
	if (strcmp(n->name, name) == 0)
		return n;
	for (c = n->child; c != NULL; c = c->next)
		if ((f = xml_find(c, name)) != NULL)
			return f;
	return NULL;
}

void
xml_text(const struct xml_node *n, char *out, size_t len)
{
	if (len == 0)
		return;
	(void)str_copy(out, len, n != NULL ? n->text : "");
}
