/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h: what every fuzz target shares. Each tests/fuzz/fuzz_<t>.c defines
 * the libFuzzer entry point; `make fuzz` links it with libFuzzer, and
 * tests/fuzz/replay.c replays a corpus through it in ordinary builds.
 * A target calls abort() when an invariant of the code under test breaks,
 * so a wrong result is a finding just like a crash.
 */
#ifndef CHAOS_TEST_FUZZ_H
#define CHAOS_TEST_FUZZ_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (embedded NULs end it early). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* abort() with a message when cond is false. */
#define FUZZ_CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
			    __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

#endif
