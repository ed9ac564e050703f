/*
 * sync: exchange the ledger with a hub (any git remote: a path such as a
 * USB stick or shared folder, file://, git://, ssh://, https://).
 *
 *   fetch -> validate what came in -> fast-forward or union merge (a
 *   two-parent commit; the same path with other content is refused and
 *   nothing changes) -> push -> when the hub refuses because someone
 *   pushed first: fetch and retry, bounded, with backoff -> index_sync.
 *
 * Validation (also run by the hub's pre-receive hook and by bundle import):
 * every commit not already ours only adds files; merge commits are exact
 * unions of their parents; every added path fits the ledger layout and
 * every event file parses and matches its path.  Remotes live in the
 * ledger repository's git config.  The core never prints: progress goes
 * through a callback, the outcome into a sync_summary.
 */
#ifndef FB_SYNC_H
#define FB_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ledger.h"
#include "workspace.h"

typedef struct {
	const char *stage; /* "fetch", "push", "pack", "bundle" (static strings) */
	size_t done, total; /* objects */
	size_t bytes;
} sync_progress;

typedef void (*sync_progress_fn)(const sync_progress *p, void *payload);

typedef struct {
	sync_progress_fn progress; /* NULL: none */
	void *payload;
	int max_attempts;          /* push attempts; 0: default (20) */
	bool no_push;              /* fetch and merge only */
} sync_options;

typedef struct {
	char remote[128];       /* remote name, "" for a path/URL given directly */
	char url[1024];
	char old_head[41];      /* our head before */
	char new_head[41];      /* our head after */
	char hub_head[41];      /* the hub's head as last seen ("" = empty hub) */
	int events_received, events_sent;
	int commits_received, commits_sent;
	int attempts;
	bool merged, fast_forward, pushed, refused;
	char reason[1024];      /* why it was refused */
	json_t *cases;          /* object: case id -> true, for cases changed here */
} sync_summary;

/* Reset a summary (frees what it holds). */
void sync_summary_clear(sync_summary *s);
/* {remote, url, old_head, new_head, hub_head, events_received, ...}. */
json_t *sync_summary_json(const sync_summary *s);

/* Remotes: stored in ledger.git/config. */
int sync_remote_add(ledger *l, const char *name, const char *url);
int sync_remote_remove(ledger *l, const char *name);
/* [{name, url}] (new reference). */
int sync_remote_list(ledger *l, json_t **out);

/* Sync with target: a remote name, a path or a URL; NULL = the only
 * remote, else "origin" or "hub".  On refusal returns ERR_CONFLICT with
 * s->refused and s->reason set; the workspace is unchanged by a refused
 * merge.  s must be zeroed or cleared by the caller. */
int sync_run(workspace *ws, const char *target, const sync_options *opts, sync_summary *s);

/* Check the commits reachable from tip (hex) and not from base (hex or ""
 * for all): see above.  Messages name the commit and the path. */
int sync_validate(ledger *l, const char *base, const char *tip);

/* Bring our branch to include tip (hex; its objects are in our odb):
 * validate, then fast-forward or union merge, moving LEDGER_REF by
 * compare-and-swap, then update the index.  label names the other side in
 * the merge message.  Fills events/commits received, cases, heads. */
int sync_integrate(workspace *ws, const char *tip, const char *label, sync_summary *s);

/* Hub side: open the repository the hook runs in (GIT_DIR or "."), with
 * git's quarantine object directory readable. */
int sync_hook_open(ledger **out);
/* Check one "<old> <new> <ref>" update as the pre-receive hook does. */
int sync_hook_check(ledger *hub, const char *old, const char *new, const char *ref);


#endif
