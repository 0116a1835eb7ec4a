/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agents.c: the agent URLs a command talks to, from flags, a file or the
 * environment. (The containers on the agents' hosts are cmd_targets.c's.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h"
#include "ctl.h"
#include "../common/err.h"
#include "../common/util.h"

#define URL_MAX 256

void
agents_init(struct agents *al)
{
	memset(al, 0, sizeof(*al));
}

void
agents_release(struct agents *al)
{
	size_t i;

	for (i = 0; i < al->n; i++)
		free(al->urls[i]);
	free(al->urls);
	memset(al, 0, sizeof(*al));
}

int
agents_add(struct agents *al, const char *url)
{
	const char *host;
	char *copy;
	size_t len = strlen(url), i;

	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return ctl_usage_error("agent '%s': must start with http:// or https://",
		    url);
	if (len > URL_MAX)
		return ctl_usage_error("agent '%.64s...': longer than %d characters",
		    url, URL_MAX);
	if (*host == '\0' || *host == '/')
		return ctl_usage_error("agent '%s': no host", url);
	/* A base URL only: the API paths are ours to add. */
	while (len > 0 && url[len - 1] == '/')
		len--;
	for (i = (size_t)(host - url); i < len; i++)
		if (url[i] == '/' || url[i] == '?' || url[i] == '#' || url[i] == ' ' ||
		    url[i] == '@')
			return ctl_usage_error("agent '%s': give only scheme, host and "
			    "port (e.g. http://10.0.1.17:8421)", url);
	for (i = 0; i < al->n; i++)
		if (strlen(al->urls[i]) == len && strncmp(al->urls[i], url, len) == 0)
			return 0;	/* the same agent twice is one target */
	if (al->n == CTL_AGENTS_MAX)
		return ctl_usage_error("more than %d agents", CTL_AGENTS_MAX);
	if (al->n == al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 16;
		char **nu = realloc(al->urls, cap * sizeof(*nu));

		if (nu == NULL)
			return ctl_error(CE_NOMEM, "out of memory");
		al->urls = nu;
		al->cap = cap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	memcpy(copy, url, len);
	copy[len] = '\0';
	al->urls[al->n++] = copy;
	return 0;
}

static int
add_list(struct agents *al, char *list, const char *what)
{
	char *p = list;
	int r;

	while (p != NULL && *p != '\0') {
		char *end = strpbrk(p, ",\n"), *s;

		if (end != NULL)
			*end = '\0';
		s = str_trim(p);
		p = end != NULL ? end + 1 : NULL;
		if (*s == '\0' || *s == '#')
			continue;
		if ((r = agents_add(al, s)) != 0) {
			fprintf(stderr, "chaosctl: (from %s)\n", what);
			return r;
		}
	}
	return 0;
}

int
agents_resolve(struct agents *al, const char *agents_file)
{
	int r;

	if (agents_file != NULL) {
		FILE *f = fopen(agents_file, "re");
		char line[URL_MAX + 64];
		int lineno = 0;

		if (f == NULL)
			return ctl_usage_error("--agents-file: cannot open '%s': %s",
			    agents_file, strerror(errno));
		while (fgets(line, sizeof(line), f) != NULL) {
			char what[300];

			lineno++;
			(void)snprintf(what, sizeof(what), "%s:%d", agents_file, lineno);
			if (strchr(line, '\n') == NULL && !feof(f)) {
				fclose(f);
				return ctl_usage_error("%s: line too long", what);
			}
			if ((r = add_list(al, line, what)) != 0) {
				fclose(f);
				return r;
			}
		}
		fclose(f);
	}
	if (al->n == 0 && getenv("CHAOS_AGENTS") != NULL) {
		char *env = strdup(getenv("CHAOS_AGENTS"));

		if (env == NULL)
			return ctl_error(CE_NOMEM, "out of memory");
		r = add_list(al, env, "CHAOS_AGENTS");
		free(env);
		if (r != 0)
			return r;
	}
	if (al->n == 0)
		return ctl_usage_error("no agents: give --agent URL, --agents-file FILE or "
		    "set CHAOS_AGENTS");
	return 0;
}
