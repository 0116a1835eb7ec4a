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

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/sha.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "ini.h"
#include "xml.h"
#include "../common/buf.h"
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
		/* No file: the next source may have credentials; a profile named
		 * explicitly must exist, though. */
		if (r == CE_NOT_FOUND && env("AWS_PROFILE") == NULL)
			return CE_NOT_FOUND;
		if (r == CE_NOT_FOUND)
			return err_set(eb, CE_UNAUTHORIZED, "AWS_PROFILE=%s but %s does not "
			    "exist", profile, path);
		return r;
	}
	if (ini_section(&ini, profile) == NULL) {
		ini_free(&ini);
		if (env("AWS_PROFILE") == NULL)
			return CE_NOT_FOUND;
		return err_set(eb, CE_UNAUTHORIZED, "AWS_PROFILE=%s is not a profile in %s",
		    profile, path);
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

/* Metadata answers are small: a role name, a token, one set of credentials. */
#define FETCH_MAX 16384

/*
 * A small unsigned HTTP exchange (metadata endpoints) into f, initialised
 * here; the caller releases it. Returns the HTTP status, or 0 when the
 * endpoint could not be reached or answered more than FETCH_MAX bytes.
 */
static long
fetch(const char *method, const char *url, const char *header, struct buf *f)
{
	struct curl_slist *h = NULL;
	long status = 0;
	CURL *c = curl_easy_init();

	buf_init(f, FETCH_MAX);
	if (c == NULL)
		return 0;
	if (header != NULL)
		h = curl_slist_append(h, header);
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_curl_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	if (curl_easy_perform(c) == CURLE_OK)
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return status;
}

/* {"AccessKeyId","SecretAccessKey","Token","Expiration"} into a. */
static int
creds_json(struct aws *a, const char *text, const char *source, struct errbuf *eb)
{
	cJSON *j = cJSON_Parse(text);
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId"));
	const char *sec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
	    "SecretAccessKey"));
	const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Token"));

	if (id == NULL || sec == NULL) {
		cJSON_Delete(j);
		return err_set(eb, CE_UNAUTHORIZED, "%s answered without credentials", source);
	}
	(void)str_copy(a->key_id, sizeof(a->key_id), id);
	(void)str_copy(a->secret, sizeof(a->secret), sec);
	(void)str_copy(a->token, sizeof(a->token), tok != NULL ? tok : "");
	(void)str_copy(a->source, sizeof(a->source), source);
	a->expires = 0;
	{
		const char *exp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
		    "Expiration"));
		struct tm tm;

		/* "2026-11-25T22:10:00Z" */
		memset(&tm, 0, sizeof(tm));
		if (exp != NULL && strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
			a->expires = (int64_t)timegm(&tm);
	}
	cJSON_Delete(j);
	return 0;
}

/* ECS task credentials: relative URI on 169.254.170.2, or a full URI. */
static int
from_container(struct aws *a, struct errbuf *eb)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char url[1024], header[2200] = "", tok[2048] = "";
	struct buf f;
	long st;
	int r;

	if (rel == NULL && full == NULL)
		return CE_NOT_FOUND;
	if (rel != NULL)
		(void)snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
	else
		(void)str_copy(url, sizeof(url), full);
	if (tokfile != NULL) {
		FILE *fp = fopen(tokfile, "re");

		if (fp == NULL || fgets(tok, sizeof(tok), fp) == NULL) {
			if (fp != NULL)
				fclose(fp);
			return err_set(eb, CE_UNAUTHORIZED, "cannot read "
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s", tokfile);
		}
		fclose(fp);
		tok[strcspn(tok, "\r\n")] = '\0';
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL) {
		(void)str_copy(tok, sizeof(tok), env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (tok[0] != '\0') {
		if (!printable_only(tok, sizeof(tok) - 1))
			return err_set(eb, CE_UNAUTHORIZED, "the container authorization token "
			    "holds characters that cannot be sent");
		(void)snprintf(header, sizeof(header), "Authorization: %s", tok);
	}
	st = fetch("GET", url, header[0] ? header : NULL, &f);
	if (st != 200)
		r = err_set(eb, CE_UNAUTHORIZED, "ECS container credentials at %s: %s", url,
		    st == 0 ? "unreachable" : "refused");
	else
		r = creds_json(a, buf_str(&f), "ECS container credentials", eb);
	buf_release(&f);
	return r;
}

static const char *
imds_base(void)
{
	const char *e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");

	return e != NULL ? e : "http://169.254.169.254";
}

/* An IMDSv2 session token, or "" when instance metadata is not there. */
static void
imds_token(char *out, size_t len)
{
	char url[512];
	struct buf f;

	out[0] = '\0';
	if (env("AWS_EC2_METADATA_DISABLED") != NULL)
		return;
	(void)snprintf(url, sizeof(url), "%s/latest/api/token", imds_base());
	if (fetch("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", &f) == 200 &&
	    printable_only(buf_str(&f), len - 1))
		(void)str_copy(out, len, buf_str(&f));
	buf_release(&f);
}

static int
from_imds(struct aws *a, struct errbuf *eb)
{
	char tok[256], hdr[320], url[768], role[256];
	struct buf f;
	long st;
	int r;

	imds_token(tok, sizeof(tok));
	if (tok[0] == '\0')
		return CE_NOT_FOUND;
	(void)snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", tok);
	(void)snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/",
	    imds_base());
	st = fetch("GET", url, hdr, &f);
	(void)str_copy(role, sizeof(role), buf_str(&f));
	buf_release(&f);
	role[strcspn(role, "\r\n")] = '\0';
	if (st != 200 || role[0] == '\0')
		return err_set(eb, CE_UNAUTHORIZED, "instance metadata: this instance has no "
		    "IAM role");
	if (!str_charset_ok(role, "+=,.@_-"))
		return err_set(eb, CE_UNAUTHORIZED, "instance metadata: bad role name");
	(void)snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s",
	    imds_base(), role);
	if (fetch("GET", url, hdr, &f) != 200)
		r = err_set(eb, CE_UNAUTHORIZED, "instance metadata: no credentials for role "
		    "%s", role);
	else
		r = creds_json(a, buf_str(&f), "instance metadata", eb);
	buf_release(&f);
	return r;
}

static void
imds_region(struct aws *a)
{
	char tok[256], hdr[320], url[512];
	struct buf f;

	imds_token(tok, sizeof(tok));
	if (tok[0] == '\0')
		return;
	(void)snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", tok);
	(void)snprintf(url, sizeof(url), "%s/latest/meta-data/placement/region", imds_base());
	if (fetch("GET", url, hdr, &f) == 200 && str_charset_ok(buf_str(&f), "-") && f.len < 64)
		(void)str_copy(a->region, sizeof(a->region), buf_str(&f));
	buf_release(&f);
}

int
aws_refresh(struct aws *a, struct errbuf *eb)
{
	struct aws fresh;
	int r;

	if (a->kind == 0 || a->expires == 0 || a->expires - (int64_t)time(NULL) > 300)
		return 0;
	fresh = *a;
	if ((r = (a->kind == 1 ? from_container(&fresh, eb) : from_imds(&fresh, eb))) != 0)
		return r;
	fresh.kind = a->kind;
	*a = fresh;
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
	} else if ((r = from_profile(a, eb)) == CE_NOT_FOUND) {
		eb->msg[0] = '\0';
		if ((r = from_container(a, eb)) == 0)
			a->kind = 1;
		else if (r == CE_NOT_FOUND && (r = from_imds(a, eb)) == 0)
			a->kind = 2;
		if (r == CE_NOT_FOUND)
			return err_set(eb, CE_UNAUTHORIZED, "no AWS credentials: set "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run "
			    "where ECS task or EC2 instance credentials are available");
		if (r != 0)
			return r;
	} else if (r != 0) {
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
		imds_region(a);
	if (a->region[0] == '\0')
		return err_set(eb, CE_INVALID, "no AWS region: give --region or set "
		    "AWS_REGION");
	if (!str_charset_ok(a->region, "-"))
		return err_set(eb, CE_INVALID, "AWS region '%.40s' is not valid", a->region);
	return 0;
}

void
aws_resp_free(struct aws_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

#define AWS_BODY_MAX (16 * 1024 * 1024)	/* the largest answer AWS may give us */

/* AWS's error code and message, from a JSON or an XML error answer. */
static void
error_of(const struct aws_resp *r, char *code, size_t clen, char *msg, size_t mlen)
{
	cJSON *j;

	code[0] = msg[0] = '\0';
	if (r->body == NULL || r->len == 0)
		return;
	if ((j = cJSON_ParseWithLength(r->body, r->len)) != NULL) {
		const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
		    "__type"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
		    "message"));

		if (m == NULL)
			m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Message"));
		if (c != NULL) {
			/* "com.amazonaws.ecs#ClusterNotFoundException" */
			const char *hash = strrchr(c, '#');

			(void)str_copy(code, clen, hash != NULL ? hash + 1 : c);
		}
		if (m != NULL)
			(void)str_copy(msg, mlen, m);
		cJSON_Delete(j);
		return;
	}
	{
		/* AWS nests the error: <ErrorResponse><Error><Code>... */
		struct xml_node *doc = xml_parse(r->body, r->len, NULL);

		if (doc == NULL)
			return;
		xml_text(xml_find(doc, "Code"), code, clen);
		xml_text(xml_find(doc, "Message"), msg, mlen);
		xml_free(doc);
	}
}

/* One signed request, retried on throttling and 5xx; out holds a body only on success. */
static int
perform(const struct aws *a, const char *service, const char *method, const char *url,
    struct curl_slist *hdrs, const char *body, size_t len, struct aws_resp *out,
    const char *what, struct errbuf *eb)
{
	char sigv4[160], userpwd[512], cerr[CURL_ERROR_SIZE];
	int attempt;

	memset(out, 0, sizeof(*out));
	(void)snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", a->region, service);
	(void)snprintf(userpwd, sizeof(userpwd), "%s:%s", a->key_id, a->secret);
	for (attempt = 1;; attempt++) {
		char code[128], msg[512];
		struct buf b;
		CURLcode cc;
		CURL *c;

		aws_resp_free(out);
		out->status = 0;
		cerr[0] = '\0';
		if ((c = curl_easy_init()) == NULL)
			return err_set(eb, CE_NOMEM, "cannot create a curl handle");
		buf_init(&b, AWS_BODY_MAX);
		(void)curl_easy_setopt(c, CURLOPT_URL, url);
		(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL) {
			(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
		(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		(void)curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
		(void)curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
		(void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, a->timeout_ms);
		(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_curl_write);
		(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
		cc = curl_easy_perform(c);
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		curl_easy_cleanup(c);
		out->body = buf_steal(&b, &out->len);
		if (cc != CURLE_OK) {
			if (attempt < 3 && cc != CURLE_COULDNT_RESOLVE_HOST) {
				(void)usleep(200000U << attempt);
				continue;
			}
			explicit_bzero(userpwd, sizeof(userpwd));
			aws_resp_free(out);
			return err_set(eb, CE_UNAVAILABLE, "%s: %s", what,
			    cerr[0] ? cerr : curl_easy_strerror(cc));
		}
		if (out->status >= 200 && out->status < 300)
			break;
		error_of(out, code, sizeof(code), msg, sizeof(msg));
		if (attempt < 4 && (out->status >= 500 || out->status == 429 ||
		    strstr(code, "Throttl") != NULL || strcmp(code, "RequestLimitExceeded") == 0)) {
			(void)usleep(200000U << attempt);
			continue;
		}
		explicit_bzero(userpwd, sizeof(userpwd));
		/* On error the caller gets no body to free. */
		aws_resp_free(out);
		return err_set(eb, out->status == 403 || out->status == 401 ? CE_UNAUTHORIZED :
		    out->status == 404 ? CE_NOT_FOUND : out->status < 500 ? CE_INVALID :
		    CE_UNAVAILABLE, "%s: HTTP %ld %s%s%s", what, out->status,
		    code[0] ? code : "", msg[0] ? ": " : "", msg);
	}
	explicit_bzero(userpwd, sizeof(userpwd));
	return 0;
}

/* Headers every signed request carries: the body hash and the session token. */
static struct curl_slist *
base_headers(const struct aws *a, const char *body, size_t len, char **tokhdr)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hash[SHA256_DIGEST_LENGTH * 2 + 1], h[128];
	struct curl_slist *hdrs = NULL;

	SHA256((const unsigned char *)(body != NULL ? body : ""), body != NULL ? len : 0, md);
	hex_encode(md, sizeof(md), hash);
	(void)snprintf(h, sizeof(h), "x-amz-content-sha256: %s", hash);
	hdrs = curl_slist_append(hdrs, h);
	*tokhdr = NULL;
	if (a->token[0] != '\0') {
		size_t hl = strlen(a->token) + 32;

		if ((*tokhdr = malloc(hl)) != NULL) {
			(void)snprintf(*tokhdr, hl, "x-amz-security-token: %s", a->token);
			hdrs = curl_slist_append(hdrs, *tokhdr);
		}
	}
	return hdrs;
}

int
aws_call(const struct aws *a, const char *service, const char *host, const char *method,
    const char *path, const char *content_type, const char *target, const char *body,
    size_t len, struct aws_resp *out, struct errbuf *eb)
{
	char url[1024], h[256], what[160], *tok;
	struct curl_slist *hdrs;
	int r;

	if (a->endpoint[0] != '\0')
		(void)snprintf(url, sizeof(url), "%s%s", a->endpoint, path);
	else
		(void)snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com%s", host, a->region,
		    path);
	hdrs = base_headers(a, body, len, &tok);
	if (content_type != NULL) {
		(void)snprintf(h, sizeof(h), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (target != NULL) {
		(void)snprintf(h, sizeof(h), "X-Amz-Target: %s", target);
		hdrs = curl_slist_append(hdrs, h);
		(void)snprintf(what, sizeof(what), "%s %s", service,
		    strchr(target, '.') != NULL ? strchr(target, '.') + 1 : target);
	} else {
		(void)snprintf(what, sizeof(what), "%s %s %s", service, method, path);
	}
	r = perform(a, service, method, url, hdrs, body, len, out, what, eb);
	curl_slist_free_all(hdrs);
	free(tok);
	return r;
}

/* RFC 3986 encoding with upper-case hex; keep_slash for S3 object keys. */
static int
encode(const char *in, bool keep_slash, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
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

int
aws_form_value(const char *in, char *out, size_t len)
{
	return encode(in, false, out, len);
}

int
aws_s3_put(const struct aws *a, const char *bucket, const char *key,
    const char *content_type, const void *body, size_t len, struct errbuf *eb)
{
	char url[2048], ekey[1024], h[160], what[1200], *tok;
	struct curl_slist *hdrs;
	struct aws_resp resp;
	int r;

	if (!str_charset_ok(bucket, "-.") || strlen(bucket) < 3 || strlen(bucket) > 63)
		return err_set(eb, CE_INVALID, "bucket name '%.64s' is not valid", bucket);
	if (encode(key, true, ekey, sizeof(ekey)) != 0)
		return err_set(eb, CE_INVALID, "object key too long");
	/* Path style against an endpoint override, virtual-host style on AWS. */
	if (a->endpoint[0] != '\0')
		(void)snprintf(url, sizeof(url), "%s/%s/%s", a->endpoint, bucket, ekey);
	else
		(void)snprintf(url, sizeof(url), "https://%s.s3.%s.amazonaws.com/%s", bucket,
		    a->region, ekey);
	hdrs = base_headers(a, body, len, &tok);
	(void)snprintf(h, sizeof(h), "Content-Type: %s", content_type);
	hdrs = curl_slist_append(hdrs, h);
	(void)snprintf(what, sizeof(what), "s3://%s/%s", bucket, key);
	r = perform(a, "s3", "PUT", url, hdrs, body, len, &resp, what, eb);
	aws_resp_free(&resp);
	curl_slist_free_all(hdrs);
	free(tok);
	return r;
}
