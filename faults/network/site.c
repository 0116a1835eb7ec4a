/* SPDX-License-Identifier: Apache-2.0 */
/* site.c: installing and removing a network fault on one site (see site.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "host.h"
#include "plan.h"
#include "site.h"
#include "../proc.h"
#include "../../common/child.h"
#include "../../common/err.h"
#include "../../common/log.h"
#include "../../common/util.h"

#define TC_OUTPUT_MAX 2048

/* What runs on a site, in its namespace: fn(site, ctx, out, eb). */
typedef int (*site_fn)(const cJSON *site, const void *ctx, cJSON *out, struct errbuf *eb);



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
	struct net_plan *p;
	int r;

	if ((p = malloc(sizeof(*p))) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	net_plan_show_root(tc, ifname, p);
	r = run_tc(&p->cmd[0], tc, line, len, eb);
	free(p);
	if (r != 0)
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

/* In the child: enter the site's namespace, then do the work there. */
struct ns_job {
	const cJSON *site;
	site_fn fn;
	const void *ctx;
};

static int
ns_child(void *arg, cJSON **out, struct errbuf *eb)
{
	const struct ns_job *j = arg;
	pid_t pid = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j->site,
	    "pid"));
	char path[64];
	int fd, r;

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	if (r != 0)
		return err_set(eb, CE_SYSTEM, "setns: %s", strerror(errno));
	if ((*out = cJSON_CreateObject()) == NULL)
		return CE_NOMEM;
	return j->fn(j->site, j->ctx, *out, eb);
}

/*
 * Run fn on the site: directly for the host, else in a child that entered
 * the site's namespace. The namespace's owner must still have its recorded
 * start time (a recycled pid is never entered); 1 when it is gone.
 */
static int
in_site(const cJSON *site, site_fn fn, const void *ctx, cJSON *out, struct errbuf *eb)
{
	pid_t pid = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(site, "pid"));
	uint64_t start = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(site,
	    "start")), now;
	struct ns_job j = { site, fn, ctx };
	cJSON *res = NULL, *it, *next;
	pid_t child;
	int fd, rc;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(site, "host")))
		return fn(site, ctx, out, eb);
	if (proc_starttime(pid, &now) != 0 || now != start)
		return 1;	/* the namespace's owner is gone: nothing to do there */
	if ((rc = child_spawn("chaos-netns", ns_child, &j, &child, &fd, eb)) != 0)
		return rc;
	rc = child_wait(child, fd, &res, eb);
	if (out != NULL && res != NULL)
		for (it = res->child; it != NULL; it = next) {
			next = it->next;
			cJSON_AddItemToObject(out, it->string, cJSON_DetachItemViaPointer(res, it));
		}
	cJSON_Delete(res);
	return rc;
}

static int
remove_here(const cJSON *site, const void *ctx, cJSON *out, struct errbuf *eb)
{
	const char *tc = net_tc_path(), *ifname = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(site, "interface"));
	const cJSON *prev = cJSON_GetObjectItemCaseSensitive(site, "previous");
	struct net_plan *plan;
	char line[TC_OUTPUT_MAX];
	int i, r;

	(void)ctx;
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
		struct errbuf ceb = { "" };

		/* force replaced someone's root qdisc: put its kind and handle back. */
		if ((plan = malloc(sizeof(*plan))) == NULL)
			return CE_NOMEM;
		if (net_plan_restore_root(tc, ifname, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(prev, "kind")), cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(prev, "handle")), plan) != 0)
			log_warnx("restoring the root qdisc of %s: its recorded kind or "
			    "handle is not a plain word", ifname);
		else if (run_tc(&plan->cmd[0], tc, NULL, 0, &ceb) != 0)
			log_warnx("restoring the root qdisc of %s: %s", ifname, ceb.msg);
		free(plan);
	}
	return r;
}

static int
install_here(const cJSON *site, const void *ctx, cJSON *out, struct errbuf *eb)
{
	const struct net_install *in = ctx;
	const char *tc = net_tc_path(), *ifname = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(site, "interface"));
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

		if (!in->force)
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
		if ((plan = malloc(sizeof(*plan))) == NULL)
			return CE_NOMEM;
		net_plan_del_root(tc, ifname, plan);
		r = run_tc(&plan->cmd[0], tc, NULL, 0, eb);
		free(plan);
		if (r != 0)
			return r;
	}
	if ((plan = malloc(sizeof(*plan))) == NULL)
		return CE_NOMEM;
	if (net_plan_install(tc, ifname, &in->netem, &in->scope, plan, why, sizeof(why)) != 0) {
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
		(void)remove_here(tmp, NULL, NULL, &reb);
		cJSON_Delete(tmp);
		return r;
	}
	cJSON_AddBoolToObject(out, "installed", 1);
	return 0;
}

int
net_site_install(const cJSON *site, const struct net_install *in, cJSON *out,
    struct errbuf *eb)
{
	return in_site(site, install_here, in, out, eb);
}

int
net_site_remove(const cJSON *site, struct errbuf *eb)
{
	return in_site(site, remove_here, NULL, NULL, eb);
}
