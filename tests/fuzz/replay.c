/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay.c: run LLVMFuzzerTestOneInput over files, for builds without
 * libFuzzer (tests/run-replay.sh). Each file is passed in a buffer of
 * exactly its size, so the sanitizers see any read past the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX (16 * 1024 * 1024)

static int
replay_one(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: not a regular file of at most %d bytes\n",
		    path, REPLAY_MAX);
		goto out;
	}
	/* malloc(0) may return NULL: allocate at least one byte. */
	if ((buf = malloc((size_t)st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL)
		goto out;
	while (used < (size_t)st.st_size &&
	    (n = read(fd, buf + used, (size_t)st.st_size - used)) > 0)
		used += (size_t)n;
	if (used != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	(void)LLVMFuzzerTestOneInput(buf, used);
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int
main(int argc, char **argv)
{
	int i, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay_one(argv[i]) != 0)
			failed++;
	return failed > 0 ? 1 : 0;
}
