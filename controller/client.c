/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c: chaosctl's agent client. Every request is signed (see
 * common/sign.h) and all of them run at once on one libcurl multi handle,
 * each with its own timeout, so a slow or dead agent delays nobody else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws.h"
#include "ctl.h"
#include "../common/buf.h"
#include "../common/err.h"
#include "../common/util.h"

#define RESP_MAX (8 * 1024 * 1024)	/* largest response we accept */
#define PARALLEL_MAX 512		/* connections in flight at once */

struct xfer {
	struct ctl_req *req;
	CURL *easy;
	struct curl_slist *headers;
	char url[512];
	char authz[SIGN_HEADER_MAX + 64];
	struct timespec t0;
	struct buf body;	/* the answer, capped at RESP_MAX */
};

/* GetParameter WithDecryption: the parameter's value, malloc'd. */
static int
ssm_key_text(const struct ctl *ctl, char **out, struct errbuf *eb)
{
	struct aws aws;
	struct aws_resp r;
	cJSON *req, *resp;
	const char *v;
	char *body;
	int rc;

	if ((rc = aws_init(&aws, ctl->region, ctl->endpoint, eb)) != 0)
		return rc;
	if ((req = cJSON_CreateObject()) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	cJSON_AddStringToObject(req, "Name", ctl->key_ssm);
	cJSON_AddBoolToObject(req, "WithDecryption", 1);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (body == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	rc = aws_call(&aws, "ssm", "ssm", "POST", "/", "application/x-amz-json-1.1",
	    "AmazonSSM.GetParameter", body, strlen(body), &r, eb);
	free(body);
	if (rc != 0)
		return rc;
	resp = cJSON_ParseWithLength(r.body, r.len);
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(resp, "Parameter"), "Value"));
	if (v == NULL || (*out = strdup(v)) == NULL)
		rc = err_set(eb, CE_SYSTEM, "the answer holds no parameter value");
	cJSON_Delete(resp);
	explicit_bzero(r.body, r.len);
	aws_resp_free(&r);
	return rc;
}

int
ctl_load_key(struct ctl *ctl)
{
	struct sign_key keys[SIGN_KEYS_MAX];
	struct errbuf eb = { "" };
	int n, i;

	if (ctl->key_loaded)
		return 0;
	if (ctl->key_file == NULL && ctl->key_ssm == NULL)
		ctl->key_file = getenv("CHAOS_AGENT_KEY_FILE");
	if (ctl->key_ssm != NULL) {
		/* The key file's text, from an SSM SecureString parameter. */
		char *text = NULL;

		/* Whatever went wrong, AWS did not give us the key. */
		if (ssm_key_text(ctl, &text, &eb) != 0)
			return ctl_error(CE_UNAVAILABLE, "--key-ssm-parameter %s: %s",
			    ctl->key_ssm, eb.msg);
		n = sign_parse_keyfile(text, keys, SIGN_KEYS_MAX, &eb);
		explicit_bzero(text, strlen(text));
		free(text);
		if (n < 0)
			return ctl_usage_error("--key-ssm-parameter %s: %s", ctl->key_ssm, eb.msg);
		ctl->key_file = ctl->key_ssm;
	} else if (ctl->key_file == NULL) {
		return ctl_usage_error("no key: give --key-file FILE, --key-ssm-parameter NAME "
		    "or set CHAOS_AGENT_KEY_FILE (create one with 'chaosctl keygen')");
	} else if ((n = sign_load_keyfile(ctl->key_file, keys, SIGN_KEYS_MAX, &eb)) < 0) {
		return ctl_usage_error("%s", eb.msg);
	}
	for (i = 0; i < n; i++)
		if (ctl->key_id == NULL || strcmp(keys[i].id, ctl->key_id) == 0)
			break;
	if (i == n)
		return ctl_usage_error("--key-id: no key '%s' in '%s'", ctl->key_id,
		    ctl->key_file);
	ctl->key = keys[i];
	ctl->key_loaded = true;
	return 0;
}

static int
setup(struct ctl *ctl, struct xfer *x)
{
	struct ctl_req *r = x->req;
	size_t blen = r->body != NULL ? strlen(r->body) : 0;
	char hdr[SIGN_HEADER_MAX + 1];
	int n;

	n = snprintf(x->url, sizeof(x->url), "%s%s%s%s", r->agent, r->path,
	    r->query[0] != '\0' ? "?" : "", r->query);
	if (n < 0 || (size_t)n >= sizeof(x->url))
		return err_set(NULL, CE_INVALID, "url too long");
	if (sign_request(&ctl->key, r->method, r->path, r->query, r->body, blen,
	    hdr, sizeof(hdr)) != 0)
		return CE_INTERNAL;
	(void)snprintf(x->authz, sizeof(x->authz), "Authorization: %s", hdr);
	if ((x->easy = curl_easy_init()) == NULL)
		return CE_NOMEM;
	x->headers = curl_slist_append(x->headers, x->authz);
	if (r->body != NULL)
		x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for our small bodies. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)blen);
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, buf_curl_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->body);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, ctl->timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    ctl->timeout_ms < 5000 ? ctl->timeout_ms : 5000L);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "chaosctl/" CHAOS_VERSION);
	/* Agents are addressed directly: an HTTP proxy from the environment is never used. */
	curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	return 0;
}

static void
finish(struct xfer *x, CURLcode code)
{
	struct ctl_req *r = x->req;
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->elapsed_ms = (double)(t1.tv_sec - x->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - x->t0.tv_nsec) / 1e6;
	if (code != CURLE_OK) {
		r->status = 0;
		(void)snprintf(r->error, sizeof(r->error), "%s",
		    x->body.overflow ? "response larger than 8 MiB" : curl_easy_strerror(code));
		buf_release(&x->body);
	} else {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
		r->resp = buf_steal(&x->body, &r->resp_len);
		if (r->resp != NULL)
			r->json = cJSON_ParseWithLength(r->resp, r->resp_len);
	}
}

int
ctl_send(struct ctl *ctl, struct ctl_req *reqs, size_t n)
{
	struct xfer *xs;
	CURLM *multi;
	size_t i, next = 0, active = 0;
	int running = 0;

	if (n == 0)
		return 0;
	if ((xs = calloc(n, sizeof(*xs))) == NULL)
		return CE_NOMEM;
	if ((multi = curl_multi_init()) == NULL) {
		free(xs);
		return CE_NOMEM;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)PARALLEL_MAX);
	for (i = 0; i < n; i++) {
		xs[i].req = &reqs[i];
		buf_init(&xs[i].body, RESP_MAX);
		reqs[i].status = 0;
		reqs[i].error[0] = '\0';
	}
	do {
		CURLMsg *msg;
		int left;

		/* Keep at most PARALLEL_MAX transfers in flight. */
		while (next < n && active < PARALLEL_MAX) {
			struct xfer *x = &xs[next++];

			if (setup(ctl, x) != 0) {
				(void)snprintf(x->req->error, sizeof(x->req->error),
				    "cannot build the request");
				continue;
			}
			if (ctl->verbose)
				fprintf(stderr, "chaosctl: %s %s\n", x->req->method, x->url);
			curl_multi_add_handle(multi, x->easy);
			active++;
		}
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			finish(x, msg->data.result);
			if (ctl->verbose)
				fprintf(stderr, "chaosctl: %s -> %ld (%.1f ms)%s%s\n", x->url,
				    x->req->status, x->req->elapsed_ms,
				    x->req->error[0] ? " " : "", x->req->error);
			curl_multi_remove_handle(multi, x->easy);
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
			active--;
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 200, NULL);
	} while (active > 0 || next < n);
	for (i = 0; i < n; i++) {
		curl_slist_free_all(xs[i].headers);
		if (xs[i].easy != NULL)
			curl_easy_cleanup(xs[i].easy);
		buf_release(&xs[i].body);
		memset(xs[i].authz, 0, sizeof(xs[i].authz));
	}
	curl_multi_cleanup(multi);
	free(xs);
	return 0;
}

void
ctl_reqs_release(struct ctl_req *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(reqs[i].resp);
		cJSON_Delete(reqs[i].json);
		reqs[i].resp = NULL;
		reqs[i].json = NULL;
	}
}

int
ctl_result_class(const struct ctl_req *r)
{
	if (r->status == 0 || r->status == 401)
		return EXIT_TRANSPORT;
	if (r->status >= 200 && r->status < 300)
		return EXIT_ALL_OK;
	return EXIT_SOME_FAILED;
}

int
ctl_exit_code(const struct ctl_req *reqs, size_t n)
{
	int worst = EXIT_ALL_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = ctl_result_class(&reqs[i]);

		if (c == EXIT_TRANSPORT)
			return EXIT_TRANSPORT;
		if (c == EXIT_SOME_FAILED)
			worst = EXIT_SOME_FAILED;
	}
	return worst;
}

void
ctl_result_error(const struct ctl_req *r, char *buf, size_t len)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));

	if (r->status == 0)
		(void)snprintf(buf, len, "%s", r->error[0] ? r->error : "request failed");
	else if (r->status == 401)
		(void)snprintf(buf, len, "401 unauthenticated: the agent rejected our "
		    "signature (wrong key, key id or clock skew; see the agent's log)");
	else if (code != NULL && msg != NULL)
		(void)snprintf(buf, len, "%ld %s: %s", r->status, code, msg);
	else
		(void)snprintf(buf, len, "HTTP %ld", r->status);
}

void
ctl_print_json(const struct ctl *ctl, const struct ctl_req *reqs, size_t n,
    const cJSON *extra)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *sum, *it;
	size_t i, ok = 0;
	char *text;

	cJSON_AddStringToObject(doc, "command", ctl->cmd != NULL ? ctl->cmd : "");
	arr = cJSON_AddArrayToObject(doc, "results");
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		bool good = ctl_result_class(&reqs[i]) == EXIT_ALL_OK;

		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "agent", reqs[i].agent);
		cJSON_AddBoolToObject(o, "ok", good);
		cJSON_AddNumberToObject(o, "status", (double)reqs[i].status);
		cJSON_AddNumberToObject(o, "elapsed_ms", reqs[i].elapsed_ms);
		if (reqs[i].json != NULL)
			cJSON_AddItemToObject(o, "body", cJSON_Duplicate(reqs[i].json, 1));
		if (!good) {
			char m[512];

			ctl_result_error(&reqs[i], m, sizeof(m));
			cJSON_AddStringToObject(o, "error", m);
		}
		if (good)
			ok++;
	}
	sum = cJSON_AddObjectToObject(doc, "summary");
	cJSON_AddNumberToObject(sum, "targets", (double)n);
	cJSON_AddNumberToObject(sum, "ok", (double)ok);
	cJSON_AddNumberToObject(sum, "failed", (double)(n - ok));
	cJSON_ArrayForEach(it, extra)
		cJSON_AddItemToObject(doc, it->string, cJSON_Duplicate(it, 1));
	if ((text = cJSON_Print(doc)) != NULL) {
		puts(text);
		free(text);
	}
	cJSON_Delete(doc);
}
