/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c: the HTTP side of the agent, run unprivileged in a seccomp
 * sandbox. One thread: libmicrohttpd is driven from our own poll loop
 * (MHD_USE_EPOLL without an internal thread), which also accepts the
 * connections and hands them to it (accept_new). Every request that passes
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
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
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
#include "strikes.h"
#include "worker.h"
#include "../common/err.h"
#include "../common/jsoncheck.h"
#include "../common/log.h"
#include "../common/sign.h"
#include "../common/spec.h"
#include "../common/util.h"

#define QUERY_PARAMS_MAX 8
/* Connections above conn_limit that libmicrohttpd may hold while the ones
 * evicted for them close (accept_new takes up to ACCEPT_BATCH a round). */
#define CONN_SLACK 32
#define ACCEPT_BATCH 10
/* How long the listening socket rests when accept4() lacks descriptors or
 * memory; the poll loop wakes at least once a second to try again. */
#define ACCEPT_PAUSE_MS 1000
/* The parent bounds its own work; this only catches a parent gone wrong. */
#define PARENT_TIMEOUT_MS 600000

/* Per-request state, freed only in the completion callback. */
struct req {
	struct route route;
	int route_err;		/* CE_NOT_FOUND or CE_METHOD: answered after the body */
	const char *allow;	/* the Allow header for CE_METHOD */
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

/*
 * One TCP connection, for the slow-client defences libmicrohttpd lacks:
 * its idle timeout restarts with every byte, so a client trickling one
 * header line at a time would hold a slot forever. A connection that is
 * receiving a request (headers and body) must finish within
 * request_timeout of its start, whatever it sends; and when conn_limit
 * connections are open, a new one evicts one that is still receiving:
 * the one whose address has the most strikes (strikes.h), the oldest
 * among equals. A burst of slow clients that reconnect when cut evict
 * each other, and cannot lock out a caller that has not misbehaved (a
 * signed DELETE /v1/faults, say), however slow its link.
 */
struct conn {
	struct MHD_Connection *c;
	int fd;
	unsigned char key[STRIKES_KEY_LEN];	/* the client's address, for strikes */
	int64_t start_ms;	/* when the current request began */
	bool receiving;		/* no complete request yet: the deadline runs */
	bool cut;		/* shut down by us; closing */
	struct conn *prev, *next;	/* W.conns, oldest start first */
};

struct worker {
	const struct worker_args *args;
	struct auth *auth;
	struct MHD_Daemon *mhd;
	uint32_t seq;
	char *ipcbuf;		/* PROTO_BUF_SIZE */
	struct req *waiting;	/* requests the parent has not answered yet */
	struct conn *conns, *conns_tail;
	size_t nconns;		/* in the list and not cut */
	struct strikes *strikes;
	uint64_t evicted, timed_out;	/* not yet reported to the parent */
	int64_t cut_reported_ms;
	int64_t accept_after;	/* accept4() failed for want of resources */
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
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)len);
}

/* Tell the parent about a request the worker answered by itself. */
static void
report_stat(const struct route *r, int status, const char *auth_failure)
{
	char msg[160];
	int n;

	n = snprintf(msg, sizeof(msg), "{\"status\":%d,\"route\":\"%s\"%s%s%s}", status,
	    r != NULL && r->name != NULL ? r->name : "none",
	    auth_failure ? ",\"auth_failure\":\"" : "",
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
	/* The parent refuses replays with 401 too: same answer as the worker's. */
	if (status == 401)
		(void)MHD_add_response_header(resp, "WWW-Authenticate", SIGN_SCHEME);
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
	} else if (h != NULL && strcmp(h, "tgkill-parent") == 0) {
		/* Signal 0 harms nobody: only the filter's argument rule can stop it. */
		log_warnx("test hook: tgkill(2) of the parent, which the sandbox forbids");
		(void)syscall(SYS_tgkill, getppid(), getppid(), 0);
		log_warnx("test hook: tgkill(2) returned; the sandbox is not working");
	} else if (h != NULL && strcmp(h, "setsockopt-other") == 0) {
		int v = 1;

		log_warnx("test hook: setsockopt(SO_REUSEPORT), which the sandbox forbids");
		(void)setsockopt(W.args->listen_fd, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v));
		log_warnx("test hook: setsockopt(2) returned; the sandbox is not working");
	}
}
#endif

/*
 * Leave paths and query strings as sent. Decoding '%' would make the path
 * the worker routes and verifies differ from the bytes the client signed;
 * undecoded, a '%' is refused (404 in a path, 400 in a query), as
 * docs/protocol.md says.
 */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Methods that may change something: their refusals are audited. */
static bool
mutating(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "OPTIONS") != 0;
}

/*
 * Refuse an authenticated request. One that may change something leaves
 * an audit line like the parent's, whatever the reason: an operator reads
 * every signed attempt to act, not only the ones that got through.
 */
static enum MHD_Result
refuse(struct MHD_Connection *c, struct req *rq, const char *method, const char *url,
    const struct auth_pass *who, int code, const char *msg, const char *allow)
{
	if (mutating(method)) {
		cJSON *o = cJSON_CreateObject();
		char remote[64];

		if (o != NULL) {
			remote_addr(c, remote, sizeof(remote));
			cJSON_AddStringToObject(o, "action", "request_refused");
			cJSON_AddStringToObject(o, "remote", remote);
			cJSON_AddStringToObject(o, "key_id", who->keyid);
			cJSON_AddStringToObject(o, "method", method);
			cJSON_AddStringToObject(o, "path", url);
			cJSON_AddNumberToObject(o, "status", err_http_status(code));
			cJSON_AddStringToObject(o, "error", msg);
			log_event(LOG_LVL_INFO, "audit", o);
			cJSON_Delete(o);
		}
	}
	return queue_error(c, rq, code, msg, allow);
}

/* Count the Authorization headers: more than one is refused. */
static enum MHD_Result
count_authz(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	unsigned *n = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, "Authorization") == 0)
		(*n)++;
	return MHD_YES;
}

static enum MHD_Result
unauthenticated(struct MHD_Connection *c, struct req *rq, const char *method,
    const char *url, const char *authz, enum auth_result ar)
{
	static const char unauth[] =
	    "{\"error\":{\"code\":\"unauthenticated\","
	    "\"message\":\"authentication required\"}}";
	struct MHD_Response *resp;
	enum MHD_Result ret;

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

static enum MHD_Result
process(struct MHD_Connection *c, struct req *rq, const char *method, const char *url)
{
	const struct config *cfg = W.args->cfg;
	struct query q;
	struct auth_pass who;
	char canon[SIGN_QUERY_MAX + 1], remote[64], nonce[2 * SIGN_NONCE_LEN + 1];
	const char *authz, *state = NULL;
	enum auth_result ar;
	cJSON *ipc = NULL, *doc = NULL;
	char *payload = NULL;
	enum MHD_Result ret;
	unsigned nauthz = 0;
	size_t i;
	int r;

	if (rq->too_large) {
		char m[96];

		(void)snprintf(m, sizeof(m), "request body is larger than %lld bytes",
		    (long long)cfg->max_body);
		return queue_error(c, rq, CE_TOO_LARGE, m, NULL);
	}
	/* The one route without authentication (the table says which). */
	if (rq->route_err == 0 && !rq->route.auth) {
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
	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, count_authz, &nauthz);
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (nauthz > 1)
		return unauthenticated(c, rq, method, url, NULL, AUTH_DUPLICATE);
	memset(&who, 0, sizeof(who));
	ar = auth_verify(W.auth, authz, method, url, canon, rq->body, rq->len,
	    wall_ms() / 1000, &who);
	/* A bad route is a 404 or 405 either way; only a signed one is audited. */
	if (ar != AUTH_OK && rq->route_err != 0)
		return queue_error(c, rq, rq->route_err, rq->route_err == CE_METHOD ?
		    "method not allowed on this path" : "no such path", rq->allow);
	if (ar != AUTH_OK)
		return unauthenticated(c, rq, method, url, authz, ar);
#ifdef CHAOS_TEST_HOOKS
	test_hook(c);
#endif
	if (rq->route_err != 0)
		return refuse(c, rq, method, url, &who, rq->route_err,
		    rq->route_err == CE_METHOD ? "method not allowed on this path" :
		    "no such path", rq->allow);
	for (i = 0; i < q.n; i++) {
		if (rq->route.id == R_FAULTS_LIST && strcmp(q.params[i].key, "state") == 0 &&
		    fault_state_parse(q.params[i].value) >= 0) {
			state = q.params[i].value;
			continue;
		}
		if (rq->route.id == R_FAULTS_LIST) {
			char m[192];

			(void)snprintf(m, sizeof(m), "query: only state=%s is allowed",
			    fault_state_choices());
			return refuse(c, rq, method, url, &who, CE_INVALID, m, NULL);
		}
		return refuse(c, rq, method, url, &who, CE_INVALID,
		    "query: this endpoint takes no query parameters", NULL);
	}
	if ((ipc = cJSON_CreateObject()) == NULL)
		return MHD_NO;
	remote_addr(c, remote, sizeof(remote));
	hex_encode(who.nonce, sizeof(who.nonce), nonce);
	cJSON_AddStringToObject(ipc, "route", rq->route.name);
	cJSON_AddStringToObject(ipc, "method", method);
	cJSON_AddStringToObject(ipc, "path", url);
	cJSON_AddStringToObject(ipc, "remote", remote);
	cJSON_AddStringToObject(ipc, "key_id", who.keyid);
	cJSON_AddStringToObject(ipc, "nonce", nonce);
	cJSON_AddNumberToObject(ipc, "ts", (double)who.ts);
	if (rq->route.fault_id[0] != '\0')
		cJSON_AddStringToObject(ipc, "id", rq->route.fault_id);
	if (state != NULL)
		cJSON_AddStringToObject(ipc, "state", state);
	if (rq->route.takes_body) {
		struct fault_req req;
		struct errbuf eb = { "" };

		/* Strict first: cJSON alone would cut strings at \u0000, keep bad
		 * UTF-8 and ignore trailing data. */
		if ((r = jsoncheck(rq->body != NULL ? rq->body : "", rq->len, &eb)) != 0) {
			ret = refuse(c, rq, method, url, &who, r, eb.msg, NULL);
			goto out;
		}
		if ((doc = cJSON_ParseWithLength(rq->body, rq->len)) == NULL) {
			ret = queue_error(c, rq, CE_NOMEM, "out of memory", NULL);
			goto out;
		}
		/* Validate here; the parent validates again before acting. */
		if ((r = spec_validate(doc, cfg->max_duration, &req, &eb)) != 0) {
			ret = refuse(c, rq, method, url, &who, r, eb.msg, NULL);
			goto out;
		}
		cJSON_AddItemToObject(ipc, "body", fault_req_to_json(&req));
		fault_req_release(&req);
	} else if (rq->len > 0) {
		ret = refuse(c, rq, method, url, &who, CE_INVALID,
		    "this endpoint takes no body", NULL);
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

static void
conn_unlink(struct conn *k)
{
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		W.conns = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		W.conns_tail = k->prev;
	k->prev = k->next = NULL;
}

static void
conn_append(struct conn *k)
{
	k->next = NULL;
	k->prev = W.conns_tail;
	if (W.conns_tail != NULL)
		W.conns_tail->next = k;
	else
		W.conns = k;
	W.conns_tail = k;
}

/*
 * Close a connection under libmicrohttpd's feet (it sees the end of
 * input), and count a strike against its address.
 */
static void
conn_cut(struct conn *k, int64_t now)
{
	if (k->cut)
		return;
	k->cut = true;
	W.nconns--;
	strikes_add(W.strikes, k->key, now);
	(void)shutdown(k->fd, SHUT_RDWR);
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* A new request begins on k (a new connection, or the next on keep-alive). */
static void
conn_restart(struct conn *k)
{
	k->start_ms = mono_ms();
	k->receiving = true;
	conn_unlink(k);
	conn_append(k);
}

static void
notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *socket_context, *old, *victim;
	uint32_t worst = 0;
	int64_t now;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k != NULL) {
			if (!k->cut)
				W.nconns--;
			conn_unlink(k);
			free(k);
			*socket_context = NULL;
		}
		return;
	}
	now = mono_ms();
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if ((k = calloc(1, sizeof(*k))) == NULL || ci == NULL) {
		free(k);
		/* Without its bookkeeping a connection is not served at all. */
		if (ci != NULL)
			(void)shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	k->c = c;
	k->fd = ci->connect_fd;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	strikes_key(ci != NULL ? ci->client_addr : NULL, k->key);
	k->start_ms = now;
	k->receiving = true;
	conn_append(k);
	W.nconns++;
	*socket_context = k;
	if (W.nconns <= (size_t)W.args->cfg->conn_limit)
		return;
	/*
	 * Full: of the connections still sending their request (this one
	 * included, last), the one with the most strikes makes room, the
	 * oldest among equals.
	 */
	victim = NULL;
	for (old = W.conns; old != NULL; old = old->next) {
		uint32_t n;

		if (old->cut || !old->receiving)
			continue;
		n = strikes_of(W.strikes, old->key, now);
		if (victim == NULL || n > worst) {
			victim = old;
			worst = n;
		}
	}
	W.evicted++;
	conn_cut(victim != NULL ? victim : k, now);
}

/* Tell the parent (for /metrics) how many connections were cut, once a second. */
static void
report_cuts(void)
{
	char msg[96];
	int n;

	if ((W.evicted == 0 && W.timed_out == 0) || mono_ms() - W.cut_reported_ms < 1000)
		return;
	n = snprintf(msg, sizeof(msg), "{\"cut\":{\"evicted\":%llu,\"timed_out\":%llu}}",
	    (unsigned long long)W.evicted, (unsigned long long)W.timed_out);
	if (n > 0 && (size_t)n < sizeof(msg) &&
	    proto_send(W.args->parent_fd, MSG_STAT, 0, 0, msg, (size_t)n) == 0) {
		W.evicted = W.timed_out = 0;
		W.cut_reported_ms = mono_ms();
	}
}

/*
 * Cut connections whose request is overdue; returns the milliseconds until
 * the next deadline (or -1 when none runs).
 */
static int64_t
conn_sweep(void)
{
	int64_t now = mono_ms(), limit = W.args->cfg->request_timeout * 1000, next = -1;
	struct conn *k;

	for (k = W.conns; k != NULL; k = k->next) {
		int64_t left;

		if (k->cut || !k->receiving)
			continue;
		if ((left = k->start_ms + limit - now) <= 0) {
			W.timed_out++;
			conn_cut(k, now);
			continue;
		}
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

/*
 * How many connections to accept now: none while accept4() rests, and
 * none above libmicrohttpd's limit, which it would close at once; they
 * wait in the listen queue instead, as they did when it accepted itself.
 */
static unsigned
accept_room(void)
{
	const union MHD_DaemonInfo *di;
	unsigned limit = (unsigned)W.args->cfg->conn_limit + CONN_SLACK, room;

	if (mono_ms() < W.accept_after)
		return 0;
	di = MHD_get_daemon_info(W.mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	if (di == NULL || di->num_connections >= limit)
		return 0;
	room = limit - di->num_connections;
	return room < ACCEPT_BATCH ? room : ACCEPT_BATCH;
}

/*
 * Accept new connections, and hand them to libmicrohttpd only after it
 * has read what its connections received before them. Left to accept by
 * itself, it accepts before it reads in a round: a client that closed a
 * connection and at once opened per_ip_limit new ones still had the
 * closed one counted against it (its end unread), and one new connection
 * was closed unanswered; often under load, when many events wait for one
 * round. A client ends the old connection before it opens the new one, so
 * once accept4() has returned the new one, that end is there to read.
 */
static void
accept_new(void)
{
	struct sockaddr_storage ss[ACCEPT_BATCH];
	socklen_t len[ACCEPT_BATCH];
	int fd[ACCEPT_BATCH];
	unsigned i, n, room = accept_room();

	for (n = 0; n < room; n++) {
		len[n] = sizeof(ss[n]);
		fd[n] = accept4(W.args->listen_fd, (struct sockaddr *)(void *)&ss[n], &len[n],
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd[n] >= 0)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("cannot accept a connection; trying again in %d ms",
			    ACCEPT_PAUSE_MS);
			W.accept_after = mono_ms() + ACCEPT_PAUSE_MS;
		}
		break;
	}
	if (n == 0)
		return;
	/* Reads those ends and closes what ended, uncounting it. */
	(void)MHD_run(W.mhd);
	/* Over per_ip_limit, libmicrohttpd closes it (and logs why). */
	for (i = 0; i < n; i++)
		(void)MHD_add_connection(W.mhd, fd[i], (struct sockaddr *)(void *)&ss[i],
		    len[i]);
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	const struct config *cfg = W.args->cfg;
	struct req *rq = *con_cls;
	struct conn *k;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		const char *cl, *allow = NULL;
		int64_t clen;
		int r;

		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		/*
		 * Method and path first. A bad route is refused without
		 * reading on, unless the request may change something: then
		 * its (bounded) body is read so that, if it is signed, the
		 * refusal is audited like any other authenticated request.
		 */
		if ((r = route_match(method, url, &rq->route, &allow)) != 0) {
			if (!mutating(method))
				return queue_error(c, rq, r, r == CE_METHOD ?
				    "method not allowed on this path" : "no such path",
				    allow);
			rq->route_err = r;
			rq->allow = allow;
		}
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
	/* The whole request arrived in time: no deadline while it is served. */
	if ((k = conn_of(c)) != NULL)
		k->receiving = false;
	return process(c, rq, method, url);
}

static void
request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	struct conn *k;

	(void)cls;
	(void)toe;
	/* Keep-alive: the next request on this connection has its own deadline. */
	if ((k = conn_of(c)) != NULL)
		conn_restart(k);
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
	if ((W.auth = auth_new(args->keys, args->nkeys, cfg->auth_window)) == NULL)
		fatalx("out of memory");
	{
		uint64_t seed;

		if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			fatal("getrandom");
		if ((W.strikes = strikes_new(seed)) == NULL)
			fatalx("out of memory");
	}
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
	W.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
	    access_handler, NULL,
	    /* First, so that libmicrohttpd logs nothing of its own before it. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    /* Room above conn_limit for connections being evicted and closed. */
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->conn_limit + CONN_SLACK,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
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
		struct pollfd pfd[3] = {
			{ .fd = epfd, .events = POLLIN },
			{ .fd = args->parent_fd, .events = POLLIN },
			{ .fd = accept_room() > 0 ? args->listen_fd : -1, .events = POLLIN },
		};
		MHD_UNSIGNED_LONG_LONG to;
		int64_t due = conn_sweep();
		int timeout = 1000;

		if (MHD_get_timeout(W.mhd, &to) == MHD_YES && to < 1000)
			timeout = (int)to;
		if (due >= 0 && due < timeout)
			timeout = (int)due + 1;
		if (poll(pfd, NELEM(pfd), timeout) < 0 && errno != EINTR)
			fatal("poll");
		if (pfd[1].revents != 0)
			parent_readable();
		if (pfd[2].revents != 0)
			accept_new();
		report_cuts();
		expire_waiting();
		(void)MHD_run(W.mhd);
	}
}
