/* SPDX-License-Identifier: Apache-2.0 */
/* xml.h: the two libxml2 walks AWS Query answers need. */
#ifndef CHAOS_CTL_XML_H
#define CHAOS_CTL_XML_H

#include <stddef.h>

#include <libxml/tree.h>

/* The first child element of n named name, or NULL (n may be NULL). */
const xmlNode *xml_child(const xmlNode *n, const char *name);

/* The text of n into out ("" for NULL). */
void xml_text(const xmlNode *n, char *out, size_t len);

#endif
