/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sign.h: invariants of the Authorization header parser and of the
 * canonical query (common/sign.c), shared by fuzz_authhdr and
 * fuzz_request.
 */
#ifndef CHAOS_TEST_CHECK_SIGN_H
#define CHAOS_TEST_CHECK_SIGN_H

#include "fuzz.h"
#include "../../common/err.h"
#include "../../common/sign.h"
#include "../../common/util.h"

static const struct sign_key fuzz_key = {
	.id = "ops1",
	.key = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
		 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 },
	.len = 32,
};

/*
 * Parse header; when it parses, its fields must be within their limits,
 * printing them back must parse to the same fields, and a request signed
 * with them must verify against a header carrying the computed MAC.
 */
static void
check_auth_header(const char *header, const char *method, const char *path,
    const char *query, const void *body, size_t bodylen)
{
	struct sign_auth a, b;
	struct sign_key k = fuzz_key;
	char nhex[2 * SIGN_NONCE_LEN + 1], shex[2 * SIGN_MAC_LEN + 1];
	char again[SIGN_HEADER_MAX + 64];
	unsigned char mac[SIGN_MAC_LEN];
	int n, r;

	r = sign_parse_header(header, &a);
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r != 0)
		return;
	FUZZ_CHECK(strlen(header) <= SIGN_HEADER_MAX);
	FUZZ_CHECK(a.keyid[0] != '\0' && strlen(a.keyid) <= SIGN_KEYID_MAX);
	FUZZ_CHECK(str_charset_ok(a.keyid, "_.-"));
	FUZZ_CHECK(a.ts >= 0 && a.ts <= INT64_C(99999999999));
	hex_encode(a.nonce, sizeof(a.nonce), nhex);
	hex_encode(a.sig, sizeof(a.sig), shex);
	n = snprintf(again, sizeof(again), "%s keyid=%s, ts=%lld, nonce=%s, sig=%s",
	    SIGN_SCHEME, a.keyid, (long long)a.ts, nhex, shex);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(again));
	FUZZ_CHECK(sign_parse_header(again, &b) == 0);
	FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* The header holds each value exactly as printed: no other spelling
	 * (upper-case hex, a sign, leading zeros) of the signed text parses. */
	{
		char tok[2 * SIGN_MAC_LEN + 16];

		(void)snprintf(tok, sizeof(tok), "ts=%lld", (long long)a.ts);
		FUZZ_CHECK(strstr(header, tok) != NULL);
		(void)snprintf(tok, sizeof(tok), "nonce=%s", nhex);
		FUZZ_CHECK(strstr(header, tok) != NULL);
		(void)snprintf(tok, sizeof(tok), "sig=%s", shex);
		FUZZ_CHECK(strstr(header, tok) != NULL);
	}

	/* Verify as the agent would, with the header's key id. */
	(void)str_copy(k.id, sizeof(k.id), a.keyid);
	r = sign_compute(&k, method, path, query, a.ts, a.nonce, body, bodylen, mac);
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r != 0)
		return;
	(void)sign_mac_cmp(mac, a.sig);
	hex_encode(mac, sizeof(mac), shex);
	n = snprintf(again, sizeof(again), "%s keyid=%s, ts=%lld, nonce=%s, sig=%s",
	    SIGN_SCHEME, a.keyid, (long long)a.ts, nhex, shex);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(again));
	FUZZ_CHECK(sign_parse_header(again, &b) == 0);
	FUZZ_CHECK(sign_mac_cmp(mac, b.sig) == 0);
}

/* Canonicalize params; on success the output is sorted "k=v" joined by '&'. */
static void
check_canonical_query(struct sign_param *params, size_t n)
{
	char out[SIGN_QUERY_MAX + 1];
	size_t i;
	int r;

	r = sign_canonical_query(params, n, out, sizeof(out));
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r != 0)
		return;
	FUZZ_CHECK(strlen(out) < sizeof(out));
	FUZZ_CHECK(str_charset_ok(out, "_.:-=&"));
	for (i = 1; i < n; i++) {
		int c = strcmp(params[i - 1].key, params[i].key);

		FUZZ_CHECK(c < 0 || (c == 0 && strcmp(params[i - 1].value,
		    params[i].value) <= 0));
	}
}

#endif
