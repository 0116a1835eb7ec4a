/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_authhdr.c: the Authorization header parser and the signature
 * verification of common/sign.c, and the key file parser of the same file
 * (both read text from outside the agent). The whole input is tried as a
 * header and as a key file; then its first line is the header and the
 * rest the body of a signed POST /v1/faults; and the lines after the
 * first, read as "key=value", are canonicalized as query parameters.
 */
#include "check_sign.h"

static void
check_keyfile(const char *text)
{
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };
	int r, i, j;

	r = sign_parse_keyfile(text, keys, SIGN_KEYS_MAX, &eb);
	if (r < 0) {
		FUZZ_CHECK(r == CE_INVALID && eb.msg[0] != '\0');
		return;
	}
	FUZZ_CHECK(r >= 1 && r <= SIGN_KEYS_MAX);
	for (i = 0; i < r; i++) {
		FUZZ_CHECK(keys[i].len >= SIGN_KEY_MIN && keys[i].len <= SIGN_KEY_MAX);
		FUZZ_CHECK(keys[i].id[0] != '\0' && strlen(keys[i].id) <= SIGN_KEYID_MAX);
		FUZZ_CHECK(str_charset_ok(keys[i].id, "_.-"));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(keys[i].id, keys[j].id) != 0);
	}
}

/* Lines "k=v" of text (modified) as at most 8 query parameters. */
static void
check_query_lines(char *text)
{
	struct sign_param params[8];
	size_t n = 0;
	char *line = text;

	while (line != NULL && n < 8) {
		char *nl = strchr(line, '\n'), *eq;

		if (nl != NULL)
			*nl = '\0';
		params[n].key = line;
		params[n].value = "";
		if ((eq = strchr(line, '=')) != NULL) {
			*eq = '\0';
			params[n].value = eq + 1;
		}
		n++;
		line = nl != NULL ? nl + 1 : NULL;
	}
	check_canonical_query(params, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *nl;
	const char *body = "";

	check_auth_header(text, "GET", "/v1/info", "", NULL, 0);
	check_keyfile(text);
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		body = nl + 1;
	}
	check_auth_header(text, "POST", "/v1/faults", "", body, strlen(body));
	if (nl != NULL)
		check_query_lines(nl + 1);
	free(text);
	return 0;
}
