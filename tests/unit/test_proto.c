/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_proto.c: the worker/parent messages of agent/proto.c over a real
 * SOCK_SEQPACKET socketpair: round trips of every type, and every size,
 * header and type check of the receiver.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/proto.h"
#include "../../common/err.h"

struct pair {
	int fd[2];
	char *buf;		/* PROTO_BUF_SIZE + 64 */
};

static int
pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sz = 4 * 1024 * 1024;

	if (p == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->fd) != 0)
		return -1;
	/* Room for the largest message and the oversized one we forge. */
	(void)setsockopt(p->fd[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(p->fd[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if ((p->buf = calloc(1, PROTO_BUF_SIZE + 64)) == NULL)
		return -1;
	*state = p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	free(p->buf);
	free(p);
	return 0;
}

/* Build a raw header. */
static struct proto_hdr
hdr(uint32_t magic, uint16_t version, uint16_t type, uint32_t seq, uint32_t aux,
    uint32_t len)
{
	struct proto_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = magic;
	h.version = version;
	h.type = type;
	h.seq = seq;
	h.aux = aux;
	h.len = len;
	return h;
}

/* Send header + payload as one raw message, bypassing proto_send. */
static void
send_raw(int fd, const struct proto_hdr *h, const void *payload, size_t len)
{
	char *msg = malloc(sizeof(*h) + len + 1);

	assert_non_null(msg);
	memcpy(msg, h, sizeof(*h));
	if (len > 0)
		memcpy(msg + sizeof(*h), payload, len);
	assert_int_equal(send(fd, msg, sizeof(*h) + len, 0), (ssize_t)(sizeof(*h) + len));
	free(msg);
}

/* Receive expecting code; out must stay untouched on failure. */
static void
recv_expect(struct pair *p, int code)
{
	struct proto_msg m, before;

	memset(&m, 0x77, sizeof(m));
	before = m;
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), code);
	if (code != 0)
		assert_memory_equal(&m, &before, sizeof(m));
}

/* ---- round trips */

static void
t_request_round_trip(void **state)
{
	struct pair *p = *state;
	struct proto_msg m;
	const char *json = "{\"route\":\"info\",\"method\":\"GET\",\"path\":\"/v1/info\"}";

	assert_int_equal(proto_send(p->fd[0], MSG_REQUEST, 42, 0, json, strlen(json)), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.type, MSG_REQUEST);
	assert_int_equal(m.seq, 42);
	assert_int_equal(m.len, strlen(json));
	assert_memory_equal(m.payload, json, m.len);
	assert_ptr_equal(m.payload, p->buf + sizeof(struct proto_hdr));

	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 0, 0, "{\"status\":401}", 14), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.type, MSG_STAT);
	assert_int_equal(m.seq, 0);
	assert_int_equal(m.len, 14);
	assert_memory_equal(m.payload, "{\"status\":401}", 14);
}

static void
t_response_round_trip(void **state)
{
	struct pair *p = *state;
	struct proto_msg m;

	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 7,
	    404u | (uint32_t)PROTO_CT_JSON << 16, "{\"error\":{}}", 12), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.type, MSG_RESPONSE);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.status, 404);
	assert_int_equal(m.ctype, PROTO_CT_JSON);
	assert_int_equal(m.len, 12);

	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 0xffffffffu,
	    200u | (uint32_t)PROTO_CT_TEXT << 16, "# HELP x\n", 9), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.status, 200);
	assert_int_equal(m.ctype, PROTO_CT_TEXT);
	assert_true(m.seq == 0xffffffffu);

	/* A response may be empty; payload may then be NULL on the sender. */
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 204, NULL, 0), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.status, 204);
	assert_int_equal(m.len, 0);
	/* The status range ends are valid. */
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 100, NULL, 0), 0);
	recv_expect(p, 0);
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 599, NULL, 0), 0);
	recv_expect(p, 0);
}

static void
t_largest_payload_round_trips(void **state)
{
	struct pair *p = *state;
	struct proto_msg m;
	char *big = malloc(PROTO_PAYLOAD_MAX + 1);

	assert_non_null(big);
	memset(big, 'x', PROTO_PAYLOAD_MAX + 1);
	big[0] = '{';
	big[PROTO_PAYLOAD_MAX - 1] = '}';
	assert_int_equal(proto_send(p->fd[0], MSG_REQUEST, 3, 0, big, PROTO_PAYLOAD_MAX), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.len, PROTO_PAYLOAD_MAX);
	assert_memory_equal(m.payload, big, PROTO_PAYLOAD_MAX);
	/* One byte more is refused by the sender. */
	assert_int_equal(proto_send(p->fd[0], MSG_REQUEST, 4, 0, big, PROTO_PAYLOAD_MAX + 1),
	    CE_TOO_LARGE);
	free(big);
}

static void
t_messages_keep_their_boundaries(void **state)
{
	struct pair *p = *state;
	struct proto_msg m;

	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 1, 0, "{\"a\":1}", 7), 0);
	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 2, 0, "{\"bb\":22}", 9), 0);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.len, 7);
	assert_int_equal(proto_recv(p->fd[1], p->buf, &m), 0);
	assert_int_equal(m.seq, 2);
	assert_int_equal(m.len, 9);
}

/* ---- the receiver's checks */

static void
t_oversized_message_is_rejected(void **state)
{
	struct pair *p = *state;
	size_t n = PROTO_BUF_SIZE + 1;
	char *msg = calloc(1, n);
	struct proto_hdr h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_REQUEST, 1, 0,
	    (uint32_t)(n - sizeof(h)));

	assert_non_null(msg);
	memcpy(msg, &h, sizeof(h));
	memset(msg + sizeof(h), 'a', n - sizeof(h));
	assert_int_equal(send(p->fd[0], msg, n, 0), (ssize_t)n);
	recv_expect(p, CE_TOO_LARGE);
	free(msg);
	/* The oversized message is consumed: the next one is read normally. */
	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 9, 0, "{}", 2), 0);
	recv_expect(p, 0);
}

static void
t_truncated_and_length_mismatch_rejected(void **state)
{
	struct pair *p = *state;
	struct proto_hdr h;

	/* Shorter than a header. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_STAT, 1, 0, 0);
	assert_int_equal(send(p->fd[0], &h, sizeof(h) - 1, 0), (ssize_t)sizeof(h) - 1);
	recv_expect(p, CE_INVALID);
	/* Declared length larger than what came. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_STAT, 1, 0, 10);
	send_raw(p->fd[0], &h, "{\"a\":1}", 7);
	recv_expect(p, CE_INVALID);
	/* Declared length smaller than what came. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_STAT, 1, 0, 3);
	send_raw(p->fd[0], &h, "{\"a\":1}", 7);
	recv_expect(p, CE_INVALID);
	/* A declared length over the maximum. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_RESPONSE, 1, 200, PROTO_PAYLOAD_MAX + 1);
	send_raw(p->fd[0], &h, NULL, 0);
	recv_expect(p, CE_INVALID);
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_RESPONSE, 1, 200, 0xffffffffu);
	send_raw(p->fd[0], &h, "x", 1);
	recv_expect(p, CE_INVALID);
}

static void
t_bad_header_fields_rejected(void **state)
{
	struct pair *p = *state;
	struct proto_hdr h;

	h = hdr(PROTO_MAGIC ^ 1, PROTO_VERSION, MSG_STAT, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	h = hdr(0x53414843u, PROTO_VERSION, MSG_STAT, 1, 0, 2);	/* byte-swapped */
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	h = hdr(PROTO_MAGIC, PROTO_VERSION + 1, MSG_STAT, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	h = hdr(PROTO_MAGIC, 0, MSG_STAT, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	/* Unknown types. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, 0, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	h = hdr(PROTO_MAGIC, PROTO_VERSION, 4, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	h = hdr(PROTO_MAGIC, PROTO_VERSION, 0xffff, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, CE_INVALID);
	/* And the same message, well formed, passes. */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_STAT, 1, 0, 2);
	send_raw(p->fd[0], &h, "{}", 2);
	recv_expect(p, 0);
}

static void
t_type_constraints(void **state)
{
	struct pair *p = *state;
	struct proto_hdr h;

	/* JSON messages: no aux, not empty, no NUL byte. */
	assert_int_equal(proto_send(p->fd[0], MSG_REQUEST, 1, 5, "{}", 2), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 1, 0, NULL, 0), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_REQUEST, 1, 0, "{}\0{}", 5), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_STAT, 1, 0, "{}\0", 3), 0);
	recv_expect(p, CE_INVALID);
	/* Responses: status 100..599, content type known. */
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 99, "{}", 2), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 600, "{}", 2), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 0, "{}", 2), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 200u | 2u << 16, "{}", 2), 0);
	recv_expect(p, CE_INVALID);
	assert_int_equal(proto_send(p->fd[0], MSG_RESPONSE, 1, 200u | 0xffffu << 16, "{}", 2),
	    0);
	recv_expect(p, CE_INVALID);
	/* A response body may hold NUL bytes (it is forwarded as is). */
	h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_RESPONSE, 1, 200, 3);
	send_raw(p->fd[0], &h, "a\0b", 3);
	recv_expect(p, 0);
}

static void
t_end_of_stream_and_errors(void **state)
{
	struct pair *p = *state;
	struct proto_msg m;

	/* Peer gone: sending fails without SIGPIPE, receiving sees the end. */
	close(p->fd[0]);
	p->fd[0] = -1;
	recv_expect(p, CE_NOT_FOUND);
	assert_int_equal(proto_send(p->fd[1], MSG_STAT, 1, 0, "{}", 2), CE_SYSTEM);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(proto_recv(-1, p->buf, &m), CE_SYSTEM);
	assert_int_equal(proto_send(-1, MSG_STAT, 1, 0, "{}", 2), CE_SYSTEM);
}

/* ---- proto_decode directly */

static void
t_decode_directly(void **state)
{
	unsigned char buf[sizeof(struct proto_hdr) + 8];
	struct proto_hdr h = hdr(PROTO_MAGIC, PROTO_VERSION, MSG_REQUEST, 5, 0, 2);
	struct proto_msg m;
	size_t i;

	(void)state;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "{}", 2);
	assert_int_equal(proto_decode(buf, sizeof(h) + 2, &m), 0);
	assert_int_equal(m.seq, 5);
	assert_int_equal(m.len, 2);
	/* Every shorter prefix is refused. */
	for (i = 0; i < sizeof(h) + 2; i++)
		assert_int_equal(proto_decode(buf, i, &m), CE_INVALID);
	assert_int_equal(proto_decode(buf, sizeof(h) + 3, &m), CE_INVALID);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)
	const struct CMUnitTest tests[] = {
		T(t_request_round_trip),
		T(t_response_round_trip),
		T(t_largest_payload_round_trips),
		T(t_messages_keep_their_boundaries),
		T(t_oversized_message_is_rejected),
		T(t_truncated_and_length_mismatch_rejected),
		T(t_bad_header_fields_rejected),
		T(t_type_constraints),
		T(t_end_of_stream_and_errors),
		cmocka_unit_test(t_decode_directly),
	};
#undef T

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
