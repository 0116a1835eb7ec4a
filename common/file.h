/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file.h: the one way the kit reads a whole small file (configuration,
 * keys, state, experiment files). It refuses anything but a regular file
 * before reading a byte: a FIFO or a device given as a key file would
 * otherwise block the program forever, or feed it without end.
 */
#ifndef CHAOS_FILE_H
#define CHAOS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct errbuf;

#define FILE_NOFOLLOW 0x1	/* refuse a symbolic link as the last component */

/*
 * Read path (what names it in messages: "key file") into a new
 * NUL-terminated buffer (*out, caller frees; wipe it first if it held a
 * secret) of *len bytes. The file is opened without
 * blocking and checked to be a regular file of at most max bytes; st (may
 * be NULL) gets its status for further checks (owner, mode). Returns 0,
 * or CE_NOT_FOUND (no such file), CE_INVALID (not a regular file),
 * CE_TOO_LARGE, CE_NOMEM or CE_SYSTEM, with eb naming the path.
 */
int file_read(const char *what, const char *path, size_t max, int flags, char **out,
    size_t *len, struct stat *st, struct errbuf *eb);

/* Write all of buf to fd, retrying short writes. Returns 0, or -1 (errno set). */
int file_write_all(int fd, const void *buf, size_t len);

#endif
