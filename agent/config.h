/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h: the agent's configuration, a typed table of keys with bounds
 * and defaults. The file format is "key = value" lines with '#' comments;
 * unknown keys and out-of-range values are errors naming file and line.
 * Command-line options override file values through the same table.
 */
#ifndef CHAOS_AGENT_CONFIG_H
#define CHAOS_AGENT_CONFIG_H

#include <stdint.h>

struct errbuf;

#define CONFIG_STR_MAX 256

struct config {
	char mode[8];				/* "host", or "task" for an ECS task's sidecar */
	char listen[CONFIG_STR_MAX];		/* "addr:port", "[v6]:port" */
	char key_file[CONFIG_STR_MAX];
	char key_env[64];			/* or the key file's text in this variable */
	char state_dir[CONFIG_STR_MAX];
	char user[64];				/* unprivileged user for the worker */
	char log_level[16];
	int64_t max_duration;			/* seconds */
	int64_t max_faults;			/* concurrent active faults */
	int64_t max_body;			/* bytes */
	int64_t conn_limit;
	int64_t per_ip_limit;
	int64_t conn_timeout;			/* seconds */
	int64_t request_timeout;		/* seconds, whole request */
	int64_t auth_window;			/* seconds of clock skew allowed */
	int64_t nonce_cache;			/* entries */
	int64_t history;			/* ended faults kept for GET */
	char docker_socket[CONFIG_STR_MAX];	/* Docker Engine API unix socket */
	int64_t docker_timeout;			/* seconds, one Docker API call */
};

/* Fill cfg with every default. */
void config_defaults(struct config *cfg);

/*
 * Set one key from its text value, as the file or a command-line option
 * would. Returns 0 or CE_INVALID with a message naming the key, the
 * reason and what is allowed.
 */
int config_set(struct config *cfg, const char *key, const char *value, struct errbuf *eb);

/*
 * Parse configuration text (the contents of a file named name, used in
 * messages) into cfg. Returns 0 or CE_INVALID with "name:line: ..." in eb.
 */
int config_parse(struct config *cfg, const char *text, const char *name, struct errbuf *eb);

/* Read and parse a configuration file (at most 64 KiB). */
int config_load(struct config *cfg, const char *path, struct errbuf *eb);

/* Check cross-key constraints after all sources are applied. */
int config_check(const struct config *cfg, struct errbuf *eb);

/* Write the effective configuration as "key = value" lines to stdout. */
void config_print(const struct config *cfg);

#endif
