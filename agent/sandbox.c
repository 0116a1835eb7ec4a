/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox.c: privilege drop and the worker's seccomp allow-list.
 *
 * The worker serves HTTP on a listening socket it inherited, talks to the
 * parent over an inherited socketpair and writes logs to an inherited
 * stderr. It never opens a file, creates a socket, executes a program or
 * maps executable memory, so none of that is on the list. The default
 * action kills the whole process (SCMP_ACT_KILL_PROCESS); a build with
 * -DCHAOS_SANDBOX_DEBUG traps instead and logs the offending syscall.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"
#include "../common/caps.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"

static const int allowed[] = {
	/* I/O on descriptors already open */
	SCMP_SYS(close),
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	/* Network, on the inherited listening socket and the parent link */
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(getpeername),
	SCMP_SYS(getsockname),
	SCMP_SYS(getsockopt),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(shutdown),	/* also how the worker cuts slow clients */
	/* Event loop */
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_pwait),
#ifdef __NR_epoll_wait
	SCMP_SYS(epoll_wait),
#endif
#ifdef __NR_poll
	SCMP_SYS(poll),
#endif
	SCMP_SYS(ppoll),
	/* Memory: never executable (see the argument rules below) */
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(mremap),
	SCMP_SYS(munmap),
	/* Time */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep),
	/* Process */
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(futex),
	SCMP_SYS(getpid),
	SCMP_SYS(getrandom),	/* fault ids (random_bytes) */
	SCMP_SYS(gettid),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sched_yield),
};

/*
 * setsockopt, only for what libmicrohttpd sets on accepted connections:
 * Nagle and corking around responses, and linger when it resets one.
 */
static const struct {
	int level, name;
} sockopts[] = {
	{ IPPROTO_TCP, TCP_NODELAY },
	{ IPPROTO_TCP, TCP_CORK },
	{ SOL_SOCKET, SO_LINGER },
};

/* fcntl commands MHD uses to make accepted sockets non-blocking. */
static const int fcntls[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL };

#ifdef CHAOS_SANDBOX_DEBUG
static void
sigsys_handler(int sig, siginfo_t *info, void *ctx)
{
	char msg[80];
	int n;

	(void)sig;
	(void)ctx;
	n = snprintf(msg, sizeof(msg), "sandbox: blocked syscall %d\n",
	    info->si_syscall);
	(void)!write(STDERR_FILENO, msg, (size_t)n);
	_exit(99);
}
#endif

void
sandbox_drop(bool drop, uid_t uid, gid_t gid)
{
	if (drop) {
		struct errbuf eb = { "" };

		/* Nothing the worker could ever run may regain a capability. */
		if (caps_drop_bounding(&eb) != 0)
			fatalx("%s", eb.msg);
		if (setgroups(1, &gid) != 0)
			fatal("setgroups");
		if (setresgid(gid, gid, gid) != 0)
			fatal("setresgid %u", (unsigned)gid);
		if (setresuid(uid, uid, uid) != 0)
			fatal("setresuid %u", (unsigned)uid);
		/* Verify: regaining root must fail, and every id must be the new one. */
		if (uid != 0 && (setresuid(0, 0, 0) == 0 || seteuid(0) == 0))
			fatalx("privilege drop did not stick: could regain uid 0");
		if (getuid() != uid || geteuid() != uid || getgid() != gid ||
		    getegid() != gid)
			fatalx("privilege drop did not stick: ids are %u/%u %u/%u",
			    (unsigned)getuid(), (unsigned)geteuid(),
			    (unsigned)getgid(), (unsigned)getegid());
	}
	/* No core dumps and no ptrace by a same-uid process. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
}

void
sandbox_enter(void)
{
	scmp_filter_ctx ctx;
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	size_t i;
	int rc = 0;

#ifdef CHAOS_SANDBOX_DEBUG
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		fatal("sigaction(SIGSYS)");
	deflt = SCMP_ACT_TRAP;
	log_warnx("sandbox debug build: blocked syscalls trap instead of killing");
#endif
	/* libseccomp checks the architecture first and kills on a mismatch. */
	if ((ctx = seccomp_init(deflt)) == NULL)
		fatalx("seccomp_init failed");
	for (i = 0; i < NELEM(allowed) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (i = 0; i < NELEM(fcntls) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntls[i]));
	for (i = 0; i < NELEM(sockopts) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)sockopts[i].level),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)sockopts[i].name));
	/* abort() on a failed assertion signals this process, and only it. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* Memory may be mapped and protected, never executable. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc != 0)
		goto add_failed;
	if ((rc = seccomp_load(ctx)) != 0)
		fatalx("seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	return;
add_failed:
	fatalx("seccomp_rule_add: %s", strerror(-rc));
}
