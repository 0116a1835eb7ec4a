/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws.h: calling AWS from chaosctl with libcurl's SigV4 signing. This
 * release covers what journal uploads need: credentials from the
 * environment or the shared credentials/config files (AWS_PROFILE), the
 * region from the environment or the profile, an endpoint override, and
 * S3 PutObject. The ECS container and instance metadata credential
 * sources are not implemented yet and say so.
 */
#ifndef CHAOS_CTL_AWS_H
#define CHAOS_CTL_AWS_H

#include <stddef.h>

struct errbuf;

struct aws {
	char region[64];
	char endpoint[512];	/* "" for AWS itself */
	char key_id[129];
	char secret[256];
	char token[4096];	/* "" without a session token */
	char source[64];	/* where the credentials came from, for messages */
	long timeout_ms;
};

/*
 * Resolve region and credentials. region and endpoint may be NULL (then
 * AWS_REGION/AWS_DEFAULT_REGION/the profile, and AWS_ENDPOINT_URL_S3/
 * AWS_ENDPOINT_URL). Returns 0 or a CE_* code with eb set.
 */
int aws_init(struct aws *a, const char *region, const char *endpoint, struct errbuf *eb);

/* PUT body to s3://bucket/key. Returns 0 or a CE_* code with AWS's own error. */
int aws_s3_put(const struct aws *a, const char *bucket, const char *key,
    const char *content_type, const void *body, size_t len, struct errbuf *eb);

#endif
