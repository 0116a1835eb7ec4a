/* SPDX-License-Identifier: Apache-2.0 */
/*
 * signals.h: the signals a fault may send, listed once. The spec table
 * takes its "allowed" string from here and kill-process its name-to-number
 * table, so the two cannot drift.
 *
 * CHAOS_SIGNALS(FIRST, REST) expands FIRST for the first name and REST
 * for every other one.
 */
#ifndef CHAOS_SIGNALS_H
#define CHAOS_SIGNALS_H

#define CHAOS_SIGNALS(FIRST, REST) \
	FIRST(KILL) REST(TERM) REST(INT) REST(HUP) REST(QUIT) REST(STOP) REST(CONT) \
	REST(USR1) REST(USR2)

#define CHAOS_SIGNAL_FIRST_(n) #n
#define CHAOS_SIGNAL_REST_(n) "|" #n

/* "KILL|TERM|...": the spec's choices for a signal parameter. */
#define SIGNAL_CHOICES CHAOS_SIGNALS(CHAOS_SIGNAL_FIRST_, CHAOS_SIGNAL_REST_)

#endif
