/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.c: the network faults (latency, loss, corrupt, duplicate, reorder,
 * rate, blackhole) through tc and netem, on the host or in the network
 * namespaces of container targets (one "site" per distinct namespace).
 *
 * prepare (parent) computes everything once and writes it to the record:
 * each site's namespace and interface, the netem options, and the scope
 * with the control path excluded; it refuses a second fault on the same
 * namespace and interface. commit and revert run in job children
 * (blocking) and work from the record alone (site.c runs tc there, in the
 * site's namespace when it is a task's); revert needs only the sites and
 * removes our filters and qdiscs by their handles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/capability.h>

#include <cjson/cJSON.h>

#include "host.h"
#include "plan.h"
#include "site.h"
#include "../claim.h"
#include "../fault.h"
#include "../proc.h"
#include "../../common/caps.h"
#include "../../common/err.h"
#include "../../common/netaddr.h"
#include "../../common/util.h"

#define SITES_MAX 16

/* The control path, never impaired. */
static const char *const control_dests[] = {
	"169.254.169.254/32",	/* EC2 instance metadata */
	"169.254.170.2/32",	/* ECS task metadata and credentials */
	"fd00:ec2::254/128",	/* instance metadata over IPv6 */
};

static bool
net_available(char *why, size_t len)
{
	if (geteuid() == 0 && !caps_have(CAP_NET_ADMIN)) {
		(void)snprintf(why, len, "the agent does not hold CAP_NET_ADMIN (its "
		    "service or container withholds it)");
		return false;
	}
	if (net_tc_path() == NULL) {
		(void)snprintf(why, len, "tc (iproute2) is not installed");
		return false;
	}
	return net_netem_present(why, len);
}


/* The netem options of the fault. */
static int
netem_words(const struct fault *f, struct net_netem *ne, struct errbuf *eb)
{
	const char *type = f->req.spec->name;
	const struct spec_value *v;
	int r = 0;

	memset(ne, 0, sizeof(*ne));
	if (strcmp(type, "latency") == 0) {
		const struct spec_value *jit = fault_req_get(&f->req, "jitter");
		const struct spec_value *cor = fault_req_get(&f->req, "correlation");
		const struct spec_value *dist = fault_req_get(&f->req, "distribution");

		r |= net_netem_add(ne, "delay");
		r |= net_netem_add(ne, "%lldms", (long long)fault_req_get(&f->req, "delay")->i);
		if (jit->i > 0) {
			r |= net_netem_add(ne, "%lldms", (long long)jit->i);
			if (cor->i > 0)
				r |= net_netem_add(ne, "%lld%%", (long long)cor->i);
			if (strcmp(dist->s, "uniform") != 0) {
				r |= net_netem_add(ne, "distribution");
				r |= net_netem_add(ne, "%s", dist->s);
			}
		} else if (cor->i > 0 || strcmp(dist->s, "uniform") != 0) {
			return err_set(eb, CE_INVALID, "params.jitter: correlation and "
			    "distribution shape the jitter: give a jitter above 0");
		}
	} else if (strcmp(type, "rate") == 0) {
		r |= net_netem_add(ne, "rate");
		r |= net_netem_add(ne, "%lldkbit", (long long)fault_req_get(&f->req, "rate")->i);
	} else if (strcmp(type, "blackhole") == 0) {
		r |= net_netem_add(ne, "loss");
		r |= net_netem_add(ne, "100%%");
	} else {
		const char *word = strcmp(type, "reorder") == 0 ? "reorder" : type;

		if (strcmp(type, "reorder") == 0) {
			r |= net_netem_add(ne, "delay");
			r |= net_netem_add(ne, "%lldms",
			    (long long)fault_req_get(&f->req, "delay")->i);
		}
		v = fault_req_get(&f->req, "percent");
		r |= net_netem_add(ne, "%s", word);
		r |= net_netem_add(ne, "%lld%%", (long long)v->i);
		v = fault_req_get(&f->req, "correlation");
		if (v->i > 0)
			r |= net_netem_add(ne, "%lld%%", (long long)v->i);
	}
	return r != 0 ? err_set(eb, CE_INTERNAL, "netem options too long") : 0;
}

/* The scope of the fault, with the control path excluded. */
static int
build_scope(const struct fault *f, struct net_scope *sc, struct errbuf *eb)
{
	const struct spec_value *v;
	char why[128] = "";
	size_t i;

	memset(sc, 0, sizeof(*sc));
	if ((v = fault_req_get(&f->req, "dest"))->set &&
	    (sc->ndest = net_parse_cidrs(v->s, sc->dest, NET_LIST_MAX, why, sizeof(why))) < 0)
		return err_set(eb, CE_INVALID, "params.dest: %s", why);
	if ((v = fault_req_get(&f->req, "dest_port"))->set &&
	    (sc->ndport = net_parse_ports(v->s, sc->dport, NET_LIST_MAX, why, sizeof(why))) < 0)
		return err_set(eb, CE_INVALID, "params.dest_port: %s", why);
	if ((v = fault_req_get(&f->req, "source_port"))->set &&
	    (sc->nsport = net_parse_ports(v->s, sc->sport, NET_LIST_MAX, why, sizeof(why))) < 0)
		return err_set(eb, CE_INVALID, "params.source_port: %s", why);
	v = fault_req_get(&f->req, "protocol");
	sc->proto = strcmp(v->s, "tcp") == 0 ? NET_PROTO_TCP : strcmp(v->s, "udp") == 0 ?
	    NET_PROTO_UDP : strcmp(v->s, "icmp") == 0 ? NET_PROTO_ICMP : NET_PROTO_ALL;
	if (sc->proto == NET_PROTO_ICMP && (sc->ndport > 0 || sc->nsport > 0))
		return err_set(eb, CE_INVALID, "params.protocol: icmp has no ports; drop "
		    "dest_port and source_port or choose tcp or udp");
	for (i = 0; i < NELEM(control_dests); i++)
		(void)net_parse_cidrs(control_dests[i], &sc->exclude[sc->nexclude++], 1, why,
		    sizeof(why));
	/* The caller, so the request that started the fault can stop it. */
	if (net_parse_cidrs(f->remote, &sc->exclude[sc->nexclude], 1, why, sizeof(why)) == 1)
		sc->nexclude++;
	sc->agent_port = fault_env.agent_port;
	return 0;
}

/* The scope as the record keeps it: plain lists, parsed again by commit. */
static cJSON *
scope_json(const struct net_scope *sc)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char buf[64];
	int i;

	if (o == NULL)
		return NULL;
	a = cJSON_AddArrayToObject(o, "dest");
	for (i = 0; i < sc->ndest; i++) {
		net_cidr_format(&sc->dest[i], buf, sizeof(buf));
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	a = cJSON_AddArrayToObject(o, "dest_port");
	for (i = 0; i < sc->ndport; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(sc->dport[i]));
	a = cJSON_AddArrayToObject(o, "source_port");
	for (i = 0; i < sc->nsport; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(sc->sport[i]));
	cJSON_AddNumberToObject(o, "protocol", sc->proto);
	a = cJSON_AddArrayToObject(o, "exclude");
	for (i = 0; i < sc->nexclude; i++) {
		net_cidr_format(&sc->exclude[i], buf, sizeof(buf));
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	cJSON_AddNumberToObject(o, "agent_port", sc->agent_port);
	return o;
}

/* Read back what scope_json wrote. Returns 0 or CE_INVALID. */
static int
scope_parse(const cJSON *o, struct net_scope *sc, struct errbuf *eb)
{
	const cJSON *it;
	char why[128];
	double v;

	memset(sc, 0, sizeof(*sc));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "dest"))
		if (sc->ndest == NET_LIST_MAX || net_parse_cidrs(cJSON_GetStringValue(it) ?
		    cJSON_GetStringValue(it) : "", &sc->dest[sc->ndest++], 1, why,
		    sizeof(why)) != 1)
			return err_set(eb, CE_INVALID, "record: bad scope destination");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "dest_port")) {
		if (sc->ndport == NET_LIST_MAX || !cJSON_IsNumber(it) ||
		    (v = it->valuedouble) < 1 || v > 65535)
			return err_set(eb, CE_INVALID, "record: bad scope port");
		sc->dport[sc->ndport++] = (uint16_t)v;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "source_port")) {
		if (sc->nsport == NET_LIST_MAX || !cJSON_IsNumber(it) ||
		    (v = it->valuedouble) < 1 || v > 65535)
			return err_set(eb, CE_INVALID, "record: bad scope port");
		sc->sport[sc->nsport++] = (uint16_t)v;
	}
	v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "protocol"));
	if (v != NET_PROTO_ALL && v != NET_PROTO_ICMP && v != NET_PROTO_TCP &&
	    v != NET_PROTO_UDP)
		return err_set(eb, CE_INVALID, "record: bad scope protocol");
	sc->proto = (enum net_proto)v;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "exclude"))
		if (sc->nexclude == NET_EXCLUDE_MAX || net_parse_cidrs(cJSON_GetStringValue(it) ?
		    cJSON_GetStringValue(it) : "", &sc->exclude[sc->nexclude++], 1, why,
		    sizeof(why)) != 1)
			return err_set(eb, CE_INVALID, "record: bad excluded destination");
	v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "agent_port"));
	if (!(v >= 0 && v <= 65535))
		return err_set(eb, CE_INVALID, "record: bad agent port");
	sc->agent_port = (uint16_t)v;
	return 0;
}

/* What commit installs on every site, from the record. */
static int
install_of(const cJSON *rec, struct net_install *in, struct errbuf *eb)
{
	const cJSON *w;
	int r;

	memset(in, 0, sizeof(*in));
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(rec, "netem"))
		if (!cJSON_IsString(w) || net_netem_add(&in->netem, "%s", w->valuestring) != 0)
			return err_set(eb, CE_INVALID, "record: bad netem options");
	if (in->netem.n == 0)
		return err_set(eb, CE_INVALID, "record: no netem options");
	if ((r = scope_parse(cJSON_GetObjectItemCaseSensitive(rec, "scope"), &in->scope,
	    eb)) != 0)
		return r;
	in->force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "force"));
	return 0;
}

static int
site_add(cJSON *sites, pid_t pid, const char *container, const char *ifparam,
    struct errbuf *eb)
{
	char ifname[16];
	uint64_t ino, start = 0;
	cJSON *s, *it;

	if (net_ns_inode(pid, &ino) != 0 || proc_starttime(pid, &start) != 0)
		return err_set(eb, CE_NOT_FOUND, "the network namespace of pid %d is gone",
		    (int)pid);
	/* Containers sharing a namespace (an awsvpc task) make one site. */
	cJSON_ArrayForEach(it, sites)
		if ((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it,
		    "ns")) == ino)
			return 0;
	if (cJSON_GetArraySize(sites) == SITES_MAX)
		return err_set(eb, CE_INVALID, "more than %d network namespaces; narrow the "
		    "target with count", SITES_MAX);
	if (ifparam != NULL) {
		(void)str_copy(ifname, sizeof(ifname), ifparam);
	} else if (net_default_ifname(pid, ifname, sizeof(ifname)) != 0) {
		return err_set(eb, CE_INVALID, "params.interface: %s has no default route; "
		    "name the interface", container != NULL ? "the container's namespace" :
		    "this host");
	}
	if (!net_ifname_exists(pid, ifname))
		return err_set(eb, CE_INVALID, "params.interface: no interface '%s' in %s",
		    ifname, container != NULL ? "the container's namespace" : "this host");
	if ((s = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(sites, s))
		return CE_NOMEM;
	cJSON_AddNumberToObject(s, "pid", pid);
	cJSON_AddNumberToObject(s, "start", (double)start);
	cJSON_AddNumberToObject(s, "ns", (double)ino);
	cJSON_AddStringToObject(s, "interface", ifname);
	cJSON_AddBoolToObject(s, "host", container == NULL);
	if (container != NULL)
		cJSON_AddStringToObject(s, "container", container);
	return 0;
}

/* The claim slot of a site: its namespace and interface. */
static void
site_slot(const cJSON *s, char *slot, size_t len)
{
	(void)snprintf(slot, len, "net/%llu/%s", (unsigned long long)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(s, "ns")), cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(s, "interface")));
}

static int
net_prepare(struct fault *f, struct errbuf *eb)
{
	const struct spec_value *ifp = fault_req_get(&f->req, "interface");
	struct net_netem ne;
	struct net_scope sc;
	struct net_plan *plan;
	cJSON *rec, *sites, *s, *w;
	char why[160] = "", slot[CLAIM_SLOT_MAX];
	size_t i;
	int r;

	if ((r = netem_words(f, &ne, eb)) != 0 || (r = build_scope(f, &sc, eb)) != 0)
		return r;
	if ((plan = malloc(sizeof(*plan))) == NULL)
		return CE_NOMEM;
	r = net_plan_install("tc", "check", &ne, &sc, plan, why, sizeof(why));
	free(plan);
	if (r != 0)
		return err_set(eb, CE_INVALID, "params: %s", why);
	if ((rec = cJSON_CreateObject()) == NULL ||
	    (sites = cJSON_AddArrayToObject(rec, "sites")) == NULL) {
		cJSON_Delete(rec);
		return CE_NOMEM;
	}
	if (f->targets == NULL) {
		r = site_add(sites, getpid(), NULL, ifp->set ? ifp->s : NULL, eb);
	} else {
		const cJSON *t;

		r = 0;
		cJSON_ArrayForEach(t, f->targets) {
			double pid = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t,
			    "pid"));

			if (pid < 2) {
				r = err_set(eb, CE_CONFLICT, "container %.12s is not running",
				    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t,
				    "id")));
				break;
			}
			if ((r = site_add(sites, (pid_t)pid, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(t, "id")), ifp->set ? ifp->s : NULL,
			    eb)) != 0)
				break;
		}
	}
	if (r != 0) {
		cJSON_Delete(rec);
		return r;
	}
	/* One network fault per namespace and interface. */
	cJSON_ArrayForEach(s, sites) {
		const char *holder;

		site_slot(s, slot, sizeof(slot));
		if ((holder = claim_holder(slot)) != NULL) {
			r = err_set(eb, CE_CONFLICT, "fault %s already impairs %s in this "
			    "network namespace; revert it first", holder, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(s, "interface")));
			cJSON_Delete(rec);
			return r;
		}
	}
	if (!claim_room((size_t)cJSON_GetArraySize(sites))) {
		cJSON_Delete(rec);
		return err_set(eb, CE_TOO_MANY, "too many network faults");
	}
	cJSON_ArrayForEach(s, sites) {
		site_slot(s, slot, sizeof(slot));
		(void)claim_take(slot, f->id);
	}
	/* Computed once: commit installs exactly what the record says. */
	w = cJSON_AddArrayToObject(rec, "netem");
	for (i = 0; i < (size_t)ne.n; i++)
		cJSON_AddItemToArray(w, cJSON_CreateString(ne.w[i]));
	cJSON_AddItemToObject(rec, "scope", scope_json(&sc));
	cJSON_AddBoolToObject(rec, "force", fault_req_get(&f->req, "force")->i != 0);
	f->record = rec;
	f->priv = f;		/* marks the claims as ours to release */
	return 0;
}

static void
net_release(struct fault *f)
{
	claim_release(f->id);
	f->priv = NULL;
}

static int
net_commit(struct fault *f, struct errbuf *eb)
{
	cJSON *sites = cJSON_GetObjectItemCaseSensitive(f->record, "sites"), *s;
	struct net_install *in;
	int r = 0, done = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	if ((r = install_of(f->record, in, eb)) != 0) {
		free(in);
		return r;
	}
	cJSON_ArrayForEach(s, sites) {
		cJSON *out = cJSON_CreateObject(), *it, *next;

		r = net_site_install(s, in, out, eb);
		/* Whatever the site reported (previous root) joins its record. */
		for (it = out != NULL ? out->child : NULL; it != NULL; it = next) {
			next = it->next;
			cJSON_DeleteItemFromObjectCaseSensitive(s, it->string);
			cJSON_AddItemToObject(s, it->string, cJSON_DetachItemViaPointer(out, it));
		}
		cJSON_Delete(out);
		if (r == 1)
			r = err_set(eb, CE_NOT_FOUND, "a target's network namespace is gone");
		if (r != 0)
			break;
		done++;
	}
	free(in);
	if (r != 0 && done > 0) {
		struct errbuf reb = { "" };

		cJSON_ArrayForEach(s, sites)
			if (done-- > 0)
				(void)net_site_remove(s, &reb);
	}
	return r;
}

static int
net_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	const cJSON *s;
	int r, failed = 0;

	(void)f;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(record, "sites")) {
		struct errbuf seb = { "" };

		if ((r = net_site_remove(s, &seb)) < 0) {
			failed++;
			(void)err_set(eb, r, "%s: %s", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(s, "interface")), seb.msg);
		}
	}
	return failed > 0 ? CE_SYSTEM : 0;
}

static void
net_describe(const struct fault *f, cJSON *detail)
{
	cJSON_AddItemToObject(detail, "sites", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "sites"), 1));
	cJSON_AddItemToObject(detail, "netem", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "netem"), 1));
}

#define NET_OPS(var, fname) \
	const struct fault_ops var = { \
		.name = fname, \
		.blocking = true, \
		.available = net_available, \
		.prepare = net_prepare, \
		.commit = net_commit, \
		.revert = net_revert, \
		.describe = net_describe, \
		.release = net_release, \
	}

NET_OPS(fault_latency_ops, "latency");
NET_OPS(fault_loss_ops, "loss");
NET_OPS(fault_corrupt_ops, "corrupt");
NET_OPS(fault_duplicate_ops, "duplicate");
NET_OPS(fault_reorder_ops, "reorder");
NET_OPS(fault_rate_ops, "rate");
NET_OPS(fault_blackhole_ops, "blackhole");
