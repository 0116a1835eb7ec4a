/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_run.c: "chaosctl run CONF": run a Chaos Toolkit experiment as its
 * INI configuration says (one section per context, falling back to
 * [DEFAULT]), keep its journal and log in a directory of their own, and
 * upload both to S3 when a journals bucket is named. The experiment's
 * exit status is chaosctl's; SIGINT and SIGTERM are passed on to chaos so
 * its rollbacks still run.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "aws.h"
#include "ctl.h"
#include "ini.h"
#include "ledger.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/util.h"

#define RUN_ARGS_MAX 256
#define RUN_FILE_MAX (256 * 1024 * 1024)	/* largest journal or log uploaded */

enum {
	O_CONTEXT = 1, O_BUCKET, O_CHAOS, O_RUNS_DIR, O_DRY_RUN, O_HELP, O_STOP_ALARM,
};

static const char *const known_keys[] = {
	"experiment_path", "rollback_strategy", "hypothesis_strategy",
	"hypothesis_frequency", "fail_fast", "var_files", "var_overrides",
};

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

void
usage_run(FILE *out)
{
	fprintf(out,
"usage: chaosctl run [CONF] [--context C] [--journals-bucket B] [--chaos PATH]\n"
"                    [--runs-dir DIR] [--region R] [--endpoint-url URL] [--dry-run]\n"
"\n"
"Run the Chaos Toolkit experiment a configuration file describes. CONF (or\n"
"CHAOS_CONFIG_FILE) is an INI file: [DEFAULT] and one section per context,\n"
"each context falling back to [DEFAULT]:\n"
"\n"
"  experiment_path       the experiment, relative to CONF (default experiment.yaml)\n"
"  rollback_strategy     default always\n"
"  hypothesis_strategy   hypothesis_frequency   passed on as they are\n"
"  fail_fast             true or false\n"
"  var_files             comma-separated files, relative to CONF\n"
"  var_overrides         one 'name[:type] = value' per (indented) line\n"
"\n"
"options:\n"
"  --context C           the section to use (or CHAOS_CONTEXT; default [DEFAULT])\n"
"  --journals-bucket B   upload journal.json and chaostoolkit.log to s3://B/\n"
"                        <start time>_<experiment title>/ (or CHAOS_JOURNALS_BUCKET)\n"
"  --chaos PATH          the chaos program (default: chaos on PATH)\n"
"  --runs-dir DIR        where each run's directory goes (default CONF's dir/runs)\n"
"  --region R, --endpoint-url URL   (global options) for S3 (default: AWS_REGION,\n"
"                        AWS_ENDPOINT_URL)\n"
"  --stop-alarm NAME     a CloudWatch alarm that stops the run (repeatable): no\n"
"                        start while it is in ALARM; when it fires, chaos is\n"
"                        interrupted (rollbacks run) and every agent the run's\n"
"                        'chaosctl inject' calls reached reverts all its faults\n"
"  --dry-run             print the chaos command line; run nothing\n"
"\n"
"Exit status: Chaos Toolkit's (1 when the hypothesis deviated), 128+N when chaos\n"
"died of signal N, 2 for a bad configuration, 4 when chaosctl could not start it\n"
"(out of memory, fork failed); 1, where chaos says 0, when the hypothesis was\n"
"not met before the method (nothing ran), when a process action of the method\n"
"or the rollbacks exited non-zero (each is named on stderr), or when an upload\n"
"failed.\n"
"AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] or\n"
"AWS_PROFILE in the shared credentials file.\n");
}

/* Strings owned by one run. */
struct run {
	char confdir[PATH_MAX];
	char experiment[PATH_MAX];
	char rundir[PATH_MAX];
	char *argv[RUN_ARGS_MAX];
	int argc;
	char *owned[RUN_ARGS_MAX];
	int nowned;
};

static int
add(struct run *r, const char *s)
{
	char *d;

	if (r->argc >= RUN_ARGS_MAX - 1)
		return ctl_usage_error("run: more than %d arguments for chaos", RUN_ARGS_MAX - 1);
	if ((d = strdup(s)) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	r->owned[r->nowned++] = d;
	r->argv[r->argc++] = d;
	r->argv[r->argc] = NULL;
	return 0;
}

static void
run_free(struct run *r)
{
	int i;

	for (i = 0; i < r->nowned; i++)
		free(r->owned[i]);
}

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

/* path relative to the conf directory, made absolute; must be a file. */
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

static int
mkdirs(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (str_copy(tmp, sizeof(tmp), path) != 0)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Build argv from the configuration. Returns 0 or an exit status. */
static int
build(struct run *r, const struct ini *ini, const char *ctx, const char *chaos,
    const char *runs_dir, bool verbose)
{
	const struct ini_kv *kv;
	const struct ini_section *s;
	char buf[PATH_MAX], stamp[32];
	bool ff = false;
	time_t now = time(NULL);
	struct tm tm;
	int rc, i;

	/* Every key of every section must be one we know. */
	for (s = ini->sections; s != NULL; s = s->next)
		for (kv = s->kvs; kv != NULL; kv = kv->next) {
			size_t k;

			for (k = 0; k < NELEM(known_keys); k++)
				if (strcmp(kv->key, known_keys[k]) == 0)
					break;
			if (k == NELEM(known_keys))
				return ctl_usage_error("%s:%d: unknown key '%s' (allowed: "
				    "experiment_path, rollback_strategy, hypothesis_strategy, "
				    "hypothesis_frequency, fail_fast, var_files, var_overrides)",
				    ini->file, kv->line, kv->key);
		}
	kv = ini_get(ini, ctx, "experiment_path");
	if ((rc = conf_path(r, kv != NULL ? kv->value : "experiment.yaml", "experiment",
	    ini, kv != NULL ? kv->line : 0, r->experiment, sizeof(r->experiment))) != 0)
		return rc;

	(void)gmtime_r(&now, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	if (runs_dir != NULL && runs_dir[0] == '/')
		(void)snprintf(buf, sizeof(buf), "%s", runs_dir);
	else if (runs_dir != NULL) {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return ctl_error(CE_SYSTEM, "run: getcwd: %s", strerror(errno));
		if (snprintf(buf, sizeof(buf), "%s/%s", cwd, runs_dir) >= (int)sizeof(buf))
			return ctl_usage_error("run: --runs-dir: path too long");
	} else if (snprintf(buf, sizeof(buf), "%s/runs", r->confdir) >= (int)sizeof(buf)) {
		return ctl_usage_error("run: path too long");
	}
	for (i = 1; i < 100; i++) {
		struct stat st;

		(void)snprintf(r->rundir, sizeof(r->rundir), i == 1 ? "%s/%s_%s" : "%s/%s_%s-%d",
		    buf, stamp, ctx != NULL ? ctx : "default", i);
		if (stat(r->rundir, &st) != 0)
			break;
	}

	/* chaos runs in the conf's directory: a relative --chaos is ours. */
	if (chaos[0] != '/' && strchr(chaos, '/') != NULL) {
		char cwd[PATH_MAX];

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
	if ((rc = add(r, "--no-version-check")) || (rc = add(r, "--log-file")) ||
	    (rc = add(r, buf)) || (rc = add(r, "run")) || (rc = add(r, "--journal-path")))
		return rc;
	if (snprintf(buf, sizeof(buf), "%s/journal.json", r->rundir) >= (int)sizeof(buf))
		return ctl_usage_error("run: run directory path too long");
	if ((rc = add(r, buf)) != 0)
		return rc;
	kv = ini_get(ini, ctx, "rollback_strategy");
	if ((rc = add(r, "--rollback-strategy")) || (rc = add(r, kv != NULL && kv->value[0] ?
	    kv->value : "always")))
		return rc;
	if ((kv = ini_get(ini, ctx, "hypothesis_strategy")) != NULL && kv->value[0] &&
	    ((rc = add(r, "--hypothesis-strategy")) || (rc = add(r, kv->value))))
		return rc;
	if ((kv = ini_get(ini, ctx, "hypothesis_frequency")) != NULL && kv->value[0] &&
	    ((rc = add(r, "--hypothesis-frequency")) || (rc = add(r, kv->value))))
		return rc;
	if ((kv = ini_get(ini, ctx, "fail_fast")) != NULL && kv->value[0]) {
		if (!parse_bool(kv->value, &ff))
			return ctl_usage_error("%s:%d: fail_fast: '%s' is not true or false",
			    ini->file, kv->line, kv->value);
		if (ff && (rc = add(r, "--fail-fast")) != 0)
			return rc;
	}
	if ((kv = ini_get(ini, ctx, "var_files")) != NULL) {
		char *list = strdup(kv->value), *item, *save = NULL;

		if (list == NULL)
			return ctl_error(CE_NOMEM, "out of memory");
		for (item = list; *item != '\0'; item++)
			if (*item == '\n')
				*item = ',';
		for (item = strtok_r(list, ",", &save); item != NULL;
		    item = strtok_r(NULL, ",", &save)) {
			char path[PATH_MAX], *t = item;
			size_t l;

			while (*t == ' ' || *t == '\t')
				t++;
			l = strlen(t);
			while (l > 0 && (t[l - 1] == ' ' || t[l - 1] == '\t'))
				t[--l] = '\0';
			if (l == 0)
				continue;
			if ((rc = conf_path(r, t, "var file", ini, kv->line, path,
			    sizeof(path))) != 0 || (rc = add(r, "--var-file")) != 0 ||
			    (rc = add(r, path)) != 0) {
				free(list);
				return rc;
			}
		}
		free(list);
	}
	if ((kv = ini_get(ini, ctx, "var_overrides")) != NULL) {
		const char *p = kv->value;
		int n = 0;

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
			char line[1024], *eq, *k, *v;

			n++;
			if (len >= sizeof(line))
				return ctl_usage_error("%s:%d: var_overrides: line %d too long",
				    ini->file, kv->line, n);
			memcpy(line, p, len);
			line[len] = '\0';
			p = nl != NULL ? nl + 1 : p + len;
			k = line;
			while (*k == ' ' || *k == '\t')
				k++;
			if (*k == '\0')
				continue;
			if ((eq = strchr(k, '=')) == NULL)
				return ctl_usage_error("%s:%d: var_overrides: '%s' is not "
				    "'name[:type] = value'", ini->file, (size_t)n <= kv->nvlines ?
				    kv->vlines[n - 1] : kv->line, k);
			*eq = '\0';
			v = eq + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			{
				size_t kl = strlen(k);

				while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
					k[--kl] = '\0';
				if (kl == 0)
					return ctl_usage_error("%s:%d: var_overrides: a value "
					    "without a name", ini->file, (size_t)n <= kv->nvlines ?
					    kv->vlines[n - 1] : kv->line);
			}
			(void)snprintf(buf, sizeof(buf), "%s=%s", k, v);
			if ((rc = add(r, "--var")) != 0 || (rc = add(r, buf)) != 0)
				return rc;
		}
	}
	return add(r, r->experiment);
}

static void
forward(int sig)
{
	got_signal = sig;
	if (child_pid > 0)
		(void)kill((pid_t)child_pid, sig);
}

struct stop {
	const char *const *alarms;
	size_t n;
	struct aws *aws;
	char ledger[PATH_MAX];
};

/*
 * Run chaos; returns 0 with its exit status in *status (128+N for a
 * signal), or an exit code when chaos could not be started (reported).
 * With stop alarms, polls them while chaos runs; when one fires, chaos
 * gets SIGINT (its rollbacks run) and the run's faults are reverted.
 */
static int
execute(struct ctl *ctl, struct run *r, const struct stop *stop, int *status)
{
	struct sigaction sa, oint, oterm;
	int st = 0, devnull;
	int64_t next_poll;
	bool fired = false;
	pid_t pid;

	if ((pid = fork()) < 0)
		return ctl_error(CE_SYSTEM, "run: fork: %s", strerror(errno));
	if (pid == 0) {
		/* Its own process group: a terminal's Ctrl-C reaches it once, from us. */
		(void)setpgid(0, 0);
		if ((devnull = open("/dev/null", O_RDONLY)) >= 0) {
			(void)dup2(devnull, 0);
			if (devnull > 2)
				close(devnull);
		}
		if (stop->n > 0)
			(void)setenv(LEDGER_ENV, stop->ledger, 1);
		if (chdir(r->confdir) != 0) {
			fprintf(stderr, "chaosctl: %s: %s\n", r->confdir, strerror(errno));
			_exit(126);
		}
		if (strchr(r->argv[0], '/') != NULL)
			execv(r->argv[0], r->argv);
		else
			execvp(r->argv[0], r->argv);
		fprintf(stderr, "chaosctl: cannot run %s: %s (install Chaos Toolkit, or "
		    "give --chaos PATH)\n", r->argv[0], strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	next_poll = mono_ms() + ALARM_POLL_MS;
	for (;;) {
		pid_t w = waitpid(pid, &st, stop->n > 0 && !fired ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			st = 0;
			break;
		}
		if (w == 0 && mono_ms() >= next_poll) {
			struct errbuf eb = { "" };
			char name[256] = "";
			int a = aws_refresh(stop->aws, &eb);

			if (a == 0)
				a = alarms_check(stop->aws, stop->alarms, stop->n, name,
				    sizeof(name), &eb);

			next_poll = mono_ms() + ALARM_POLL_MS;
			if (a < 0)
				fprintf(stderr, "chaosctl: checking the stop alarms: %s\n", eb.msg);
			if (a == 1) {
				fired = true;
				fprintf(stderr, "chaosctl: stop alarm %s is in ALARM: interrupting "
				    "the run and reverting its faults\n", name);
				(void)kill(pid, SIGINT);
				(void)ledger_revert(ctl, stop->ledger);
			}
		} else if (w == 0) {
			struct timespec ts = { 0, 100 * 1000000L };

			(void)nanosleep(&ts, NULL);
		}
	}
	child_pid = 0;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (got_signal)
		fprintf(stderr, "chaosctl: passed signal %d on to chaos, which ended\n",
		    (int)got_signal);
	if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	else if (fired && WEXITSTATUS(st) == 0)
		*status = EXIT_SOME_FAILED;
	else
		*status = WEXITSTATUS(st);
	return 0;
}

/* Read a whole file (bounded). */
static char *
slurp(const char *path, size_t *len, struct errbuf *eb)
{
	char *buf = NULL;

	if (file_read("file", path, RUN_FILE_MAX, 0, &buf, len, NULL, eb) != 0)
		return NULL;
	return buf;
}

/* The last non-empty line of text (an activity's stderr), at most len-1 bytes. */
static void
last_line(const char *text, char *out, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	(void)snprintf(out, len, "%.*s", (int)(end - start), start);
}

/*
 * What Chaos Toolkit's exit status hides, from the journal. It ends a run
 * with status "completed" and exit 0 when the hypothesis failed before the
 * method (so nothing ran), and when a process action exited non-zero (an
 * injection or a revert that failed, e.g. a chaosctl call refused by every
 * agent). Each is said on stderr; returns true when the run must not pass.
 */
static bool
journal_faults(const struct run *r)
{
	static const char *const phases[] = { "run", "rollbacks" };
	char path[PATH_MAX], *text, line[200];
	size_t len, p;
	struct errbuf eb;
	cJSON *j, *a;
	bool bad = false;

	if (snprintf(path, sizeof(path), "%s/journal.json", r->rundir) >= (int)sizeof(path) ||
	    (text = slurp(path, &len, &eb)) == NULL)
		return false;
	j = cJSON_Parse(text);
	free(text);
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "steady_states"), "before"),
	    "steady_state_met"))) {
		fprintf(stderr, "chaosctl: the steady-state hypothesis was not met before the "
		    "method, so nothing was injected\n");
		bad = true;
	}
	for (p = 0; p < 2; p++) {
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, phases[p])) {
			const cJSON *act = cJSON_GetObjectItemCaseSensitive(a, "activity");
			const cJSON *out = cJSON_GetObjectItemCaseSensitive(a, "output");
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(out, "status");
			const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(act,
			    "type")), *ptype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(act, "provider"), "type")),
			    *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out,
			    "stderr")), *name = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(act, "name"));

			if (type == NULL || strcmp(type, "action") != 0 || ptype == NULL ||
			    strcmp(ptype, "process") != 0 || !cJSON_IsNumber(st) ||
			    st->valuedouble == 0)
				continue;
			last_line(err != NULL ? err : "", line, sizeof(line));
			fprintf(stderr, "chaosctl: %s action '%s' exited %d%s%s\n",
			    p == 0 ? "method" : "rollback", name != NULL ? name : "?",
			    (int)st->valuedouble, line[0] != '\0' ? ": " : "", line);
			bad = true;
		}
	}
	cJSON_Delete(j);
	return bad;
}

/* "YYYYmmdd_HHMMSS_<title>" from the journal, as the original wrapper named it. */
static int
journal_prefix(const char *journal, char *out, size_t len, struct errbuf *eb)
{
	cJSON *j = cJSON_Parse(journal);
	const char *start, *title;
	char t[64];
	size_t o = 0, i;
	int y, mo, d, h, mi, s;

	if (j == NULL)
		return err_set(eb, CE_INVALID, "the journal is not JSON");
	start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "start"));
	title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "experiment"), "title"));
	/* "2023-09-22T10:26:52.123456" */
	if (start == NULL || strlen(start) < 19 || start[4] != '-' || start[10] != 'T') {
		cJSON_Delete(j);
		return err_set(eb, CE_INVALID, "the journal has no start time");
	}
	y = (start[0] - '0') * 1000 + (start[1] - '0') * 100 + (start[2] - '0') * 10 +
	    (start[3] - '0');
	mo = (start[5] - '0') * 10 + (start[6] - '0');
	d = (start[8] - '0') * 10 + (start[9] - '0');
	h = (start[11] - '0') * 10 + (start[12] - '0');
	mi = (start[14] - '0') * 10 + (start[15] - '0');
	s = (start[17] - '0') * 10 + (start[18] - '0');
	/* As the original wrapper: strip, spaces to '-', drop . / ' ", lower, 50. */
	if (title == NULL || title[0] == '\0')
		title = "undefined";
	{
		size_t b = 0, e = strlen(title);

		while (b < e && isspace((unsigned char)title[b]))
			b++;
		while (e > b && isspace((unsigned char)title[e - 1]))
			e--;
		for (i = b; i < e && o < 50; i++) {
			char c = title[i];

			if (c == '.' || c == '/' || c == '\'' || c == '"')
				continue;
			t[o++] = c == ' ' ? '-' : (char)tolower((unsigned char)c);
		}
	}
	t[o] = '\0';
	(void)snprintf(out, len, "%04d%02d%02d_%02d%02d%02d_%s", y, mo, d, h, mi, s, t);
	cJSON_Delete(j);
	return 0;
}

static int
upload(const struct run *r, const char *bucket, const char *region, const char *endpoint)
{
	struct errbuf eb = { "" };
	struct aws aws;
	char path[PATH_MAX], prefix[128], key[256], *journal, *log;
	size_t jlen = 0, llen = 0;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/journal.json", r->rundir) >= (int)sizeof(path) ||
	    (journal = slurp(path, &jlen, &eb)) == NULL) {
		fprintf(stderr, "chaosctl: upload to s3://%s failed: %s\n", bucket, eb.msg);
		return -1;
	}
	if (journal_prefix(journal, prefix, sizeof(prefix), &eb) != 0 ||
	    aws_init(&aws, region, endpoint, &eb) != 0) {
		fprintf(stderr, "chaosctl: upload to s3://%s failed: %s; the files stay in "
		    "%s\n", bucket, eb.msg, r->rundir);
		free(journal);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/chaostoolkit.log", r->rundir) >= (int)sizeof(path))
		log = NULL;
	else if ((log = slurp(path, &llen, &eb)) == NULL) {
		/* A run that died early may have no log: upload what there is. */
		fprintf(stderr, "chaosctl: %s; uploading the journal alone\n", eb.msg);
	}
	(void)snprintf(key, sizeof(key), "%s/journal.json", prefix);
	if (aws_s3_put(&aws, bucket, key, "application/json", journal, jlen, &eb) != 0)
		rc = -1;
	else if (log != NULL) {
		(void)snprintf(key, sizeof(key), "%s/chaostoolkit.log", prefix);
		if (aws_s3_put(&aws, bucket, key, "text/plain", log, llen, &eb) != 0)
			rc = -1;
	}
	if (rc != 0)
		fprintf(stderr, "chaosctl: upload failed: %s; the files stay in %s\n", eb.msg,
		    r->rundir);
	else
		fprintf(stderr, "chaosctl: uploaded the journal%s to s3://%s/%s/\n",
		    log != NULL ? " and log" : "", bucket, prefix);
	free(journal);
	free(log);
	return rc;
}

int
cmd_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "context", true, O_CONTEXT }, { "journals-bucket", true, O_BUCKET },
		{ "chaos", true, O_CHAOS }, { "runs-dir", true, O_RUNS_DIR },
		{ "dry-run", false, O_DRY_RUN }, { "help", false, O_HELP },
		{ "stop-alarm", true, O_STOP_ALARM },
		{ NULL, false, 0 },
	};
	const char *conf = NULL, *ctx = getenv("CHAOS_CONTEXT"),
	    *bucket = getenv("CHAOS_JOURNALS_BUCKET"), *chaos = "chaos", *runs_dir = NULL,
	    *arg;
	struct errbuf eb = { "" };
	struct ini ini;
	struct run *r;
	struct stop stop;
	struct aws aws;
	const char *alarms[ALARMS_MAX];
	size_t nalarms = 0;
	bool dry = false;
	char real[PATH_MAX], *slash;
	int id, a, rc, status = 0;

	for (a = 1; a < argc; a++) {
		if ((id = ctl_getopt(opts, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		switch (id) {
		case -1:
			if (conf != NULL)
				return ctl_usage_error("run: one configuration file at a time "
				    "('%s' and '%s')", conf, argv[a]);
			conf = argv[a];
			break;
		case O_CONTEXT: ctx = arg; break;
		case O_BUCKET: bucket = arg; break;
		case O_CHAOS: chaos = arg; break;
		case O_RUNS_DIR: runs_dir = arg; break;
		case O_DRY_RUN: dry = true; break;
		case O_STOP_ALARM:
			if (nalarms == ALARMS_MAX)
				return ctl_usage_error("--stop-alarm: at most %d", ALARMS_MAX);
			alarms[nalarms++] = arg;
			break;
		case O_HELP:
			usage_run(stdout);
			return EXIT_ALL_OK;
		}
	}
	if (conf == NULL && (conf = getenv("CHAOS_CONFIG_FILE")) == NULL) {
		usage_run(stderr);
		return ctl_usage_error("run: name a configuration file (or set "
		    "CHAOS_CONFIG_FILE)");
	}
	if (ctx != NULL && ctx[0] == '\0')
		ctx = NULL;
	if (bucket != NULL && bucket[0] == '\0')
		bucket = NULL;
	if (realpath(conf, real) == NULL)
		return ctl_usage_error("run: %s: %s", conf, strerror(errno));
	/* An unreadable configuration is the user's to fix, unless memory ran out. */
	if ((rc = ini_load(real, &ini, &eb)) != 0)
		return ctl_error(rc == CE_NOMEM ? CE_NOMEM : CE_INVALID, "%s", eb.msg);
	if (ctx != NULL && (strcmp(ctx, INI_DEFAULT) == 0 || ini_section(&ini, ctx) == NULL)) {
		char names[512] = "";
		size_t used = 0;
		const struct ini_section *s;

		for (s = ini.sections; s != NULL; s = s->next) {
			int w;

			if (strcmp(s->name, INI_DEFAULT) == 0)
				continue;
			w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
			    s->name);
			if (w < 0 || (size_t)w >= sizeof(names) - used)
				break;
			used += (size_t)w;
		}
		rc = ctl_usage_error("%s: no context [%s] (contexts: %s)", real, ctx,
		    used ? names : "none; leave --context out to use [DEFAULT]");
		ini_free(&ini);
		return rc;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		ini_free(&ini);
		return ctl_error(CE_NOMEM, "out of memory");
	}
	(void)str_copy(r->confdir, sizeof(r->confdir), real);
	if ((slash = strrchr(r->confdir, '/')) != NULL)
		*(slash == r->confdir ? slash + 1 : slash) = '\0';
	rc = build(r, &ini, ctx, chaos, runs_dir, ctl->verbose > 0);
	ini_free(&ini);
	if (rc != 0)
		goto out;
	if (dry) {
		if (ctl->output == OUT_JSON) {
			cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc,
			    "command");
			char *text;
			int i;

			for (i = 0; i < r->argc; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateString(r->argv[i]));
			cJSON_AddStringToObject(doc, "cwd", r->confdir);
			cJSON_AddStringToObject(doc, "run_dir", r->rundir);
			if ((text = cJSON_Print(doc)) != NULL)
				printf("%s\n", text);
			free(text);
			cJSON_Delete(doc);
		} else {
			int i;

			printf("cd %s &&", r->confdir);
			for (i = 0; i < r->argc; i++)
				printf(" %s", r->argv[i]);
			printf("\n");
		}
		rc = EXIT_ALL_OK;
		goto out;
	}
	memset(&stop, 0, sizeof(stop));
	if (nalarms > 0) {
		char name[256] = "";
		int firing;

		if (aws_init(&aws, ctl->region, ctl->endpoint, &eb) != 0) {
			rc = ctl_error(CE_UNAVAILABLE, "--stop-alarm: %s", eb.msg);
			goto out;
		}
		/* An alarm that does not exist is the user's to fix. */
		if ((firing = alarms_check(&aws, alarms, nalarms, name, sizeof(name), &eb)) < 0) {
			rc = ctl_error(firing == CE_NOT_FOUND ? CE_NOT_FOUND : CE_UNAVAILABLE,
			    "--stop-alarm: %s", eb.msg);
			goto out;
		}
		if (firing == 1) {
			fprintf(stderr, "chaosctl: stop alarm %s is in ALARM: not starting\n", name);
			rc = EXIT_SOME_FAILED;
			goto out;
		}
		stop.alarms = alarms;
		stop.n = nalarms;
		stop.aws = &aws;
		if (snprintf(stop.ledger, sizeof(stop.ledger), "%s/faults.ledger", r->rundir) >=
		    (int)sizeof(stop.ledger)) {
			rc = ctl_usage_error("run: run directory path too long");
			goto out;
		}
	}
	if (mkdirs(r->rundir) != 0) {
		rc = ctl_usage_error("run: cannot create %s: %s", r->rundir, strerror(errno));
		goto out;
	}
	fprintf(stderr, "chaosctl: run directory %s\n", r->rundir);
	if (ctl->verbose) {
		int i;

		fprintf(stderr, "chaosctl: >");
		for (i = 0; i < r->argc; i++)
			fprintf(stderr, " %s", r->argv[i]);
		fprintf(stderr, "\n");
	}
	if ((rc = execute(ctl, r, &stop, &status)) != 0)
		goto out;
	rc = status;
	fprintf(stderr, "chaosctl: chaos exited with status %d\n", rc);
	if (journal_faults(r) && rc == 0) {
		fprintf(stderr, "chaosctl: Chaos Toolkit says completed, but the run did not do "
		    "what it meant to: exit 1\n");
		rc = EXIT_SOME_FAILED;
	}
	/* Upload whatever the outcome; a failed upload is an error of its own. */
	if (bucket != NULL && upload(r, bucket, ctl->region, ctl->endpoint) != 0 && rc == 0)
		rc = EXIT_SOME_FAILED;
out:
	run_free(r);
	free(r);
	return rc;
}
