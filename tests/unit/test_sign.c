/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sign.c: request signatures (common/sign.c) against the published
 * test vector of docs/protocol.md, the Authorization header format, the
 * canonical query and the key file rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../common/err.h"
#include "../../common/sign.h"
#include "../../common/util.h"

#define VEC_TS INT64_C(1764000000)
#define VEC_BODY "{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":50}}"
#define VEC_POST_SIG "7b843bcfc0bc5b6b6cc0e75d60bab1bf1039f3f45c6a2a5d449a96a6b468e989"
#define VEC_GET_SIG "bb02388c07eada2458c7e0ca6a680b5c18c95c1ed15b44477df0fb9de8206721"
#define VEC_KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define VEC_NONCE_HEX "000102030405060708090a0b0c0d0e0f"
#define KEY64_HEX VEC_KEY_HEX VEC_KEY_HEX

static void
vector_key(struct sign_key *k)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	(void)str_copy(k->id, sizeof(k->id), "ops1");
	for (i = 0; i < 32; i++)
		k->key[i] = (unsigned char)i;
	k->len = 32;
}

static void
vector_nonce(unsigned char nonce[SIGN_NONCE_LEN])
{
	size_t i;

	for (i = 0; i < SIGN_NONCE_LEN; i++)
		nonce[i] = (unsigned char)i;
}

static void
mac_hex(const unsigned char mac[SIGN_MAC_LEN], char out[2 * SIGN_MAC_LEN + 1])
{
	hex_encode(mac, SIGN_MAC_LEN, out);
}

/* ---- the published test vector */

static void
t_vector_post_matches_protocol_md(void **state)
{
	struct sign_key k;
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN], digest[32];
	char hex[65];

	(void)state;
	vector_key(&k);
	vector_nonce(nonce);
	assert_int_equal(EVP_Digest(VEC_BODY, strlen(VEC_BODY), digest, NULL, EVP_sha256(),
	    NULL), 1);
	hex_encode(digest, sizeof(digest), hex);
	assert_memory_equal(hex, "db12c2f0", 8);
	assert_string_equal(hex + 56, "4bb1c9ec");
	assert_int_equal(sign_compute(&k, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY,
	    strlen(VEC_BODY), mac), 0);
	mac_hex(mac, hex);
	assert_string_equal(hex, VEC_POST_SIG);
}

static void
t_vector_get_matches_protocol_md(void **state)
{
	struct sign_key k;
	struct sign_param p[] = { { "state", "active" } };
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN];
	char canon[SIGN_QUERY_MAX + 1], hex[65];

	(void)state;
	vector_key(&k);
	vector_nonce(nonce);
	assert_int_equal(sign_canonical_query(p, 1, canon, sizeof(canon)), 0);
	assert_string_equal(canon, "state=active");
	assert_int_equal(sign_compute(&k, "GET", "/v1/faults", canon, VEC_TS, nonce, NULL, 0,
	    mac), 0);
	mac_hex(mac, hex);
	assert_string_equal(hex, VEC_GET_SIG);
}

/*
 * sign.c computes HMAC from the SHA-256 block function itself: it must equal
 * OpenSSL's HMAC() for every key length a key file allows (32 to 64 bytes,
 * 64 being SHA-256's block) and for empty and multi-block messages.
 */
static void
t_mac_equals_openssl_hmac_for_every_key_length(void **state)
{
	static const char *bodies[] = { "", VEC_BODY,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN], want[SIGN_MAC_LEN];
	unsigned char digest[32];
	char sts[1024], bodyhex[65], noncehex[2 * SIGN_NONCE_LEN + 1];
	struct sign_key k;
	unsigned int len;
	size_t kl, b, i;
	int n;

	(void)state;
	vector_nonce(nonce);
	hex_encode(nonce, sizeof(nonce), noncehex);
	for (kl = SIGN_KEY_MIN; kl <= SIGN_KEY_MAX; kl++) {
		for (b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
			memset(&k, 0, sizeof(k));
			(void)str_copy(k.id, sizeof(k.id), "ops1");
			for (i = 0; i < kl; i++)
				k.key[i] = (unsigned char)(0xa5 ^ (i * 7 + kl));
			k.len = kl;
			assert_int_equal(sign_compute(&k, "POST", "/v1/faults", "", VEC_TS,
			    nonce, bodies[b], strlen(bodies[b]), mac), 0);
			assert_int_equal(EVP_Digest(bodies[b], strlen(bodies[b]), digest,
			    NULL, EVP_sha256(), NULL), 1);
			hex_encode(digest, sizeof(digest), bodyhex);
			n = snprintf(sts, sizeof(sts), "%s\nPOST\n/v1/faults\n\n%lld\n%s\n"
			    "ops1\n%s", SIGN_SCHEME, (long long)VEC_TS, noncehex, bodyhex);
			assert_true(n > 0 && (size_t)n < sizeof(sts));
			len = 0;
			assert_non_null(HMAC(EVP_sha256(), k.key, (int)kl,
			    (const unsigned char *)sts, (size_t)n, want, &len));
			assert_int_equal(len, SIGN_MAC_LEN);
			assert_memory_equal(mac, want, SIGN_MAC_LEN);
		}
	}
}

static void
t_vector_key_loads_from_keyfile_text(void **state)
{
	struct sign_key keys[2], k;
	struct errbuf eb = { "" };
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN];
	char hex[65];

	(void)state;
	assert_int_equal(sign_parse_keyfile("ops1 " VEC_KEY_HEX "\n", keys, 2, &eb), 1);
	vector_key(&k);
	assert_string_equal(keys[0].id, "ops1");
	assert_int_equal(keys[0].len, 32);
	assert_memory_equal(keys[0].key, k.key, 32);
	vector_nonce(nonce);
	assert_int_equal(sign_compute(&keys[0], "POST", "/v1/faults", "", VEC_TS, nonce,
	    VEC_BODY, strlen(VEC_BODY), mac), 0);
	mac_hex(mac, hex);
	assert_string_equal(hex, VEC_POST_SIG);
}

/* ---- verification as the agent does it: parse, look up, recompute, compare */

static int
verify(const struct sign_key *keys, size_t nkeys, const char *header, const char *method,
    const char *path, const char *query, const char *body)
{
	struct sign_auth a;
	unsigned char mac[SIGN_MAC_LEN];
	size_t i;

	if (sign_parse_header(header, &a) != 0)
		return CE_INVALID;
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].id, a.keyid) == 0)
			break;
	if (i == nkeys)
		return CE_NOT_FOUND;
	if (sign_compute(&keys[i], method, path, query, a.ts, a.nonce, body,
	    body != NULL ? strlen(body) : 0, mac) != 0)
		return CE_INVALID;
	return sign_mac_cmp(mac, a.sig) == 0 ? 0 : CE_UNAUTHORIZED;
}

static void
t_vector_header_verifies(void **state)
{
	struct sign_key k;
	const char *h = "CHAOS-HMAC-SHA256 keyid=ops1, ts=1764000000, nonce=" VEC_NONCE_HEX
	    ", sig=" VEC_POST_SIG;

	(void)state;
	vector_key(&k);
	assert_int_equal(verify(&k, 1, h, "POST", "/v1/faults", "", VEC_BODY), 0);
	/* Each signed element, changed, breaks verification. */
	assert_int_equal(verify(&k, 1, h, "PUT", "/v1/faults", "", VEC_BODY), CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, h, "POST", "/v1/faults/", "", VEC_BODY),
	    CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, h, "POST", "/v1/faults", "state=active", VEC_BODY),
	    CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, h, "POST", "/v1/faults", "",
	    "{\"type\":\"burn-cpu\",\"duration\":61,\"params\":{\"load\":50}}"),
	    CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, h, "POST", "/v1/faults", "", NULL), CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, "CHAOS-HMAC-SHA256 keyid=ops1, ts=1764000001, nonce="
	    VEC_NONCE_HEX ", sig=" VEC_POST_SIG, "POST", "/v1/faults", "", VEC_BODY),
	    CE_UNAUTHORIZED);
	assert_int_equal(verify(&k, 1, "CHAOS-HMAC-SHA256 keyid=ops1, ts=1764000000, nonce="
	    "000102030405060708090a0b0c0d0e0e, sig=" VEC_POST_SIG, "POST", "/v1/faults", "",
	    VEC_BODY), CE_UNAUTHORIZED);
	/* A flipped bit in the signature itself. */
	assert_int_equal(verify(&k, 1, "CHAOS-HMAC-SHA256 keyid=ops1, ts=1764000000, nonce="
	    VEC_NONCE_HEX ", sig=7b843bcfc0bc5b6b6cc0e75d60bab1bf1039f3f45c6a2a5d449a96a6b468e988",
	    "POST", "/v1/faults", "", VEC_BODY), CE_UNAUTHORIZED);
}

static void
t_every_signed_field_changes_the_mac(void **state)
{
	struct sign_key k, k2;
	unsigned char nonce[SIGN_NONCE_LEN], nonce2[SIGN_NONCE_LEN];
	unsigned char base[SIGN_MAC_LEN], mac[SIGN_MAC_LEN];

	(void)state;
	vector_key(&k);
	vector_nonce(nonce);
	memcpy(nonce2, nonce, sizeof(nonce2));
	nonce2[15] ^= 1;
	assert_int_equal(sign_compute(&k, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY,
	    strlen(VEC_BODY), base), 0);
#define DIFFERS(...) do { \
		assert_int_equal(sign_compute(__VA_ARGS__, mac), 0); \
		assert_int_not_equal(sign_mac_cmp(base, mac), 0); \
	} while (0)
	DIFFERS(&k, "GET", "/v1/faults", "", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY));
	DIFFERS(&k, "POST", "/v1/faultz", "", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY));
	DIFFERS(&k, "POST", "/v1/faults", "a=b", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY));
	DIFFERS(&k, "POST", "/v1/faults", "", VEC_TS + 1, nonce, VEC_BODY, strlen(VEC_BODY));
	DIFFERS(&k, "POST", "/v1/faults", "", VEC_TS, nonce2, VEC_BODY, strlen(VEC_BODY));
	DIFFERS(&k, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY) - 1);
	k2 = k;
	(void)str_copy(k2.id, sizeof(k2.id), "ops2");
	DIFFERS(&k2, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY));
	k2 = k;
	k2.key[0] ^= 0x80;
	DIFFERS(&k2, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY, strlen(VEC_BODY));
#undef DIFFERS
	/* The same inputs give the same MAC. */
	assert_int_equal(sign_compute(&k, "POST", "/v1/faults", "", VEC_TS, nonce, VEC_BODY,
	    strlen(VEC_BODY), mac), 0);
	assert_int_equal(sign_mac_cmp(base, mac), 0);
}

static void
t_compute_bounds(void **state)
{
	struct sign_key k;
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN];
	char path[SIGN_PATH_MAX + 2], query[SIGN_QUERY_MAX + 2];

	(void)state;
	vector_key(&k);
	vector_nonce(nonce);
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[SIGN_PATH_MAX] = '\0';
	assert_int_equal(sign_compute(&k, "GET", path, "", 1, nonce, NULL, 0, mac), 0);
	path[SIGN_PATH_MAX] = 'a';
	path[SIGN_PATH_MAX + 1] = '\0';
	assert_int_equal(sign_compute(&k, "GET", path, "", 1, nonce, NULL, 0, mac),
	    CE_INVALID);
	memset(query, 'q', sizeof(query));
	query[SIGN_QUERY_MAX] = '\0';
	assert_int_equal(sign_compute(&k, "GET", "/", query, 1, nonce, NULL, 0, mac), 0);
	query[SIGN_QUERY_MAX] = 'q';
	query[SIGN_QUERY_MAX + 1] = '\0';
	assert_int_equal(sign_compute(&k, "GET", "/", query, 1, nonce, NULL, 0, mac),
	    CE_INVALID);
	assert_int_equal(sign_compute(&k, "ABCDEFGHIJKLMNOPQ", "/", "", 1, nonce, NULL, 0,
	    mac), CE_INVALID);
}

/* ---- header build and parse */

static void
t_sign_request_round_trips(void **state)
{
	struct sign_key k;
	struct sign_auth a, b;
	char h1[SIGN_HEADER_MAX + 1], h2[SIGN_HEADER_MAX + 1], prefix[64];
	unsigned char mac[SIGN_MAC_LEN];
	int64_t now = (int64_t)time(NULL);
	const char *p;
	size_t i;

	(void)state;
	vector_key(&k);
	assert_int_equal(sign_request(&k, "POST", "/v1/faults", "", VEC_BODY,
	    strlen(VEC_BODY), h1, sizeof(h1)), 0);
	assert_int_equal(sign_request(&k, "POST", "/v1/faults", "", VEC_BODY,
	    strlen(VEC_BODY), h2, sizeof(h2)), 0);
	(void)snprintf(prefix, sizeof(prefix), "CHAOS-HMAC-SHA256 keyid=ops1, ts=");
	assert_memory_equal(h1, prefix, strlen(prefix));
	/* Lower-case hex of the documented widths. */
	p = strstr(h1, ", nonce=");
	assert_non_null(p);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", p[8 + i]));
	assert_memory_equal(p + 40, ", sig=", 6);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", p[46 + i]));
	assert_int_equal(p[110], '\0');

	assert_int_equal(sign_parse_header(h1, &a), 0);
	assert_int_equal(sign_parse_header(h2, &b), 0);
	assert_string_equal(a.keyid, "ops1");
	assert_true(a.ts >= now - 2 && a.ts <= now + 2);
	assert_memory_not_equal(a.nonce, b.nonce, SIGN_NONCE_LEN);
	assert_int_equal(sign_compute(&k, "POST", "/v1/faults", "", a.ts, a.nonce, VEC_BODY,
	    strlen(VEC_BODY), mac), 0);
	assert_memory_equal(mac, a.sig, SIGN_MAC_LEN);
	assert_int_equal(verify(&k, 1, h1, "POST", "/v1/faults", "", VEC_BODY), 0);
	assert_int_equal(verify(&k, 1, h1, "DELETE", "/v1/faults", "", VEC_BODY),
	    CE_UNAUTHORIZED);
	/* Too small an output buffer is an error, not a truncated header. */
	assert_int_equal(sign_request(&k, "GET", "/v1/info", "", NULL, 0, h1, 100),
	    CE_INVALID);
}

static void
t_parse_header_accepts_any_order_and_spacing(void **state)
{
	struct sign_auth a;
	unsigned char nonce[SIGN_NONCE_LEN];

	(void)state;
	vector_nonce(nonce);
	memset(&a, 0xff, sizeof(a));
	assert_int_equal(sign_parse_header("CHAOS-HMAC-SHA256 sig=" VEC_POST_SIG
	    ",nonce=" VEC_NONCE_HEX ",   ts=1764000000, keyid=a.b_c-D", &a), 0);
	assert_string_equal(a.keyid, "a.b_c-D");
	assert_true(a.ts == VEC_TS);
	assert_memory_equal(a.nonce, nonce, SIGN_NONCE_LEN);
	assert_int_equal(a.sig[0], 0x7b);
	assert_int_equal(a.sig[31], 0x89);
	assert_int_equal(sign_parse_header("CHAOS-HMAC-SHA256 keyid=k, ts=0, nonce="
	    VEC_NONCE_HEX ", sig=" VEC_GET_SIG, &a), 0);
	assert_true(a.ts == 0);
}

/*
 * The signed text holds ts, nonce and sig as the protocol prints them; a
 * header spelling them otherwise would name a different string to sign,
 * so it is refused rather than read leniently.
 */
static void
t_parse_header_takes_only_the_canonical_spelling(void **state)
{
	static const char *const bad[] = {
		"CHAOS-HMAC-SHA256 keyid=k, ts=1, nonce=000102030405060708090A0B0C0D0E0F, "
		    "sig=" VEC_GET_SIG,
		"CHAOS-HMAC-SHA256 keyid=k, ts=1, nonce=" VEC_NONCE_HEX ", "
		    "sig=BB02388C07EADA2458C7E0CA6A680B5C18C95C1ED15B44477DF0FB9DE8206721",
		"CHAOS-HMAC-SHA256 keyid=k, ts=+1764000000, nonce=" VEC_NONCE_HEX ", sig="
		    VEC_GET_SIG,
		"CHAOS-HMAC-SHA256 keyid=k, ts=01764000000, nonce=" VEC_NONCE_HEX ", sig="
		    VEC_GET_SIG,
		"CHAOS-HMAC-SHA256 keyid=k, ts=00, nonce=" VEC_NONCE_HEX ", sig=" VEC_GET_SIG,
		"CHAOS-HMAC-SHA256 keyid=k, ts= 1, nonce=" VEC_NONCE_HEX ", sig=" VEC_GET_SIG,
		"CHAOS-HMAC-SHA256 keyid=k, ts=1e9, nonce=" VEC_NONCE_HEX ", sig=" VEC_GET_SIG,
	};
	struct sign_auth a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sign_parse_header(bad[i], &a) != CE_INVALID)
			fail_msg("accepted: %s", bad[i]);
}

static void
t_parse_header_rejects_malformed(void **state)
{
#define N "nonce=" VEC_NONCE_HEX
#define S "sig=" VEC_POST_SIG
#define K32 "abcdefghijklmnopqrstuvwxyz012345"
	static const char *const bad[] = {
		"",
		"CHAOS-HMAC-SHA256",
		"CHAOS-HMAC-SHA256 ",
		"Bearer keyid=ops1, ts=1, " N ", " S,
		"chaos-hmac-sha256 keyid=ops1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA1 keyid=ops1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256keyid=ops1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256  keyid=ops1, ts=1, " N ", " S,
		/* missing fields */
		"CHAOS-HMAC-SHA256 ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N,
		/* duplicate fields */
		"CHAOS-HMAC-SHA256 keyid=ops1, keyid=ops1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " S ", " S,
		/* unknown field, empty values, missing '=' */
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " S ", x=1",
		"CHAOS-HMAC-SHA256 keyid=, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid ops1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " S ",",
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " S ", ",
		"CHAOS-HMAC-SHA256 keyid=ops1,, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 KEYID=ops1, ts=1, " N ", " S,
		/* bad key ids */
		"CHAOS-HMAC-SHA256 keyid=" K32 "6, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops 1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops/1, ts=1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=\"ops1\", ts=1, " N ", " S,
		/* bad timestamps */
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=-1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1x, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts= 1, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=100000000000, " N ", " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=99999999999999999999, " N ", " S,
		/* bad hex: short, long, non-hex */
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, nonce=000102030405060708090a0b0c0d0e0, " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N "00, " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, nonce=g00102030405060708090a0b0c0d0e0f, " S,
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", sig=" VEC_POST_SIG "0",
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", sig=7b843bcf",
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", sig="
		    "zb843bcfc0bc5b6b6cc0e75d60bab1bf1039f3f45c6a2a5d449a96a6b468e989",
		"CHAOS-HMAC-SHA256 keyid=ops1, ts=1, " N ", " S " ",
	};
#undef N
#undef S
#undef K32
	struct sign_auth a;
	size_t i;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	for (i = 0; i < NELEM(bad); i++) {
		struct sign_auth before = a;

		if (sign_parse_header(bad[i], &a) != CE_INVALID)
			fail_msg("accepted malformed header #%zu: %s", i, bad[i]);
		assert_memory_equal(&a, &before, sizeof(a));
	}
	assert_int_equal(sign_parse_header(NULL, &a), CE_INVALID);
}

static void
t_parse_header_length_limits(void **state)
{
	char h[SIGN_HEADER_MAX + 64];
	struct sign_auth a;
	const char *base = "CHAOS-HMAC-SHA256 keyid=abcdefghijklmnopqrstuvwxyz012345, "
	    "ts=99999999999, nonce=" VEC_NONCE_HEX ", sig=" VEC_POST_SIG;
	size_t len = strlen(base);

	(void)state;
	/* The longest well-formed header fits the limit. */
	assert_true(len <= SIGN_HEADER_MAX);
	assert_int_equal(sign_parse_header(base, &a), 0);
	assert_string_equal(a.keyid, "abcdefghijklmnopqrstuvwxyz012345");
	assert_true(a.ts == INT64_C(99999999999));
	/* Padding with spaces to exactly the limit still parses ... */
	(void)snprintf(h, sizeof(h), "%s", base);
	{
		char *comma = strstr(h, ", ts=");
		size_t pad = SIGN_HEADER_MAX - len;

		memmove(comma + 1 + pad, comma + 1, strlen(comma + 1) + 1);
		memset(comma + 1, ' ', pad);
	}
	assert_int_equal(strlen(h), SIGN_HEADER_MAX);
	assert_int_equal(sign_parse_header(h, &a), 0);
	/* ... and one byte over is refused. */
	{
		char *comma = strstr(h, ",");

		memmove(comma + 2, comma + 1, strlen(comma + 1) + 1);
		comma[1] = ' ';
	}
	assert_int_equal(strlen(h), SIGN_HEADER_MAX + 1);
	assert_int_equal(sign_parse_header(h, &a), CE_INVALID);
}

/* ---- canonical query */

static void
t_canonical_query_sorts_and_joins(void **state)
{
	struct sign_param p[] = {
		{ "state", "active" }, { "b", "2" }, { "a", "z" }, { "a", "1" }, { "c", "" },
	};
	char out[SIGN_QUERY_MAX + 1];

	(void)state;
	assert_int_equal(sign_canonical_query(p, NELEM(p), out, sizeof(out)), 0);
	assert_string_equal(out, "a=1&a=z&b=2&c=&state=active");
	assert_int_equal(sign_canonical_query(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	{
		struct sign_param q[] = { { "t", "10:20.5_x-y" } };

		assert_int_equal(sign_canonical_query(q, 1, out, sizeof(out)), 0);
		assert_string_equal(out, "t=10:20.5_x-y");
	}
}

static void
t_canonical_query_rejects_bad_params(void **state)
{
	static const struct sign_param bad[][1] = {
		{ { "", "x" } }, { { "a b", "x" } }, { { "a", "x y" } }, { { "a", "x&y" } },
		{ { "a", "x=y" } }, { { "a=b", "x" } }, { { "a", "x/y" } }, { { "a", "%20" } },
		{ { "a", "\xc3\xa9" } },
	};
	struct sign_param p[1];
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		p[0] = bad[i][0];
		if (sign_canonical_query(p, 1, out, sizeof(out)) != CE_INVALID)
			fail_msg("accepted query param '%s'='%s'", p[0].key, p[0].value);
	}
	/* Output that does not fit is an error, never a truncated query. */
	{
		struct sign_param q[] = { { "state", "active" } };

		assert_int_equal(sign_canonical_query(q, 1, out, 13), 0);
		assert_int_equal(sign_canonical_query(q, 1, out, 12), CE_INVALID);
		assert_int_equal(sign_canonical_query(q, 1, out, 0), CE_INVALID);
	}
}

/* ---- key file text */

static void
t_keyfile_parses_keys_comments_and_blanks(void **state)
{
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };
	char text[2048];
	unsigned char k64[64];
	size_t i;

	(void)state;
	(void)snprintf(text, sizeof(text),
	    "# chaos-agent keys\n"
	    "\n"
	    "   \n"
	    "ops1 %s\n"
	    "#ops0 %s\n"
	    "ops-2.new_x   %s  \r\n"
	    "\t\n"
	    "last %s",
	    VEC_KEY_HEX, VEC_KEY_HEX, KEY64_HEX,
	    "ffFF02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_int_equal(sign_parse_keyfile(text, keys, SIGN_KEYS_MAX, &eb), 3);
	assert_string_equal(keys[0].id, "ops1");
	assert_int_equal(keys[0].len, 32);
	assert_string_equal(keys[1].id, "ops-2.new_x");
	assert_int_equal(keys[1].len, 64);
	for (i = 0; i < 64; i++)
		k64[i] = (unsigned char)(i % 32);
	assert_memory_equal(keys[1].key, k64, 64);
	assert_string_equal(keys[2].id, "last");
	assert_int_equal(keys[2].len, 32);
	assert_int_equal(keys[2].key[0], 0xff);
	assert_int_equal(keys[2].key[1], 0xff);
	assert_int_equal(keys[2].key[2], 0x02);
}

static void
t_keyfile_allows_long_comments(void **state)
{
	struct sign_key keys[2];
	struct errbuf eb = { "" };
	char text[1024];

	(void)state;
	memset(text, 'c', 600);
	text[0] = '#';
	text[600] = '\n';
	(void)snprintf(text + 601, sizeof(text) - 601, "ops1 %s\n", VEC_KEY_HEX);
	assert_int_equal(sign_parse_keyfile(text, keys, 2, &eb), 1);
	assert_string_equal(keys[0].id, "ops1");
}

/* Expect CE_INVALID with msg containing each needle. */
static void
keyfile_bad(const char *text, size_t max, const char *needle1, const char *needle2)
{
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };

	if (sign_parse_keyfile(text, keys, max, &eb) != CE_INVALID)
		fail_msg("key file accepted: %s", text);
	if (needle1 != NULL && strstr(eb.msg, needle1) == NULL)
		fail_msg("message '%s' lacks '%s'", eb.msg, needle1);
	if (needle2 != NULL && strstr(eb.msg, needle2) == NULL)
		fail_msg("message '%s' lacks '%s'", eb.msg, needle2);
}

static void
t_keyfile_rejects_bad_keys(void **state)
{
	char text[1024];

	(void)state;
	/* 31 bytes: too short; 65 bytes: too long; odd digits. */
	keyfile_bad("k 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
	    SIGN_KEYS_MAX, "line 1", "32 to 64 bytes");
	(void)snprintf(text, sizeof(text), "# c\nk %s00\n", KEY64_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 2", "32 to 64 bytes");
	(void)snprintf(text, sizeof(text), "k %s0\n", VEC_KEY_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 1", "hex");
	/* Not hex. */
	keyfile_bad("k zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	    SIGN_KEYS_MAX, "line 1", "not hex");
	/* Duplicate ids. */
	(void)snprintf(text, sizeof(text), "ops1 %s\nops2 %s\nops1 %s\n", VEC_KEY_HEX,
	    VEC_KEY_HEX, KEY64_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 3", "duplicate key id 'ops1'");
	/* Bad ids: too long, wrong characters. */
	(void)snprintf(text, sizeof(text), "abcdefghijklmnopqrstuvwxyz0123456 %s\n",
	    VEC_KEY_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 1", "key id");
	(void)snprintf(text, sizeof(text), "ops/1 %s\n", VEC_KEY_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 1", "key id");
	/* A key without an id, or a line without a separator. */
	keyfile_bad(VEC_KEY_HEX "\n", SIGN_KEYS_MAX, "line 1", "<key-id> <hex key>");
	(void)snprintf(text, sizeof(text), "ops1\t%s\n", VEC_KEY_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 1", NULL);
	keyfile_bad("ops1 \n", SIGN_KEYS_MAX, "line 1", NULL);
	/* Nothing at all. */
	keyfile_bad("", SIGN_KEYS_MAX, "no key", NULL);
	keyfile_bad("# only a comment\n\n", SIGN_KEYS_MAX, "no key", NULL);
	/* More keys than room. */
	(void)snprintf(text, sizeof(text), "a %s\nb %s\nc %s\n", VEC_KEY_HEX, VEC_KEY_HEX,
	    VEC_KEY_HEX);
	keyfile_bad(text, 2, "line 3", "more than 2 keys");
	/* An overlong key line. */
	(void)snprintf(text, sizeof(text), "k %s%s\n", KEY64_HEX, KEY64_HEX);
	keyfile_bad(text, SIGN_KEYS_MAX, "line 1", NULL);
}

/* ---- key files on disk */

struct tmpdir {
	char path[64];
};

static int
tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	(void)str_copy(t->path, sizeof(t->path), "/tmp/test_sign.XXXXXX");
	if (mkdtemp(t->path) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	static const char *const names[] = { "key", "link", "big", "sub" };
	char p[128];
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", t->path, names[i]);
		if (unlink(p) != 0 && errno == EISDIR)
			(void)rmdir(p);
		(void)rmdir(p);
	}
	(void)rmdir(t->path);
	free(t);
	return 0;
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
t_load_keyfile_checks_mode_and_owner(void **state)
{
	struct tmpdir *t = *state;
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };
	const char *text = "# test\nops1 " VEC_KEY_HEX "\n";
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/key", t->path);
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), 1);
	assert_string_equal(keys[0].id, "ops1");
	assert_int_equal(keys[0].key[31], 0x1f);
	write_file(path, text, strlen(text), 0400);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), 1);

	write_file(path, text, strlen(text), 0644);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "chmod 600"));
	assert_non_null(strstr(eb.msg, "644"));
	write_file(path, text, strlen(text), 0640);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), CE_INVALID);
	write_file(path, text, strlen(text), 0602);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), CE_INVALID);

	/* Owned by someone else: only root can arrange that. */
	write_file(path, text, strlen(text), 0600);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		eb.msg[0] = '\0';
		assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb),
		    CE_INVALID);
		assert_non_null(strstr(eb.msg, "owned by uid 0"));
	}
}

static void
t_load_keyfile_refuses_odd_files(void **state)
{
	struct tmpdir *t = *state;
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };
	char path[128], link[128], big[128], sub[128], *text;
	const char *good = "ops1 " VEC_KEY_HEX "\n";

	(void)snprintf(path, sizeof(path), "%s/key", t->path);
	(void)snprintf(link, sizeof(link), "%s/link", t->path);
	(void)snprintf(big, sizeof(big), "%s/big", t->path);
	(void)snprintf(sub, sizeof(sub), "%s/sub", t->path);

	/* Missing. */
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), CE_SYSTEM);
	assert_non_null(strstr(eb.msg, path));
	/* A symlink, even to a good key file. */
	write_file(path, good, strlen(good), 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(sign_load_keyfile(link, keys, SIGN_KEYS_MAX, &eb), CE_SYSTEM);
	/* A directory. */
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(sign_load_keyfile(sub, keys, SIGN_KEYS_MAX, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "not a regular file"));
	/* A FIFO: refused at once, not read (which would wait for a writer). */
	{
		char fifo[160];

		(void)snprintf(fifo, sizeof(fifo), "%s/fifo", t->path);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(sign_load_keyfile(fifo, keys, SIGN_KEYS_MAX, &eb),
		    CE_INVALID);
		assert_non_null(strstr(eb.msg, "not a regular file"));
		(void)unlink(fifo);
	}
	/* Larger than 8 KiB. */
	text = malloc(9000);
	assert_non_null(text);
	memset(text, '#', 9000);
	text[8999] = '\n';
	write_file(big, text, 9000, 0600);
	free(text);
	assert_int_equal(sign_load_keyfile(big, keys, SIGN_KEYS_MAX, &eb), CE_TOO_LARGE);
	/* A parse error names the file and the line. */
	write_file(path, "# c\nops1 abcd\n", 14, 0600);
	assert_int_equal(sign_load_keyfile(path, keys, SIGN_KEYS_MAX, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, path));
	assert_non_null(strstr(eb.msg, "line 2"));
}

/* ---- small helpers */

static void
t_fingerprint_and_mac_cmp(void **state)
{
	struct sign_key k;
	unsigned char a[SIGN_MAC_LEN], b[SIGN_MAC_LEN];
	char fp[9];

	(void)state;
	vector_key(&k);
	/* SHA-256 of bytes 00..1f starts 630dcd29. */
	sign_key_fingerprint(k.key, k.len, fp);
	assert_string_equal(fp, "630dcd29");
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(sign_mac_cmp(a, b), 0);
	b[31] ^= 1;
	assert_int_not_equal(sign_mac_cmp(a, b), 0);
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_int_not_equal(sign_mac_cmp(a, b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_vector_post_matches_protocol_md),
		cmocka_unit_test(t_vector_get_matches_protocol_md),
		cmocka_unit_test(t_mac_equals_openssl_hmac_for_every_key_length),
		cmocka_unit_test(t_vector_key_loads_from_keyfile_text),
		cmocka_unit_test(t_vector_header_verifies),
		cmocka_unit_test(t_every_signed_field_changes_the_mac),
		cmocka_unit_test(t_compute_bounds),
		cmocka_unit_test(t_sign_request_round_trips),
		cmocka_unit_test(t_parse_header_accepts_any_order_and_spacing),
		cmocka_unit_test(t_parse_header_takes_only_the_canonical_spelling),
		cmocka_unit_test(t_parse_header_rejects_malformed),
		cmocka_unit_test(t_parse_header_length_limits),
		cmocka_unit_test(t_canonical_query_sorts_and_joins),
		cmocka_unit_test(t_canonical_query_rejects_bad_params),
		cmocka_unit_test(t_keyfile_parses_keys_comments_and_blanks),
		cmocka_unit_test(t_keyfile_allows_long_comments),
		cmocka_unit_test(t_keyfile_rejects_bad_keys),
		cmocka_unit_test_setup_teardown(t_load_keyfile_checks_mode_and_owner,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_load_keyfile_refuses_odd_files,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(t_fingerprint_and_mac_cmp),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
