/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.h: what chaosctl's commands share: global options, the commands
 * table, the agent client (signed requests fanned out in parallel) and the
 * exit-code contract.
 */
#ifndef CHAOS_CTL_H
#define CHAOS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../common/err.h"
#include "../common/sign.h"

struct cJSON;

/* Exit codes, documented in --help and README. */
enum {
	EXIT_ALL_OK = 0,	/* every target succeeded */
	EXIT_SOME_FAILED = 1,	/* at least one target answered an error */
	EXIT_USAGE = 2,		/* bad flags, arguments or local configuration */
	EXIT_TRANSPORT = 3,	/* a target was unreachable or refused our signature */
	EXIT_INTERNAL = 4,	/* chaosctl itself failed: memory, fork, libcurl */
	EXIT_INTERRUPTED = 130,	/* interrupted (--wait), faults reverted */
};

enum ctl_output { OUT_TEXT, OUT_JSON };

#define CTL_AGENTS_MAX 4096

struct ctl {
	char **agents;		/* base URLs, owned */
	size_t nagents;
	const char *key_file;
	const char *key_ssm;	/* --key-ssm-parameter: the key file in SSM */
	const char *key_id;
	struct sign_key key;
	bool key_loaded;
	enum ctl_output output;
	long timeout_ms;
	int verbose;
	const char *cmd;	/* the command's name, for output */
	/* AWS: --region, --endpoint-url (or the environment). */
	const char *region;
	const char *endpoint;
	/* Hosts found through --cluster (NULL without discovery). */
	struct host *hosts;
	size_t nhosts;
	bool by_service;	/* --service: hosts carry the service's task ARNs */
};

struct ctl_opt;

struct cmd {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *summary;
	void (*usage)(FILE *out);
	bool needs_agents;	/* targets and key required */
	/* Its options, for "chaosctl completion"; NULL for inject (the spec table's). */
	const struct ctl_opt *opts;
};

extern const struct cmd ctl_commands[];
extern const size_t ctl_ncommands;


/*
 * Print "chaosctl: message" on stderr and return the exit code of the
 * contract for code, a CE_* code (common/err.h) saying what went wrong:
 *   CE_NOMEM, CE_SYSTEM, CE_INTERNAL   EXIT_INTERNAL: chaosctl itself could
 *       not work (memory, fork, libcurl, randomness)
 *   CE_UNAUTHORIZED, CE_UNAVAILABLE, CE_BUSY   EXIT_TRANSPORT: an agent or
 *       AWS could not be reached, refused us or could not answer
 *   any other (CE_INVALID, CE_NOT_FOUND, CE_TOO_LARGE, ...)   EXIT_USAGE:
 *       what was given is wrong (flags, arguments, files, configuration)
 * A file the user named that cannot be read is a usage error whatever the
 * system said: report it with ctl_usage_error.
 */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The commonest case: what was given is wrong; returns EXIT_USAGE. */
#define ctl_usage_error(...) ctl_error(CE_INVALID, __VA_ARGS__)

/* One request to one agent and what came back. */
struct ctl_req {
	const char *agent;	/* base URL (borrowed) */
	const char *method;
	char path[SIGN_PATH_MAX];
	char query[SIGN_QUERY_MAX + 1];	/* canonical, may be empty */
	const char *body;	/* borrowed, may be NULL */
	/* results */
	long status;		/* HTTP status; 0 when the request failed */
	char *resp;		/* response body, NUL-terminated; owned */
	size_t resp_len;
	struct cJSON *json;	/* parsed response, NULL if not JSON; owned */
	char error[256];	/* transport error, empty otherwise */
	double elapsed_ms;
};

/*
 * Sign and send every request in parallel (libcurl multi), each bounded by
 * ctl->timeout_ms. Always returns 0 once every request has a result;
 * per-request failures are recorded in the request. Returns a negative
 * code only when the client itself cannot run (no memory, curl init).
 */
int ctl_send(struct ctl *ctl, struct ctl_req *reqs, size_t n);

/* Free the results held by reqs (not reqs itself). */
void ctl_reqs_release(struct ctl_req *reqs, size_t n);

/*
 * Load the signing key named by the options (once): --key-file,
 * --key-ssm-parameter or CHAOS_AGENT_KEY_FILE. Returns 0 or an exit code
 * (reported): EXIT_USAGE for a missing or bad key, EXIT_TRANSPORT when
 * SSM could not give it.
 */
int ctl_load_key(struct ctl *ctl);

/* Classify one result: 0 ok, 1 API error, 3 transport or auth failure. */
int ctl_result_class(const struct ctl_req *r);

/* The exit code for a set of results (worst class wins: 3 > 1 > 0). */
int ctl_exit_code(const struct ctl_req *reqs, size_t n);

/* The error message of a failed result ("409 conflict: ..."), into buf. */
void ctl_result_error(const struct ctl_req *r, char *buf, size_t len);

/*
 * Print the JSON document for a command: {"command", "results": [...],
 * "summary"} where each result carries "agent", "ok", "status" and
 * "body" or "error". extra (borrowed, may be NULL) is merged at the top.
 */
void ctl_print_json(const struct ctl *ctl, const struct ctl_req *reqs, size_t n,
    const struct cJSON *extra);

/* Options table shared by the commands' small parsers. */
struct ctl_opt {
	const char *name;	/* long name without "--" */
	bool has_arg;
	int id;
};

/*
 * Parse one option at argv[*i] against opts. Returns the option's id and
 * sets *arg, -1 for "not an option" (a positional argument), or -2 for an
 * unknown option / missing argument (message printed).
 */
int ctl_getopt(const struct ctl_opt *opts, int argc, char **argv, int *i, const char **arg);

/* The global options (main.c), and the commands' own option tables. */
extern const struct ctl_opt ctl_global_options[];
extern const struct ctl_opt ctl_help_options[];	/* commands that take only --help */
extern const struct ctl_opt faults_options[], revert_options[], run_options[],
    report_options[], submit_options[], keygen_options[], completion_options[];

/* Commands. */
int cmd_inject(struct ctl *ctl, int argc, char **argv);
int cmd_faults(struct ctl *ctl, int argc, char **argv);
int cmd_revert(struct ctl *ctl, int argc, char **argv);
int cmd_info(struct ctl *ctl, int argc, char **argv);
int cmd_targets(struct ctl *ctl, int argc, char **argv);
int cmd_run(struct ctl *ctl, int argc, char **argv);
int cmd_report(struct ctl *ctl, int argc, char **argv);
int cmd_completion(struct ctl *ctl, int argc, char **argv);
int cmd_submit(struct ctl *ctl, int argc, char **argv);
int cmd_keygen(struct ctl *ctl, int argc, char **argv);
int cmd_version(struct ctl *ctl, int argc, char **argv);
int cmd_help(struct ctl *ctl, int argc, char **argv);
void usage_inject(FILE *out);
void usage_faults(FILE *out);
void usage_revert(FILE *out);
void usage_info(FILE *out);
void usage_targets(FILE *out);
void usage_run(FILE *out);
void usage_report(FILE *out);
void usage_completion(FILE *out);
void usage_submit(FILE *out);
void usage_keygen(FILE *out);
void usage_version(FILE *out);
void usage_help(FILE *out);

/* Print the main help. */
void ctl_main_usage(FILE *out);

/*
 * --label K=V selectors of faults (faults, revert): a fault matches when its
 * labels hold every pair.
 */
#define CTL_LABELS_MAX 16
struct ctl_labels {
	const char *kv[CTL_LABELS_MAX];	/* "K=V", borrowed from argv */
	size_t n;
};

/* Add one --label argument; 0, or a usage error already printed (EXIT_USAGE). */
int ctl_labels_add(struct ctl_labels *l, const char *arg);

/* Does the fault (a GET /v1/faults element) carry every label of l? */
bool ctl_labels_match(const struct ctl_labels *l, const struct cJSON *fault);

/* Shared text-output helpers. */
void ctl_print_fault_row(FILE *out, const char *agent, const struct cJSON *fault);
void ctl_print_fault_header(FILE *out);

/* Print what a dry run would hit on one agent. */
void ctl_print_dry_run(FILE *out, const char *agent, const struct cJSON *doc);

/* Print one container row of GET /v1/targets. */
void ctl_print_target_row(FILE *out, const char *agent, const struct cJSON *t);

#endif
