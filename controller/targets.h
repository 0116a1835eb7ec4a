/* SPDX-License-Identifier: Apache-2.0 */
/*
 * targets.h: which agents a command talks to: --agent URLs, an agents
 * file, or CHAOS_AGENTS, deduplicated and validated.
 */
#ifndef CHAOS_CTL_TARGETS_H
#define CHAOS_CTL_TARGETS_H

#include <stddef.h>

struct targets {
	char **urls;
	size_t n, cap;
};

void targets_init(struct targets *t);

/*
 * Add one agent base URL ("http://host:port"). Returns 0 or EXIT_USAGE
 * with a message naming the URL and what is wrong with it.
 */
int targets_add(struct targets *t, const char *url);

/*
 * Complete the list: the agents file (if given), then CHAOS_AGENTS when no
 * agent was named at all. Returns 0 or EXIT_USAGE (no targets, bad file).
 */
int targets_resolve(struct targets *t, const char *agents_file);

void targets_release(struct targets *t);

#endif
