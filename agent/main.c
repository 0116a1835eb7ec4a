/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c: chaos-agent's entry point. Reads the configuration and the key
 * file, takes the state directory's lock, reverts whatever a previous run
 * left in the state file, binds the listening socket and hands over to the
 * privileged parent, which starts the sandboxed HTTP worker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "notify.h"
#include "priv.h"
#include "state.h"
#include "../common/caps.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/sign.h"
#include "../common/util.h"
#include "../faults/fault.h"

#ifndef CHAOS_VERSION
#define CHAOS_VERSION "0.0.0-dev"
#endif
#define DEFAULT_CONFIG "/etc/chaos-agent/agent.conf"

static void __attribute__((noreturn))
usage(int status)
{
	FILE *out = status == 0 ? stdout : stderr;

	fprintf(out,
"usage: chaos-agent [-n] [-c FILE] [--listen ADDR:PORT] [--key-file FILE]\n"
"                   [--state-dir DIR] [--set KEY=VALUE]... [--revert-all]\n"
"\n"
"Serve authenticated, time-bounded fault primitives over HTTP.\n"
"\n"
"  -c, --config FILE     configuration file (default %s if it exists)\n"
"  -l, --listen ADDR:PORT  address to listen on; port 0 picks a free port\n"
"  -k, --key-file FILE   HMAC key file (\"<key-id> <hex>\" lines, mode 0600)\n"
"  -s, --state-dir DIR   directory of the state file and lock\n"
"      --set KEY=VALUE   set any configuration key (see docs/operations.md)\n"
"  -n, --check           check the configuration and key file, then exit\n"
"      --print-config    print the effective configuration and exit\n"
"      --revert-all      revert every fault listed in the state file and exit\n"
"  -v, --verbose         log at debug level\n"
"      --version         print the version and exit\n"
"  -h, --help            show this help\n"
"\n"
"Logs are JSON lines on stderr. SIGTERM or SIGINT reverts every fault and exits.\n",
	    DEFAULT_CONFIG);
	exit(status);
}

/* Parse "a.b.c.d:port" or "[v6]:port" into ss. Returns 0 or CE_INVALID. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon, *hs = s;
	size_t hl;
	int64_t port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return CE_INVALID;
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return CE_INVALID;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || parse_i64(colon + 1, 0, 65535, &port) != 0)
		return CE_INVALID;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return CE_INVALID;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return CE_INVALID;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

/* The listen value as a start would bind it; the same message either way. */
static void
check_listen(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_listen(spec, &ss, &len) != 0)
		fatalx("listen: '%s' is not ADDR:PORT with a numeric IPv4 or [IPv6] address "
		    "and a port from 0 to 65535 (e.g. 10.0.0.5:8421 or [::1]:8421)", spec);
}

/* Bind and listen on spec; bound gets "address:port" as bound. */
static int
open_listener(const char *spec, char *bound, size_t boundlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[INET6_ADDRSTRLEN] = "";
	int fd, one = 1, port;
	cJSON *f;

	check_listen(spec);
	if (parse_listen(spec, &ss, &len) != 0)
		fatalx("listen: '%s' cannot be parsed", spec);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		fatal("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		fatal("bind %s", spec);
	/* A deep queue: callers wait in it while slow clients are evicted. */
	if (listen(fd, SOMAXCONN) != 0)
		fatal("listen %s", spec);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		fatal("getsockname");
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		(void)inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		(void)inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		port = ntohs(a->sin_port);
	}
	(void)snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    addr, port);
	/* Tests and supervisors read the bound port from this event. */
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "address", addr);
		cJSON_AddNumberToObject(f, "port", port);
		cJSON_AddNumberToObject(f, "pid", getpid());
		log_event(LOG_LVL_INFO, "listening", f);
		cJSON_Delete(f);
	}
	return fd;
}

/*
 * The keys from the environment variable name (a container's secret, the
 * key file's text): parsed, then wiped where the process keeps its
 * environment, so /proc/PID/environ no longer shows it, and unset. Returns
 * the number of keys or a negative CE_* code with eb set.
 */
static int
load_key_env(const char *name, struct sign_key *keys, size_t max, struct errbuf *eb)
{
	char *text = getenv(name);
	int n;

	if (text == NULL || text[0] == '\0')
		return err_set(eb, CE_INVALID, "key_env: the environment has no '%s' (or it "
		    "is empty)", name);
	n = sign_parse_keyfile(text, keys, max, eb);
	explicit_bzero(text, strlen(text));
	(void)unsetenv(name);
	if (n < 0) {
		char inner[ERRBUF_MAX];

		(void)str_copy(inner, sizeof(inner), eb->msg);
		return err_set(eb, n, "key_env '%s': %s", name, inner);
	}
	return n;
}

/*
 * Check state_dir as a start needs it; create it when create is true. With
 * create false (-n) a missing directory only needs a parent to be made in.
 */
static void
check_state_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		fatal("state_dir: cannot create '%s'", dir);
	if (stat(dir, &st) != 0) {
		char parent[sizeof(((struct config *)0)->state_dir)], *slash;

		if (errno != ENOENT || create)
			fatal("state_dir: '%s'", dir);
		(void)str_copy(parent, sizeof(parent), dir);
		if ((slash = strrchr(parent, '/')) != NULL)
			*(slash == parent ? slash + 1 : slash) = '\0';
		if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
			fatalx("state_dir: '%s' does not exist and cannot be created: '%s' "
			    "is not a directory", dir, parent);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		fatalx("state_dir: '%s' is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		fatalx("state_dir: '%s' must be owned by uid %u and not writable by group "
		    "or others (mode %03o)", dir, (unsigned)geteuid(),
		    (unsigned)(st.st_mode & 0777));
}


int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'n' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "revert-all", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	struct errbuf eb = { "" };
	struct sign_key keys[SIGN_KEYS_MAX];
	struct priv_args pa;
	const char *config_path = NULL;
	bool check = false, print = false, revert_all = false, verbose = false;
	char *overrides[64];
	bool owned[64] = { false };
	int noverrides = 0, ch, i, nkeys, lockfd, n;

	log_init("parent", LOG_FMT_JSON, LOG_LVL_INFO);
	if (notify_init() != 0)
		fatalx("NOTIFY_SOCKET: '%s' is not a socket path or @abstract name",
		    getenv("NOTIFY_SOCKET"));
	config_defaults(&cfg);
	while ((ch = getopt_long(argc, argv, "c:l:k:s:nvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'l':
		case 'k':
		case 's':
		case 'S':
			if (noverrides == (int)NELEM(overrides))
				fatalx("too many configuration overrides");
			/* Keep the order: later options win over earlier ones. */
			if (ch == 'S') {
				overrides[noverrides++] = optarg;
			} else {
				size_t len = strlen(optarg) + 16;
				char *kv = malloc(len);

				if (kv == NULL)
					fatalx("out of memory");
				(void)snprintf(kv, len, "%s=%s", ch == 'l' ? "listen" :
				    ch == 'k' ? "key_file" : "state_dir", optarg);
				owned[noverrides] = true;
				overrides[noverrides++] = kv;
			}
			break;
		case 'n':
			check = true;
			break;
		case 'P':
			print = true;
			break;
		case 'R':
			revert_all = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("chaos-agent %s\n", CHAOS_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "chaos-agent: unexpected argument '%s'\n", argv[optind]);
		usage(2);
	}
	if (config_path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		config_path = DEFAULT_CONFIG;
	if (config_path != NULL && config_load(&cfg, config_path, &eb) != 0)
		fatalx("%s", eb.msg);
	for (i = 0; i < noverrides; i++) {
		char *eq = strchr(overrides[i], '=');

		if (eq == NULL)
			fatalx("--set '%s': expected KEY=VALUE", overrides[i]);
		*eq = '\0';
		if (config_set(&cfg, overrides[i], eq + 1, &eb) != 0)
			fatalx("command line: %s", eb.msg);
		if (owned[i])
			free(overrides[i]);
	}
	if (config_check(&cfg, &eb) != 0)
		fatalx("%s", eb.msg);
	check_listen(cfg.listen);
	log_init("parent", LOG_FMT_JSON, verbose ? LOG_LVL_DEBUG :
	    (enum log_level)log_level_parse(cfg.log_level));
	if (print) {
		config_print(&cfg);
		return 0;
	}

	memset(&pa, 0, sizeof(pa));
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(cfg.user);

		if (pw == NULL)
			fatalx("user: no such user '%s'", cfg.user);
		if (pw->pw_uid == 0)
			fatalx("user: '%s' is root; the worker must run unprivileged",
			    cfg.user);
		pa.drop = true;
		pa.uid = pw->pw_uid;
		pa.gid = pw->pw_gid;
	}
	/* Backends need these for crash recovery too. */
	fault_env.drop = pa.drop;
	fault_env.uid = pa.uid;
	fault_env.gid = pa.gid;
	fault_env.docker_socket = cfg.docker_socket;
	fault_env.docker_timeout_ms = cfg.docker_timeout * 1000;
	fault_env.agent_pid = getpid();
	/* A sidecar reaches the ECS agent's endpoints at the URI it was given. */
	fault_env.task = strcmp(cfg.mode, "task") == 0;
	fault_env.ecs_agent_uri = getenv("ECS_AGENT_URI");
	if (revert_all) {
		int left;

		if (caps_restrict(fault_env.task, &eb) != 0)
			fatalx("%s", eb.msg);
		check_state_dir(cfg.state_dir, true);
		if ((lockfd = state_lock(cfg.state_dir, &eb)) < 0)
			fatalx("%s; stop it first, or revert through its API "
			    "(chaosctl revert --all)", eb.msg);
		if (state_revert_all(cfg.state_dir, &n, &left, &eb) != 0)
			fatalx("%s", eb.msg);
		if (left > 0) {
			log_warnx("reverted %d fault(s); %d could not be reverted and stay "
			    "in the state file ('%s/state.json'): the next start or "
			    "--revert-all tries again", n, left, cfg.state_dir);
			return 1;
		}
		log_info("reverted %d fault(s) listed in the state file", n);
		return 0;
	}
	if ((nkeys = cfg.key_env[0] != '\0' ? load_key_env(cfg.key_env, keys, NELEM(keys),
	    &eb) : sign_load_keyfile(cfg.key_file, keys, NELEM(keys), &eb)) < 0)
		fatalx("%s", eb.msg);
	/*
	 * The parent holds the keys: no core dump of them, and no reading of
	 * its memory or environment by processes without CAP_SYS_PTRACE (in
	 * task mode the application's containers share its PID namespace).
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (check) {
		/* Everything a start checks, short of taking the port and the lock. */
		check_state_dir(cfg.state_dir, false);
		printf("configuration OK (%d key%s, listen %s)\n", nkeys,
		    nkeys == 1 ? "" : "s", cfg.listen);
		return 0;
	}
	if (!pa.drop)
		log_warnx("running as uid %u, not root: the worker cannot switch users "
		    "(the seccomp sandbox still applies) and some faults may fail",
		    (unsigned)geteuid());
	check_state_dir(cfg.state_dir, true);
	if ((lockfd = state_lock(cfg.state_dir, &eb)) < 0)
		fatalx("%s", eb.msg);
	/* The parent reverts these before it serves (priv.c). */
	if ((n = state_load(cfg.state_dir, &pa.leftovers, &eb)) == CE_INVALID) {
		/* Kept aside for a person; nothing more can be undone from it. */
		log_warnx("%s", eb.msg);
		if ((pa.leftovers = cJSON_CreateArray()) == NULL)
			fatalx("out of memory");
	} else if (n != 0) {
		fatalx("%s", eb.msg);
	}
	pa.cfg = &cfg;
	pa.keys = keys;
	pa.nkeys = (size_t)nkeys;
	pa.lock_fd = lockfd;
	pa.listen_fd = open_listener(cfg.listen, pa.bound, sizeof(pa.bound));
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		/* Network faults never impair the API port. */
		if (getsockname(pa.listen_fd, (struct sockaddr *)&ss, &sl) == 0)
			fault_env.agent_port = ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port :
			    ((struct sockaddr_in *)(void *)&ss)->sin_port);
	}
	/*
	 * Room for conn_limit connections (and those being evicted), jobs and
	 * burners: take the soft descriptor limit up to the hard one.
	 */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
		    rl.rlim_cur < 65536) {
			rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	/* The port is bound: keep only what the faults need from here on. */
	if (caps_restrict(fault_env.task, &eb) != 0)
		fatalx("%s", eb.msg);
	{
		const struct caps_keep *miss[16];
		size_t k, nmiss = caps_missing(fault_env.task, miss, NELEM(miss));

		for (k = 0; k < nmiss; k++)
			log_warnx("capability %s is not available to the agent: %s will "
			    "fail", miss[k]->name, miss[k]->why);
	}
	if (fault_env.task)
		log_info("task mode: network faults through the ECS fault injection "
		    "endpoints at %s", fault_env.ecs_agent_uri != NULL ?
		    fault_env.ecs_agent_uri : "(ECS_AGENT_URI is not set: none)");
	log_info("chaos-agent %s starting (%d key%s, max_duration %llds, max_faults %lld)",
	    CHAOS_VERSION, nkeys, nkeys == 1 ? "" : "s", (long long)cfg.max_duration,
	    (long long)cfg.max_faults);
	return priv_run(&pa);
}
