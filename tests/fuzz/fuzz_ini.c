/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ini.c: chaosctl's INI reader (controller/ini.c) over arbitrary
 * text. What it accepts must be well formed (trimmed, lower-cased keys,
 * no duplicates, line numbers that exist and only grow, every value line
 * numbered), and every refusal must name the file and line and leave
 * nothing behind.
 */
#include <stdbool.h>
#include <stddef.h>

#include "fuzz.h"
#include "../../common/err.h"
#include "../../controller/ini.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		if (*text == '\n')
			n++;
	return n + 1;
}

static void
check_kv(const struct ini *ini, const struct ini_section *s, const struct ini_kv *kv,
    size_t nlines)
{
	const struct ini_kv *o;
	size_t klen = strlen(kv->key), i, newlines = 0;
	const char *c;

	FUZZ_CHECK(klen > 0 && !is_blank(kv->key[0]) && !is_blank(kv->key[klen - 1]));
	FUZZ_CHECK(strpbrk(kv->key, "=:\n") == NULL);
	for (c = kv->key; *c != '\0'; c++)
		FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'));
	FUZZ_CHECK(kv->line > s->line && (size_t)kv->line <= nlines);
	for (c = kv->value; *c != '\0'; c++)
		if (*c == '\n') {
			newlines++;
			/* Each joined line is trimmed and not empty. */
			FUZZ_CHECK(c > kv->value && !is_blank(c[-1]) && !is_blank(c[1]) &&
			    c[1] != '\0' && c[1] != '\n');
		}
	FUZZ_CHECK(kv->nvlines == newlines + 1);
	FUZZ_CHECK(kv->vlines[0] >= kv->line);
	for (i = 1; i < kv->nvlines; i++)
		FUZZ_CHECK(kv->vlines[i] > kv->vlines[i - 1]);
	FUZZ_CHECK((size_t)kv->vlines[kv->nvlines - 1] <= nlines);
	for (o = kv->next; o != NULL; o = o->next) {
		FUZZ_CHECK(strcmp(o->key, kv->key) != 0);
		FUZZ_CHECK(o->line > kv->line);
	}
	/* The lookup finds this very entry in its own section. */
	FUZZ_CHECK(ini_get(ini, s->name, kv->key) == kv);
}

static void
check_ini(const struct ini *ini, const char *text)
{
	const struct ini_section *s, *o;
	const struct ini_kv *kv;
	size_t nlines = count_lines(text);

	for (s = ini->sections; s != NULL; s = s->next) {
		FUZZ_CHECK(s->name[0] != '\0' && strchr(s->name, ']') == NULL);
		FUZZ_CHECK(s->line >= 1 && (size_t)s->line <= nlines);
		FUZZ_CHECK(ini_section(ini, s->name) == s);
		for (o = s->next; o != NULL; o = o->next) {
			FUZZ_CHECK(strcmp(o->name, s->name) != 0);
			FUZZ_CHECK(o->line > s->line);
		}
		for (kv = s->kvs; kv != NULL; kv = kv->next)
			check_kv(ini, s, kv, nlines);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct errbuf eb = { "" };
	struct ini ini;
	int r;

	r = ini_parse(text, "fuzz.ini", &ini, &eb);
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r == 0) {
		FUZZ_CHECK(strcmp(ini.file, "fuzz.ini") == 0);
		check_ini(&ini, text);
		ini_free(&ini);
	} else {
		FUZZ_CHECK(strncmp(eb.msg, "fuzz.ini:", 9) == 0);
		FUZZ_CHECK(ini.sections == NULL && ini.file == NULL);
	}
	FUZZ_CHECK(ini.sections == NULL && ini.file == NULL);
	free(text);
	return 0;
}
