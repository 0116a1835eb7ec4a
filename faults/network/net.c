/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.c: the network faults (latency, loss, corrupt, duplicate, reorder,
 * rate, blackhole) through tc and netem, on the host or in the network
 * namespaces of container targets (one "site" per distinct namespace).
 *
 * prepare (parent): find each site's namespace and interface, refuse a
 * second fault on the same namespace and interface, check the scope.
 * commit and revert run in job children (blocking): for each site a child
 * enters the namespace with setns and runs tc through posix_spawn with an
 * argv from plan.c; no shell anywhere. Revert needs only the record: the
 * site (pid and start time, to never enter a recycled pid's namespace)
 * and the interface; it removes our filters and qdiscs by their handles.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plan.h"
#include "../fault.h"
#include "../../common/err.h"
#include "../../common/log.h"
#include "../../common/netaddr.h"
#include "../proc.h"
#include "../../common/util.h"

#define SITES_MAX 16
#define CLAIMS_MAX 256
#define TC_OUTPUT_MAX 2048

/* The control path, never impaired. */
static const char *const control_dests[] = {
	"169.254.169.254/32",	/* EC2 instance metadata */
	"169.254.170.2/32",	/* ECS task metadata and credentials */
	"fd00:ec2::254/128",	/* instance metadata over IPv6 */
};

/* Which (namespace, interface) pairs active faults hold. */
static struct {
	uint64_t ns;
	char ifname[16];
	char id[FAULT_ID_MAX];
} claims[CLAIMS_MAX];
static size_t nclaims;

static const char *
tc_path(void)
{
	static const char *const paths[] = {
		"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc",
	};
	size_t i;

	for (i = 0; i < NELEM(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* Is sch_netem loaded, built in, or loadable as a module? */
static bool
netem_present(char *why, size_t len)
{
	struct utsname u;
	char line[256], path[512];
	FILE *fp;
	bool found = false;
	static const char *const exts[] = { "", ".xz", ".zst", ".gz" };
	size_t i;

	if ((fp = fopen("/proc/modules", "re")) != NULL) {
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strncmp(line, "sch_netem ", 10) == 0;
		fclose(fp);
	}
	if (found || uname(&u) != 0)
		return found || (snprintf(why, len, "uname failed") < 0);
	(void)snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", u.release);
	if ((fp = fopen(path, "re")) != NULL) {
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strstr(line, "/sch_netem.ko") != NULL;
		fclose(fp);
	}
	for (i = 0; !found && i < NELEM(exts); i++) {
		(void)snprintf(path, sizeof(path),
		    "/lib/modules/%s/kernel/net/sched/sch_netem.ko%s", u.release, exts[i]);
		found = access(path, R_OK) == 0;
	}
	if (!found)
		(void)snprintf(why, len, "sch_netem is not loaded and kernel %s has no "
		    "sch_netem module", u.release);
	return found;
}

static bool
net_available(char *why, size_t len)
{
	if (tc_path() == NULL) {
		(void)snprintf(why, len, "tc (iproute2) is not installed");
		return false;
	}
	return netem_present(why, len);
}

/* The interface of the default route in pid's namespace, from /proc. */
static int
default_ifname(pid_t pid, char *out, size_t len)
{
	char path[64], line[512];
	FILE *fp;
	int found = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/net/route", (int)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		while (found != 0 && fgets(line, sizeof(line), fp) != NULL) {
			char ifn[32], *tab = strchr(line, '\t');

			/* Iface Destination Gateway Flags ... Mask ... */
			if (tab == NULL || (size_t)(tab - line) >= sizeof(ifn))
				continue;
			memcpy(ifn, line, (size_t)(tab - line));
			ifn[tab - line] = '\0';
			if (strncmp(tab + 1, "00000000\t", 9) == 0 &&
			    strstr(tab, "\t00000000\t") != NULL)
				found = str_copy(out, len, ifn);
		}
		fclose(fp);
	}
	if (found == 0)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/%d/net/ipv6_route", (int)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		while (found != 0 && fgets(line, sizeof(line), fp) != NULL) {
			char *last = strrchr(line, ' ');

			/* dst dstlen src srclen nexthop metric ref use flags iface */
			if (strncmp(line, "00000000000000000000000000000000 00 ", 36) != 0 ||
			    last == NULL)
				continue;
			last[strcspn(last, "\n")] = '\0';
			if (strcmp(last + 1, "lo") != 0)
				found = str_copy(out, len, last + 1);
		}
		fclose(fp);
	}
	return found;
}

static bool
ifname_exists(pid_t pid, const char *ifname)
{
	char path[64], line[512];
	FILE *fp;
	bool found = false;
	size_t n = strlen(ifname);

	(void)snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		const char *p = line + strspn(line, " ");

		found = strncmp(p, ifname, n) == 0 && p[n] == ':';
	}
	fclose(fp);
	return found;
}

static int
ns_inode(pid_t pid, uint64_t *ino)
{
	char path[64];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) != 0)
		return -1;
	*ino = (uint64_t)st.st_ino;
	return 0;
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

static int
site_add(cJSON *sites, pid_t pid, const char *container, const char *ifparam,
    struct errbuf *eb)
{
	char ifname[16];
	uint64_t ino, start = 0;
	cJSON *s, *it;

	if (ns_inode(pid, &ino) != 0 || proc_starttime(pid, &start) != 0)
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
	} else if (default_ifname(pid, ifname, sizeof(ifname)) != 0) {
		return err_set(eb, CE_INVALID, "params.interface: %s has no default route; "
		    "name the interface", container != NULL ? "the container's namespace" :
		    "this host");
	}
	if (!ifname_exists(pid, ifname))
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

static int
net_prepare(struct fault *f, struct errbuf *eb)
{
	const struct spec_value *ifp = fault_req_get(&f->req, "interface");
	struct net_netem ne;
	struct net_scope sc;
	struct net_plan *plan;
	cJSON *rec, *sites, *s, *w;
	char why[160] = "";
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
			double pid = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "pid"));

			if (pid < 2) {
				r = err_set(eb, CE_CONFLICT, "container %.12s is not running",
				    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "id")));
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
		uint64_t ns = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "ns"));
		const char *ifn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s,
		    "interface"));

		for (i = 0; i < nclaims; i++)
			if (claims[i].ns == ns && strcmp(claims[i].ifname, ifn) == 0) {
				r = err_set(eb, CE_CONFLICT, "fault %s already impairs %s in "
				    "this network namespace; revert it first", claims[i].id,
				    claims[i].ifname);
				cJSON_Delete(rec);
				return r;
			}
	}
	if (nclaims + (size_t)cJSON_GetArraySize(sites) > CLAIMS_MAX) {
		cJSON_Delete(rec);
		return err_set(eb, CE_TOO_MANY, "too many network faults");
	}
	cJSON_ArrayForEach(s, sites) {
		claims[nclaims].ns = (uint64_t)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(s, "ns"));
		(void)str_copy(claims[nclaims].ifname, sizeof(claims[nclaims].ifname),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "interface")));
		(void)str_copy(claims[nclaims].id, sizeof(claims[nclaims].id), f->id);
		nclaims++;
	}
	w = cJSON_AddArrayToObject(rec, "netem");
	for (i = 0; i < (size_t)ne.n; i++)
		cJSON_AddItemToArray(w, cJSON_CreateString(ne.w[i]));
	cJSON_AddBoolToObject(rec, "force", fault_req_get(&f->req, "force")->i != 0);
	f->record = rec;
	f->priv = f;		/* marks the claims as ours to release */
	return 0;
}

static void
net_release(struct fault *f)
{
	size_t i;

	for (i = 0; i < nclaims;) {
		if (strcmp(claims[i].id, f->id) == 0)
			claims[i] = claims[--nclaims];
		else
			i++;
	}
	f->priv = NULL;
}

/* Run one tc command; capture its output into out (may be NULL). */
static int
run_tc(const struct net_cmd *c, const char *tc, char *out, size_t outlen, struct errbuf *eb)
{
	char *argv[NET_WORDS_MAX + 1], buf[TC_OUTPUT_MAX];
	char *const envp[] = { (char *)(uintptr_t)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    (char *)(uintptr_t)"LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int p[2], i, st;
	pid_t pid;
	ssize_t n;

	for (i = 0; i < c->n; i++)
		argv[i] = (char *)(uintptr_t)c->w[i];
	argv[0] = (char *)(uintptr_t)tc;
	argv[c->n] = NULL;
	if (pipe2(p, O_CLOEXEC) != 0)
		return err_set(eb, CE_SYSTEM, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	i = posix_spawn(&pid, tc, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (i != 0) {
		close(p[0]);
		return err_set(eb, CE_SYSTEM, "cannot run %s: %s", tc, strerror(i));
	}
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
	    (n < 0 && errno == EINTR))
		if (n > 0 && (len += (size_t)n) == sizeof(buf) - 1)
			break;
	buf[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		(void)str_copy(out, outlen, buf);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char cmd[256] = "";
		size_t used = 0;

		for (i = 1; i < c->n && used < sizeof(cmd) - 1; i++) {
			int w = snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i > 1 ? " " : "",
			    c->w[i]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		buf[strcspn(buf, "\n")] = '\0';
		return err_set(eb, CE_SYSTEM, "tc %.160s: %s", cmd, buf[0] ? buf : "failed");
	}
	return 0;
}

/* The root qdisc line of ifname ("qdisc noqueue 0: root refcnt 2"). */
static int
root_qdisc(const char *tc, const char *ifname, char *line, size_t len, struct errbuf *eb)
{
	struct net_cmd c;
	int r;

	memset(&c, 0, sizeof(c));
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, tc);
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, "qdisc");
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, "show");
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, "dev");
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, ifname);
	(void)str_copy(c.w[c.n++], NET_WORD_MAX, "root");
	if ((r = run_tc(&c, tc, line, len, eb)) != 0)
		return r;
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

/* Kernel defaults: nobody configured these. */
static bool
default_root(const char *line)
{
	static const char *const kinds[] = {
		"qdisc noqueue 0:", "qdisc pfifo_fast 0:", "qdisc fq_codel 0:", "qdisc mq 0:",
		"qdisc fq 0:", "qdisc pfifo 0:",
	};
	size_t i;

	if (line[0] == '\0')
		return true;
	for (i = 0; i < NELEM(kinds); i++)
		if (strncmp(line, kinds[i], strlen(kinds[i])) == 0)
			return true;
	return false;
}

static bool
ours(const char *line)
{
	return strncmp(line, "qdisc prio " NET_HANDLE " ", 17) == 0;
}

/*
 * Run fn in a child that entered the site's namespace (the host's own
 * needs no setns). The pid must still have its recorded start time.
 */
static int
in_site(const cJSON *site, int (*fn)(const cJSON *, cJSON *, struct errbuf *), cJSON *out,
    struct errbuf *eb)
{
	pid_t pid = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(site, "pid"));
	uint64_t start = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(site,
	    "start")), now;
	bool host = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(site, "host"));
	int p[2], st, fd = -1;
	pid_t child;

	if (host)
		return fn(site, out, eb);
	if (proc_starttime(pid, &now) != 0 || now != start)
		return 1;	/* the namespace's owner is gone: nothing to do there */
	{
		char path[64];

		(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return 1;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		close(fd);
		return err_set(eb, CE_SYSTEM, "pipe: %s", strerror(errno));
	}
	if ((child = fork()) < 0) {
		close(fd);
		close(p[0]);
		close(p[1]);
		return err_set(eb, CE_SYSTEM, "fork: %s", strerror(errno));
	}
	if (child == 0) {
		struct errbuf ceb = { "" };
		cJSON *o = cJSON_CreateObject();
		char *text;
		int rc;

		close(p[0]);
		if (setns(fd, CLONE_NEWNET) != 0)
			rc = err_set(&ceb, CE_SYSTEM, "setns: %s", strerror(errno));
		else
			rc = fn(site, o, &ceb);
		cJSON_AddNumberToObject(o, "rc", rc);
		cJSON_AddStringToObject(o, "error", ceb.msg);
		if ((text = cJSON_PrintUnformatted(o)) != NULL)
			(void)!write(p[1], text, strlen(text));
		_exit(0);
	}
	close(fd);
	close(p[1]);
	{
		char buf[8192];
		size_t len = 0;
		ssize_t n;
		cJSON *res;
		int rc = CE_SYSTEM;

		while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
		    (n < 0 && errno == EINTR))
			if (n > 0 && (len += (size_t)n) == sizeof(buf) - 1)
				break;
		close(p[0]);
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		buf[len] = '\0';
		if ((res = cJSON_Parse(buf)) == NULL)
			return err_set(eb, CE_SYSTEM, "the namespace helper died");
		rc = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "rc"));
		if (rc != 0)
			(void)err_set(eb, rc, "%s", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(res, "error")));
		cJSON_DeleteItemFromObjectCaseSensitive(res, "rc");
		cJSON_DeleteItemFromObjectCaseSensitive(res, "error");
		if (out != NULL) {
			cJSON *it, *next;

			for (it = res->child; it != NULL; it = next) {
				next = it->next;
				cJSON_AddItemToObject(out, it->string,
				    cJSON_DetachItemViaPointer(res, it));
			}
		}
		cJSON_Delete(res);
		return rc;
	}
}

/* Per-site state the commit needs (set before the sites run). */
static const struct fault *commit_fault;

static int
site_remove(const cJSON *site, cJSON *out, struct errbuf *eb)
{
	const char *tc = tc_path(), *ifname = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(site, "interface"));
	const cJSON *prev = cJSON_GetObjectItemCaseSensitive(site, "previous");
	struct net_plan *plan;
	char line[TC_OUTPUT_MAX];
	int i, r;

	(void)out;
	if (tc == NULL)
		return err_set(eb, CE_UNAVAILABLE, "tc is not installed");
	if (root_qdisc(tc, ifname, line, sizeof(line), eb) != 0)
		return 0;	/* the interface is gone, and our qdiscs with it */
	if (!ours(line))
		return 0;	/* removed already */
	if ((plan = malloc(sizeof(*plan))) == NULL)
		return CE_NOMEM;
	net_plan_remove(tc, ifname, plan);
	r = 0;
	for (i = 0; i < plan->n; i++) {
		struct errbuf ceb = { "" };

		/* Filters first, then qdiscs; the last step must work. */
		if (run_tc(&plan->cmd[i], tc, NULL, 0, &ceb) != 0 && i == plan->n - 1)
			r = err_set(eb, CE_SYSTEM, "%s", ceb.msg);
	}
	free(plan);
	if (r == 0 && cJSON_IsObject(prev)) {
		struct net_cmd c;
		struct errbuf ceb = { "" };

		/* force replaced someone's root qdisc: put its kind and handle back. */
		memset(&c, 0, sizeof(c));
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, tc);
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, "qdisc");
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, "add");
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, "dev");
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, ifname);
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, "root");
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, "handle");
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(prev, "handle")));
		(void)str_copy(c.w[c.n++], NET_WORD_MAX, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(prev, "kind")));
		if (run_tc(&c, tc, NULL, 0, &ceb) != 0)
			log_warnx("restoring the root qdisc of %s: %s", ifname, ceb.msg);
	}
	return r;
}

static int
site_install(const cJSON *site, cJSON *out, struct errbuf *eb)
{
	const struct fault *f = commit_fault;
	const char *tc = tc_path(), *ifname = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(site, "interface"));
	struct net_netem ne;
	struct net_scope sc;
	struct net_plan *plan;
	char line[TC_OUTPUT_MAX], why[160];
	int i, r;

	if (tc == NULL)
		return err_set(eb, CE_UNAVAILABLE, "tc is not installed");
	if ((r = root_qdisc(tc, ifname, line, sizeof(line), eb)) != 0)
		return r;
	if (ours(line))
		return err_set(eb, CE_CONFLICT, "%s already carries a chaos-agent qdisc "
		    "(left by another agent?): revert it first", ifname);
	if (!default_root(line)) {
		char kind[32] = "", handle[32] = "";
		const char *p = line + 6, *sp;

		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->record, "force")))
			return err_set(eb, CE_CONFLICT, "%s has a root qdisc someone set up "
			    "(%.80s); give force=true to replace it (it is put back on "
			    "revert)", ifname, line);
		/* "qdisc KIND HANDLE root ..." */
		if ((sp = strchr(p, ' ')) != NULL && (size_t)(sp - p) < sizeof(kind)) {
			memcpy(kind, p, (size_t)(sp - p));
			kind[sp - p] = '\0';
			p = sp + 1;
			if ((sp = strchr(p, ' ')) != NULL && (size_t)(sp - p) < sizeof(handle)) {
				memcpy(handle, p, (size_t)(sp - p));
				handle[sp - p] = '\0';
			}
		}
		if (kind[0] != '\0' && handle[0] != '\0' && str_charset_ok(kind, "_") &&
		    str_charset_ok(handle, ":")) {
			cJSON *prev = cJSON_AddObjectToObject(out, "previous");

			cJSON_AddStringToObject(prev, "kind", kind);
			cJSON_AddStringToObject(prev, "handle", handle);
		}
		{
			struct net_cmd c;

			memset(&c, 0, sizeof(c));
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, tc);
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, "qdisc");
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, "del");
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, "dev");
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, ifname);
			(void)str_copy(c.w[c.n++], NET_WORD_MAX, "root");
			if ((r = run_tc(&c, tc, NULL, 0, eb)) != 0)
				return r;
		}
	}
	if ((r = netem_words(f, &ne, eb)) != 0 || (r = build_scope(f, &sc, eb)) != 0)
		return r;
	if ((plan = malloc(sizeof(*plan))) == NULL)
		return CE_NOMEM;
	if (net_plan_install(tc, ifname, &ne, &sc, plan, why, sizeof(why)) != 0) {
		free(plan);
		return err_set(eb, CE_INVALID, "%s", why);
	}
	for (i = 0; i < plan->n; i++)
		if ((r = run_tc(&plan->cmd[i], tc, NULL, 0, eb)) != 0)
			break;
	free(plan);
	if (r != 0) {
		struct errbuf reb = { "" };
		cJSON *tmp = cJSON_CreateObject();

		/* Leave nothing behind: take out what the failed plan added. */
		cJSON_AddItemToObject(tmp, "interface", cJSON_CreateString(ifname));
		cJSON_AddItemToObject(tmp, "previous", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(out, "previous"), 1));
		(void)site_remove(tmp, NULL, &reb);
		cJSON_Delete(tmp);
		return r;
	}
	cJSON_AddBoolToObject(out, "installed", 1);
	return 0;
}

static int
net_commit(struct fault *f, struct errbuf *eb)
{
	cJSON *sites = cJSON_GetObjectItemCaseSensitive(f->record, "sites"), *s;
	int r = 0, done = 0;

	commit_fault = f;
	cJSON_ArrayForEach(s, sites) {
		cJSON *out = cJSON_CreateObject(), *it, *next;

		r = in_site(s, site_install, out, eb);
		/* Whatever the site reported (previous root) joins its record. */
		for (it = out->child; it != NULL; it = next) {
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
	if (r != 0 && done > 0) {
		struct errbuf reb = { "" };

		cJSON_ArrayForEach(s, sites)
			if (done-- > 0)
				(void)in_site(s, site_remove, NULL, &reb);
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

		if ((r = in_site(s, site_remove, NULL, &seb)) < 0) {
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
