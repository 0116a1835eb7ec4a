/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c: the HTTP side of the agent, run unprivileged in a seccomp
 * sandbox. One thread: libmicrohttpd is driven from our own poll loop
 * (MHD_USE_EPOLL without an internal thread). Every request that passes
 * routing, size limits, authentication and validation goes to the parent
 * as one message; its connection is suspended until the answer with the
 * same sequence number comes back, so a request the parent answers late
 * (a Docker call) never holds up another (a DELETE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "auth.h"
#include "config.h"
#include "proto.h"
#include "route.h"
#include "sandbox.h"
#include "worker.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/sign.h"
#include "../common/spec.h"
#include "../common/util.h"

#define QUERY_PARAMS_MAX 8
/* The parent bounds its own work; this only catches a parent gone wrong. */
#define PARENT_TIMEOUT_MS 600000

/* Per-request state, freed only in the completion callback. */
struct req {
	struct route route;
	bool responded;		/* a response is queued already */
	bool too_large;
	size_t len;
	char *body;		/* at most cfg->max_body bytes, NUL-terminated */
	/* While the parent works on it: */
	struct MHD_Connection *conn;
	struct req *prev, *next;	/* in W.waiting */
	uint32_t seq;
	int64_t sent_ms;
	bool waiting;
	/* The parent's answer, queued when libmicrohttpd resumes us: */
	bool answered;
	int status;
	enum proto_ctype ctype;
	char *answer;
	size_t answer_len;
};

struct worker {
	const struct worker_args *args;
	struct auth *auth;
	struct MHD_Daemon *mhd;
	uint32_t seq;
	char *ipcbuf;		/* PROTO_BUF_SIZE */
	struct req *waiting;	/* requests the parent has not answered yet */
};

static struct worker W;

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

static void
remote_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	(void)str_copy(buf, len, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)len);
}

/* Tell the parent about a request the worker answered by itself. */
static void
report_stat(const struct route *r, int status, const char *auth_failure)
{
	char msg[160];
	int n;

	n = snprintf(msg, sizeof(msg), "{\"status\":%d,\"route\":\"%s\"%s%s%s}", status,
	    r != NULL && r->name != NULL ? r->name : "none", auth_failure ? ",\"auth_failure\":\"" : "",
	    auth_failure ? auth_failure : "", auth_failure ? "\"" : "");
	if (n > 0 && (size_t)n < sizeof(msg))
		(void)proto_send(W.args->parent_fd, MSG_STAT, 0, 0, msg, (size_t)n);
}

static enum MHD_Result
queue_body(struct MHD_Connection *c, struct req *rq, int status, const char *body,
    size_t len, const char *ctype, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", ctype);
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (allow != NULL)
		(void)MHD_add_response_header(resp, "Allow", allow);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (rq != NULL)
		rq->responded = true;
	return ret;
}

static enum MHD_Result
queue_error(struct MHD_Connection *c, struct req *rq, int code, const char *msg,
    const char *allow)
{
	cJSON *doc = cJSON_CreateObject(), *e;
	char *text = NULL;
	enum MHD_Result ret = MHD_NO;
	int status = err_http_status(code);

	if (doc != NULL && (e = cJSON_AddObjectToObject(doc, "error")) != NULL &&
	    cJSON_AddStringToObject(e, "code", err_name(code)) != NULL &&
	    cJSON_AddStringToObject(e, "message", msg) != NULL)
		text = cJSON_PrintUnformatted(doc);
	if (text != NULL)
		ret = queue_body(c, rq, status, text, strlen(text), "application/json", allow);
	report_stat(rq != NULL ? &rq->route : NULL, status, NULL);
	free(text);
	cJSON_Delete(doc);
	return ret;
}

struct query {
	struct sign_param params[QUERY_PARAMS_MAX];
	size_t n;
	bool overflow;
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = cls;

	(void)kind;
	if (q->n == QUERY_PARAMS_MAX) {
		q->overflow = true;
		return MHD_NO;
	}
	q->params[q->n].key = key;
	q->params[q->n].value = value != NULL ? value : "";
	q->n++;
	return MHD_YES;
}

static void
waiting_remove(struct req *rq)
{
	if (!rq->waiting)
		return;
	if (rq->prev != NULL)
		rq->prev->next = rq->next;
	else
		W.waiting = rq->next;
	if (rq->next != NULL)
		rq->next->prev = rq->prev;
	rq->prev = rq->next = NULL;
	rq->waiting = false;
}

/*
 * Send the request to the parent and suspend its connection until the
 * answer arrives (parent_readable). A failed send means the parent is
 * gone: the worker exits and a new one is started.
 */
static enum MHD_Result
ask_parent(struct MHD_Connection *c, struct req *rq, const char *payload, size_t len)
{
	int r;

	rq->seq = ++W.seq;
	if ((r = proto_send(W.args->parent_fd, MSG_REQUEST, rq->seq, 0, payload, len)) != 0) {
		log_warnx("cannot send request %u to the parent (%s); worker exits",
		    rq->seq, err_name(r));
		_exit(3);
	}
	rq->conn = c;
	rq->sent_ms = mono_ms();
	rq->waiting = true;
	rq->prev = NULL;
	rq->next = W.waiting;
	if (W.waiting != NULL)
		W.waiting->prev = rq;
	W.waiting = rq;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* Hand an answer to its waiting request and wake its connection. */
static void
answer(struct req *rq, int status, enum proto_ctype ctype, const char *body, size_t len)
{
	waiting_remove(rq);
	rq->answered = true;
	rq->status = status;
	rq->ctype = ctype;
	rq->answer_len = 0;
	if ((rq->answer = malloc(len + 1)) != NULL) {
		memcpy(rq->answer, body, len);
		rq->answer[len] = '\0';
		rq->answer_len = len;
	} else {
		rq->status = 500;
	}
	MHD_resume_connection(rq->conn);
}

static void
parent_readable(void)
{
	struct proto_msg msg;
	struct req *rq;
	int r = proto_recv(W.args->parent_fd, W.ipcbuf, &msg);

	if (r == CE_NOT_FOUND)
		_exit(0);		/* the parent closed its end */
	if (r != 0 || msg.type != MSG_RESPONSE) {
		log_warnx("malformed message from the parent (%s); worker exits",
		    r != 0 ? err_name(r) : "not a response");
		_exit(3);
	}
	for (rq = W.waiting; rq != NULL; rq = rq->next)
		if (rq->seq == msg.seq)
			break;
	if (rq == NULL) {
		log_debug("answer to request %u arrived after it was given up", msg.seq);
		return;
	}
	answer(rq, (int)msg.status, msg.ctype, msg.payload, msg.len);
}

/* Answer requests the parent left waiting too long. */
static void
expire_waiting(void)
{
	static const char late[] = "{\"error\":{\"code\":\"busy\",\"message\":"
	    "\"the agent did not answer in time\"}}";
	int64_t now = mono_ms();
	struct req *rq, *next;

	for (rq = W.waiting; rq != NULL; rq = next) {
		next = rq->next;
		if (now - rq->sent_ms >= PARENT_TIMEOUT_MS)
			answer(rq, 504, PROTO_CT_JSON, late, sizeof(late) - 1);
	}
}

static void
audit_auth_failure(struct MHD_Connection *c, const char *method, const char *url,
    const char *header, enum auth_result why)
{
	struct sign_auth sa;
	char remote[64];
	cJSON *f = cJSON_CreateObject();

	if (f == NULL)
		return;
	remote_addr(c, remote, sizeof(remote));
	cJSON_AddStringToObject(f, "remote", remote);
	cJSON_AddStringToObject(f, "method", method);
	cJSON_AddStringToObject(f, "path", url);
	cJSON_AddStringToObject(f, "reason", auth_result_name(why));
	/* The claimed key id is not secret; the signature never leaves here. */
	if (header != NULL && sign_parse_header(header, &sa) == 0)
		cJSON_AddStringToObject(f, "key_id", sa.keyid);
	cJSON_AddNumberToObject(f, "status", 401);
	log_event(LOG_LVL_WARN, "auth_failure", f);
	cJSON_Delete(f);
}

#ifdef CHAOS_TEST_HOOKS
/* Test builds only: prove that the sandbox kills on a forbidden syscall. */
static void
test_hook(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Chaos-Test-Hook");

	if (h != NULL && strcmp(h, "forbidden-syscall") == 0) {
		log_warnx("test hook: calling socket(2), which the sandbox forbids");
		(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		log_warnx("test hook: socket(2) returned; the sandbox is not working");
	}
}
#endif

static enum MHD_Result
process(struct MHD_Connection *c, struct req *rq, const char *method, const char *url)
{
	const struct config *cfg = W.args->cfg;
	struct query q;
	char canon[SIGN_QUERY_MAX + 1], keyid[SIGN_KEYID_MAX + 1], remote[64];
	const char *authz, *state = NULL;
	enum auth_result ar;
	cJSON *ipc = NULL, *doc = NULL;
	char *payload = NULL;
	enum MHD_Result ret;
	size_t i;
	int r;

	if (rq->too_large) {
		char m[96];

		(void)snprintf(m, sizeof(m), "request body is larger than %lld bytes",
		    (long long)cfg->max_body);
		return queue_error(c, rq, CE_TOO_LARGE, m, NULL);
	}
	if (rq->route.id == R_HEALTH) {
		static const char ok[] = "{\"status\":\"ok\"}";

		report_stat(&rq->route, 200, NULL);
		return queue_body(c, rq, 200, ok, sizeof(ok) - 1, "application/json", NULL);
	}
	memset(&q, 0, sizeof(q));
	(void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	if (q.overflow)
		return queue_error(c, rq, CE_INVALID, "too many query parameters", NULL);
	if (sign_canonical_query(q.params, q.n, canon, sizeof(canon)) != 0)
		return queue_error(c, rq, CE_INVALID, "query parameters may only hold "
		    "[A-Za-z0-9_.:-]", NULL);

	/* Authenticate before looking at anything the client chose. */
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	ar = auth_verify(W.auth, authz, method, url, canon, rq->body, rq->len,
	    wall_ms() / 1000, keyid);
	if (ar != AUTH_OK) {
		static const char unauth[] =
		    "{\"error\":{\"code\":\"unauthenticated\","
		    "\"message\":\"authentication required\"}}";
		struct MHD_Response *resp;

		audit_auth_failure(c, method, url, authz, ar);
		report_stat(&rq->route, 401, auth_result_name(ar));
		resp = MHD_create_response_from_buffer(sizeof(unauth) - 1,
		    (void *)(uintptr_t)unauth, MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
		(void)MHD_add_response_header(resp, "Content-Type", "application/json");
		(void)MHD_add_response_header(resp, "WWW-Authenticate", SIGN_SCHEME);
		ret = MHD_queue_response(c, 401, resp);
		MHD_destroy_response(resp);
		rq->responded = true;
		return ret;
	}
#ifdef CHAOS_TEST_HOOKS
	test_hook(c);
#endif
	for (i = 0; i < q.n; i++) {
		if (rq->route.id == R_FAULTS_LIST && strcmp(q.params[i].key, "state") == 0 &&
		    fault_state_parse(q.params[i].value) >= 0) {
			state = q.params[i].value;
			continue;
		}
		return queue_error(c, rq, CE_INVALID, rq->route.id == R_FAULTS_LIST ?
		    "query: only state=pending|active|reverted|expired|failed|completed is allowed" :
		    "query: this endpoint takes no query parameters", NULL);
	}
	if ((ipc = cJSON_CreateObject()) == NULL)
		return MHD_NO;
	remote_addr(c, remote, sizeof(remote));
	cJSON_AddStringToObject(ipc, "route", rq->route.name);
	cJSON_AddStringToObject(ipc, "method", method);
	cJSON_AddStringToObject(ipc, "path", url);
	cJSON_AddStringToObject(ipc, "remote", remote);
	cJSON_AddStringToObject(ipc, "key_id", keyid);
	if (rq->route.fault_id[0] != '\0')
		cJSON_AddStringToObject(ipc, "id", rq->route.fault_id);
	if (state != NULL)
		cJSON_AddStringToObject(ipc, "state", state);
	if (rq->route.takes_body) {
		struct fault_req req;
		struct errbuf eb = { "" };

		doc = rq->len > 0 ? cJSON_ParseWithLength(rq->body, rq->len) : NULL;
		if (doc == NULL) {
			ret = queue_error(c, rq, CE_INVALID, "body: not valid JSON", NULL);
			goto out;
		}
		/* Validate here; the parent validates again before acting. */
		if ((r = spec_validate(doc, cfg->max_duration, &req, &eb)) != 0) {
			ret = queue_error(c, rq, r, eb.msg, NULL);
			goto out;
		}
		cJSON_AddItemToObject(ipc, "body", fault_req_to_json(&req));
		fault_req_release(&req);
	} else if (rq->len > 0) {
		ret = queue_error(c, rq, CE_INVALID, "this endpoint takes no body", NULL);
		goto out;
	}
	if ((payload = cJSON_PrintUnformatted(ipc)) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	ret = ask_parent(c, rq, payload, strlen(payload));
out:
	free(payload);
	cJSON_Delete(doc);
	cJSON_Delete(ipc);
	return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	const struct config *cfg = W.args->cfg;
	struct req *rq = *con_cls;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		const char *cl, *allow = NULL;
		int64_t clen;
		int r;

		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* Method and path first: nothing else is read for a bad route. */
		if ((r = route_match(method, url, &rq->route, &allow)) != 0)
			return queue_error(c, rq, r, r == CE_METHOD ?
			    "method not allowed on this path" : "no such path", allow);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl != NULL && (parse_i64(cl, 0, INT64_MAX, &clen) != 0 ||
		    clen > cfg->max_body)) {
			char m[96];

			(void)snprintf(m, sizeof(m), "request body is larger than %lld bytes",
			    (long long)cfg->max_body);
			return queue_error(c, rq, CE_TOO_LARGE, m, NULL);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (rq->responded || rq->too_large)
			return MHD_YES;
		/* Chunked bodies have no length up front: cap while reading. */
		if (rq->len + n > (size_t)cfg->max_body) {
			rq->too_large = true;
			return MHD_YES;
		}
		if (rq->body == NULL && (rq->body = malloc((size_t)cfg->max_body + 1)) == NULL)
			return MHD_NO;
		memcpy(rq->body + rq->len, upload_data, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return MHD_YES;
	}
	if (rq->answered) {
		rq->answered = false;
		return queue_body(c, rq, rq->status, rq->answer, rq->answer_len,
		    rq->ctype == PROTO_CT_TEXT ? "text/plain; version=0.0.4" :
		    "application/json", NULL);
	}
	if (rq->responded || rq->waiting)
		return MHD_YES;
	return process(c, rq, method, url);
}

static void
request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	waiting_remove(rq);
	free(rq->answer);
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

void
worker_main(const struct worker_args *args)
{
	const struct config *cfg = args->cfg;
	const union MHD_DaemonInfo *info;
	int epfd;

	log_procinit("worker");
	W.args = args;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if ((W.ipcbuf = malloc(PROTO_BUF_SIZE)) == NULL)
		fatalx("out of memory");
	W.auth = auth_new(args->keys, args->nkeys, cfg->auth_window,
	    (size_t)cfg->nonce_cache, args->not_before);
	if (W.auth == NULL)
		fatalx("out of memory for the nonce cache");
	/*
	 * OpenSSL reads its configuration and loads its providers on first
	 * use; do that now, while files may still be opened.
	 */
	{
		unsigned char nonce[SIGN_NONCE_LEN] = { 0 }, mac[SIGN_MAC_LEN];

		if (args->nkeys == 0 || sign_compute(&args->keys[0], "GET", "/", "", 0,
		    nonce, "", 0, mac) != 0)
			fatalx("cannot initialize HMAC-SHA256");
	}
	sandbox_drop(args->drop, args->uid, args->gid);
	/* The drop changed our credentials, which clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		fatal("prctl(PR_SET_PDEATHSIG)");
	W.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL,
	    access_handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, args->listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    MHD_OPTION_END);
	if (W.mhd == NULL)
		fatalx("cannot start the HTTP server");
	if ((info = MHD_get_daemon_info(W.mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL)
		fatalx("libmicrohttpd has no epoll descriptor");
	epfd = info->epoll_fd;
	sandbox_enter();
	log_debug("worker serving");
	/* The parent tells the service manager that the API answers now. */
	{
		static const char ready[] = "{\"ready\":true}";

		(void)proto_send(args->parent_fd, MSG_STAT, 0, 0, ready, sizeof(ready) - 1);
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = epfd, .events = POLLIN },
			{ .fd = args->parent_fd, .events = POLLIN },
		};
		MHD_UNSIGNED_LONG_LONG to;
		int timeout = 1000;

		if (MHD_get_timeout(W.mhd, &to) == MHD_YES && to < 1000)
			timeout = (int)to;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			fatal("poll");
		if (pfd[1].revents != 0)
			parent_readable();
		expire_waiting();
		(void)MHD_run(W.mhd);
	}
}
