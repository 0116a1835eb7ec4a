/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill.c: kill-process, a one-shot signal to host processes chosen by exact
 * name or by pid (how the library kills dockerd or the ECS agent). prepare
 * finds the victims and records each with its start time; commit signals
 * exactly those processes, so a pid reused in between is never hit.
 * Refused: pid 1, the agent, its parent and its own children, kernel
 * threads, and every process of the kit on the host (other agents and
 * their burners included).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../fault.h"
#include "../../common/err.h"
#include "../../common/signals.h"
#include "../proc.h"
#include "../../common/util.h"

#define KILL_VICTIMS_MAX 256

#define SIGNAL_ENTRY(n) { #n, SIG##n },
static const struct {
	const char *name;
	int sig;
} signals[] = {
	CHAOS_SIGNALS(SIGNAL_ENTRY, SIGNAL_ENTRY)
};

static int
signal_number(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(signals); i++)
		if (strcmp(signals[i].name, name) == 0)
			return signals[i].sig;
	return -1;
}

/* Read a small /proc file of pid into buf; returns bytes read or -1. */
static ssize_t
read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The parent pid of pid, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char buf[512], *rp;
	int64_t ppid;

	if (read_proc(pid, "stat", buf, sizeof(buf)) <= 0 || (rp = strrchr(buf, ')')) == NULL)
		return -1;
	/* ") S 1234 ..." */
	if (strlen(rp) < 5)
		return -1;
	{
		char *end = strchr(rp + 4, ' ');

		if (end == NULL)
			return -1;
		*end = '\0';
		if (parse_i64(rp + 4, 0, INT32_MAX, &ppid) != 0)
			return -1;
	}
	return (pid_t)ppid;
}

/*
 * The process names of the kit itself: the agent (and its worker), its
 * jobs, network namespace helpers and burners, and chaosctl.
 */
static const char *const kit_names[] = { "chaos-agent", "chaos-burn", "chaos-job", "chaos-netns",
	"chaosctl" };

/*
 * Is pid a process of the kit, this agent's or any other's (another
 * agent on the host, say one per network namespace, or its burners)? By
 * its name, or by running the very file this agent runs.
 */
static bool
kit_process(pid_t pid)
{
	char comm[64], path[64];
	struct stat self, other;
	size_t i;

	if (read_proc(pid, "comm", comm, sizeof(comm)) > 0) {
		comm[strcspn(comm, "\n")] = '\0';
		for (i = 0; i < NELEM(kit_names); i++)
			if (strcmp(comm, kit_names[i]) == 0)
				return true;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat("/proc/self/exe", &self) == 0 && stat(path, &other) == 0 &&
	    self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

/* Why pid may not be signalled, or NULL. */
static const char *
refused(pid_t pid)
{
	char cmd[8];

	if (pid == 1)
		return "pid 1 (init) is never signalled";
	if (pid == getpid() || pid == fault_env.agent_pid)
		return "that is the chaos-agent itself";
	if (pid == getppid())
		return "that is the chaos-agent's parent";
	if (parent_of(pid) == getpid())
		return "that is one of the chaos-agent's own processes";
	/* Kernel threads have an empty command line. */
	if (read_proc(pid, "cmdline", cmd, sizeof(cmd)) == 0)
		return "that is a kernel thread";
	if (kit_process(pid))
		return "that is a chaos-kit process (an agent, its burners or chaosctl), "
		    "which faults never hit";
	return NULL;
}

/* Does pid's name equal name? comm holds 15 bytes; longer names use argv[0]. */
static bool
name_matches(pid_t pid, const char *name)
{
	char comm[64], argv0[4096];
	const char *base;
	ssize_t n;

	if (read_proc(pid, "comm", comm, sizeof(comm)) <= 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	if (strlen(name) <= 15)
		return strcmp(comm, name) == 0;
	if (strncmp(comm, name, 15) != 0 || (n = read_proc(pid, "cmdline", argv0,
	    sizeof(argv0))) <= 0)
		return false;
	base = strrchr(argv0, '/');
	return strcmp(base != NULL ? base + 1 : argv0, name) == 0;
}

static int
add_victim(cJSON *arr, pid_t pid, struct errbuf *eb)
{
	char comm[64] = "";
	uint64_t start;
	cJSON *o;

	if (proc_starttime(pid, &start) != 0)
		return 1;	/* gone already */
	(void)read_proc(pid, "comm", comm, sizeof(comm));
	comm[strcspn(comm, "\n")] = '\0';
	if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return err_set(eb, CE_NOMEM, "out of memory");
	}
	cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddNumberToObject(o, "start", (double)start);
	cJSON_AddStringToObject(o, "comm", comm);
	return 0;
}

static int
kill_prepare(struct fault *f, struct errbuf *eb)
{
	const struct spec_value *name = fault_req_get(&f->req, "name");
	const struct spec_value *pidv = fault_req_get(&f->req, "pid");
	const struct spec_value *all = fault_req_get(&f->req, "all");
	const char *why;
	cJSON *rec, *arr;
	int r;

	if (name->set == pidv->set)
		return err_set(eb, CE_INVALID, "params: give exactly one of name and pid "
		    "(allowed: name=<exact process name> or pid=<number>)");
	if ((rec = cJSON_CreateObject()) == NULL ||
	    (arr = cJSON_AddArrayToObject(rec, "victims")) == NULL) {
		cJSON_Delete(rec);
		return err_set(eb, CE_NOMEM, "out of memory");
	}
	cJSON_AddStringToObject(rec, "signal", fault_req_get(&f->req, "signal")->s);
	if (pidv->set) {
		pid_t pid = (pid_t)pidv->i;

		if ((why = refused(pid)) != NULL) {
			cJSON_Delete(rec);
			return err_set(eb, CE_INVALID, "params.pid: %d refused: %s", (int)pid, why);
		}
		if ((r = add_victim(arr, pid, eb)) != 0) {
			cJSON_Delete(rec);
			return r < 0 ? r : err_set(eb, CE_NOT_FOUND, "params.pid: no process %d",
			    (int)pid);
		}
	} else {
		DIR *dir = opendir("/proc");
		struct dirent *de;
		int nrefused = 0, n = 0;
		char refusal[128] = "";

		if (dir == NULL) {
			cJSON_Delete(rec);
			return err_set(eb, CE_SYSTEM, "/proc: %s", strerror(errno));
		}
		while ((de = readdir(dir)) != NULL) {
			int64_t p;

			if (parse_i64(de->d_name, 1, INT32_MAX, &p) != 0 ||
			    !name_matches((pid_t)p, name->s))
				continue;
			if ((why = refused((pid_t)p)) != NULL) {
				nrefused++;
				(void)snprintf(refusal, sizeof(refusal), "%d: %s", (int)p, why);
				continue;
			}
			if (n == KILL_VICTIMS_MAX)
				break;
			if ((r = add_victim(arr, (pid_t)p, eb)) < 0) {
				closedir(dir);
				cJSON_Delete(rec);
				return r;
			}
			n += r == 0;
		}
		closedir(dir);
		if (n == 0) {
			cJSON_Delete(rec);
			if (nrefused > 0)
				return err_set(eb, CE_INVALID, "params.name: every process named "
				    "'%s' is refused (%s)", name->s, refusal);
			return err_set(eb, CE_NOT_FOUND, "params.name: no process is named "
			    "'%s' on this host", name->s);
		}
		/* One victim unless all: the oldest, usually the main process. */
		if (!all->i && n > 1) {
			cJSON *best = NULL, *v;

			cJSON_ArrayForEach(v, arr)
				if (best == NULL || cJSON_GetObjectItemCaseSensitive(v,
				    "start")->valuedouble < cJSON_GetObjectItemCaseSensitive(best,
				    "start")->valuedouble)
					best = v;
			best = cJSON_DetachItemViaPointer(arr, best);
			cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(rec, "victims"));
			arr = cJSON_AddArrayToObject(rec, "victims");
			cJSON_AddItemToArray(arr, best);
		}
		cJSON_AddNumberToObject(rec, "matched", n);
	}
	f->record = rec;
	return 0;
}

static int
kill_commit(struct fault *f, struct errbuf *eb)
{
	cJSON *v;
	int sig = signal_number(fault_req_get(&f->req, "signal")->s), hit = 0;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f->record, "victims")) {
		pid_t pid = (pid_t)cJSON_GetObjectItemCaseSensitive(v, "pid")->valuedouble;
		uint64_t start = (uint64_t)cJSON_GetObjectItemCaseSensitive(v,
		    "start")->valuedouble;
		int r = proc_kill_exact(pid, start, sig);

		cJSON_AddBoolToObject(v, "signalled", r == 0);
		hit += r == 0;
	}
	cJSON_AddNumberToObject(f->record, "signalled", hit);
	if (hit == 0)
		return err_set(eb, CE_NOT_FOUND, "every chosen process exited before it "
		    "could be signalled");
	return 0;
}

/* A signal cannot be taken back. */
static int
kill_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	(void)f;
	(void)record;
	(void)eb;
	return 0;
}

static void
kill_describe(const struct fault *f, cJSON *detail)
{
	cJSON_AddItemToObject(detail, "victims", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "victims"), 1));
}

const struct fault_ops fault_kill_process_ops = {
	.name = "kill-process",
	.prepare = kill_prepare,
	.commit = kill_commit,
	.revert = kill_revert,
	.describe = kill_describe,
};
