/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c: ECS_AGENT_URI and the calls to the ECS agent's fault injection
 * endpoints (see ecs.h). A call blocks for up to ECS_CALL_MS per try, so it
 * runs in job children (and at start-up, before the agent serves).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "ecs.h"
#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/util.h"

int
ecs_uri_parse(const char *s, struct ecs_uri *out, char *why, size_t len)
{
	static const char scheme[] = "http://";
	char addr[sizeof(out->addr)], path[ECS_URI_MAX];
	unsigned char bin[16];
	const char *p, *hend, *slash;
	size_t n, plen;
	int64_t port;

	if (s == NULL || strlen(s) >= ECS_URI_MAX) {
		(void)snprintf(why, len, "not set, or longer than %d bytes", ECS_URI_MAX - 1);
		return -1;
	}
	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		(void)snprintf(why, len, "must start with http://");
		return -1;
	}
	p = s + sizeof(scheme) - 1;
	if ((slash = strchr(p, '/')) == NULL) {
		(void)snprintf(why, len, "has no path (http://ADDRESS[:PORT]/api/ID)");
		return -1;
	}
	/* The address, bracketed for IPv6; then an optional ":port". */
	if (*p == '[') {
		if ((hend = memchr(p, ']', (size_t)(slash - p))) == NULL) {
			(void)snprintf(why, len, "has a '[' without ']'");
			return -1;
		}
		n = (size_t)(hend - p - 1);
		if (n == 0 || n >= sizeof(addr))
			goto badaddr;
		memcpy(addr, p + 1, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1)
			goto badaddr;
		hend++;
	} else {
		for (hend = p; hend < slash && *hend != ':'; hend++)
			;
		n = (size_t)(hend - p);
		if (n == 0 || n >= sizeof(addr))
			goto badaddr;
		memcpy(addr, p, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, bin) != 1)
			goto badaddr;
	}
	if (hend < slash) {
		char num[8];

		if (*hend != ':' || (size_t)(slash - hend - 1) >= sizeof(num)) {
			(void)snprintf(why, len, "has a malformed port");
			return -1;
		}
		memcpy(num, hend + 1, (size_t)(slash - hend - 1));
		num[slash - hend - 1] = '\0';
		if (parse_i64(num, 1, 65535, &port) != 0) {
			(void)snprintf(why, len, "has a port outside 1..65535");
			return -1;
		}
	}
	/* The path: the container's endpoint id, below which /fault/v1/ lives. */
	plen = strlen(slash);
	while (plen > 1 && slash[plen - 1] == '/')
		plen--;
	memcpy(path, slash, plen);
	path[plen] = '\0';
	if (plen < 2 || !str_charset_ok(path + 1, "_.:/-") || strstr(path, "..") != NULL ||
	    strstr(path, "//") != NULL) {
		(void)snprintf(why, len, "has a path that is not /[A-Za-z0-9_.:/-]+ without "
		    "'..' or '//'");
		return -1;
	}
	/* Shorter than s, which fits. */
	memcpy(out->base, s, (size_t)(slash - s));
	memcpy(out->base + (slash - s), path, plen + 1);
	(void)str_copy(out->addr, sizeof(out->addr), addr);
	return 0;
badaddr:
	(void)snprintf(why, len, "needs a numeric IPv4 or [IPv6] address (the ECS agent's "
	    "is 169.254.170.2); names are not resolved");
	return -1;
}

static void
pause_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

int
ecs_call(const char *uri, const char *endpoint, const char *op, const cJSON *body,
    int64_t throttle_ms, struct ecs_answer *out, struct errbuf *eb)
{
	struct curl_slist *hdr = NULL;
	struct buf ab;
	cJSON *empty = NULL;
	char url[ECS_URI_MAX + 64], *text = NULL;
	int64_t t0 = mono_ms();
	CURL *h = NULL;
	CURLcode cc;
	int r = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&ab, ECS_ANSWER_MAX);
	if (snprintf(url, sizeof(url), "%s/fault/v1/%s/%s", uri, endpoint, op) >=
	    (int)sizeof(url))
		return err_set(eb, CE_INVALID, "ECS_AGENT_URI is too long");
	if (body == NULL && (body = empty = cJSON_CreateObject()) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	if ((text = cJSON_PrintUnformatted(body)) == NULL || (h = curl_easy_init()) == NULL ||
	    (hdr = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
		r = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		long status = 0;

		buf_release(&ab);
		ab.overflow = false;
		curl_easy_reset(h);
		(void)curl_easy_setopt(h, CURLOPT_URL, url);
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
		(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ECS_CALL_MS);
		(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
		(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
		/* The ECS agent is on the link: a proxy from the environment must
		 * not see (or hold up) the calls that end faults. */
		(void)curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
		(void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_curl_write);
		(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &ab);
		cc = curl_easy_perform(h);
		if (cc != CURLE_OK) {
			if (ab.overflow)
				r = err_set(eb, CE_SYSTEM, "the ECS agent's answer to %s/%s is "
				    "larger than %d bytes", endpoint, op, ECS_ANSWER_MAX);
			else
				r = err_set(eb, cc == CURLE_OPERATION_TIMEDOUT ? CE_BUSY :
				    CE_UNAVAILABLE, "cannot reach the ECS agent at %s for %s/%s: "
				    "%s", uri, endpoint, op, curl_easy_strerror(cc));
			goto out;
		}
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		ecs_answer_parse(status, buf_str(&ab), ab.len, out);
		/* A 429 changed nothing: try again until the window reopens. */
		if (status != 429 || mono_ms() - t0 + ECS_RETRY_MS > throttle_ms)
			break;
		pause_ms(ECS_RETRY_MS);
	}
out:
	curl_slist_free_all(hdr);
	if (h != NULL)
		curl_easy_cleanup(h);
	buf_release(&ab);
	cJSON_free(text);
	cJSON_Delete(empty);
	return r;
}
