/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_config.c: the agent's configuration parser (agent/config.c) over
 * arbitrary file text. Whatever it accepts must lie within the bounds of
 * the table, and every refusal must name the file and line.
 */
#include <stdbool.h>
#include <stddef.h>

#include "fuzz.h"
#include "../../agent/config.h"
#include "../../common/err.h"

static void
check_config(const struct config *c)
{
	static const struct {
		size_t off;
		int64_t min, max;
	} ints[] = {
#define B(n, lo, hi) { offsetof(struct config, n), lo, hi }
		B(max_duration, 1, 43200), B(max_faults, 1, 64), B(max_body, 256, 65536),
		B(conn_limit, 1, 1024), B(per_ip_limit, 1, 1024), B(conn_timeout, 1, 300),
		B(auth_window, 5, 600), B(nonce_cache, 64, 1048576), B(history, 0, 64),
#undef B
	};
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	size_t i;
	bool level_ok = false;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		int64_t v;

		memcpy(&v, (const char *)c + ints[i].off, sizeof(v));
		FUZZ_CHECK(v >= ints[i].min && v <= ints[i].max);
	}
	FUZZ_CHECK(strnlen(c->listen, sizeof(c->listen)) < sizeof(c->listen));
	FUZZ_CHECK(strnlen(c->key_file, sizeof(c->key_file)) < sizeof(c->key_file));
	FUZZ_CHECK(strnlen(c->state_dir, sizeof(c->state_dir)) < sizeof(c->state_dir));
	FUZZ_CHECK(strnlen(c->user, sizeof(c->user)) < sizeof(c->user));
	FUZZ_CHECK(c->listen[0] != '\0' && c->key_file[0] != '\0' &&
	    c->state_dir[0] != '\0' && c->user[0] != '\0');
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(c->log_level, levels[i]) == 0)
			level_ok = true;
	FUZZ_CHECK(level_ok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct config c;
	struct errbuf eb = { "" };
	int r;

	config_defaults(&c);
	r = config_parse(&c, text, "fuzz.conf", &eb);
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r == 0) {
		check_config(&c);
		r = config_check(&c, &eb);
		FUZZ_CHECK(r == 0 || r == CE_INVALID);
	} else {
		FUZZ_CHECK(strncmp(eb.msg, "fuzz.conf:", 10) == 0);
	}
	free(text);
	return 0;
}
