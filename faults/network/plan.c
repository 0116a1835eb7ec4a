/* SPDX-License-Identifier: Apache-2.0 */
/* plan.c: see plan.h. Pure: builds arrays of words, runs nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "plan.h"

static struct net_cmd *
cmd_new(struct net_plan *p, const char *tc)
{
	struct net_cmd *c;

	if (p->n == NET_CMDS_MAX)
		return NULL;
	c = &p->cmd[p->n++];
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->w[c->n++], NET_WORD_MAX, "%s", tc);
	return c;
}

static void __attribute__((format(printf, 2, 3)))
word(struct net_cmd *c, const char *fmt, ...)
{
	va_list ap;

	if (c == NULL || c->n == NET_WORDS_MAX)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(c->w[c->n++], NET_WORD_MAX, fmt, ap);
	va_end(ap);
}

/* Several words at once, separated by spaces in words (constants only). */
static void
words(struct net_cmd *c, const char *list)
{
	char buf[256], *p, *next;

	(void)snprintf(buf, sizeof(buf), "%s", list);
	for (p = buf; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, ' ')) != NULL)
			*next++ = '\0';
		word(c, "%s", p);
	}
}

int
net_netem_add(struct net_netem *ne, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (ne->n == 16)
		return -1;
	va_start(ap, fmt);
	r = vsnprintf(ne->w[ne->n], NET_WORD_MAX, fmt, ap);
	va_end(ap);
	if (r < 0 || r >= NET_WORD_MAX)
		return -1;
	ne->n++;
	return 0;
}

static struct net_cmd *
filter(struct net_plan *p, const char *tc, const char *ifname, int family, int prio)
{
	struct net_cmd *c = cmd_new(p, tc);

	words(c, "filter add dev");
	word(c, "%s", ifname);
	words(c, "parent " NET_HANDLE " protocol");
	word(c, "%s", family == AF_INET ? "ip" : "ipv6");
	word(c, "prio");
	word(c, "%d", prio);
	word(c, "u32");
	return c;
}

static void
match_proto(struct net_cmd *c, int family, int proto)
{
	word(c, "match");
	word(c, "%s", family == AF_INET ? "ip" : "ip6");
	word(c, "protocol");
	word(c, "%d", proto);
	word(c, "0xff");
}

static void
match_port(struct net_cmd *c, int family, const char *which, uint16_t port)
{
	word(c, "match");
	word(c, "%s", family == AF_INET ? "ip" : "ip6");
	word(c, "%s", which);
	word(c, "%u", (unsigned)port);
	word(c, "0xffff");
}

static void
match_dst(struct net_cmd *c, const struct net_cidr *d)
{
	char s[NET_WORD_MAX];

	net_cidr_format(d, s, sizeof(s));
	word(c, "match");
	word(c, "%s", d->family == AF_INET ? "ip" : "ip6");
	word(c, "dst");
	word(c, "%s", s);
}

int
net_plan_install(const char *tc, const char *ifname, const struct net_netem *netem,
    const struct net_scope *sc, struct net_plan *p, char *why, size_t len)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct net_cmd *c;
	int fi, i, d, dp, sp, nfilters = 0;

	memset(p, 0, sizeof(*p));
	c = cmd_new(p, tc);
	words(c, "qdisc add dev");
	word(c, "%s", ifname);
	/* Unmatched traffic, whatever its TOS, goes to band 1: untouched. */
	words(c, "root handle " NET_HANDLE " prio bands 3 priomap "
	    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
	c = cmd_new(p, tc);
	words(c, "qdisc add dev");
	word(c, "%s", ifname);
	words(c, "parent " NET_HANDLE "3 handle " NET_NETEM_HANDLE " netem limit 100000");
	for (i = 0; i < netem->n; i++)
		word(c, "%s", netem->w[i]);

	/* The control path first: prio 1 (IPv4) and 2 (IPv6). */
	for (fi = 0; fi < 2; fi++) {
		int fam = families[fi];

		for (i = 0; i < sc->nexclude; i++) {
			if (sc->exclude[i].family != fam)
				continue;
			c = filter(p, tc, ifname, fam, 1 + fi);
			match_dst(c, &sc->exclude[i]);
			words(c, "flowid " NET_HANDLE "1");
		}
		if (sc->agent_port != 0) {
			c = filter(p, tc, ifname, fam, 1 + fi);
			match_proto(c, fam, NET_PROTO_TCP);
			match_port(c, fam, "sport", sc->agent_port);
			words(c, "flowid " NET_HANDLE "1");
		}
	}

	/* The scope: prio 3 (IPv4) and 4 (IPv6), one filter per combination. */
	for (fi = 0; fi < 2; fi++) {
		int fam = families[fi], nd = 0;

		for (i = 0; i < sc->ndest; i++)
			nd += sc->dest[i].family == fam;
		/* Destinations given, none of this family: nothing to match. */
		if (sc->ndest > 0 && nd == 0)
			continue;
		for (d = 0; d < (sc->ndest > 0 ? sc->ndest : 1); d++) {
			if (sc->ndest > 0 && sc->dest[d].family != fam)
				continue;
			for (dp = 0; dp < (sc->ndport > 0 ? sc->ndport : 1); dp++) {
				for (sp = 0; sp < (sc->nsport > 0 ? sc->nsport : 1); sp++) {
					bool any = true;

					if (++nfilters > NET_FILTERS_MAX) {
						(void)snprintf(why, len, "the scope needs "
						    "more than %d filters (destinations x "
						    "ports); narrow it", NET_FILTERS_MAX);
						return -1;
					}
					c = filter(p, tc, ifname, fam, 3 + fi);
					if (sc->ndest > 0) {
						match_dst(c, &sc->dest[d]);
						any = false;
					}
					if (sc->proto != NET_PROTO_ALL) {
						/* ICMPv6 is its own protocol number. */
						match_proto(c, fam, fam == AF_INET6 &&
						    sc->proto == NET_PROTO_ICMP ? 58 :
						    (int)sc->proto);
						any = false;
					}
					if (sc->ndport > 0) {
						match_port(c, fam, "dport", sc->dport[dp]);
						any = false;
					}
					if (sc->nsport > 0) {
						match_port(c, fam, "sport", sc->sport[sp]);
						any = false;
					}
					if (any)
						words(c, "match u32 0 0");
					words(c, "flowid " NET_HANDLE "3");
				}
			}
		}
	}
	if (p->n == NET_CMDS_MAX) {
		(void)snprintf(why, len, "too many tc commands");
		return -1;
	}
	return 0;
}

void
net_plan_remove(const char *tc, const char *ifname, struct net_plan *p)
{
	struct net_cmd *c;

	memset(p, 0, sizeof(*p));
	c = cmd_new(p, tc);
	words(c, "filter del dev");
	word(c, "%s", ifname);
	words(c, "parent " NET_HANDLE);
	c = cmd_new(p, tc);
	words(c, "qdisc del dev");
	word(c, "%s", ifname);
	words(c, "parent " NET_HANDLE "3 handle " NET_NETEM_HANDLE);
	c = cmd_new(p, tc);
	words(c, "qdisc del dev");
	word(c, "%s", ifname);
	words(c, "root handle " NET_HANDLE);
}

/* One command on the root qdisc of ifname: "tc qdisc VERB dev IF root". */
static struct net_cmd *
root_cmd(struct net_plan *p, const char *tc, const char *verb, const char *ifname)
{
	struct net_cmd *c;

	memset(p, 0, sizeof(*p));
	c = cmd_new(p, tc);
	words(c, "qdisc");
	word(c, "%s", verb);
	word(c, "dev");
	word(c, "%s", ifname);
	word(c, "root");
	return c;
}

void
net_plan_show_root(const char *tc, const char *ifname, struct net_plan *out)
{
	(void)root_cmd(out, tc, "show", ifname);
}

void
net_plan_del_root(const char *tc, const char *ifname, struct net_plan *out)
{
	(void)root_cmd(out, tc, "del", ifname);
}

int
net_plan_restore_root(const char *tc, const char *ifname, const char *kind,
    const char *handle, struct net_plan *out)
{
	struct net_cmd *c;
	size_t i;

	/* Values read back from tc's own output: still, only plain words. */
	if (kind == NULL || handle == NULL || kind[0] == '\0' || handle[0] == '\0' ||
	    strlen(kind) >= NET_WORD_MAX || strlen(handle) >= NET_WORD_MAX)
		return -1;
	for (i = 0; kind[i] != '\0'; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') ||
		    kind[i] == '_'))
			return -1;
	for (i = 0; handle[i] != '\0'; i++)
		if (!((handle[i] >= 'a' && handle[i] <= 'f') || (handle[i] >= '0' &&
		    handle[i] <= '9') || handle[i] == ':'))
			return -1;
	c = root_cmd(out, tc, "add", ifname);
	word(c, "handle");
	word(c, "%s", handle);
	word(c, "%s", kind);
	return 0;
}
