/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prelude.h: forced into every translation unit by the Makefile (-include).
 * The C library headers that declare banned functions come first, so
 * their own (fortified) definitions compile; banned.h then turns every
 * later use in our code into a compile error.
 */
#ifndef CHAOS_PRELUDE_H
#define CHAOS_PRELUDE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "banned.h"

#endif
