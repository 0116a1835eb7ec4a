/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto.h: messages between the unprivileged worker and the privileged
 * parent over a SOCK_SEQPACKET socketpair. A message is one fixed header
 * and a payload of at most PROTO_PAYLOAD_MAX bytes. The receiver checks
 * magic, version, type, declared length against the received size and the
 * type's own constraints; a message that fails any check is fatal to the
 * connection (the parent then kills and restarts the worker).
 *
 *   worker -> parent  MSG_REQUEST   JSON {"route", "method", "path", "remote",
 *                                   "key_id", "id"?, "state"?, "body"?}
 *   parent -> worker  MSG_RESPONSE  aux = HTTP status | content type << 16;
 *                                   payload = the response body
 *   worker -> parent  MSG_STAT      JSON {"status", "route", "auth_failure"?}:
 *                                   a request the worker answered alone,
 *                                   counted by the parent; no reply
 */
#ifndef CHAOS_AGENT_PROTO_H
#define CHAOS_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC 0x43484153u		/* "CHAS" */
#define PROTO_VERSION 1
#define PROTO_PAYLOAD_MAX (128 * 1024)

enum proto_type {
	MSG_REQUEST = 1,
	MSG_RESPONSE = 2,
	MSG_STAT = 3,
};

enum proto_ctype {
	PROTO_CT_JSON = 0,
	PROTO_CT_TEXT = 1,	/* Prometheus text exposition */
};

struct proto_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t seq;		/* request number; echoed in the response */
	uint32_t aux;		/* MSG_RESPONSE: status | ctype << 16; else 0 */
	uint32_t len;		/* payload bytes that follow */
};

/* A decoded message; payload points into the caller's buffer. */
struct proto_msg {
	enum proto_type type;
	uint32_t seq;
	int status;		/* MSG_RESPONSE only */
	enum proto_ctype ctype;	/* MSG_RESPONSE only */
	const char *payload;
	size_t len;
};

/*
 * Validate and decode one received message of n bytes in buf. Returns 0,
 * or CE_INVALID when any check fails (out untouched).
 */
int proto_decode(const void *buf, size_t n, struct proto_msg *out);

/*
 * Send one message. payload may be NULL when len is 0. Returns 0,
 * CE_TOO_LARGE, or CE_SYSTEM (errno set) when the socket fails.
 */
int proto_send(int fd, enum proto_type type, uint32_t seq, uint32_t aux,
    const void *payload, size_t len);

/*
 * Receive one message into buf (of size PROTO_BUF_SIZE) and decode it.
 * Returns 0, CE_NOT_FOUND at end of stream, CE_TOO_LARGE for a truncated
 * message, CE_INVALID for a malformed one or CE_SYSTEM.
 */
#define PROTO_BUF_SIZE (sizeof(struct proto_hdr) + PROTO_PAYLOAD_MAX)
int proto_recv(int fd, void *buf, struct proto_msg *out);

#endif
