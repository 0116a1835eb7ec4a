/* SPDX-License-Identifier: Apache-2.0 */
/* xml.c: see xml.h. */
#include <string.h>

#include "xml.h"
#include "../common/util.h"

const xmlNode *
xml_child(const xmlNode *n, const char *name)
{
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

void
xml_text(const xmlNode *n, char *out, size_t len)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;

	(void)str_copy(out, len, t != NULL ? (const char *)t : "");
	xmlFree(t);
}
