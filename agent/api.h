/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h: the requests the parent answers. The worker forwards each
 * authenticated request as one message; the parent re-checks its fields,
 * decides whether its nonce is new (the replay cache lives here, not in
 * the worker, so no worker restart forgets one), and dispatches it through
 * a fixed table of handlers.
 */
#ifndef CHAOS_AGENT_API_H
#define CHAOS_AGENT_API_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct nonce_cache;
struct registry;

/*
 * Set up the handlers. nonces is the replay cache; requests signed at or
 * before not_before (Unix seconds; 0 for none) are refused, which is how a
 * lost replay journal is covered.
 */
void api_init(const struct config *cfg, struct registry *reg, struct nonce_cache *nonces,
    int64_t not_before);

/*
 * Handle one request message from worker generation gen. The answer goes
 * out now or later (answer.h). Returns 0, or -1 when the message is
 * malformed: the worker that sent it must be killed.
 */
int api_request(const char *payload, size_t len, uint32_t seq, unsigned gen);

#endif
