/*
 * index: the SQLite side (WAL, synchronous=FULL).  Everything here but
 * drafts and device counters is derived from the ledger and can be rebuilt
 * (index_rebuild); a rebuild equals the incremental result because both go
 * through the same path: walk the commits not yet indexed, insert the
 * events they add, refold the touched cases.  Schema is versioned with
 * PRAGMA user_version and applied by migrations.
 */
#ifndef FB_INDEX_H
#define FB_INDEX_H

#include <jansson.h>
#include <stdbool.h>

#include "case.h"
#include "ledger.h"

typedef struct fbindex fbindex;

int index_open(fbindex **out, const char *path);
void index_free(fbindex *ix);

/* Bring the index up to the ledger head (cheap when already there). */
int index_sync(fbindex *ix, ledger *l);
/* Drop everything derived and index the whole ledger again. */
int index_rebuild(fbindex *ix, ledger *l);
/* While index_sync or index_rebuild walks the ledger, cb gets the number of
 * events indexed so far, every INDEX_PROGRESS_STEP events and once at the
 * end of the walk (the total is not known before).  NULL: none. */
#define INDEX_PROGRESS_STEP 1000
typedef void (*index_progress_cb)(long events, void *payload);
void index_set_progress(fbindex *ix, index_progress_cb cb, void *payload);
/* The callback index_open gives new handles (a program's progress display,
 * set once before opening anything). */
void index_set_default_progress(index_progress_cb cb, void *payload);
/* A new device's first fetch from a hub (sync.c) indexes the hub's
 * history in the same walk that validates it, in a thread of its own and
 * in one transaction: index_intake_start with a ledger holding `tip` (the
 * hub's) before the walk, which may not yet be in l; index_intake_file for
 * each file the walk adds, once it has passed validation, with the event
 * the validation parsed from it or NULL (taken; non-zero: the intake
 * stopped, the walk goes on); index_intake_end with the walk's
 * result.  index_intake_finish (NULL: nothing) keeps the rows only if l
 * then stands at `tip` and the index held nothing of it; otherwise nothing
 * changed and index_sync indexes as usual.  Nothing else may use the index
 * in between. */
typedef struct index_intake index_intake;
int index_intake_start(index_intake **out, fbindex *ix, ledger *src, const char *tip);
int index_intake_file(index_intake *in, const char *commit, time_t ctime, const char *path,
		      const char *data, size_t len, json_t *ev);
void index_intake_end(index_intake *in, int rc);
void index_intake_finish(index_intake *in, ledger *l);
/* Ledger head the index reflects ("" when none). */
int index_head(fbindex *ix, char out[41]);
/* A sync left the hub holding everything indexed so far: remember where
 * the events stood.  index_unsynced counts this device's events indexed
 * since (at most limit).  An event recorded by another process while the
 * sync ran may be counted as synced until the next sync: a status hint,
 * never a decision. */
int index_mark_synced(fbindex *ix);
int index_unsynced(fbindex *ix, const char *device, long limit, long *out);
/* Other bookkeeping values of the index (meta table); "" when absent. */
int index_meta_get(fbindex *ix, const char *key, char *out, size_t size);
int index_meta_set(fbindex *ix, const char *key, const char *value);

/* Case state (new reference) or ERR_NOTFOUND. */
int index_case_get(fbindex *ix, const char *case_id, json_t **state);
/* Events of a case ordered by (at, id): array of
 * {"commit", "event": {...}, "verdict": "ok" or why the signature is not
 * valid, "path"} (new reference). */
int index_case_events(fbindex *ix, const char *case_id, json_t **out);
/* Case states, newest first.  status: open|ordered|overdue|closed|all (NULL
 * = all); search: substring over id, address, grid, party, notes (NULL =
 * none); today: YYYY-MM-DD for overdue. */
int index_case_list(fbindex *ix, const char *status, const char *search,
		    const char *today, json_t **out);
/* The same cases as rows (borrowed, valid during the call), without any
 * JSON: the cheapest way to print a long list. */
typedef int (*index_row_cb)(const case_row *row, void *payload);
int index_case_rows_each(fbindex *ix, const char *status, const char *search, const char *today,
			 index_row_cb cb, void *payload);
/* Orders of a page of case summaries. */
typedef enum {
	INDEX_SORT_NEWEST,   /* opened_at, newest first (the lists' default) */
	INDEX_SORT_DEADLINE, /* earliest deadline first, cases without one last */
} index_sort;
/* How many cases a list filter and search match. */
int index_case_count(fbindex *ix, const char *status, const char *search, const char *today,
		     long *out);
/* One page of summaries in the given order (new array): the TUI list holds
 * only the pages it shows, whatever the number of cases. */
int index_case_page(fbindex *ix, const char *status, const char *search, const char *today,
		    index_sort sort, long limit, long offset, json_t **out);
/* Cases holding a photo with this sha256 (array of case ids). */
int index_photo_cases(fbindex *ix, const char *sha256, json_t **out);
/* Ledger files the index could not read, [{path, problem}]. */
int index_problems(fbindex *ix, json_t **out);

/* Device counters: next event seq, next case number for a day. */
int index_next_seq(fbindex *ix, const char *device, long *out);
int index_next_case_number(fbindex *ix, const char *device, const char *day, long *out);

/* Drafts: kind is "inspection" or "reinspection".  Written durably. */
int index_draft_put(fbindex *ix, const char *case_id, const char *kind, const json_t *draft);
int index_draft_get(fbindex *ix, const char *case_id, const char *kind, json_t **out);
int index_draft_delete(fbindex *ix, const char *case_id, const char *kind);
/* All drafts: [{case, kind, draft, updated_at}]. */
int index_draft_list(fbindex *ix, json_t **out);

/* Pin the trust root (first admin key) used when folding the roster. */
void index_set_trust_root(fbindex *ix, const char *key);
/* The roster as folded from the ledger (caller frees with verify_roster_free). */
struct verify_roster;
int index_roster(fbindex *ix, struct verify_roster **out);

#endif
