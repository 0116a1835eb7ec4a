/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run_conf.c: the chaos command line of a run, from its INI configuration
 * (the original start-chaos.py format): one section per context, each
 * falling back to [DEFAULT]. Paths in it are relative to its directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ini.h"
#include "run.h"
#include "../common/err.h"
#include "../common/util.h"

/* The keys a configuration may hold, in the order --help lists them. */
static const char *const known_keys[] = {
	"experiment_path", "rollback_strategy", "hypothesis_strategy",
	"hypothesis_frequency", "fail_fast", "var_files", "var_overrides",
};

/* Append a copy of s to chaos's argv. */
static int
add(struct run *r, const char *s)
{
	char *d;

	if (r->argc >= RUN_ARGS_MAX - 1)
		return ctl_usage_error("run: more than %d arguments for chaos", RUN_ARGS_MAX - 1);
	if ((d = strdup(s)) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	r->argv[r->argc++] = d;
	r->argv[r->argc] = NULL;
	return 0;
}

/* An option and its value. */
static int
add2(struct run *r, const char *opt, const char *value)
{
	int rc;

	if ((rc = add(r, opt)) != 0)
		return rc;
	return add(r, value);
}

void
run_conf_release(struct run *r)
{
	int i;

	for (i = 0; i < r->argc; i++)
		free(r->argv[i]);
	r->argc = 0;
	r->argv[0] = NULL;
}

/* configparser's booleans. Returns false when s is none of them. */
static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < NELEM(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return (*out = true);
	for (i = 0; i < NELEM(no); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	return false;
}

/* Every key of every section must be one we know; the message lists them. */
static int
check_keys(const struct ini *ini)
{
	const struct ini_section *s;
	const struct ini_kv *kv;
	char allowed[256] = "";
	size_t k, used = 0;

	for (s = ini->sections; s != NULL; s = s->next)
		for (kv = s->kvs; kv != NULL; kv = kv->next) {
			for (k = 0; k < NELEM(known_keys); k++)
				if (strcmp(kv->key, known_keys[k]) == 0)
					break;
			if (k < NELEM(known_keys))
				continue;
			for (k = 0; k < NELEM(known_keys); k++)
				used += (size_t)snprintf(allowed + used, sizeof(allowed) - used,
				    "%s%s", k > 0 ? ", " : "", known_keys[k]);
			return ctl_usage_error("%s:%d: unknown key '%s' (allowed: %s)", ini->file,
			    kv->line, kv->key, allowed);
		}
	return 0;
}

/* rel, relative to the conf directory, made absolute into out; must be a file. */
static int
conf_path(const struct run *r, const char *rel, const char *what, const struct ini *ini,
    int line, char *out, size_t len)
{
	struct stat st;

	if (rel[0] == '/')
		(void)str_copy(out, len, rel);
	else if (snprintf(out, len, "%s/%s", r->confdir, rel) >= (int)len)
		return ctl_usage_error("%s:%d: %s path too long", ini->file, line, what);
	if (stat(out, &st) != 0 || !S_ISREG(st.st_mode))
		return ctl_usage_error("%s:%d: %s '%s' not found (looked for %s)", ini->file,
		    line, what, rel, out);
	return 0;
}

/*
 * The run's directory: <runs>/<UTC time>_<context>, with -2, -3, ... when
 * a run of the same second has it already. runs_dir is relative to the
 * caller's directory; it defaults to <conf dir>/runs.
 */
static int
run_dir(struct run *r, const char *ctx, const char *runs_dir)
{
	char base[PATH_MAX], stamp[32], cwd[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	(void)gmtime_r(&now, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	if (runs_dir != NULL && runs_dir[0] == '/') {
		(void)snprintf(base, sizeof(base), "%s", runs_dir);
	} else if (runs_dir != NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return ctl_error(CE_SYSTEM, "run: getcwd: %s", strerror(errno));
		if (snprintf(base, sizeof(base), "%s/%s", cwd, runs_dir) >= (int)sizeof(base))
			return ctl_usage_error("run: --runs-dir: path too long");
	} else if (snprintf(base, sizeof(base), "%s/runs", r->confdir) >= (int)sizeof(base)) {
		return ctl_usage_error("run: path too long");
	}
	for (i = 1; i < 100; i++) {
		struct stat st;

		(void)snprintf(r->rundir, sizeof(r->rundir), i == 1 ? "%s/%s_%s" : "%s/%s_%s-%d",
		    base, stamp, ctx != NULL ? ctx : "default", i);
		if (stat(r->rundir, &st) != 0)
			break;
	}
	return 0;
}

/* The program, then where its log and journal go, as chaos wants them. */
static int
add_chaos(struct run *r, const char *chaos, bool verbose)
{
	char buf[PATH_MAX], cwd[PATH_MAX];
	int rc;

	/* chaos runs in the conf's directory: a relative --chaos is ours. */
	if (chaos[0] != '/' && strchr(chaos, '/') != NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(buf, sizeof(buf), "%s/%s", cwd, chaos) >= (int)sizeof(buf))
			return ctl_usage_error("run: --chaos: path too long");
		chaos = buf;
	}
	if ((rc = add(r, chaos)) != 0)
		return rc;
	if (verbose && (rc = add(r, "--verbose")) != 0)
		return rc;
	if (snprintf(buf, sizeof(buf), "%s/chaostoolkit.log", r->rundir) >= (int)sizeof(buf))
		return ctl_usage_error("run: run directory path too long");
	if ((rc = add(r, "--no-version-check")) || (rc = add2(r, "--log-file", buf)) ||
	    (rc = add(r, "run")))
		return rc;
	if (snprintf(buf, sizeof(buf), "%s/journal.json", r->rundir) >= (int)sizeof(buf))
		return ctl_usage_error("run: run directory path too long");
	return add2(r, "--journal-path", buf);
}

/* The strategies and fail_fast, each when the configuration sets it. */
static int
add_strategies(struct run *r, const struct ini *ini, const char *ctx)
{
	const struct ini_kv *kv;
	bool ff = false;
	int rc;

	kv = ini_get(ini, ctx, "rollback_strategy");
	if ((rc = add2(r, "--rollback-strategy", kv != NULL && kv->value[0] ? kv->value :
	    "always")) != 0)
		return rc;
	if ((kv = ini_get(ini, ctx, "hypothesis_strategy")) != NULL && kv->value[0] &&
	    (rc = add2(r, "--hypothesis-strategy", kv->value)) != 0)
		return rc;
	if ((kv = ini_get(ini, ctx, "hypothesis_frequency")) != NULL && kv->value[0] &&
	    (rc = add2(r, "--hypothesis-frequency", kv->value)) != 0)
		return rc;
	if ((kv = ini_get(ini, ctx, "fail_fast")) != NULL && kv->value[0]) {
		if (!parse_bool(kv->value, &ff))
			return ctl_usage_error("%s:%d: fail_fast: '%s' is not true or false",
			    ini->file, kv->line, kv->value);
		if (ff && (rc = add(r, "--fail-fast")) != 0)
			return rc;
	}
	return 0;
}

/* var_files: comma- or line-separated files, relative to the conf. */
static int
add_var_files(struct run *r, const struct ini *ini, const struct ini_kv *kv)
{
	char *list, *item, *save = NULL;
	int rc = 0;

	if ((list = strdup(kv->value)) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	for (item = list; *item != '\0'; item++)
		if (*item == '\n')
			*item = ',';
	for (item = strtok_r(list, ",", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ",", &save)) {
		char path[PATH_MAX], *t = str_trim(item);

		if (*t == '\0')
			continue;
		if ((rc = conf_path(r, t, "var file", ini, kv->line, path, sizeof(path))) == 0)
			rc = add2(r, "--var-file", path);
	}
	free(list);
	return rc;
}

/* var_overrides: one "name[:type] = value" per line, each a --var. */
static int
add_var_overrides(struct run *r, const struct ini *ini, const struct ini_kv *kv)
{
	const char *p = kv->value;
	int n = 0, rc;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char line[1024], var[PATH_MAX], *eq, *k, *v;
		/* The file line of this line of the value, for messages. */
		int fline;

		n++;
		fline = (size_t)n <= kv->nvlines ? kv->vlines[n - 1] : kv->line;
		if (len >= sizeof(line))
			return ctl_usage_error("%s:%d: var_overrides: line %d too long",
			    ini->file, kv->line, n);
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl != NULL ? nl + 1 : p + len;
		if (*(k = str_trim(line)) == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			return ctl_usage_error("%s:%d: var_overrides: '%s' is not "
			    "'name[:type] = value'", ini->file, fline, k);
		*eq = '\0';
		v = str_trim(eq + 1);
		if (*(k = str_trim(k)) == '\0')
			return ctl_usage_error("%s:%d: var_overrides: a value without a name",
			    ini->file, fline);
		(void)snprintf(var, sizeof(var), "%s=%s", k, v);
		if ((rc = add2(r, "--var", var)) != 0)
			return rc;
	}
	return 0;
}

int
run_conf_build(struct run *r, const struct ini *ini, const char *ctx, const char *chaos,
    const char *runs_dir, bool verbose)
{
	const struct ini_kv *kv;
	int rc;

	if ((rc = check_keys(ini)) != 0)
		return rc;
	kv = ini_get(ini, ctx, "experiment_path");
	if ((rc = conf_path(r, kv != NULL ? kv->value : "experiment.yaml", "experiment",
	    ini, kv != NULL ? kv->line : 0, r->experiment, sizeof(r->experiment))) != 0 ||
	    (rc = run_dir(r, ctx, runs_dir)) != 0 ||
	    (rc = add_chaos(r, chaos, verbose)) != 0 ||
	    (rc = add_strategies(r, ini, ctx)) != 0)
		return rc;
	if ((kv = ini_get(ini, ctx, "var_files")) != NULL &&
	    (rc = add_var_files(r, ini, kv)) != 0)
		return rc;
	if ((kv = ini_get(ini, ctx, "var_overrides")) != NULL &&
	    (rc = add_var_overrides(r, ini, kv)) != 0)
		return rc;
	return add(r, r->experiment);
}
