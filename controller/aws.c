/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws.c: see aws.h. The rules for libcurl 7.88's CURLOPT_AWS_SIGV4: name
 * region and service explicitly, add x-amz-content-sha256 ourselves (S3
 * needs it and 7.88 does not add it), send the session token as a signed
 * x-amz-security-token header, never add empty or duplicate headers, and
 * check every credential's characters before it reaches a header.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "aws.h"
#include "ini.h"
#include "../common/err.h"
#include "../common/util.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static bool
alnum_only(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && str_charset_ok(s, "");
}

/* Tokens and secrets are base64-ish: no spaces, no control characters. */
static bool
printable_only(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return false;
	return true;
}

static void
home_file(const char *envname, const char *rel, char *out, size_t len)
{
	const char *v = env(envname), *home = env("HOME");

	if (v != NULL)
		(void)str_copy(out, len, v);
	else
		(void)snprintf(out, len, "%s/%s", home != NULL ? home : "/root", rel);
}

static int
from_profile(struct aws *a, struct errbuf *eb)
{
	const char *profile = env("AWS_PROFILE") != NULL ? env("AWS_PROFILE") : "default";
	char path[512], section[160];
	struct ini ini;
	const struct ini_kv *id, *sec, *tok;
	int r;

	home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", path, sizeof(path));
	if ((r = ini_load(path, &ini, eb)) != 0) {
		if (r == CE_NOT_FOUND)
			return err_set(eb, CE_UNAUTHORIZED, "no AWS credentials: set "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '%s' in "
			    "%s (the ECS and instance metadata sources are not supported "
			    "yet)", profile, path);
		return r;
	}
	if (ini_section(&ini, profile) == NULL) {
		ini_free(&ini);
		return err_set(eb, CE_UNAUTHORIZED, "no AWS credentials: profile '%s' is not "
		    "in %s", profile, path);
	}
	id = ini_get(&ini, profile, "aws_access_key_id");
	sec = ini_get(&ini, profile, "aws_secret_access_key");
	tok = ini_get(&ini, profile, "aws_session_token");
	if (id == NULL || sec == NULL) {
		ini_free(&ini);
		return err_set(eb, CE_UNAUTHORIZED, "%s [%s]: aws_access_key_id and "
		    "aws_secret_access_key are required", path, profile);
	}
	(void)str_copy(a->key_id, sizeof(a->key_id), id->value);
	(void)str_copy(a->secret, sizeof(a->secret), sec->value);
	if (tok != NULL)
		(void)str_copy(a->token, sizeof(a->token), tok->value);
	(void)snprintf(a->source, sizeof(a->source), "profile %.40s", profile);
	ini_free(&ini);
	/* The region may live in the config file's [profile X] or [default]. */
	if (a->region[0] == '\0') {
		home_file("AWS_CONFIG_FILE", ".aws/config", path, sizeof(path));
		(void)snprintf(section, sizeof(section), strcmp(profile, "default") == 0 ?
		    "%s" : "profile %s", profile);
		if (ini_load(path, &ini, eb) == 0) {
			const struct ini_kv *rg = ini_get(&ini, section, "region");

			if (rg != NULL)
				(void)str_copy(a->region, sizeof(a->region), rg->value);
			ini_free(&ini);
		}
		eb->msg[0] = '\0';
	}
	return 0;
}

int
aws_init(struct aws *a, const char *region, const char *endpoint, struct errbuf *eb)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = 60000;
	if (region == NULL)
		region = env("AWS_REGION") != NULL ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	if (region != NULL)
		(void)str_copy(a->region, sizeof(a->region), region);
	if (endpoint == NULL)
		endpoint = env("AWS_ENDPOINT_URL_S3") != NULL ? env("AWS_ENDPOINT_URL_S3") :
		    env("AWS_ENDPOINT_URL");
	if (endpoint != NULL) {
		if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
			return err_set(eb, CE_INVALID, "endpoint URL '%.100s' must start with "
			    "http:// or https://", endpoint);
		(void)str_copy(a->endpoint, sizeof(a->endpoint), endpoint);
		/* No trailing slash: paths are appended. */
		while (a->endpoint[0] != '\0' && a->endpoint[strlen(a->endpoint) - 1] == '/')
			a->endpoint[strlen(a->endpoint) - 1] = '\0';
	}
	if (env("AWS_ACCESS_KEY_ID") != NULL || env("AWS_SECRET_ACCESS_KEY") != NULL) {
		if (env("AWS_ACCESS_KEY_ID") == NULL || env("AWS_SECRET_ACCESS_KEY") == NULL)
			return err_set(eb, CE_UNAUTHORIZED, "AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY must be set together");
		(void)str_copy(a->key_id, sizeof(a->key_id), env("AWS_ACCESS_KEY_ID"));
		(void)str_copy(a->secret, sizeof(a->secret), env("AWS_SECRET_ACCESS_KEY"));
		if (env("AWS_SESSION_TOKEN") != NULL)
			(void)str_copy(a->token, sizeof(a->token), env("AWS_SESSION_TOKEN"));
		(void)str_copy(a->source, sizeof(a->source), "environment");
	} else if ((r = from_profile(a, eb)) != 0) {
		return r;
	}
	if (!alnum_only(a->key_id, 128))
		return err_set(eb, CE_UNAUTHORIZED, "AWS access key id from %s is not 1-128 "
		    "letters and digits", a->source);
	if (!printable_only(a->secret, sizeof(a->secret) - 1) ||
	    (a->token[0] != '\0' && !printable_only(a->token, sizeof(a->token) - 1)))
		return err_set(eb, CE_UNAUTHORIZED, "AWS secret key or session token from %s "
		    "holds characters that cannot be sent", a->source);
	if (a->region[0] == '\0')
		return err_set(eb, CE_INVALID, "no AWS region: give --region or set "
		    "AWS_REGION");
	if (!str_charset_ok(a->region, "-"))
		return err_set(eb, CE_INVALID, "AWS region '%.40s' is not valid", a->region);
	return 0;
}

/* S3 key encoding: everything but unreserved characters and '/'. */
static int
encode_key(const char *key, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *key != '\0'; key++) {
		unsigned char c = (unsigned char)*key;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

struct resp {
	char buf[4096];
	size_t len;
};

static size_t
on_resp(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = size * n, room = sizeof(r->buf) - 1 - r->len;

	memcpy(r->buf + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->buf[r->len] = '\0';
	return len;
}

/* The text of <tag>...</tag> in an AWS XML error, or "". */
static void
xml_text(const char *xml, const char *tag, char *out, size_t len)
{
	char open[64], close[64];
	const char *s, *e;

	out[0] = '\0';
	(void)snprintf(open, sizeof(open), "<%s>", tag);
	(void)snprintf(close, sizeof(close), "</%s>", tag);
	if ((s = strstr(xml, open)) == NULL || (e = strstr(s, close)) == NULL)
		return;
	s += strlen(open);
	if ((size_t)(e - s) >= len)
		e = s + len - 1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
}

int
aws_s3_put(const struct aws *a, const char *bucket, const char *key,
    const char *content_type, const void *body, size_t len, struct errbuf *eb)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char url[2048], ekey[1024], hash[SHA256_DIGEST_LENGTH * 2 + 1], sigv4[160],
	    userpwd[512], h1[128], h2[128], *h3 = NULL, cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct resp resp = { "", 0 };
	long status = 0;
	CURLcode cc;
	CURL *c;
	int r = 0;

	if (!str_charset_ok(bucket, "-.") || strlen(bucket) < 3 || strlen(bucket) > 63)
		return err_set(eb, CE_INVALID, "bucket name '%.64s' is not valid", bucket);
	if (encode_key(key, ekey, sizeof(ekey)) != 0)
		return err_set(eb, CE_INVALID, "object key too long");
	if (a->endpoint[0] != '\0')
		(void)snprintf(url, sizeof(url), "%s/%s/%s", a->endpoint, bucket, ekey);
	else
		(void)snprintf(url, sizeof(url), "https://%s.s3.%s.amazonaws.com/%s", bucket,
		    a->region, ekey);
	SHA256(body, len, md);
	hex_encode(md, sizeof(md), hash);
	(void)snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", a->region);
	(void)snprintf(userpwd, sizeof(userpwd), "%s:%s", a->key_id, a->secret);
	(void)snprintf(h1, sizeof(h1), "x-amz-content-sha256: %s", hash);
	(void)snprintf(h2, sizeof(h2), "Content-Type: %s", content_type);
	hdrs = curl_slist_append(hdrs, h1);
	hdrs = curl_slist_append(hdrs, h2);
	if (a->token[0] != '\0') {
		size_t hl = strlen(a->token) + 32;

		if ((h3 = malloc(hl)) == NULL) {
			curl_slist_free_all(hdrs);
			return err_set(eb, CE_NOMEM, "out of memory");
		}
		(void)snprintf(h3, hl, "x-amz-security-token: %s", a->token);
		hdrs = curl_slist_append(hdrs, h3);
	}
	if ((c = curl_easy_init()) == NULL) {
		curl_slist_free_all(hdrs);
		free(h3);
		return err_set(eb, CE_NOMEM, "cannot create a curl handle");
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	(void)curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	(void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, a->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_resp);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		r = err_set(eb, CE_UNAVAILABLE, "s3://%s/%s: %s", bucket, key,
		    cerr[0] ? cerr : curl_easy_strerror(cc));
	} else if (status != 200) {
		char code[128], msg[256];

		xml_text(resp.buf, "Code", code, sizeof(code));
		xml_text(resp.buf, "Message", msg, sizeof(msg));
		r = err_set(eb, status == 403 ? CE_UNAUTHORIZED : CE_SYSTEM, "s3://%s/%s: "
		    "HTTP %ld %s%s%s", bucket, key, status, code, msg[0] ? ": " : "", msg);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	explicit_bzero(userpwd, sizeof(userpwd));
	free(h3);
	return r;
}
