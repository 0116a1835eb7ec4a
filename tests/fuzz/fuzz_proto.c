/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_proto.c: the receiver's checks of worker/parent messages
 * (agent/proto.c). The input is decoded directly, and also sent as one
 * SOCK_SEQPACKET message and received with proto_recv, as the parent
 * receives what a compromised worker sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "../../agent/proto.h"
#include "../../common/err.h"

static int pair[2] = { -1, -1 };
static char *rbuf;

static void
check_msg(const struct proto_msg *m, const void *buf, size_t n)
{
	FUZZ_CHECK(n >= sizeof(struct proto_hdr));
	FUZZ_CHECK(m->len == n - sizeof(struct proto_hdr) && m->len <= PROTO_PAYLOAD_MAX);
	FUZZ_CHECK(m->payload == (const char *)buf + sizeof(struct proto_hdr));
	switch (m->type) {
	case MSG_REQUEST:
	case MSG_STAT:
		FUZZ_CHECK(m->len > 0 && memchr(m->payload, '\0', m->len) == NULL);
		break;
	case MSG_RESPONSE:
		FUZZ_CHECK(m->status >= 100 && m->status <= 599);
		FUZZ_CHECK(m->ctype == PROTO_CT_JSON || m->ctype == PROTO_CT_TEXT);
		break;
	default:
		FUZZ_CHECK(!"decoded an unknown type");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m, m2;
	int r, r2;
	ssize_t sent;

	r = proto_decode(data, size, &m);
	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	if (r == 0)
		check_msg(&m, data, size);

	/* The same bytes through a socket, as one message. */
	if (pair[0] < 0) {
		int sz = 1 << 20;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
			abort();
		(void)setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		(void)setsockopt(pair[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if ((rbuf = malloc(PROTO_BUF_SIZE)) == NULL)
			abort();
	}
	if (size == 0 || size > 512 * 1024)
		return 0;	/* a zero-length message reads as end of stream */
	sent = send(pair[0], data, size, MSG_DONTWAIT);
	if (sent < 0)
		return 0;	/* too large for the socket: not a decoder input */
	FUZZ_CHECK((size_t)sent == size);
	r2 = proto_recv(pair[1], rbuf, &m2);
	if (size > PROTO_BUF_SIZE) {
		FUZZ_CHECK(r2 == CE_TOO_LARGE);
		return 0;
	}
	FUZZ_CHECK(r2 == r);
	if (r2 == 0) {
		check_msg(&m2, rbuf, size);
		FUZZ_CHECK(m2.type == m.type && m2.seq == m.seq && m2.len == m.len &&
		    m2.status == m.status && m2.ctype == m.ctype);
		FUZZ_CHECK(memcmp(m2.payload, m.payload, m.len) == 0);
	}
	return 0;
}
