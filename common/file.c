/* SPDX-License-Identifier: Apache-2.0 */
/* file.c: bounded whole-file reads of regular files only (see file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "file.h"

int
file_read(const char *what, const char *path, size_t max, int flags, char **out,
    size_t *len, struct stat *st, struct errbuf *eb)
{
	struct stat sb;
	char *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    ((flags & FILE_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0)
		return err_set(eb, errno == ENOENT ? CE_NOT_FOUND : CE_SYSTEM,
		    "cannot open %s '%s': %s", what, path, errno == ELOOP ?
		    "it is a symbolic link" : strerror(errno));
	if (fstat(fd, &sb) != 0) {
		r = err_set(eb, CE_SYSTEM, "cannot stat %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = err_set(eb, CE_INVALID, "%s '%s' is not a regular file", what, path);
		goto out;
	}
	if ((size_t)sb.st_size > max) {
		r = err_set(eb, CE_TOO_LARGE, "%s '%s' is larger than %zu bytes", what,
		    path, max);
		goto out;
	}
	/* Regular files never block; reading normally is simpler. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((buf = malloc(max + 1)) == NULL) {
		r = err_set(eb, CE_NOMEM, "out of memory reading %s '%s'", what, path);
		goto out;
	}
	/* The size may change while we read: read to the end, bounded. */
	for (;;) {
		n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used > max)
			break;
	}
	if (n < 0) {
		r = err_set(eb, CE_SYSTEM, "cannot read %s '%s': %s", what, path,
		    strerror(errno));
		goto out;
	}
	if (used > max) {
		r = err_set(eb, CE_TOO_LARGE, "%s '%s' is larger than %zu bytes", what,
		    path, max);
		goto out;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	if (st != NULL)
		*st = sb;
	r = 0;
out:
	if (buf != NULL) {
		memset(buf, 0, max + 1);
		free(buf);
	}
	close(fd);
	return r;
}

int
file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
