/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.h: the request signature shared by chaos-agent (verifier) and
 * chaosctl (signer). docs/protocol.md describes the same scheme in prose so
 * other clients can implement it; tests/integration/chaos_client.py is an
 * independent implementation used by the tests.
 *
 *   Authorization: CHAOS-HMAC-SHA256 keyid=<id>, ts=<unix>, nonce=<32 hex>, sig=<64 hex>
 *
 *   sig = hex(HMAC-SHA256(key, "CHAOS-HMAC-SHA256\n" method "\n" path "\n"
 *         canonical-query "\n" ts "\n" nonce "\n" keyid "\n" hex(SHA-256(body))))
 */
#ifndef CHAOS_SIGN_H
#define CHAOS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_SCHEME "CHAOS-HMAC-SHA256"
#define SIGN_KEY_MIN 32		/* bytes of key material, at least */
#define SIGN_KEY_MAX 64
#define SIGN_KEYID_MAX 32	/* characters of a key id */
#define SIGN_NONCE_LEN 16	/* bytes; 32 hex digits on the wire */
#define SIGN_MAC_LEN 32
#define SIGN_HEADER_MAX 256	/* longest Authorization value we build or accept */
#define SIGN_QUERY_MAX 512	/* longest canonical query */
#define SIGN_PATH_MAX 256	/* longest request path */
#define SIGN_KEYS_MAX 8		/* keys in one key file */

struct sign_key {
	char id[SIGN_KEYID_MAX + 1];
	unsigned char key[SIGN_KEY_MAX];
	size_t len;
};

/* What a parsed Authorization header holds. */
struct sign_auth {
	char keyid[SIGN_KEYID_MAX + 1];
	int64_t ts;
	unsigned char nonce[SIGN_NONCE_LEN];
	unsigned char sig[SIGN_MAC_LEN];
};

/* One query parameter; both sides restrict keys and values to [A-Za-z0-9_.:-]. */
struct sign_param {
	const char *key;
	const char *value;
};

/*
 * Build the canonical query: parameters sorted by key then value, joined as
 * "k=v&k=v". Returns 0, or CE_INVALID for a disallowed character or an
 * output longer than outlen.
 */
int sign_canonical_query(struct sign_param *params, size_t n, char *out, size_t outlen);

/*
 * Compute the MAC of a request into mac. body may be NULL when bodylen is 0.
 * Returns 0, or CE_INVALID (method, path or query too long).
 */
int sign_compute(const struct sign_key *key, const char *method, const char *path,
    const char *canon_query, int64_t ts, const unsigned char nonce[SIGN_NONCE_LEN],
    const void *body, size_t bodylen, unsigned char mac[SIGN_MAC_LEN]);

/*
 * Sign a request with a fresh random nonce and the current time; write the
 * Authorization header value into out. Returns 0 or a negative CE_* code.
 */
int sign_request(const struct sign_key *key, const char *method, const char *path,
    const char *canon_query, const void *body, size_t bodylen, char *out, size_t outlen);

/*
 * Parse an Authorization header value. Every field must appear once, in any
 * order; unknown fields, bad hex and oversize values are CE_INVALID.
 */
int sign_parse_header(const char *value, struct sign_auth *out);

/*
 * Parse key-file text: lines "<key-id> <hex key>", '#' comments and blank
 * lines allowed. Fills at most max keys. Returns the number of keys (>= 1)
 * or CE_INVALID with a message naming the line in eb.
 */
struct errbuf;
int sign_parse_keyfile(const char *text, struct sign_key *keys, size_t max, struct errbuf *eb);

/*
 * Read a key file into keys after checking that it is a regular file
 * owned by the effective user and not readable by group or others.
 * Returns the number of keys or a negative CE_* code with eb set.
 */
int sign_load_keyfile(const char *path, struct sign_key *keys, size_t max, struct errbuf *eb);

/* The default key id of key material: the first 8 hex digits of its SHA-256. */
void sign_key_fingerprint(const unsigned char *key, size_t len, char out[9]);

/* Compare two MACs in constant time: 0 when equal. */
int sign_mac_cmp(const unsigned char a[SIGN_MAC_LEN], const unsigned char b[SIGN_MAC_LEN]);

#endif
