/* SPDX-License-Identifier: Apache-2.0 */
/* netaddr.c: see netaddr.h. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "util.h"

/* Split s at commas into at most max items of up to itemlen-1 bytes. */
static int
split(const char *s, char items[][64], size_t max, char *why, size_t len)
{
	size_t n = 0;
	const char *p = s;

	if (s == NULL || *s == '\0') {
		(void)snprintf(why, len, "empty list");
		return -1;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t l = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (l == 0 || l >= 64) {
			(void)snprintf(why, len, "item %zu is %s", n + 1, l ? "too long" : "empty");
			return -1;
		}
		if (n == max) {
			(void)snprintf(why, len, "more than %zu items", max);
			return -1;
		}
		memcpy(items[n], p, l);
		items[n][l] = '\0';
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return (int)n;
}

int
net_parse_cidrs(const char *s, struct net_cidr *out, size_t max, char *why, size_t len)
{
	char items[NET_LIST_MAX][64];
	int n, i;

	if (max > NET_LIST_MAX)
		max = NET_LIST_MAX;
	if ((n = split(s, items, max, why, len)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char *slash = strchr(items[i], '/');
		struct net_cidr *c = &out[i];
		int64_t prefix = -1;
		int bits, b;

		if (slash != NULL) {
			*slash = '\0';
			if (parse_i64(slash + 1, 0, 128, &prefix) != 0) {
				(void)snprintf(why, len, "'%s': bad prefix length", items[i]);
				return -1;
			}
		}
		memset(c, 0, sizeof(*c));
		if (inet_pton(AF_INET, items[i], c->addr) == 1) {
			c->family = AF_INET;
			bits = 32;
		} else if (inet_pton(AF_INET6, items[i], c->addr) == 1) {
			c->family = AF_INET6;
			bits = 128;
		} else {
			(void)snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", items[i]);
			return -1;
		}
		if (prefix > bits) {
			(void)snprintf(why, len, "'%s/%lld': prefix longer than %d", items[i],
			    (long long)prefix, bits);
			return -1;
		}
		c->prefix = prefix < 0 ? bits : (int)prefix;
		/* Clear host bits, as tc would: 10.1.2.3/8 means 10.0.0.0/8. */
		for (b = c->prefix; b < bits; b++)
			c->addr[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
	}
	return n;
}

int
net_parse_ports(const char *s, uint16_t *out, size_t max, char *why, size_t len)
{
	char items[NET_LIST_MAX][64];
	int n, i;

	if (max > NET_LIST_MAX)
		max = NET_LIST_MAX;
	if ((n = split(s, items, max, why, len)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		int64_t v;

		if (parse_i64(items[i], 1, 65535, &v) != 0) {
			(void)snprintf(why, len, "'%s' is not a port 1..65535", items[i]);
			return -1;
		}
		out[i] = (uint16_t)v;
	}
	return n;
}

void
net_cidr_format(const struct net_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	(void)inet_ntop(c->family, c->addr, a, sizeof(a));
	(void)snprintf(buf, len, "%s/%d", a, c->prefix);
}

int
net_check_cidrs(const char *s, char *why, size_t len)
{
	struct net_cidr c[NET_LIST_MAX];

	return net_parse_cidrs(s, c, NET_LIST_MAX, why, len) < 0 ? -1 : 0;
}

int
net_check_ports(const char *s, char *why, size_t len)
{
	uint16_t p[NET_LIST_MAX];

	return net_parse_ports(s, p, NET_LIST_MAX, why, len) < 0 ? -1 : 0;
}

int
net_check_ifname(const char *s, char *why, size_t len)
{
	if (s[0] == '\0' || strlen(s) >= IFNAMSIZ || strchr(s, '/') != NULL ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		(void)snprintf(why, len, "not an interface name (1-%d characters, no '/')",
		    IFNAMSIZ - 1);
		return -1;
	}
	return 0;
}
