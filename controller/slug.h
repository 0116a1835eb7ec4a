/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slug.h: an experiment title made into the last part of its S3 prefix,
 * exactly as the original wrapper's sanitize_name_for_path(title, 50) did
 * in Python: strip white space, spaces to '-', drop . / ' ", lower-case
 * (Unicode, as str.lower()), keep the first 50 characters.
 */
#ifndef CHAOS_CTL_SLUG_H
#define CHAOS_CTL_SLUG_H

#include <stddef.h>

#define SLUG_CHARS 50			/* characters kept, as the original */
#define SLUG_MAX (SLUG_CHARS * 4 + 1)	/* bytes: 50 UTF-8 characters and a NUL */

/*
 * Write the slug of the UTF-8 title into out (len bytes, at least
 * SLUG_MAX), NUL-terminated. A character is never split: the cut is at
 * 50 code points. Bytes that are not UTF-8 are each taken as U+FFFD.
 * Returns the number of characters written.
 */
size_t slug_title(const char *title, char *out, size_t len);

#endif
