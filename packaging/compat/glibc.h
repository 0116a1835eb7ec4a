/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glibc.h: forced into every translation unit of the portable package
 * build (packaging/build-in-root.sh), which compiles against Debian 11's
 * glibc 2.31 so the binaries run on every glibc >= 2.31 (Amazon Linux 2023
 * has 2.34). It supplies what the code uses from newer glibc: sigabbrev_np
 * (glibc 2.32), close_range (glibc 2.34; the system call is in Linux 5.9)
 * and arc4random_uniform
 * (glibc 2.36; made from getrandom(2), in glibc since 2.25). On a newer
 * glibc it adds nothing.
 */
#ifndef CHAOS_COMPAT_GLIBC_H
#define CHAOS_COMPAT_GLIBC_H

#include <features.h>

#if !__GLIBC_PREREQ(2, 32)
#include <signal.h>

/* "KILL" for SIGKILL, ...; NULL for a number that names no signal. */
static inline const char *
chaos_compat_sigabbrev_np(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT",
		[SIGILL] = "ILL", [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",
		[SIGBUS] = "BUS", [SIGFPE] = "FPE", [SIGKILL] = "KILL",
		[SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
		[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM",
		[SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",
		[SIGSTOP] = "STOP", [SIGTSTP] = "TSTP", [SIGTTIN] = "TTIN",
		[SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
		[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",
		[SIGWINCH] = "WINCH", [SIGIO] = "IO", [SIGPWR] = "PWR",
		[SIGSYS] = "SYS",
	};

	if (sig <= 0 || (unsigned int)sig >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[sig];
}
#define sigabbrev_np chaos_compat_sigabbrev_np
#endif

#if !__GLIBC_PREREQ(2, 34)
#include <sys/syscall.h>
#include <unistd.h>

/* The system call itself; callers handle ENOSYS on kernels before 5.9. */
static inline int
chaos_compat_close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)syscall(__NR_close_range, first, last, flags);
}
#define close_range chaos_compat_close_range
#endif

#if !__GLIBC_PREREQ(2, 36)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

/*
 * A uniformly distributed number below bound (0 when bound < 2), drawn
 * with rejection so that no residue is favoured. getrandom never fails
 * on a kernel that has it (>= 3.17) once the pool is initialised; if it
 * does, there is no safe fallback, so the process aborts.
 */
static inline uint32_t
chaos_compat_arc4random_uniform(uint32_t bound)
{
	uint32_t floor_ok, r;

	if (bound < 2)
		return 0;
	/* 2^32 mod bound: values below it would favour small residues. */
	floor_ok = (uint32_t)(-bound) % bound;
	for (;;) {
		ssize_t n = getrandom(&r, sizeof(r), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			abort();
		if (r >= floor_ok)
			return r % bound;
	}
}
#define arc4random_uniform chaos_compat_arc4random_uniform
#endif

#endif
