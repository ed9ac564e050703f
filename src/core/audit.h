/*
 * audit: `fieldbook verify` for a workspace: every event's signature and
 * role against the roster at its time, every commit's signature, the
 * roster's own chain of admin signatures, and the files the index could
 * not read.  The verdicts come from the same rules the index applies on
 * every sync (verify.c); here they are recomputed from the ledger's bytes.
 */
#ifndef FB_AUDIT_H
#define FB_AUDIT_H

#include <jansson.h>
#include <stdbool.h>

#include "workspace.h"

/* case_id NULL: the whole ledger.  Report:
 * {"ok": bool, "cases": [{"case", "ok", "events", "problems": [{"event"|"commit", "problem"}]}],
 *  "roster": {"entries", "problems"}, "commits": {"checked", "problems"},
 *  "files": [{"path", "problem"}], "summary": {...}} */
int audit_run(workspace *ws, const char *case_id, json_t **report);

/* The hub's pre-receive rule, checked file by file during the caller's
 * walk of the pushed commits (sync.c checks the layout in the same walk):
 * every event added between the hub's head and tip must be signed validly
 * under the roster as of tip, whose roster changes must all be valid from
 * trust_root (NULL: the first admin, whose key close writes to root_out for
 * the hub to pin).  ERR_CONFLICT naming the commit, the file and the reason
 * otherwise.  A hub with no pinned root and a history with no roster at all
 * cannot check anything: open sets *out to NULL and everything is accepted. */
typedef struct audit_pusher audit_pusher;
int audit_push_open(ledger *hub, const char *tip, const char *trust_root, audit_pusher **out);
/* One file added by commit (ev: the parsed event, NULL for other files). */
int audit_push_file(audit_pusher *p, const char *commit, const char *path, const json_t *ev,
		    const char *data, size_t len);
/* check: the walk succeeded, finish the checks (a roster problem, the last
 * event); false: only free.  Frees p. */
int audit_push_close(audit_pusher *p, bool check, char *root_out, size_t root_size);

#endif
