/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.c: HMAC-SHA256 request signatures (see sign.h and docs/protocol.md).
 *
 * OpenSSL's libcrypto provides SHA-256 (its low-level SHA256_* calls), the
 * constant-time comparison and the wiping of secrets; HMAC (RFC 2104) is
 * the two hashes below, and nonces come from getrandom(2). Not EVP, HMAC()
 * or RAND_bytes(): each reaches OPENSSL_init_crypto, which, in the
 * packages' static link, brings most of libcrypto (every cipher, digest,
 * engine and error string table, their pointers relocated at every start)
 * into chaos-agent for one hash. The SHA256_*
 * calls are deprecated, not removed, in OpenSSL 3: OPENSSL_API_COMPAT
 * asks for the 1.1.1 API, which the packages build against.
 */
#define OPENSSL_API_COMPAT 0x10101000L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "err.h"
#include "file.h"
#include "sign.h"
#include "util.h"

#define PARAM_CHARSET "_.:-"
#define KEYFILE_MAX 8192

/* SHA-256 of len bytes of data (data may be NULL when len is 0). */
static void
sha256(const void *data, size_t len, unsigned char digest[SHA256_DIGEST_LENGTH])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, len > 0 ? data : "", len);
	SHA256_Final(digest, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

/* HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || msg)). */
static void
hmac_sha256(const unsigned char *key, size_t keylen, const void *msg, size_t len,
    unsigned char mac[SHA256_DIGEST_LENGTH])
{
	unsigned char k[SHA256_CBLOCK], pad[SHA256_CBLOCK], inner[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	size_t i;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		sha256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&c);
	SHA256_Update(&c, pad, sizeof(pad));
	SHA256_Update(&c, len > 0 ? msg : "", len);
	SHA256_Final(inner, &c);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&c);
	SHA256_Update(&c, pad, sizeof(pad));
	SHA256_Update(&c, inner, sizeof(inner));
	SHA256_Final(mac, &c);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
}

static int
param_cmp(const void *a, const void *b)
{
	const struct sign_param *pa = a, *pb = b;
	int r = strcmp(pa->key, pb->key);

	return r != 0 ? r : strcmp(pa->value, pb->value);
}

int
sign_canonical_query(struct sign_param *params, size_t n, char *out, size_t outlen)
{
	size_t i, used = 0;

	if (outlen == 0)
		return CE_INVALID;
	out[0] = '\0';
	for (i = 0; i < n; i++)
		if (!str_charset_ok(params[i].key, PARAM_CHARSET) ||
		    !str_charset_ok(params[i].value, PARAM_CHARSET) ||
		    params[i].key[0] == '\0')
			return CE_INVALID;
	if (n > 1)
		qsort(params, n, sizeof(*params), param_cmp);
	for (i = 0; i < n; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s=%s",
		    i > 0 ? "&" : "", params[i].key, params[i].value);

		if (w < 0 || (size_t)w >= outlen - used)
			return CE_INVALID;
		used += (size_t)w;
	}
	return 0;
}

int
sign_compute(const struct sign_key *key, const char *method, const char *path,
    const char *canon_query, int64_t ts, const unsigned char nonce[SIGN_NONCE_LEN],
    const void *body, size_t bodylen, unsigned char mac[SIGN_MAC_LEN])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char bodyhex[65], noncehex[2 * SIGN_NONCE_LEN + 1];
	char sts[64 + SIGN_PATH_MAX + SIGN_QUERY_MAX + 2 * SIGN_NONCE_LEN + SIGN_KEYID_MAX + 128];
	int n;

	if (strlen(method) > 16 || strlen(path) > SIGN_PATH_MAX ||
	    strlen(canon_query) > SIGN_QUERY_MAX)
		return CE_INVALID;
	sha256(body, bodylen, digest);
	hex_encode(digest, sizeof(digest), bodyhex);
	hex_encode(nonce, SIGN_NONCE_LEN, noncehex);
	n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%lld\n%s\n%s\n%s",
	    SIGN_SCHEME, method, path, canon_query, (long long)ts, noncehex,
	    key->id, bodyhex);
	if (n < 0 || (size_t)n >= sizeof(sts))
		return CE_INVALID;
	hmac_sha256(key->key, key->len, sts, (size_t)n, mac);
	OPENSSL_cleanse(sts, sizeof(sts));
	return 0;
}

int
sign_request(const struct sign_key *key, const char *method, const char *path,
    const char *canon_query, const void *body, size_t bodylen, char *out, size_t outlen)
{
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN];
	char noncehex[2 * SIGN_NONCE_LEN + 1], machex[2 * SIGN_MAC_LEN + 1];
	int64_t ts = wall_ms() / 1000;
	int r, n;

	if (random_bytes(nonce, sizeof(nonce)) != 0)
		return CE_INTERNAL;
	if ((r = sign_compute(key, method, path, canon_query, ts, nonce, body,
	    bodylen, mac)) != 0)
		return r;
	hex_encode(nonce, sizeof(nonce), noncehex);
	hex_encode(mac, sizeof(mac), machex);
	n = snprintf(out, outlen, "%s keyid=%s, ts=%lld, nonce=%s, sig=%s",
	    SIGN_SCHEME, key->id, (long long)ts, noncehex, machex);
	if (n < 0 || (size_t)n >= outlen)
		return CE_INVALID;
	return 0;
}

/* Only lower-case hex digits, as the protocol writes them. */
static bool
lower_hex(const char *s)
{
	return strspn(s, "0123456789abcdef") == strlen(s);
}

int
sign_parse_header(const char *value, struct sign_auth *out)
{
	struct sign_auth a;
	char buf[SIGN_HEADER_MAX + 1], *p, *field;
	size_t schemelen = strlen(SIGN_SCHEME);
	unsigned seen = 0;

	memset(&a, 0, sizeof(a));
	if (value == NULL || strlen(value) > SIGN_HEADER_MAX)
		return CE_INVALID;
	if (strncmp(value, SIGN_SCHEME, schemelen) != 0 || value[schemelen] != ' ')
		return CE_INVALID;
	(void)str_copy(buf, sizeof(buf), value + schemelen + 1);
	p = buf;
	while (p != NULL && *p != '\0') {
		char *eq, *name, *val;
		unsigned bit;

		field = p;
		p = strchr(p, ',');
		if (p != NULL) {
			*p++ = '\0';
			while (*p == ' ')
				p++;
			if (*p == '\0')
				return CE_INVALID;	/* trailing comma */
		}
		if ((eq = strchr(field, '=')) == NULL)
			return CE_INVALID;
		*eq = '\0';
		name = field;
		val = eq + 1;
		if (strcmp(name, "keyid") == 0) {
			bit = 1;
			if (*val == '\0' || strlen(val) > SIGN_KEYID_MAX ||
			    !str_charset_ok(val, "_.-"))
				return CE_INVALID;
			(void)str_copy(a.keyid, sizeof(a.keyid), val);
		} else if (strcmp(name, "ts") == 0) {
			bit = 2;
			/* The signed text is the number as printed: plain digits only. */
			if (val[0] == '\0' || strspn(val, "0123456789") != strlen(val) ||
			    (val[0] == '0' && val[1] != '\0') ||
			    parse_i64(val, 0, INT64_C(99999999999), &a.ts) != 0)
				return CE_INVALID;
		} else if (strcmp(name, "nonce") == 0) {
			bit = 4;
			if (!lower_hex(val) || hex_decode(val, a.nonce, sizeof(a.nonce)) != 0)
				return CE_INVALID;
		} else if (strcmp(name, "sig") == 0) {
			bit = 8;
			if (!lower_hex(val) || hex_decode(val, a.sig, sizeof(a.sig)) != 0)
				return CE_INVALID;
		} else {
			return CE_INVALID;
		}
		if (seen & bit)
			return CE_INVALID;
		seen |= bit;
	}
	if (seen != 15)
		return CE_INVALID;
	*out = a;
	return 0;
}

int
sign_parse_keyfile(const char *text, struct sign_key *keys, size_t max, struct errbuf *eb)
{
	const char *line = text;
	size_t nkeys = 0, i;
	int lineno = 0;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char buf[SIGN_KEYID_MAX + 2 * SIGN_KEY_MAX + 16], *sp, *hex;
		size_t hexlen;

		lineno++;
		/* A comment may be longer than any key line. */
		if (line[0] == '#') {
			line = nl != NULL ? nl + 1 : NULL;
			continue;
		}
		if (len >= sizeof(buf))
			return err_set(eb, CE_INVALID, "line %d: too long", lineno);
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl != NULL ? nl + 1 : NULL;
		/* Strip trailing whitespace (including a CR) and skip blanks. */
		while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
		    buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len == 0 || buf[0] == '#')
			continue;
		if ((sp = strchr(buf, ' ')) == NULL)
			return err_set(eb, CE_INVALID,
			    "line %d: expected '<key-id> <hex key>'", lineno);
		*sp = '\0';
		hex = sp + 1;
		while (*hex == ' ')
			hex++;
		if (buf[0] == '\0' || strlen(buf) > SIGN_KEYID_MAX ||
		    !str_charset_ok(buf, "_.-"))
			return err_set(eb, CE_INVALID, "line %d: key id must be 1-%d "
			    "characters of [A-Za-z0-9_.-]", lineno, SIGN_KEYID_MAX);
		hexlen = strlen(hex);
		if (hexlen % 2 != 0 || hexlen < 2 * SIGN_KEY_MIN || hexlen > 2 * SIGN_KEY_MAX)
			return err_set(eb, CE_INVALID, "line %d: key must be %d to %d "
			    "bytes written as hex", lineno, SIGN_KEY_MIN, SIGN_KEY_MAX);
		if (nkeys == max)
			return err_set(eb, CE_INVALID, "line %d: more than %zu keys",
			    lineno, max);
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i].id, buf) == 0)
				return err_set(eb, CE_INVALID, "line %d: duplicate key id "
				    "'%s'", lineno, buf);
		if (hex_decode(hex, keys[nkeys].key, hexlen / 2) != 0)
			return err_set(eb, CE_INVALID, "line %d: key is not hex", lineno);
		keys[nkeys].len = hexlen / 2;
		(void)str_copy(keys[nkeys].id, sizeof(keys[nkeys].id), buf);
		OPENSSL_cleanse(buf, sizeof(buf));
		nkeys++;
	}
	if (nkeys == 0)
		return err_set(eb, CE_INVALID, "no key found");
	return (int)nkeys;
}

int
sign_load_keyfile(const char *path, struct sign_key *keys, size_t max, struct errbuf *eb)
{
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if ((r = file_read("key file", path, KEYFILE_MAX, FILE_NOFOLLOW, &text, &len, &st,
	    eb)) != 0)
		return r == CE_NOT_FOUND ? CE_SYSTEM : r;
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		r = err_set(eb, CE_INVALID, "key file '%s' must be owned by uid %u "
		    "and not accessible by group or others (mode %03o; "
		    "fix with chmod 600)", path, (unsigned)geteuid(),
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	r = sign_parse_keyfile(text, keys, max, eb);
	if (r < 0) {
		char inner[ERRBUF_MAX];

		(void)str_copy(inner, sizeof(inner), eb != NULL ? eb->msg : "");
		(void)err_set(eb, r, "key file '%s': %s", path, inner);
	}
out:
	OPENSSL_cleanse(text, len + 1);
	free(text);
	return r;
}

void
sign_key_fingerprint(const unsigned char *key, size_t len, char out[9])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char hex[65];

	sha256(key, len, digest);
	hex_encode(digest, sizeof(digest), hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

int
sign_mac_cmp(const unsigned char a[SIGN_MAC_LEN], const unsigned char b[SIGN_MAC_LEN])
{
	return CRYPTO_memcmp(a, b, SIGN_MAC_LEN) == 0 ? 0 : 1;
}
