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
 * Add one agent base URL ("http://host:port"); the same agent twice is
 * one. Returns 0, or an exit code (reported): EXIT_USAGE naming the URL
 * and what is wrong with it, EXIT_INTERNAL when memory ran out.
 */
int agents_add(struct agents *al, const char *url);

/*
 * Complete the list: the agents file (if given), then CHAOS_AGENTS when no
 * agent was named at all. Returns 0 or an exit code (reported): EXIT_USAGE
 * for no agents or a bad file or URL, EXIT_INTERNAL when memory ran out.
 */
int agents_resolve(struct agents *al, const char *agents_file);

/* Free the URLs and leave the list empty. */
void agents_release(struct agents *al);

#endif
