/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws.h: calling AWS from chaosctl with libcurl's SigV4 signing.
 * Credentials in the SDKs' order: environment, shared credentials file
 * (AWS_PROFILE), ECS container credentials (AWS_CONTAINER_CREDENTIALS_*),
 * EC2 instance metadata v2. Region: option, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's config, instance metadata. An
 * endpoint override (--endpoint-url, AWS_ENDPOINT_URL) points every
 * service at an emulator.
 */
#ifndef CHAOS_CTL_AWS_H
#define CHAOS_CTL_AWS_H

#include <stddef.h>
#include <stdint.h>

struct errbuf;

struct aws {
	char region[64];
	char endpoint[512];	/* "" for AWS itself */
	char key_id[129];
	char secret[256];
	char token[4096];	/* "" without a session token */
	char source[64];	/* where the credentials came from, for messages */
	long timeout_ms;
	int64_t expires;	/* epoch seconds of temporary credentials, or 0 */
	int kind;		/* which source (for refreshing) */
};

/*
 * Resolve region and credentials. region and endpoint may be NULL (then
 * AWS_REGION/AWS_DEFAULT_REGION/the profile, and AWS_ENDPOINT_URL_S3/
 * AWS_ENDPOINT_URL). Returns 0 or a CE_* code with eb set.
 */
int aws_init(struct aws *a, const char *region, const char *endpoint, struct errbuf *eb);

/*
 * Fetch temporary credentials (ECS container, instance metadata) again
 * when they expire within five minutes; long runs call this before each
 * request. Returns 0 or a CE_* code with eb set.
 */
int aws_refresh(struct aws *a, struct errbuf *eb);

/* An answer: HTTP status and body (NUL-terminated, owned). */
struct aws_resp {
	long status;
	char *body;
	size_t len;
};

void aws_resp_free(struct aws_resp *r);

/*
 * One signed request to service (signing name, e.g. "ecs", "ec2",
 * "monitoring", "batch", "ssm"); host is the endpoint prefix (usually the
 * same). target is the X-Amz-Target of JSON 1.1 APIs, or NULL. Retries
 * throttling and 5xx with backoff. Returns 0 with out filled when AWS
 * answered 2xx; otherwise a CE_* code with AWS's error code and message.
 */
int aws_call(const struct aws *a, const char *service, const char *host, const char *method,
    const char *path, const char *content_type, const char *target, const char *body,
    size_t len, struct aws_resp *out, struct errbuf *eb);

/* Form-encode a Query API value (RFC 3986, upper-case hex) into out. */
int aws_form_value(const char *in, char *out, size_t len);

/* PUT body to s3://bucket/key. Returns 0 or a CE_* code with AWS's own error. */
int aws_s3_put(const struct aws *a, const char *bucket, const char *key,
    const char *content_type, const void *body, size_t len, struct errbuf *eb);

#endif
