/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agents.h: which agents a command talks to: --agent URLs, an agents
 * file, or CHAOS_AGENTS, deduplicated and validated.
 */
#ifndef CHAOS_CTL_AGENTS_H
#define CHAOS_CTL_AGENTS_H

#include <stddef.h>

struct agents {
	char **urls;		/* base URLs, owned */
	size_t n, cap;
};

/* Start an empty list. */
void agents_init(struct agents *al);

/*
 * Add one agent base URL ("http://host:port"). Returns 0 or EXIT_USAGE
 * with a message naming the URL and what is wrong with it.
 */
int agents_add(struct agents *al, const char *url);

/*
 * Complete the list: the agents file (if given), then CHAOS_AGENTS when no
 * agent was named at all. Returns 0 or EXIT_USAGE (no targets, bad file).
 */
int agents_resolve(struct agents *al, const char *agents_file);

/* Free the URLs and leave the list empty. */
void agents_release(struct agents *al);

#endif
