/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.c: process identity from /proc/<pid>/stat, for the backends that
 * signal processes they recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/err.h"
#include "proc.h"

int
proc_starttime(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024], *p, *end;
	ssize_t n;
	int fd, field;
	unsigned long long v;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return CE_NOT_FOUND;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return CE_NOT_FOUND;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return CE_NOT_FOUND;
	p++;
	/* p points at the blank before field 3 (state); walk to field 22. */
	for (field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL)
		return CE_NOT_FOUND;
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno != 0 || end == p + 1)
		return CE_NOT_FOUND;
	*out = v;
	return 0;
}

int
proc_kill_exact(pid_t pid, uint64_t starttime, int sig)
{
	uint64_t now;

	if (pid <= 1)
		return CE_INVALID;
	if (proc_starttime(pid, &now) != 0 || now != starttime)
		return CE_NOT_FOUND;
	if (kill(pid, sig) != 0)
		return errno == ESRCH ? CE_NOT_FOUND : CE_SYSTEM;
	return 0;
}
