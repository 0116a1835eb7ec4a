/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: the agent's typed configuration table and its parser. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/log.h"
#include "../common/util.h"

#define CONFIG_FILE_MAX 65536

enum cfg_type { CFG_INT, CFG_STR, CFG_LEVEL, CFG_MODE };

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t size;		/* CFG_STR: buffer size */
	int64_t min, max;	/* CFG_INT bounds */
	int64_t def;
	const char *def_str;
	const char *help;
};

#define INT_KEY(n, lo, hi, d, h) \
	{ #n, CFG_INT, offsetof(struct config, n), 0, lo, hi, d, NULL, h }
#define STR_KEY(n, d, h) \
	{ #n, CFG_STR, offsetof(struct config, n), \
	  sizeof(((struct config *)0)->n), 0, 0, 0, d, h }

static const struct cfg_key keys[] = {
	{ "mode", CFG_MODE, offsetof(struct config, mode), sizeof(((struct config *)0)->mode),
	  0, 0, 0, "host", "host (an agent per container instance) or task (a sidecar in "
	  "an ECS task)" },
	STR_KEY(listen, "127.0.0.1:8421", "address:port to listen on"),
	STR_KEY(key_file, "/etc/chaos-agent/agent.key", "HMAC key file"),
	STR_KEY(key_env, "", "environment variable holding the key file's text, read "
	    "instead of key_file and wiped (a container's secret)"),
	STR_KEY(state_dir, "/var/lib/chaos-agent", "where the state file lives"),
	STR_KEY(user, "nobody", "unprivileged user for the HTTP worker and stressors"),
	{ "log_level", CFG_LEVEL, offsetof(struct config, log_level),
	  sizeof(((struct config *)0)->log_level), 0, 0, 0, "info",
	  "error, warn, info or debug" },
	INT_KEY(max_duration, 1, 43200, 3600, "longest fault in seconds"),
	INT_KEY(max_faults, 1, 64, 16, "concurrent active faults"),
	INT_KEY(max_body, 256, 65536, 16384, "largest request body in bytes"),
	INT_KEY(conn_limit, 1, 1024, 64, "concurrent HTTP connections"),
	INT_KEY(per_ip_limit, 1, 1024, 16, "concurrent HTTP connections per client address"),
	INT_KEY(conn_timeout, 1, 300, 10, "idle HTTP connection timeout in seconds"),
	INT_KEY(request_timeout, 1, 300, 5,
	    "seconds a client has to send a whole request (headers and body)"),
	INT_KEY(auth_window, 5, 600, 30, "allowed clock skew of signed requests in seconds"),
	INT_KEY(nonce_cache, 64, 1048576, 16384, "nonces remembered against replay"),
	INT_KEY(history, 0, 64, 32, "ended faults kept for listing"),
	STR_KEY(docker_socket, "/var/run/docker.sock", "Docker Engine API unix socket"),
	INT_KEY(docker_timeout, 1, 300, 30, "bound of one Docker API call in seconds"),
};

void
config_defaults(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NELEM(keys); i++) {
		char *base = (char *)cfg + keys[i].off;

		if (keys[i].type == CFG_INT)
			*(int64_t *)(void *)base = keys[i].def;
		else
			(void)str_copy(base, keys[i].size, keys[i].def_str);
	}
}

int
config_set(struct config *cfg, const char *key, const char *value, struct errbuf *eb)
{
	size_t i;
	int64_t v;

	for (i = 0; i < NELEM(keys); i++)
		if (strcmp(keys[i].name, key) == 0)
			break;
	if (i == NELEM(keys))
		return err_set(eb, CE_INVALID, "unknown key '%.64s'", key);
	switch (keys[i].type) {
	case CFG_INT:
		if (parse_i64(value, keys[i].min, keys[i].max, &v) != 0)
			return err_set(eb, CE_INVALID, "%s: '%.64s' is not an integer "
			    "from %lld to %lld (%s)", key, value,
			    (long long)keys[i].min, (long long)keys[i].max,
			    keys[i].help);
		*(int64_t *)(void *)((char *)cfg + keys[i].off) = v;
		break;
	case CFG_LEVEL:
		if (log_level_parse(value) < 0)
			return err_set(eb, CE_INVALID, "%s: '%.64s' is not one of "
			    "error, warn, info, debug", key, value);
		/* FALLTHROUGH */
	case CFG_MODE:
		if (keys[i].type == CFG_MODE && strcmp(value, "host") != 0 &&
		    strcmp(value, "task") != 0)
			return err_set(eb, CE_INVALID, "%s: '%.64s' is not host or task (%s)",
			    key, value, keys[i].help);
		/* FALLTHROUGH */
	case CFG_STR:
		/* An optional key (empty by default) may be set back to empty. */
		if (value[0] == '\0' && keys[i].def_str[0] != '\0')
			return err_set(eb, CE_INVALID, "%s: must not be empty", key);
		if (str_copy((char *)cfg + keys[i].off, keys[i].size, value) != 0)
			return err_set(eb, CE_INVALID, "%s: longer than %zu bytes", key,
			    keys[i].size - 1);
		break;
	}
	return 0;
}

int
config_parse(struct config *cfg, const char *text, const char *name, struct errbuf *eb)
{
	const char *line = text;
	int lineno = 0, r;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char buf[512], *eq, *k, *v;

		lineno++;
		if (len >= sizeof(buf))
			return err_set(eb, CE_INVALID, "%s:%d: line longer than %zu bytes",
			    name, lineno, sizeof(buf) - 1);
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl != NULL ? nl + 1 : NULL;
		k = str_trim(buf);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			return err_set(eb, CE_INVALID, "%s:%d: expected 'key = value'",
			    name, lineno);
		*eq = '\0';
		v = str_trim(eq + 1);
		k = str_trim(k);
		if ((r = config_set(cfg, k, v, eb)) != 0) {
			char inner[ERRBUF_MAX];

			(void)str_copy(inner, sizeof(inner), eb != NULL ? eb->msg : "");
			return err_set(eb, r, "%s:%d: %s", name, lineno, inner);
		}
	}
	return 0;
}

int
config_load(struct config *cfg, const char *path, struct errbuf *eb)
{
	char *text = NULL;
	size_t len;
	int r;

	if ((r = file_read("configuration", path, CONFIG_FILE_MAX, 0, &text, &len, NULL,
	    eb)) != 0)
		return r;
	if (memchr(text, '\0', len) != NULL)
		r = err_set(eb, CE_INVALID, "configuration '%s' is not a text file", path);
	else
		r = config_parse(cfg, text, path, eb);
	free(text);
	return r;
}

int
config_check(const struct config *cfg, struct errbuf *eb)
{
	if (cfg->key_env[0] != '\0' && (!str_charset_ok(cfg->key_env, "_") ||
	    (cfg->key_env[0] >= '0' && cfg->key_env[0] <= '9')))
		return err_set(eb, CE_INVALID, "key_env: '%s' is not an environment variable "
		    "name ([A-Za-z_][A-Za-z0-9_]*)", cfg->key_env);
	if (cfg->state_dir[0] != '/')
		return err_set(eb, CE_INVALID, "state_dir: '%s' must be an absolute path",
		    cfg->state_dir);
	if (cfg->nonce_cache < 2 * cfg->auth_window)
		return err_set(eb, CE_INVALID, "nonce_cache: %lld is too small for "
		    "auth_window %lld (need at least %lld)", (long long)cfg->nonce_cache,
		    (long long)cfg->auth_window, (long long)(2 * cfg->auth_window));
	return 0;
}

void
config_print(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		const char *base = (const char *)cfg + keys[i].off;

		if (keys[i].type == CFG_INT)
			printf("%s = %lld\n", keys[i].name,
			    (long long)*(const int64_t *)(const void *)base);
		else
			printf("%s = %s\n", keys[i].name, base);
	}
}
