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

#endif
