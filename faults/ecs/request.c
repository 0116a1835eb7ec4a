/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request.c: from a validated fault request to the body of an ECS fault
 * injection endpoint, and from the ECS agent's answers to the agent's own
 * errors (see ecs.h). Pure: no I/O, so the mapping is unit-tested whole.
 *
 * What the endpoints honour, and so what task mode offers:
 *   latency    delay, jitter (uniform), dest     -> network-latency
 *   loss       percent, dest                     -> network-packet-loss
 *   blackhole  one dest_port, protocol tcp|udp   -> network-blackhole-port (egress)
 * The endpoints match Sources against the destination of leaving packets,
 * which is what dest means on a host; every other scope parameter is a
 * 400 naming it.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ecs.h"
#include "../../common/err.h"
#include "../../common/netaddr.h"
#include "../../common/spec.h"
#include "../../common/util.h"

/* The destination matched when dest is not given: every packet. */
#define ECS_EVERYWHERE "0.0.0.0/0"

/* Add a list of CIDRs (already validated text) to o as name. */
static int
add_cidrs(cJSON *o, const char *name, const struct net_cidr *c, int n)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);
	char buf[64];
	int i;

	if (a == NULL)
		return CE_NOMEM;
	for (i = 0; i < n; i++) {
		net_cidr_format(&c[i], buf, sizeof(buf));
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(buf)))
			return CE_NOMEM;
	}
	return 0;
}

/* The control path as CIDRs, without repeats. Returns the count or -1. */
static int
exclusions(const char *const *exclude, size_t n, struct net_cidr *out, char *why,
    size_t len)
{
	int k = 0, j;
	size_t i;

	for (i = 0; i < n; i++) {
		struct net_cidr c;

		if (exclude[i] == NULL || exclude[i][0] == '\0')
			continue;
		if (net_parse_cidrs(exclude[i], &c, 1, why, len) != 1)
			return -1;
		for (j = 0; j < k; j++)
			if (memcmp(&out[j], &c, sizeof(c)) == 0)
				break;
		if (j < k)
			continue;
		if (k == ECS_EXCLUDE_MAX) {
			(void)snprintf(why, len, "more than %d control-path addresses",
			    ECS_EXCLUDE_MAX);
			return -1;
		}
		out[k++] = c;
	}
	return k;
}

/* The scope parameters no endpoint takes. */
static int
common_refusals(const struct fault_req *req, struct errbuf *eb)
{
	if (fault_req_get(req, "interface")->set)
		return err_set(eb, CE_INVALID, "params.interface: in task mode the ECS agent "
		    "impairs every interface of the task; leave interface out");
	if (fault_req_get(req, "source_port")->set)
		return err_set(eb, CE_INVALID, "params.source_port: the ECS fault injection "
		    "endpoints cannot match source ports; leave source_port out");
	if (fault_req_get(req, "force")->i != 0)
		return err_set(eb, CE_INVALID, "params.force: the ECS fault injection "
		    "endpoints never replace a qdisc someone else set up; leave force out");
	return 0;
}

/* latency and loss: scoped by destination address only. */
static int
tc_body(const struct fault_req *req, cJSON *o, struct net_cidr *dest, int *ndest,
    struct errbuf *eb)
{
	const char *type = req->spec->name;
	const struct spec_value *v;
	char why[128] = "";

	if (fault_req_get(req, "dest_port")->set)
		return err_set(eb, CE_INVALID, "params.dest_port: the ECS %s endpoint scopes "
		    "by address (dest) only; leave dest_port out", type);
	if (strcmp(fault_req_get(req, "protocol")->s, "all") != 0)
		return err_set(eb, CE_INVALID, "params.protocol: the ECS %s endpoint scopes "
		    "by address (dest) only; leave protocol at all", type);
	if (fault_req_get(req, "correlation")->i != 0)
		return err_set(eb, CE_INVALID, "params.correlation: the ECS %s endpoint "
		    "takes no correlation; leave it at 0", type);
	if ((v = fault_req_get(req, "dest"))->set) {
		if ((*ndest = net_parse_cidrs(v->s, dest, NET_LIST_MAX, why, sizeof(why))) < 0)
			return err_set(eb, CE_INVALID, "params.dest: %s", why);
	} else {
		(void)net_parse_cidrs(ECS_EVERYWHERE, dest, 1, why, sizeof(why));
		*ndest = 1;
	}
	if (strcmp(type, "latency") == 0) {
		if (strcmp(fault_req_get(req, "distribution")->s, "uniform") != 0)
			return err_set(eb, CE_INVALID, "params.distribution: the ECS latency "
			    "endpoint varies the delay uniformly only; leave distribution at "
			    "uniform");
		if (cJSON_AddNumberToObject(o, "DelayMilliseconds",
		    (double)fault_req_get(req, "delay")->i) == NULL ||
		    cJSON_AddNumberToObject(o, "JitterMilliseconds",
		    (double)fault_req_get(req, "jitter")->i) == NULL)
			return CE_NOMEM;
	} else if (cJSON_AddNumberToObject(o, "LossPercent",
	    (double)fault_req_get(req, "percent")->i) == NULL) {
		return CE_NOMEM;
	}
	return 0;
}

/* blackhole: one port and protocol, every address, leaving traffic. */
static int
blackhole_body(const struct fault_req *req, cJSON *o, struct errbuf *eb)
{
	const struct spec_value *v = fault_req_get(req, "dest_port");
	const char *proto = fault_req_get(req, "protocol")->s;
	uint16_t port[NET_LIST_MAX];
	char why[128] = "";

	if (fault_req_get(req, "dest")->set)
		return err_set(eb, CE_INVALID, "params.dest: the ECS blackhole endpoint drops "
		    "a port for every address; to drop all traffic to some addresses, use "
		    "loss with percent 100 and dest");
	if (!v->set || net_parse_ports(v->s, port, NET_LIST_MAX, why, sizeof(why)) != 1)
		return err_set(eb, CE_INVALID, "params.dest_port: the ECS blackhole endpoint "
		    "drops one port: give exactly one (to drop everything, use loss with "
		    "percent 100)");
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return err_set(eb, CE_INVALID, "params.protocol: the ECS blackhole endpoint "
		    "drops tcp or udp: give protocol tcp or udp");
	if (cJSON_AddNumberToObject(o, "Port", port[0]) == NULL ||
	    cJSON_AddStringToObject(o, "Protocol", proto) == NULL ||
	    cJSON_AddStringToObject(o, "TrafficType", "egress") == NULL)
		return CE_NOMEM;
	return 0;
}

int
ecs_request(const struct fault_req *req, const char *const *exclude, size_t nexclude,
    const char **endpoint, cJSON **body, struct errbuf *eb)
{
	const char *type = req->spec->name;
	struct net_cidr dest[NET_LIST_MAX], excl[ECS_EXCLUDE_MAX];
	char why[128] = "";
	int ndest = 0, nexcl, r;
	cJSON *o;

	if ((r = common_refusals(req, eb)) != 0)
		return r;
	if ((nexcl = exclusions(exclude, nexclude, excl, why, sizeof(why))) < 0)
		return err_set(eb, CE_INTERNAL, "control path: %s", why);
	if ((o = cJSON_CreateObject()) == NULL)
		return CE_NOMEM;
	if (strcmp(type, "latency") == 0 || strcmp(type, "loss") == 0) {
		*endpoint = strcmp(type, "latency") == 0 ? ECS_EP_LATENCY : ECS_EP_LOSS;
		if ((r = tc_body(req, o, dest, &ndest, eb)) == 0)
			r = add_cidrs(o, "Sources", dest, ndest);
	} else if (strcmp(type, "blackhole") == 0) {
		*endpoint = ECS_EP_BLACKHOLE;
		r = blackhole_body(req, o, eb);
	} else {
		r = err_set(eb, CE_UNAVAILABLE, "%s has no ECS fault injection endpoint", type);
	}
	if (r == 0)
		r = add_cidrs(o, "SourcesToFilter", excl, nexcl);
	if (r != 0) {
		cJSON_Delete(o);
		return r == CE_NOMEM ? err_set(eb, r, "out of memory") : r;
	}
	*body = o;
	return 0;
}

/* Printable ASCII of s (n bytes) into out, cut and trimmed. */
static void
printable(const char *s, size_t n, char *out, size_t len)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < len; i++)
		out[k++] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : ' ';
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

void
ecs_answer_parse(long status, const char *body, size_t len, struct ecs_answer *out)
{
	cJSON *doc = len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const char *w, *e;

	memset(out, 0, sizeof(*out));
	out->status = status;
	if (cJSON_IsObject(doc)) {
		w = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Status"));
		e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Error"));
		if (w != NULL)
			printable(w, strlen(w), out->word, sizeof(out->word));
		if (e != NULL)
			printable(e, strlen(e), out->error, sizeof(out->error));
	} else if (len > 0) {
		/* The rate limiter answers in plain text; keep it for the message. */
		printable(body, len, out->error, sizeof(out->error));
	}
	cJSON_Delete(doc);
}

bool
ecs_answer_refused(const struct ecs_answer *a)
{
	return a->status == 400 || a->status == 404 || a->status == 409 || a->status == 429;
}

int
ecs_answer_check(const char *endpoint, const char *op, const struct ecs_answer *a,
    struct errbuf *eb)
{
	const char *e = a->error[0] != '\0' ? a->error : "no message";

	switch (a->status) {
	case 200:
		if ((strcmp(op, "start") == 0 && strcmp(a->word, "running") == 0) ||
		    (strcmp(op, "stop") == 0 && strcmp(a->word, "stopped") == 0) ||
		    (strcmp(op, "status") == 0 && (strcmp(a->word, "running") == 0 ||
		    strcmp(a->word, "not-running") == 0)))
			return 0;
		return err_set(eb, CE_SYSTEM, "the ECS agent answered %s/%s with 200 but "
		    "Status '%s'", endpoint, op, a->word);
	case 400:
		if (strstr(e, "enableFaultInjection") != NULL || strstr(e, "mode is not") != NULL)
			return err_set(eb, CE_UNAVAILABLE, "the ECS agent refused %s/%s: %s; the "
			    "task definition needs enableFaultInjection and the awsvpc or host "
			    "network mode", endpoint, op, e);
		return err_set(eb, CE_INVALID, "the ECS agent refused %s/%s (400): %s",
		    endpoint, op, e);
	case 404:
		return err_set(eb, CE_UNAVAILABLE, "the ECS agent has no %s/%s for this "
		    "container (404: %s): it is older than 1.88.0, or ECS_AGENT_URI is not "
		    "this container's", endpoint, op, e);
	case 409:
		return err_set(eb, CE_CONFLICT, "the ECS agent refused %s/%s (409): %s; a task "
		    "holds one latency or packet loss fault at a time: revert the other "
		    "first", endpoint, op, e);
	case 429:
		return err_set(eb, CE_BUSY, "the ECS agent throttled %s/%s (429: %s) through "
		    "%d s of retries; each endpoint takes about one call per 5 s: try again "
		    "shortly", endpoint, op, e, ECS_THROTTLE_MS / 1000);
	default:
		return err_set(eb, CE_SYSTEM, "the ECS agent failed %s/%s (%ld): %s",
		    endpoint, op, a->status, e);
	}
}
