/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ini.h: INI files as Python's configparser reads the experiment confs
 * and AWS shared files: [sections], "key = value" or "key: value", keys
 * case-insensitive, values continued on indented lines, # and ; comments,
 * and a [DEFAULT] section other sections fall back to. Every entry keeps
 * its line number so errors can point at it.
 */
#ifndef CHAOS_CTL_INI_H
#define CHAOS_CTL_INI_H

#include <stddef.h>

struct errbuf;

#define INI_DEFAULT "DEFAULT"

struct ini_kv {
	char *key;		/* lower-cased */
	char *value;		/* continuation lines joined with '\n' */
	int line;
	int *vlines;		/* the file line of each line of value */
	size_t nvlines;
	struct ini_kv *next;
};

struct ini_section {
	char *name;
	int line;
	struct ini_kv *kvs;
	struct ini_section *next;
};

struct ini {
	char *file;		/* for messages */
	struct ini_section *sections;	/* in file order; [DEFAULT] too */
};

/* Parse text (name is for messages). Returns 0, or CE_INVALID with "file:line: why". */
int ini_parse(const char *text, const char *name, struct ini *out, struct errbuf *eb);

/* Read and parse a file of at most 1 MiB. */
int ini_load(const char *path, struct ini *out, struct errbuf *eb);

void ini_free(struct ini *ini);

const struct ini_section *ini_section(const struct ini *ini, const char *name);

/*
 * Blanks as the reader sees them: spaces and tabs at both ends of s, and a
 * line end (CR, LF) at its end, cut in place. Returns the trimmed start
 * inside s. chaosctl's one trim, for the lines and lists read around INI
 * files too (agents files, var_files, var_overrides).
 */
char *ini_trim(char *s);

/* key in section, else in [DEFAULT] (section NULL: [DEFAULT] only). */
const struct ini_kv *ini_get(const struct ini *ini, const char *section, const char *key);

#endif
