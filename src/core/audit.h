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

#include "workspace.h"

/* case_id NULL: the whole ledger.  Report:
 * {"ok": bool, "cases": [{"case", "ok", "events", "problems": [{"event"|"commit", "problem"}]}],
 *  "roster": {"entries", "problems"}, "commits": {"checked", "problems"},
 *  "files": [{"path", "problem"}], "summary": {...}} */
int audit_run(workspace *ws, const char *case_id, json_t **report);

/* The hub's pre-receive rule: every event added between old ("" for none)
 * and tip must be signed validly under the roster as of tip, whose roster
 * changes must all be valid from trust_root (NULL: the first admin, whose
 * key is written to root_out for the hub to pin).  ERR_CONFLICT naming the
 * commit, the file and the reason otherwise.  A hub with no pinned root
 * and a history with no roster at all cannot check anything: accepted. */
int audit_push(ledger *hub, const char *old, const char *tip, const char *trust_root,
	       char *root_out, size_t root_size);

#endif
