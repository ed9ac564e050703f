/*
 * bundle: hand-carried sync through git bundle files (gitformat-bundle v2,
 * readable by stock `git bundle verify` and `git fetch`):
 *
 *   # v2 git bundle\n
 *   -<oid> <subject>\n          one per prerequisite commit
 *   <oid> refs/heads/main\n
 *   \n
 *   <pack>
 *
 * Import checks every prerequisite is in our ledger, indexes the pack into
 * our object database, then validates and merges exactly as sync does.
 * Bundles made by stock `git bundle create` (v2, or v3 with sha1) import too.
 */
#ifndef FB_BUNDLE_H
#define FB_BUNDLE_H

#include <stddef.h>

#include "ledger.h"
#include "sync.h"
#include "workspace.h"

typedef struct {
	char head[41];      /* the commit the bundle carries */
	int prerequisites;  /* commits the receiver must already have */
	int commits;        /* commits in the bundle */
	int events;         /* event files they add */
	size_t objects;     /* objects in the pack */
	size_t bytes;       /* file size */
} bundle_info;

/* Write the ledger to path (atomically: temp file, fsync, rename).
 * since: NULL for everything; "YYYY-MM-DD" for the commits made from that
 * local date on; otherwise a commit or ref (git revparse syntax) the
 * receiver already has.  Progress reports stage "bundle". */
int bundle_create(ledger *l, const char *path, const char *since, const sync_options *opts,
		  bundle_info *info);

/* Import a bundle into the workspace; fills s like sync_run (received
 * counts, merged/fast_forward, refused + reason). */
int bundle_import(workspace *ws, const char *path, const sync_options *opts, sync_summary *s);

#endif
