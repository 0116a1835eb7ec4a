/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpu.c: the burn-cpu fault. One burner process per burned core, pinned to
 * it, holding the requested load with a duty cycle steered by the burner's
 * own CPU time (so the measured load stays close to the request even when
 * the core is shared). Burners are forked held (waiting on a pipe) so their
 * pids are in the state file before any CPU is burned; they die with the
 * agent (PR_SET_PDEATHSIG) and stop by themselves at their absolute
 * deadline, so a burn never outlives its duration even if the agent is
 * frozen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../fault.h"
#include "../../common/caps.h"
#include "../../common/err.h"
#include "../proc.h"
#include "../../common/util.h"
#include "cgroup.h"

#define PERIOD_NS 100000000LL	/* duty-cycle period: 100 ms */
#define NSEC 1000000000LL

struct cpu_priv {
	int gofd;		/* write end of the start pipe, -1 once used */
	int n;
	int alive;
	pid_t pids[CPU_SETSIZE];
};

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/*
 * Hold load percent of one core until deadline_ns (CLOCK_MONOTONIC). Each
 * 100 ms period spins until the burner's cumulative CPU time reaches
 * load% of the wall time elapsed, then sleeps to the period's end. A
 * burner starved by other work owes at most one period, so it does not
 * overshoot for long once the core frees up.
 */
static void
burn(int load, int64_t deadline_ns)
{
	int64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	int64_t k;

	for (k = 1;; k++) {
		int64_t pend = t0 + k * PERIOD_NS, target, now;
		struct timespec ts;

		if (pend > deadline_ns)
			pend = deadline_ns;
		target = (pend - t0) * load / 100;
		/* Forgive debt older than one period. */
		if (target - (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) > PERIOD_NS)
			c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID) - (target - PERIOD_NS);
		while ((now = clock_ns(CLOCK_MONOTONIC)) < pend &&
		    clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0 < target)
			;
		if (now < pend) {
			ts.tv_sec = pend / NSEC;
			ts.tv_nsec = pend % NSEC;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
			    NULL) == EINTR)
				;
		}
		if (pend >= deadline_ns)
			break;
	}
}

/* The body of a burner child; never returns. */
static void __attribute__((noreturn))
burner_main(int gofd, int cpu, int load, int64_t deadline_ns, pid_t parent)
{
	cpu_set_t set;
	sigset_t none;
	char go = 0;

	/* Die with the agent; if it is already gone, do nothing at all. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "chaos-burn");
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (gofd > 3)
		(void)close_range(3, (unsigned)gofd - 1, 0);
	(void)close_range((unsigned)gofd + 1, ~0U, 0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
	/* Burning CPU needs no privilege at all. */
	if (geteuid() == 0 && fault_env.drop) {
		if (caps_drop_bounding(NULL) != 0 ||
		    setgroups(1, &fault_env.gid) != 0 ||
		    setresgid(fault_env.gid, fault_env.gid, fault_env.gid) != 0 ||
		    setresuid(fault_env.uid, fault_env.uid, fault_env.uid) != 0)
			_exit(1);
	}
	/*
	 * Changing credentials clears the parent-death signal (prctl(2)):
	 * set it again as the unprivileged user, then re-check the parent.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* Wait for commit: one 'g' each; EOF means the agent gave up. */
	if (read(gofd, &go, 1) != 1 || go != 'g')
		_exit(0);
	close(gofd);
	burn(load, deadline_ns);
	_exit(0);
}

static void
kill_all(struct cpu_priv *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->pids[i] > 0)
			(void)kill(p->pids[i], SIGKILL);
}

/* Fork one held burner for cpu at load %; cg (or NULL) is its cgroup. */
static int
spawn_burner(struct fault *f, struct cpu_priv *p, int readfd, int cpu, int load,
    const cJSON *cg, const char *container, cJSON *burners, cJSON *cpus,
    struct errbuf *eb)
{
	uint64_t start = 0;
	cpu_set_t mine, one;
	cJSON *b;
	pid_t pid, self = getpid();
	bool pinned;
	int r, forked;

	if (p->n == CPU_SETSIZE)
		return err_set(eb, CE_INVALID, "too many burners");
	/* A dry run plans the burner (its CPU) and starts nothing. */
	if (f->req.dry_run) {
		cJSON_AddItemToArray(cpus, cJSON_CreateNumber(cpu));
		return 0;
	}
	/*
	 * Born on its CPU: a child inherits the affinity mask at fork, so the
	 * burner is pinned before the answer names its pid (it pins itself
	 * again, to no effect). Ours is put back at once.
	 */
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pinned = sched_getaffinity(0, sizeof(mine), &mine) == 0 &&
	    sched_setaffinity(0, sizeof(one), &one) == 0;
	pid = fork();
	if (pid == 0)
		burner_main(readfd, cpu, load, f->deadline_mono * 1000000LL, self);
	forked = errno;
	if (pinned)
		(void)sched_setaffinity(0, sizeof(mine), &mine);
	if (pid < 0)
		return err_set(eb, CE_SYSTEM, "fork: %s", strerror(forked));
	p->pids[p->n++] = pid;
	p->alive++;
	(void)proc_starttime(pid, &start);
	if ((b = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(burners, b) ||
	    cJSON_AddNumberToObject(b, "pid", pid) == NULL ||
	    cJSON_AddNumberToObject(b, "start", (double)start) == NULL ||
	    cJSON_AddNumberToObject(b, "load", load) == NULL ||
	    !cJSON_AddItemToArray(cpus, cJSON_CreateNumber(cpu)))
		return CE_NOMEM;
	if (container != NULL)
		cJSON_AddStringToObject(b, "container", container);
	/* Held burners burn nothing yet: join the container before commit. */
	if (cg != NULL && (r = cgroup_join(cg, pid, eb)) != 0)
		return r;
	return 0;
}

/*
 * Choosing CPUs: burners of every agent on the host are counted per CPU
 * (each is pinned to one), and a burner goes to an allowed CPU holding
 * the fewest, so two 1-core faults, or the faults of many agents on one
 * machine, spread over the cores instead of stacking on CPU 0. Ties go
 * round from a start that differs per agent and per fault.
 */
struct cpu_pick {
	int count[CPU_SETSIZE];
	int start;
};

/* The one CPU of a "Cpus_allowed_list" value, or -1 when it allows more. */
static int
single_cpu(const char *list)
{
	int64_t v;

	return parse_i64(list, 0, CPU_SETSIZE - 1, &v) == 0 ? (int)v : -1;
}

static void
pick_init(struct cpu_pick *cp, int ncpu)
{
	static unsigned faults;
	DIR *d = opendir("/proc");
	struct dirent *de;

	memset(cp, 0, sizeof(*cp));
	cp->start = (int)(((unsigned)getpid() + faults++) % (unsigned)(ncpu > 0 ? ncpu : 1));
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[64], line[256];
		FILE *f;
		bool burner = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%.16s/status", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "Name:\t", 6) == 0)
				burner = strcmp(line + 6, "chaos-burn") == 0;
			else if (burner && strncmp(line, "Cpus_allowed_list:\t", 19) == 0) {
				int c = single_cpu(line + 19);

				if (c >= 0)
					cp->count[c]++;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
}

/* The allowed CPU with the fewest burners; it then counts one more. */
static int
pick(struct cpu_pick *cp, const cpu_set_t *allowed)
{
	int k, best = -1;

	for (k = 0; k < CPU_SETSIZE; k++) {
		int cpu = (cp->start + k) % CPU_SETSIZE;

		if (CPU_ISSET(cpu, allowed) && (best < 0 || cp->count[cpu] < cp->count[best]))
			best = cpu;
	}
	if (best < 0)
		return 0;
	cp->count[best]++;
	return best;
}

/*
 * Load held against a CPU limit: 50 % of a 1.5-CPU limit is 0.75 CPU,
 * spread over ceil(limit) burners (at most navail, and cores when given)
 * at *per % each.
 */
static void
share_of_limit(double limit, int load, int cores, int navail, int *n, int *per)
{
	*n = (int)limit + (limit > (int)limit);
	if (*n > navail)
		*n = navail;
	if (cores > 0 && cores < *n)
		*n = cores;
	*per = (int)(load * limit / *n + 0.5);
	if (*per < 1)
		*per = 1;
	if (*per > 100)
		*per = 100;
}

/*
 * In task mode the host is the task: burners are the agent's children, so
 * in its cgroup, which is the task's. The CPU limit that binds it (its
 * container's, or the task's where the cgroup tree shows it) is what load
 * is a share of, as in a container; 0 when none is visible.
 */
static double
task_cpu_limit(void)
{
	cJSON *cg = cJSON_CreateObject();
	double limit;

	cgroup_read(getpid(), cg);
	limit = cgroup_cpu_limit(cg);
	cJSON_Delete(cg);
	return limit;
}

static int
cpu_prepare(struct fault *f, struct errbuf *eb)
{
	const struct spec_value *load = fault_req_get(&f->req, "load");
	const struct spec_value *cores = fault_req_get(&f->req, "cores");
	struct cpu_priv *p = NULL;
	cJSON *rec = NULL, *burners, *cpus, *conts = NULL;
	struct cpu_pick *cp = NULL;
	cpu_set_t allowed;
	int pipefd[2] = { -1, -1 }, navail, want, i, r;

	/* The agent's own affinity (and so its cgroup's cpuset) bounds the choice. */
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return err_set(eb, CE_SYSTEM, "sched_getaffinity: %s", strerror(errno));
	navail = CPU_COUNT(&allowed);
	want = cores->i == 0 ? navail : (int)cores->i;
	if (want > navail)
		return err_set(eb, CE_INVALID, "params.cores: %d requested but this "
		    "host has %d online (allowed: 0..%d; 0 burns them all)",
		    want, navail, navail);
	if ((p = calloc(1, sizeof(*p))) == NULL || (cp = malloc(sizeof(*cp))) == NULL) {
		free(p);
		return CE_NOMEM;
	}
	p->gofd = -1;
	pick_init(cp, navail);
	if ((rec = cJSON_CreateObject()) == NULL ||
	    (burners = cJSON_AddArrayToObject(rec, "burners")) == NULL ||
	    (cpus = cJSON_AddArrayToObject(rec, "cpus")) == NULL ||
	    (f->targets != NULL && (conts = cJSON_AddArrayToObject(rec, "containers")) == NULL)) {
		r = CE_NOMEM;
		goto fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		r = err_set(eb, CE_SYSTEM, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (f->targets == NULL) {
		double limit = fault_env.task ? task_cpu_limit() : 0;
		int n = want, per = (int)load->i;

		if (limit > 0) {
			cJSON *t = cJSON_AddObjectToObject(rec, "task");

			share_of_limit(limit, (int)load->i, (int)cores->i, navail, &n, &per);
			cJSON_AddNumberToObject(t, "cpu_limit", limit);
			cJSON_AddNumberToObject(t, "burners", n);
			cJSON_AddNumberToObject(t, "load_per_burner", per);
		}
		for (i = 0; i < n; i++)
			if ((r = spawn_burner(f, p, pipefd[0], pick(cp, &allowed), per, NULL,
			    NULL, burners, cpus, eb)) != 0)
				goto fail;
	} else {
		const cJSON *t;

		/*
		 * In a container, load is relative to its CPU limit: 50 % of a
		 * 1.5-CPU limit is 0.75 CPU, spread over ceil(limit) burners.
		 */
		cJSON_ArrayForEach(t, f->targets) {
			const cJSON *cg = cJSON_GetObjectItemCaseSensitive(t, "cgroup");
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t,
			    "id"));
			double limit = cgroup_cpu_limit(cg);
			int n = want, per = (int)load->i;
			cpu_set_t mine;
			cJSON *c;

			if (cg == NULL || id == NULL) {
				r = err_set(eb, CE_UNAVAILABLE, "container %.12s has no cgroup "
				    "(is it running?)", id != NULL ? id : "?");
				goto fail;
			}
			if (limit > 0)
				share_of_limit(limit, (int)load->i, (int)cores->i, navail, &n,
				    &per);
			if ((c = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(conts, c)) {
				cJSON_Delete(c);
				r = CE_NOMEM;
				goto fail;
			}
			cJSON_AddStringToObject(c, "id", id);
			cJSON_AddNumberToObject(c, "cpu_limit", limit);
			cJSON_AddNumberToObject(c, "burners", n);
			cJSON_AddNumberToObject(c, "load_per_burner", per);
			/* Inside the container's own cpuset, when it has one. */
			mine = allowed;
			if (cgroup_cpuset(cg, &mine) == 0) {
				CPU_AND(&mine, &mine, &allowed);
				if (CPU_COUNT(&mine) == 0)
					mine = allowed;
			}
			for (i = 0; i < n; i++)
				if ((r = spawn_burner(f, p, pipefd[0], pick(cp, &mine),
				    per, cg, id, burners, cpus, eb)) != 0)
					goto fail;
		}
	}
	close(pipefd[0]);
	free(cp);
	p->gofd = pipefd[1];
	f->priv = p;
	f->record = rec;
	return 0;
fail:
	free(cp);
	kill_all(p);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	cJSON_Delete(rec);
	free(p);
	return r;
}

static int
cpu_commit(struct fault *f, struct errbuf *eb)
{
	struct cpu_priv *p = f->priv;
	char go[CPU_SETSIZE];
	ssize_t n;

	memset(go, 'g', sizeof(go));
	n = write(p->gofd, go, (size_t)p->n);
	close(p->gofd);
	p->gofd = -1;
	if (n != p->n)
		return err_set(eb, CE_SYSTEM, "starting burners: %s",
		    n < 0 ? strerror(errno) : "short write");
	return 0;
}

static int
cpu_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	const cJSON *b, *burners = cJSON_GetObjectItemCaseSensitive(record, "burners");

	(void)eb;
	if (f != NULL && f->priv != NULL) {
		struct cpu_priv *p = f->priv;

		/* An uncommitted burner sees EOF and exits by itself. */
		if (p->gofd >= 0) {
			close(p->gofd);
			p->gofd = -1;
		}
	}
	/* Only kill a pid that is still the burner we started. */
	cJSON_ArrayForEach(b, burners) {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(b, "pid");
		const cJSON *start = cJSON_GetObjectItemCaseSensitive(b, "start");

		if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(start))
			continue;
		(void)proc_kill_exact((pid_t)pid->valuedouble,
		    (uint64_t)start->valuedouble, SIGKILL);
	}
	return 0;
}

static bool
cpu_child_exited(struct fault *f, pid_t pid, int status, bool *lost)
{
	struct cpu_priv *p = f->priv;
	int i;

	(void)status;
	if (p == NULL)
		return false;
	for (i = 0; i < p->n; i++) {
		if (p->pids[i] == pid) {
			p->pids[i] = -pid;	/* remember, but never signal again */
			if (--p->alive == 0)
				*lost = true;
			return true;
		}
	}
	return false;
}

static void
cpu_describe(const struct fault *f, cJSON *detail)
{
	const cJSON *b;
	cJSON *pids = cJSON_AddArrayToObject(detail, "burner_pids");

	if (f->record == NULL || pids == NULL)
		return;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(f->record, "burners"))
		cJSON_AddItemToArray(pids, cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(b, "pid"), 1));
	cJSON_AddItemToObject(detail, "cpus", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "cpus"), 1));
	if (cJSON_GetObjectItemCaseSensitive(f->record, "task") != NULL)
		cJSON_AddItemToObject(detail, "task", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(f->record, "task"), 1));
}

static void
cpu_release(struct fault *f)
{
	struct cpu_priv *p = f->priv;

	if (p == NULL)
		return;
	if (p->gofd >= 0)
		close(p->gofd);
	free(p);
	f->priv = NULL;
}

const struct fault_ops fault_cpu_ops = {
	.name = "burn-cpu",
	.available = NULL,
	.prepare = cpu_prepare,
	.commit = cpu_commit,
	.revert = cpu_revert,
	.child_exited = cpu_child_exited,
	.describe = cpu_describe,
	.release = cpu_release,
};
