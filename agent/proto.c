/* SPDX-License-Identifier: Apache-2.0 */
/* proto.c: size-checked worker/parent messages (see proto.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto.h"
#include "../common/err.h"

int
proto_decode(const void *buf, size_t n, struct proto_msg *out)
{
	struct proto_hdr h;
	struct proto_msg m;

	if (n < sizeof(h))
		return CE_INVALID;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != PROTO_MAGIC || h.version != PROTO_VERSION)
		return CE_INVALID;
	if (h.len > PROTO_PAYLOAD_MAX || h.len != n - sizeof(h))
		return CE_INVALID;
	memset(&m, 0, sizeof(m));
	m.seq = h.seq;
	m.payload = (const char *)buf + sizeof(h);
	m.len = h.len;
	switch (h.type) {
	case MSG_REQUEST:
	case MSG_STAT:
		/* JSON text: not empty, no NUL bytes, no aux. */
		if (h.aux != 0 || h.len == 0 || memchr(m.payload, '\0', h.len) != NULL)
			return CE_INVALID;
		break;
	case MSG_RESPONSE:
		m.status = (int)(h.aux & 0xffff);
		if (m.status < 100 || m.status > 599)
			return CE_INVALID;
		if ((h.aux >> 16) > PROTO_CT_TEXT)
			return CE_INVALID;
		m.ctype = (enum proto_ctype)(h.aux >> 16);
		break;
	default:
		return CE_INVALID;
	}
	m.type = (enum proto_type)h.type;
	*out = m;
	return 0;
}

int
proto_send(int fd, enum proto_type type, uint32_t seq, uint32_t aux,
    const void *payload, size_t len)
{
	struct proto_hdr h;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (len > PROTO_PAYLOAD_MAX)
		return CE_TOO_LARGE;
	memset(&h, 0, sizeof(h));
	h.magic = PROTO_MAGIC;
	h.version = PROTO_VERSION;
	h.type = (uint16_t)type;
	h.seq = seq;
	h.aux = aux;
	h.len = (uint32_t)len;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return CE_SYSTEM;
	if ((size_t)n != sizeof(h) + len)
		return CE_SYSTEM;
	return 0;
}

int
proto_recv(int fd, void *buf, struct proto_msg *out)
{
	ssize_t n;

	do
		n = recv(fd, buf, PROTO_BUF_SIZE, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return CE_SYSTEM;
	if (n == 0)
		return CE_NOT_FOUND;
	if ((size_t)n > PROTO_BUF_SIZE)
		return CE_TOO_LARGE;
	return proto_decode(buf, (size_t)n, out);
}
