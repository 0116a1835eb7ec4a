/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_misc.c: "chaosctl version" and "chaosctl help". */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "ctl.h"

void
usage_version(FILE *out)
{
	fprintf(out, "usage: chaosctl version\n\nPrint chaosctl's version, libcurl's and "
	    "OpenSSL's.\n");
}

int
cmd_version(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (ctl->output == OUT_JSON)
		printf("{\"version\":\"%s\",\"libcurl\":\"%s\",\"openssl\":\"%s\"}\n",
		    CHAOS_VERSION, curl_version_info(CURLVERSION_NOW)->version,
		    OpenSSL_version(OPENSSL_VERSION));
	else
		printf("chaosctl %s (libcurl %s, %s)\n", CHAOS_VERSION,
		    curl_version_info(CURLVERSION_NOW)->version, OpenSSL_version(OPENSSL_VERSION));
	return EXIT_ALL_OK;
}

void
usage_help(FILE *out)
{
	fprintf(out, "usage: chaosctl help [COMMAND]\n");
}

int
cmd_help(struct ctl *ctl, int argc, char **argv)
{
	size_t i;

	(void)ctl;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_main_usage(stdout);
		return EXIT_ALL_OK;
	}
	for (i = 0; i < ctl_ncommands; i++) {
		if (strcmp(ctl_commands[i].name, argv[1]) == 0) {
			ctl_commands[i].usage(stdout);
			return EXIT_ALL_OK;
		}
	}
	return ctl_usage_error("help: '%s' is not a command", argv[1]);
}
