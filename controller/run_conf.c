/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run_conf.c: the chaos command line of a run, from its INI configuration
 * (the original start-chaos.py format): one section per context, each
 * falling back to [DEFAULT]. Paths in it are relative to its directory.
 * Values are interpolated as configparser does (%(name)s and %%), so that
 * a configuration means what it meant to the original.
 */
#include <ctype.h>
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
#include "../common/buf.h"
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

#define INTERP_DEPTH 10		/* configparser's MAX_INTERPOLATION_DEPTH */
#define INTERP_MAX (1024 * 1024)	/* a value, interpolated: as large as a file */

/*
 * Append kv's value to out, interpolated as configparser's
 * BasicInterpolation does: %% is a '%', %(name)s is the value of key name
 * (lower-cased) of section ctx or of [DEFAULT], itself interpolated, at
 * most INTERP_DEPTH levels deep; any other '%' is an error. Returns 0 or
 * an exit code (reported, naming the file, the line and the key).
 */
static int
interpolate(const struct ini *ini, const char *ctx, const struct ini_kv *kv, int depth,
    struct buf *out)
{
	const char *p = kv->value, *pct;

	if (depth > INTERP_DEPTH)
		return ctl_usage_error("%s:%d: %s: '%%(...)s' nested deeper than %d levels "
		    "(a key that names itself?)", ini->file, kv->line, kv->key, INTERP_DEPTH);
	while ((pct = strchr(p, '%')) != NULL) {
		const struct ini_kv *ref;
		const char *end;
		char name[128], *c;

		if (buf_append(out, p, (size_t)(pct - p)) != 0)
			goto too_large;
		if (pct[1] == '%') {
			if (buf_append(out, "%", 1) != 0)
				goto too_large;
			p = pct + 2;
			continue;
		}
		if (pct[1] != '(')
			return ctl_usage_error("%s:%d: %s: '%%' must be followed by '%%' or '(', "
			    "found: '%.40s' (write %%%% for a '%%')", ini->file, kv->line, kv->key,
			    pct);
		end = strchr(pct + 2, ')');
		if (end == NULL || end == pct + 2 || end[1] != 's' ||
		    (size_t)(end - pct - 2) >= sizeof(name))
			return ctl_usage_error("%s:%d: %s: bad interpolation variable reference "
			    "'%.40s' (want %%(name)s)", ini->file, kv->line, kv->key, pct);
		memcpy(name, pct + 2, (size_t)(end - pct - 2));
		name[end - pct - 2] = '\0';
		for (c = name; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if ((ref = ini_get(ini, ctx, name)) == NULL)
			return ctl_usage_error("%s:%d: %s: '%%(%s)s' names no key of [%s] or "
			    "[DEFAULT]", ini->file, kv->line, kv->key, name,
			    ctx != NULL ? ctx : INI_DEFAULT);
		if (strchr(ref->value, '%') != NULL) {
			int rc = interpolate(ini, ctx, ref, depth + 1, out);

			if (rc != 0)
				return rc;
		} else if (buf_append(out, ref->value, strlen(ref->value)) != 0) {
			goto too_large;
		}
		p = end + 2;
	}
	if (buf_append(out, p, strlen(p)) == 0)
		return 0;
too_large:
	if (out->overflow)
		return ctl_usage_error("%s:%d: %s: longer than %d bytes once interpolated",
		    ini->file, kv->line, kv->key, INTERP_MAX);
	return ctl_error(CE_NOMEM, "out of memory");
}

/*
 * The value of key in section ctx (NULL: [DEFAULT]) or in [DEFAULT],
 * interpolated. Returns 0 with *kvp (NULL when the key is not set) and
 * *value (caller frees; NULL when not set), or an exit code (reported).
 */
static int
conf_value(const struct ini *ini, const char *ctx, const char *key, const struct ini_kv **kvp,
    char **value)
{
	const struct ini_kv *kv = ini_get(ini, ctx, key);
	struct buf b;
	int rc;

	*kvp = kv;
	*value = NULL;
	if (kv == NULL)
		return 0;
	buf_init(&b, INTERP_MAX);
	/* The empty append makes the buffer hold a string even for "". */
	if ((rc = interpolate(ini, ctx, kv, 1, &b)) == 0) {
		if (buf_append(&b, "", 0) != 0)
			rc = ctl_error(CE_NOMEM, "out of memory");
		else
			*value = buf_steal(&b, NULL);
	}
	buf_release(&b);
	return rc;
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
	static const struct {
		const char *key, *opt;
	} opts[] = {
		{ "rollback_strategy", "--rollback-strategy" },
		{ "hypothesis_strategy", "--hypothesis-strategy" },
		{ "hypothesis_frequency", "--hypothesis-frequency" },
	};
	const struct ini_kv *kv;
	char *v = NULL;
	bool ff = false;
	size_t i;
	int rc = 0;

	for (i = 0; i < NELEM(opts) && rc == 0; i++) {
		if ((rc = conf_value(ini, ctx, opts[i].key, &kv, &v)) != 0)
			break;
		/* The original always passes a rollback strategy: "always" by default. */
		if (v != NULL && v[0] != '\0')
			rc = add2(r, opts[i].opt, v);
		else if (i == 0)
			rc = add2(r, opts[i].opt, "always");
		free(v);
		v = NULL;
	}
	if (rc != 0 || (rc = conf_value(ini, ctx, "fail_fast", &kv, &v)) != 0)
		return rc;
	if (v != NULL && v[0] != '\0') {
		if (!parse_bool(v, &ff))
			rc = ctl_usage_error("%s:%d: fail_fast: '%s' is not true or false",
			    ini->file, kv->line, v);
		else if (ff)
			rc = add(r, "--fail-fast");
	}
	free(v);
	return rc;
}

/* var_files: comma- or line-separated files, relative to the conf. */
static int
add_var_files(struct run *r, const struct ini *ini, const struct ini_kv *kv, char *list)
{
	char *item, *save = NULL;
	int rc = 0;

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
	return rc;
}

/* The lines of s: one more than its newlines. */
static int
count_lines(const char *s)
{
	int n = 1;

	while ((s = strchr(s, '\n')) != NULL)
		n++, s++;
	return n;
}

/*
 * var_overrides: one "name[:type] = value" per line, each a --var; value
 * is kv's, interpolated.
 */
static int
add_var_overrides(struct run *r, const struct ini *ini, const struct ini_kv *kv,
    const char *value)
{
	const char *p = value;
	/* Lines map to file lines unless interpolation brought lines in. */
	bool mapped = (size_t)count_lines(value) == kv->nvlines;
	int n = 0, rc;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char line[1024], var[PATH_MAX], *eq, *k, *v;
		/* The file line of this line of the value, for messages. */
		int fline;

		n++;
		fline = mapped && (size_t)n <= kv->nvlines ? kv->vlines[n - 1] : kv->line;
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
	char *v = NULL;
	int rc;

	if ((rc = check_keys(ini)) != 0 ||
	    (rc = conf_value(ini, ctx, "experiment_path", &kv, &v)) != 0)
		return rc;
	rc = conf_path(r, v != NULL ? v : "experiment.yaml", "experiment", ini,
	    kv != NULL ? kv->line : 0, r->experiment, sizeof(r->experiment));
	free(v);
	if (rc != 0 || (rc = run_dir(r, ctx, runs_dir)) != 0 ||
	    (rc = add_chaos(r, chaos, verbose)) != 0 ||
	    (rc = add_strategies(r, ini, ctx)) != 0 ||
	    (rc = conf_value(ini, ctx, "var_files", &kv, &v)) != 0)
		return rc;
	if (v != NULL)
		rc = add_var_files(r, ini, kv, v);
	free(v);
	if (rc != 0 || (rc = conf_value(ini, ctx, "var_overrides", &kv, &v)) != 0)
		return rc;
	if (v != NULL)
		rc = add_var_overrides(r, ini, kv, v);
	free(v);
	return rc != 0 ? rc : add(r, r->experiment);
}
