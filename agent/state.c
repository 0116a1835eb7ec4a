/* SPDX-License-Identifier: Apache-2.0 */
/* state.c: atomic state file writes and crash recovery. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "life.h"
#include "registry.h"
#include "state.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/jsoncheck.h"
#include "../common/log.h"
#include "../common/util.h"

#define STATE_FILE "state.json"
#define STATE_MAX (1024 * 1024)

static int
path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? CE_INVALID : 0;
}

/* Write text to dir/STATE_FILE atomically. */
static int
write_atomic(const char *dir, const char *text, struct errbuf *eb)
{
	char tmp[512], dst[512];
	int fd = -1, dfd = -1, r = CE_SYSTEM;

	if (path_join(tmp, sizeof(tmp), dir, STATE_FILE ".tmp") != 0 ||
	    path_join(dst, sizeof(dst), dir, STATE_FILE) != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_set(eb, CE_SYSTEM, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (file_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		err_set(eb, CE_SYSTEM, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(eb, CE_SYSTEM, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		err_set(eb, CE_SYSTEM, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	/* The rename itself must reach the disk before the fault takes effect. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		err_set(eb, CE_SYSTEM, "cannot sync '%s': %s", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* The state file entry of a fault that may still have an effect. */
static cJSON *
entry_of(const struct fault *f)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "type", f->req.spec->name);
	cJSON_AddStringToObject(o, "state", fault_state_name(f->state));
	cJSON_AddNumberToObject(o, "created_ms", (double)f->created_ms);
	cJSON_AddNumberToObject(o, "expires_ms", (double)f->expires_ms);
	cJSON_AddItemToObject(o, "request", fault_req_to_json(&f->req));
	cJSON_AddStringToObject(o, "remote", f->remote);
	cJSON_AddStringToObject(o, "key_id", f->life->key_id);
	if (f->targets != NULL)
		cJSON_AddItemToObject(o, "targets", cJSON_Duplicate(f->targets, 1));
	cJSON_AddItemToObject(o, "record", cJSON_Duplicate(f->record, 1));
	if (f->state == FAULT_REVERT_FAILED) {
		cJSON_AddStringToObject(o, "end_state", fault_state_name(f->life->end_state));
		cJSON_AddStringToObject(o, "end_reason", f->life->end_why);
		cJSON_AddStringToObject(o, "error", f->error);
		cJSON_AddNumberToObject(o, "revert_attempts", f->life->revert_attempts);
	}
	return o;
}

static int
save_doc(const char *dir, cJSON *arr, struct errbuf *eb)
{
	cJSON *doc = cJSON_CreateObject();
	char *text = NULL;
	int r = CE_NOMEM;

	if (doc == NULL || cJSON_AddNumberToObject(doc, "version", 1) == NULL ||
	    !cJSON_AddItemReferenceToObject(doc, "faults", arr))
		goto out;
	if ((text = cJSON_Print(doc)) == NULL)
		goto out;
	r = write_atomic(dir, text, eb);
out:
	free(text);
	cJSON_Delete(doc);
	return r;
}

int
state_save(const char *dir, struct registry *reg, const cJSON *keep, struct errbuf *eb)
{
	cJSON *arr = cJSON_CreateArray(), *e;
	struct fault **all;
	size_t i, n;
	int r = CE_NOMEM;

	if (arr == NULL)
		goto out;
	all = registry_all(reg, &n);
	for (i = 0; i < n; i++) {
		struct fault *f = all[i];

		/* No record yet (a target being resolved): nothing to undo. */
		if ((f->state != FAULT_PENDING && f->state != FAULT_ACTIVE &&
		    f->state != FAULT_REVERT_FAILED) || f->record == NULL)
			continue;
		if ((e = entry_of(f)) == NULL || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto out;
		}
	}
	cJSON_ArrayForEach(e, keep) {
		if (!cJSON_AddItemToArray(arr, cJSON_Duplicate(e, 1)))
			goto out;
	}
	r = save_doc(dir, arr, eb);
out:
	cJSON_Delete(arr);
	return r;
}

int
state_parse(const char *text, size_t len, cJSON **faults)
{
	cJSON *doc, *arr;

	*faults = NULL;
	if (jsoncheck(text, len, NULL) != 0 || (doc = cJSON_ParseWithLength(text, len)) == NULL)
		return CE_INVALID;
	arr = cJSON_GetObjectItemCaseSensitive(doc, "faults");
	if (!cJSON_IsObject(doc) || !cJSON_IsArray(arr)) {
		cJSON_Delete(doc);
		return CE_INVALID;
	}
	*faults = cJSON_DetachItemViaPointer(doc, arr);
	cJSON_Delete(doc);
	return 0;
}

int
state_load(const char *dir, cJSON **faults, struct errbuf *eb)
{
	char path[512], bad[560], *text = NULL;
	size_t len;
	int r;

	*faults = NULL;
	if (path_join(path, sizeof(path), dir, STATE_FILE) != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	r = file_read("state file", path, STATE_MAX, FILE_NOFOLLOW, &text, &len, NULL, eb);
	if (r == CE_NOT_FOUND) {
		*faults = cJSON_CreateArray();
		return *faults != NULL ? 0 : CE_NOMEM;
	}
	if (r != 0 && r != CE_INVALID && r != CE_TOO_LARGE)
		return r;
	if (r == 0)
		r = state_parse(text, len, faults);
	free(text);
	if (r != 0) {
		(void)snprintf(bad, sizeof(bad), "%s.corrupt", path);
		(void)rename(path, bad);
		return err_set(eb, CE_INVALID, "state file '%s' is unreadable; kept as "
		    "'%s' for a person to read", path, bad);
	}
	return 0;
}

int
state_revert_all(const char *dir, int *nreverted, int *nleft, struct errbuf *eb)
{
	cJSON *faults = NULL, *left = NULL, *e;
	int r;

	*nreverted = *nleft = 0;
	if ((r = state_load(dir, &faults, eb)) != 0)
		return r;
	if ((left = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(faults);
		return CE_NOMEM;
	}
	cJSON_ArrayForEach(e, faults) {
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e,
		    "type"));
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
		const struct fault_ops *ops = type != NULL ? fault_ops_for_record(type,
		    cJSON_GetObjectItemCaseSensitive(e, "record")) : NULL;
		struct errbuf reb = { "" };

		if (ops == NULL) {
			log_warnx("state: fault '%s' has unknown type '%s'; kept in the state "
			    "file", id != NULL ? id : "?", type != NULL ? type : "?");
			(*nleft)++;
			(void)cJSON_AddItemToArray(left, cJSON_Duplicate(e, 1));
			continue;
		}
		if (ops->revert(NULL, cJSON_GetObjectItemCaseSensitive(e, "record"), &reb) != 0) {
			cJSON *copy = cJSON_Duplicate(e, 1);

			log_warnx("state: reverting %s fault %s failed: %s; kept in the state "
			    "file", type, id != NULL ? id : "?", reb.msg);
			if (copy != NULL) {
				cJSON_DeleteItemFromObjectCaseSensitive(copy, "error");
				cJSON_AddStringToObject(copy, "error", reb.msg);
				cJSON_DeleteItemFromObjectCaseSensitive(copy, "state");
				cJSON_AddStringToObject(copy, "state", "revert_failed");
			}
			(*nleft)++;
			(void)cJSON_AddItemToArray(left, copy);
			continue;
		}
		log_info("state: reverted leftover %s fault %s", type, id != NULL ? id : "?");
		(*nreverted)++;
	}
	r = save_doc(dir, left, eb);
	cJSON_Delete(left);
	cJSON_Delete(faults);
	return r;
}

int
state_lock(const char *dir, struct errbuf *eb)
{
	char path[512];
	int fd;

	if (path_join(path, sizeof(path), dir, "lock") != 0)
		return err_set(eb, CE_INVALID, "state_dir path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return err_set(eb, CE_SYSTEM, "cannot open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return err_set(eb, CE_BUSY, "state directory '%s' is in use by another "
		    "chaos-agent (lock '%s' held)", dir, path);
	}
	return fd;
}
