/* SPDX-License-Identifier: Apache-2.0 */
/* ini.c: see ini.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/util.h"

#define INI_FILE_MAX (1024 * 1024)

int
ini_parse(const char *text, const char *name, struct ini *out, struct errbuf *eb)
{
	struct ini_section *sec = NULL, **stail = &out->sections;
	struct ini_kv *last = NULL, **ktail = NULL;
	const char *p = text;
	int lineno = 0, r = 0;

	memset(out, 0, sizeof(*out));
	if ((out->file = strdup(name)) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	stail = &out->sections;
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *raw, *line;

		lineno++;
		if ((raw = malloc(len + 1)) == NULL) {
			r = err_set(eb, CE_NOMEM, "out of memory");
			break;
		}
		memcpy(raw, p, len);
		raw[len] = '\0';
		p = nl != NULL ? nl + 1 : NULL;
		line = str_trim(raw);
		/*
		 * Blank and comment lines are skipped; as in configparser, an
		 * indented line after them still continues the value.
		 */
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';') {
			free(raw);
			continue;
		}
		if ((raw[0] == ' ' || raw[0] == '\t') && last != NULL) {
			size_t ol = strlen(last->value), nl2 = strlen(line);
			char *v = realloc(last->value, ol + nl2 + 2);

			if (v == NULL) {
				free(raw);
				r = err_set(eb, CE_NOMEM, "out of memory");
				break;
			}
			/* An empty first value does not start with a newline. */
			if (ol > 0) {
				int *vl = realloc(last->vlines, (last->nvlines + 1) * sizeof(*vl));

				if (vl == NULL) {
					last->value = v;
					free(raw);
					r = err_set(eb, CE_NOMEM, "out of memory");
					break;
				}
				last->vlines = vl;
				vl[last->nvlines++] = lineno;
				v[ol++] = '\n';
			} else {
				last->vlines[0] = lineno;
			}
			memcpy(v + ol, line, nl2 + 1);
			last->value = v;
			free(raw);
			continue;
		}
		if (line[0] == '[') {
			char *end = strchr(line, ']');

			if (end == NULL || end[1] != '\0' || end == line + 1) {
				free(raw);
				r = err_set(eb, CE_INVALID, "%s:%d: malformed section header",
				    name, lineno);
				break;
			}
			*end = '\0';
			if ((sec = calloc(1, sizeof(*sec))) == NULL ||
			    (sec->name = strdup(line + 1)) == NULL) {
				free(sec);
				free(raw);
				r = err_set(eb, CE_NOMEM, "out of memory");
				break;
			}
			if (ini_section(out, sec->name) != NULL) {
				r = err_set(eb, CE_INVALID, "%s:%d: section [%s] given twice",
				    name, lineno, sec->name);
				free(sec->name);
				free(sec);
				free(raw);
				break;
			}
			sec->line = lineno;
			*stail = sec;
			stail = &sec->next;
			ktail = &sec->kvs;
			last = NULL;
			free(raw);
			continue;
		}
		{
			char *eq = strpbrk(line, "=:"), *k, *c;
			struct ini_kv *kv;

			if (eq == NULL || sec == NULL) {
				r = err_set(eb, CE_INVALID, sec == NULL ? "%s:%d: a key "
				    "before any [section]" : "%s:%d: expected 'key = value'", name,
				    lineno);
				free(raw);
				break;
			}
			*eq = '\0';
			k = str_trim(line);
			if (k[0] == '\0') {
				r = err_set(eb, CE_INVALID, "%s:%d: a value without a key", name,
				    lineno);
				free(raw);
				break;
			}
			for (c = k; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
			{
				const struct ini_kv *dup;

				for (dup = sec->kvs; dup != NULL; dup = dup->next)
					if (strcmp(dup->key, k) == 0)
						break;
				if (dup != NULL) {
					r = err_set(eb, CE_INVALID, "%s:%d: '%s' given twice in "
					    "[%s] (first on line %d)", name, lineno, k, sec->name,
					    dup->line);
					free(raw);
					break;
				}
			}
			if ((kv = calloc(1, sizeof(*kv))) == NULL ||
			    (kv->key = strdup(k)) == NULL ||
			    (kv->value = strdup(str_trim(eq + 1))) == NULL) {
				if (kv != NULL)
					free(kv->key);
				free(kv);
				free(raw);
				r = err_set(eb, CE_NOMEM, "out of memory");
				break;
			}
			kv->line = lineno;
			if ((kv->vlines = malloc(sizeof(*kv->vlines))) == NULL) {
				free(kv->key);
				free(kv->value);
				free(kv);
				free(raw);
				r = err_set(eb, CE_NOMEM, "out of memory");
				break;
			}
			kv->vlines[0] = lineno;
			kv->nvlines = 1;
			*ktail = kv;
			ktail = &kv->next;
			last = kv;
			free(raw);
		}
	}
	if (r != 0)
		ini_free(out);
	return r;
}

int
ini_load(const char *path, struct ini *out, struct errbuf *eb)
{
	char *buf;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = file_read("configuration", path, INI_FILE_MAX, 0, &buf, &len, NULL,
	    eb)) != 0)
		return r;
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return err_set(eb, CE_INVALID, "%s: not a text file", path);
	}
	r = ini_parse(buf, path, out, eb);
	free(buf);
	return r;
}

void
ini_free(struct ini *ini)
{
	struct ini_section *s, *sn;
	struct ini_kv *k, *kn;

	for (s = ini->sections; s != NULL; s = sn) {
		sn = s->next;
		for (k = s->kvs; k != NULL; k = kn) {
			kn = k->next;
			free(k->key);
			free(k->value);
			free(k->vlines);
			free(k);
		}
		free(s->name);
		free(s);
	}
	free(ini->file);
	memset(ini, 0, sizeof(*ini));
}

const struct ini_section *
ini_section(const struct ini *ini, const char *name)
{
	const struct ini_section *s;

	for (s = ini->sections; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static const struct ini_kv *
find(const struct ini_section *s, const char *key)
{
	const struct ini_kv *k;

	for (k = s != NULL ? s->kvs : NULL; k != NULL; k = k->next)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

const struct ini_kv *
ini_get(const struct ini *ini, const char *section, const char *key)
{
	const struct ini_kv *k = NULL;

	if (section != NULL)
		k = find(ini_section(ini, section), key);
	if (k == NULL)
		k = find(ini_section(ini, INI_DEFAULT), key);
	return k;
}
