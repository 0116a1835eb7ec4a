/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_config.c: the agent's typed configuration table (agent/config.c):
 * defaults, bounds of every key, the "key = value" file format, its error
 * messages (file and line), the size cap and the cross-key checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/config.h"
#include "../../common/err.h"
#include "../../common/util.h"

static void
t_defaults(void **state)
{
	struct config c;
	struct errbuf eb = { "" };

	(void)state;
	memset(&c, 0x55, sizeof(c));
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8421");
	assert_string_equal(c.key_file, "/etc/chaos-agent/agent.key");
	assert_string_equal(c.state_dir, "/var/lib/chaos-agent");
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.log_level, "info");
	assert_int_equal(c.max_duration, 3600);
	assert_int_equal(c.max_faults, 16);
	assert_int_equal(c.max_body, 16384);
	assert_int_equal(c.conn_limit, 64);
	assert_int_equal(c.per_ip_limit, 16);
	assert_int_equal(c.conn_timeout, 10);
	assert_int_equal(c.auth_window, 30);
	assert_int_equal(c.nonce_cache, 16384);
	assert_int_equal(c.history, 32);
	assert_int_equal(config_check(&c, &eb), 0);
}

static void
t_integer_keys_have_bounds(void **state)
{
#define K(n, lo, hi) { #n, offsetof(struct config, n), lo, hi }
	static const struct {
		const char *key;
		size_t off;
		int64_t min, max;
	} keys[] = {
		K(max_duration, 1, 43200), K(max_faults, 1, 64),
		K(max_body, 256, 65536), K(conn_limit, 1, 1024),
		K(per_ip_limit, 1, 1024), K(conn_timeout, 1, 300),
		K(auth_window, 5, 600), K(nonce_cache, 64, 1048576),
		K(history, 0, 64),
	};
#undef K
	struct config c;
	struct errbuf eb;
	char v[32];
	size_t i;

	(void)state;
	config_defaults(&c);
	for (i = 0; i < NELEM(keys); i++) {
		int64_t *field = (int64_t *)(void *)((char *)&c + keys[i].off), keep;

		(void)snprintf(v, sizeof(v), "%lld", (long long)keys[i].min);
		assert_int_equal(config_set(&c, keys[i].key, v, &eb), 0);
		assert_true(*field == keys[i].min);
		(void)snprintf(v, sizeof(v), "%lld", (long long)keys[i].max);
		assert_int_equal(config_set(&c, keys[i].key, v, &eb), 0);
		assert_true(*field == keys[i].max);
		keep = *field;

		(void)snprintf(v, sizeof(v), "%lld", (long long)keys[i].min - 1);
		eb.msg[0] = '\0';
		assert_int_equal(config_set(&c, keys[i].key, v, &eb), CE_INVALID);
		assert_true(*field == keep);
		if (strstr(eb.msg, keys[i].key) == NULL || strstr(eb.msg, v) == NULL)
			fail_msg("message '%s' should name %s and %s", eb.msg, keys[i].key, v);
		(void)snprintf(v, sizeof(v), "from %lld to %lld", (long long)keys[i].min,
		    (long long)keys[i].max);
		assert_non_null(strstr(eb.msg, v));

		(void)snprintf(v, sizeof(v), "%lld", (long long)keys[i].max + 1);
		assert_int_equal(config_set(&c, keys[i].key, v, &eb), CE_INVALID);
		assert_true(*field == keep);
		assert_int_equal(config_set(&c, keys[i].key, "", &eb), CE_INVALID);
		assert_int_equal(config_set(&c, keys[i].key, "ten", &eb), CE_INVALID);
		assert_int_equal(config_set(&c, keys[i].key, "10s", &eb), CE_INVALID);
		assert_int_equal(config_set(&c, keys[i].key, "0x10", &eb), CE_INVALID);
		assert_true(*field == keep);
	}
}

static void
t_string_keys(void **state)
{
	struct config c;
	struct errbuf eb = { "" };
	char big[CONFIG_STR_MAX + 8];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "listen", "[::1]:9000", &eb), 0);
	assert_string_equal(c.listen, "[::1]:9000");
	assert_int_equal(config_set(&c, "key_file", "/k", &eb), 0);
	assert_string_equal(c.key_file, "/k");
	assert_int_equal(config_set(&c, "state_dir", "/tmp/s", &eb), 0);
	assert_string_equal(c.state_dir, "/tmp/s");
	assert_int_equal(config_set(&c, "user", "chaos", &eb), 0);
	assert_string_equal(c.user, "chaos");
	assert_int_equal(config_set(&c, "listen", "", &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "listen: must not be empty"));
	assert_int_equal(config_set(&c, "user", "", &eb), CE_INVALID);

	memset(big, 'a', sizeof(big));
	big[CONFIG_STR_MAX - 1] = '\0';
	assert_int_equal(config_set(&c, "state_dir", big, &eb), 0);
	assert_int_equal(strlen(c.state_dir), CONFIG_STR_MAX - 1);
	big[CONFIG_STR_MAX - 1] = 'a';
	big[CONFIG_STR_MAX] = '\0';
	assert_int_equal(config_set(&c, "state_dir", big, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "state_dir: longer than 255 bytes"));
	big[64] = '\0';
	assert_int_equal(config_set(&c, "user", big, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "user: longer than 63 bytes"));
	big[63] = '\0';
	assert_int_equal(config_set(&c, "user", big, &eb), 0);
}

static void
t_log_level(void **state)
{
	static const char *const ok[] = { "error", "warn", "info", "debug" };
	struct config c;
	struct errbuf eb = { "" };
	size_t i;

	(void)state;
	config_defaults(&c);
	for (i = 0; i < NELEM(ok); i++) {
		assert_int_equal(config_set(&c, "log_level", ok[i], &eb), 0);
		assert_string_equal(c.log_level, ok[i]);
	}
	assert_int_equal(config_set(&c, "log_level", "verbose", &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "log_level: 'verbose' is not one of"));
	assert_int_equal(config_set(&c, "log_level", "", &eb), CE_INVALID);
	assert_int_equal(config_set(&c, "log_level", "DEBUG ", &eb), CE_INVALID);
	assert_string_equal(c.log_level, "debug");
}

static void
t_unknown_key_is_named(void **state)
{
	struct config c, before;
	struct errbuf eb = { "" };

	(void)state;
	config_defaults(&c);
	before = c;
	assert_int_equal(config_set(&c, "max_fault", "5", &eb), CE_INVALID);
	assert_string_equal(eb.msg, "unknown key 'max_fault'");
	assert_int_equal(config_set(&c, "MAX_FAULTS", "5", &eb), CE_INVALID);
	assert_int_equal(config_set(&c, "", "5", &eb), CE_INVALID);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(config_parse(&c, "# agent\nmax_faults = 4\n\nfrobnicate = yes\n",
	    "/etc/chaos-agent/agent.conf", &eb), CE_INVALID);
	assert_string_equal(eb.msg, "/etc/chaos-agent/agent.conf:4: unknown key 'frobnicate'");
}

static void
t_parse_file_text(void **state)
{
	struct config c;
	struct errbuf eb = { "" };
	const char *text =
	    "# chaos-agent configuration\n"
	    "\n"
	    "listen = 0.0.0.0:8421\n"
	    "   # indented comment\n"
	    "\tmax_faults\t=\t8\t\n"
	    "max_duration=600\r\n"
	    "state_dir = /srv/state   \n"
	    "user = a=b\n"
	    "history = 5\n"
	    "history = 6\n"
	    "log_level = debug";	/* no final newline */

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse(&c, text, "t.conf", &eb), 0);
	assert_string_equal(c.listen, "0.0.0.0:8421");
	assert_int_equal(c.max_faults, 8);
	assert_int_equal(c.max_duration, 600);
	assert_string_equal(c.state_dir, "/srv/state");
	assert_string_equal(c.user, "a=b");
	assert_int_equal(c.history, 6);
	assert_string_equal(c.log_level, "debug");
	/* Untouched keys keep their defaults. */
	assert_int_equal(c.max_body, 16384);
	assert_int_equal(config_parse(&c, "", "empty", &eb), 0);
	assert_int_equal(config_parse(&c, "\n\n# x\n", "blank", &eb), 0);
	assert_int_equal(c.max_faults, 8);
}

static void
t_parse_errors_name_file_and_line(void **state)
{
	struct config c;
	struct errbuf eb = { "" };
	char text[1024];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "listen = x\nmax_faults 5\n", "a.conf", &eb),
	    CE_INVALID);
	assert_string_equal(eb.msg, "a.conf:2: expected 'key = value'");
	assert_int_equal(config_parse(&c, "\n\n\nmax_faults = 65\n", "b.conf", &eb),
	    CE_INVALID);
	assert_non_null(strstr(eb.msg, "b.conf:4: max_faults: '65' is not an integer "
	    "from 1 to 64"));
	assert_int_equal(config_parse(&c, "max_duration = 0\n", "c.conf", &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "c.conf:1: max_duration"));
	assert_int_equal(config_parse(&c, "max_duration = 43201\n", "c.conf", &eb),
	    CE_INVALID);
	assert_int_equal(config_parse(&c, "listen =\n", "d.conf", &eb), CE_INVALID);
	assert_string_equal(eb.msg, "d.conf:1: listen: must not be empty");
	assert_int_equal(config_parse(&c, "= 5\n", "e.conf", &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "e.conf:1: unknown key ''"));
	/* A trailing comment is part of the value, so the number is refused. */
	assert_int_equal(config_parse(&c, "max_faults = 5 # five\n", "f.conf", &eb),
	    CE_INVALID);
	assert_non_null(strstr(eb.msg, "f.conf:1: max_faults"));
	/* Lines longer than the parser's buffer. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "listen = x", 10);
	text[600] = '\n';
	text[601] = '\0';
	assert_int_equal(config_parse(&c, text, "g.conf", &eb), CE_INVALID);
	assert_string_equal(eb.msg, "g.conf:1: line longer than 511 bytes");
	/* The line before the error still applied, the ones after did not. */
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "max_faults = 3\nbogus\nhistory = 1\n", "h", &eb),
	    CE_INVALID);
	assert_int_equal(c.max_faults, 3);
	assert_int_equal(c.history, 32);
	/* A NULL errbuf is allowed. */
	assert_int_equal(config_parse(&c, "bogus = 1\n", "i", NULL), CE_INVALID);
}

static void
t_check_cross_key_rules(void **state)
{
	struct config c;
	struct errbuf eb = { "" };

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "state_dir", "var/lib/chaos", &eb), 0);
	assert_int_equal(config_check(&c, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "state_dir: 'var/lib/chaos' must be an absolute path"));
	config_defaults(&c);
	assert_int_equal(config_set(&c, "auth_window", "600", &eb), 0);
	assert_int_equal(config_set(&c, "nonce_cache", "1199", &eb), 0);
	assert_int_equal(config_check(&c, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "nonce_cache: 1199 is too small for auth_window 600"));
	assert_non_null(strstr(eb.msg, "1200"));
	assert_int_equal(config_set(&c, "nonce_cache", "1200", &eb), 0);
	assert_int_equal(config_check(&c, &eb), 0);
}

/* ---- files */

static int
tmpdir_setup(void **state)
{
	char *dir = malloc(64);

	if (dir == NULL)
		return -1;
	(void)str_copy(dir, 64, "/tmp/test_config.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	char *dir = *state, p[128];

	(void)snprintf(p, sizeof(p), "%s/agent.conf", dir);
	(void)unlink(p);
	(void)rmdir(dir);
	free(dir);
	return 0;
}

static void
write_conf(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void
t_load_file(void **state)
{
	struct config c;
	struct errbuf eb = { "" };
	char path[128], *big;
	const size_t cap = 65536;

	(void)snprintf(path, sizeof(path), "%s/agent.conf", (char *)*state);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, &eb), CE_NOT_FOUND);
	assert_non_null(strstr(eb.msg, path));

	/* A FIFO is refused at once instead of blocking on a writer. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(config_load(&c, path, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "not a regular file"));
	assert_int_equal(unlink(path), 0);

	write_conf(path, "max_faults = 2\nhistory = 0\n", 27);
	assert_int_equal(config_load(&c, path, &eb), 0);
	assert_int_equal(c.max_faults, 2);
	assert_int_equal(c.history, 0);

	write_conf(path, "max_faults = 2\nfoo = 1\n", 23);
	assert_int_equal(config_load(&c, path, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, ":2: unknown key 'foo'"));
	assert_non_null(strstr(eb.msg, path));

	/* Exactly the cap is read whole; one byte more is refused. */
	big = malloc(cap + 1);
	assert_non_null(big);
	memset(big, '\n', cap + 1);
	memcpy(big, "history = 7\n#", 13);
	memcpy(big + cap - 14, "\nmax_faults=9\n", 14);
	write_conf(path, big, cap);
	assert_int_equal(config_load(&c, path, &eb), 0);
	assert_int_equal(c.history, 7);
	assert_int_equal(c.max_faults, 9);
	write_conf(path, big, cap + 1);
	assert_int_equal(config_load(&c, path, &eb), CE_TOO_LARGE);
	assert_non_null(strstr(eb.msg, "larger than 65536 bytes"));
	free(big);
}

/* config_print writes a file that config_parse reads back to the same config. */
static void
t_print_round_trips(void **state)
{
	struct config a, b;
	struct errbuf eb = { "" };
	char text[4096];
	ssize_t n;
	size_t used = 0;
	int fds[2], saved;

	(void)state;
	config_defaults(&a);
	assert_int_equal(config_parse(&a, "listen = [::]:1\nmax_faults = 3\nhistory = 0\n"
	    "log_level = warn\n", "x", &eb), 0);
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDOUT_FILENO) >= 0);
	config_print(&a);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	close(fds[1]);
	while ((n = read(fds[0], text + used, sizeof(text) - 1 - used)) > 0)
		used += (size_t)n;
	close(fds[0]);
	text[used] = '\0';
	assert_non_null(strstr(text, "max_faults = 3\n"));
	assert_non_null(strstr(text, "listen = [::]:1\n"));
	memset(&b, 0, sizeof(b));
	config_defaults(&b);
	assert_int_equal(config_parse(&b, text, "printed", &eb), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_defaults),
		cmocka_unit_test(t_integer_keys_have_bounds),
		cmocka_unit_test(t_string_keys),
		cmocka_unit_test(t_log_level),
		cmocka_unit_test(t_unknown_key_is_named),
		cmocka_unit_test(t_parse_file_text),
		cmocka_unit_test(t_parse_errors_name_file_and_line),
		cmocka_unit_test(t_check_cross_key_rules),
		cmocka_unit_test_setup_teardown(t_load_file, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(t_print_round_trips),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
