/* SPDX-License-Identifier: Apache-2.0 */
/*
 * limits.h: sizes both programs agree on, so chaosctl needs nothing from
 * the agent's side of the tree.
 */
#ifndef CHAOS_LIMITS_H
#define CHAOS_LIMITS_H

/* A fault id, "f-" and 16 hex digits, with its NUL and room to spare. */
#define FAULT_ID_MAX 24

#endif
