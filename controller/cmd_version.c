/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_version.c: "chaosctl version": chaosctl's version and libcurl's. */
#include <stdio.h>

#include <curl/curl.h>

#include "ctl.h"

void
usage_version(FILE *out)
{
	fprintf(out, "usage: chaosctl version\n\nPrint chaosctl's version and libcurl's.\n");
}

int
cmd_version(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (ctl->output == OUT_JSON)
		printf("{\"version\":\"%s\",\"libcurl\":\"%s\"}\n", CHAOS_VERSION,
		    curl_version_info(CURLVERSION_NOW)->version);
	else
		printf("chaosctl %s (libcurl %s)\n", CHAOS_VERSION,
		    curl_version_info(CURLVERSION_NOW)->version);
	return EXIT_ALL_OK;
}
