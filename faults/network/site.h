/* SPDX-License-Identifier: Apache-2.0 */
/*
 * site.h: a network fault on one site, an interface in one network
 * namespace (the host's, or a task's). Installing or removing runs tc with
 * argv arrays from plan.c; inside a task's namespace it runs in a child
 * that entered it with setns (common/child.h), after checking that the
 * namespace's owner still has its recorded start time.
 *
 * A site is the record's JSON object: {"pid", "start", "ns", "interface",
 * "host", "container"?, "previous"?}.
 */
#ifndef CHAOS_NET_SITE_H
#define CHAOS_NET_SITE_H

#include <stdbool.h>

#include "plan.h"

struct cJSON;
struct errbuf;

/* What installing needs, all from the fault's record. */
struct net_install {
	struct net_netem netem;
	struct net_scope scope;
	bool force;		/* replace a root qdisc someone else set up */
};

/*
 * Install the fault on site. out gets what the record must keep: the root
 * qdisc a forced install replaced ("previous": {"kind","handle"}). On
 * failure nothing is left on the interface. Returns 0, 1 when the site's
 * namespace is gone, or a CE_* code with eb set.
 */
int net_site_install(const struct cJSON *site, const struct net_install *in,
    struct cJSON *out, struct errbuf *eb);

/*
 * Remove what a fault installed on site, by its handles, and put back a
 * replaced root. Idempotent: a site whose interface, namespace or qdiscs
 * are gone is done. Returns 0, 1 when the namespace is gone, or a CE_*
 * code with eb set.
 */
int net_site_remove(const struct cJSON *site, struct errbuf *eb);

#endif
