/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_keygen.c: "chaosctl keygen": a fresh random agent key file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ctl.h"
#include "../common/err.h"
#include "../common/util.h"

#define KEYGEN_BYTES 32

void
usage_keygen(FILE *out)
{
	fprintf(out,
"usage: chaosctl keygen --out FILE [--key-id ID] [--force]\n"
"\n"
"Create a key file holding %d random bytes as \"<key-id> <hex>\", mode 0600.\n"
"Install the same file on the agents (key_file) and give it to chaosctl with\n"
"--key-file. To rotate, append the new key line to the agents' file, switch\n"
"chaosctl to it, then remove the old line.\n"
"\n"
"  --out FILE    where to write the key ('-' for standard output)\n"
"  --key-id ID   the key's id, 1-%d characters of [A-Za-z0-9_.-]\n"
"                (default: the first 8 hex digits of the key's SHA-256)\n"
"  --force       replace FILE if it exists\n", KEYGEN_BYTES, SIGN_KEYID_MAX);
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt keygen_options[] = {
	{ "out", true, 1 }, { "key-id", true, 2 }, { "force", false, 3 },
	{ "help", false, 4 }, { NULL, false, 0 },
};

int
cmd_keygen(struct ctl *ctl, int argc, char **argv)
{
	unsigned char key[KEYGEN_BYTES];
	char hex[2 * KEYGEN_BYTES + 1], id[SIGN_KEYID_MAX + 1], line[256], tmp[4096];
	const char *out = NULL, *keyid = NULL, *arg;
	bool force = false;
	int fd, n, opt;

	for (int a = 1; a < argc; a++) {
		if ((opt = ctl_getopt(keygen_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		switch (opt) {
		case 1: out = arg; break;
		case 2: keyid = arg; break;
		case 3: force = true; break;
		case 4: usage_keygen(stdout); return EXIT_ALL_OK;
		default: return ctl_usage_error("keygen: unexpected argument '%s'", argv[a]);
		}
	}
	if (out == NULL)
		return ctl_usage_error("keygen: --out FILE is required ('-' for stdout)");
	/* "--key-id" is also a global option, which main() takes out of argv. */
	if (keyid == NULL)
		keyid = ctl->key_id;
	if (keyid != NULL && (keyid[0] == '\0' || strlen(keyid) > SIGN_KEYID_MAX ||
	    !str_charset_ok(keyid, "_.-")))
		return ctl_usage_error("--key-id: '%s' must be 1-%d characters of "
		    "[A-Za-z0-9_.-]", keyid, SIGN_KEYID_MAX);
	if (RAND_bytes(key, sizeof(key)) != 1)
		return ctl_error(CE_INTERNAL, "keygen: no randomness available");
	hex_encode(key, sizeof(key), hex);
	if (keyid == NULL)
		sign_key_fingerprint(key, sizeof(key), id);
	else
		(void)str_copy(id, sizeof(id), keyid);
	n = snprintf(line, sizeof(line), "%s %s\n", id, hex);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (strcmp(out, "-") == 0) {
		fputs(line, stdout);
		OPENSSL_cleanse(line, sizeof(line));
		return EXIT_ALL_OK;
	}
	if (!force && access(out, F_OK) == 0)
		return ctl_usage_error("keygen: '%s' exists; use --force to replace it", out);
	/* Write a temporary file with the final mode, then rename over. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", out) >= sizeof(tmp))
		return ctl_usage_error("keygen: path too long");
	if ((fd = mkstemp(tmp)) < 0)
		return ctl_usage_error("keygen: cannot create '%s': %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0 ||
	    close(fd) != 0) {
		int e = errno;

		(void)unlink(tmp);
		return ctl_usage_error("keygen: cannot write '%s': %s", tmp, strerror(e));
	}
	OPENSSL_cleanse(line, sizeof(line));
	if (rename(tmp, out) != 0) {
		int e = errno;

		(void)unlink(tmp);
		return ctl_usage_error("keygen: cannot create '%s': %s", out, strerror(e));
	}
	fprintf(stderr, "chaosctl: wrote key '%s' to %s (mode 0600); install the same "
	    "file on every agent\n", id, out);
	return EXIT_ALL_OK;
}
