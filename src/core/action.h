/*
 * action: every recorded step of a case, shared by the CLI and the TUI.
 * Each action loads the case state, checks the step against the state
 * machine, builds one event, appends it (with any new files) to the ledger
 * in one commit and brings the index up to date.  Nothing is written when
 * a check fails.
 */
#ifndef FB_ACTION_H
#define FB_ACTION_H

#include <jansson.h>
#include <stdbool.h>

#include "workspace.h"

typedef struct {
	const char *form_id;
	const char *address;
	const char *grid;      /* may be NULL */
	const char *party;     /* 当事人 name, may be NULL */
	const char *contact;   /* may be NULL (personal data) */
	bool has_location;
	double lat, lon;
} action_case_params;

/* Opens a case; writes the new id to case_id. */
int action_case_new(workspace *ws, const action_case_params *p, char case_id[96]);

/* Record an inspection (or, with reinspection, a re-inspection of the
 * ordered items).  answers/notes are merged over a saved draft.  With
 * draft_only the answers are validated and saved as a draft, nothing is
 * recorded.  event_id may be NULL. */
int action_inspect(workspace *ws, const char *case_id, const json_t *answers,
		   const json_t *notes, bool reinspection, bool draft_only,
		   char event_id[64]);
/* items: array of item ids or NULL for the failures of the last
 * inspection; days < 0: the smallest default of the items. */
int action_order(workspace *ws, const char *case_id, const json_t *items, int days,
		 char event_id[64]);
int action_close(workspace *ws, const char *case_id, const char *outcome,
		 const char *reason, char event_id[64]);
int action_note(workspace *ws, const char *case_id, const char *text, char event_id[64]);
int action_escalate(workspace *ws, const char *case_id, const char *reason, char event_id[64]);
int action_reopen(workspace *ws, const char *case_id, const char *reason, char event_id[64]);
/* Amend fields of an earlier event: changes is an object merged over it. */
int action_correct(workspace *ws, const char *case_id, const char *event_id_amended,
		   const json_t *changes, const char *reason, char event_id[64]);
/* Record a prepared event (type-specific fields set by the caller) with
 * extra ledger files (e.g. photos).  Used by modules that add event types. */
int action_record(workspace *ws, const json_t *state, json_t *event,
		  const ledger_file *extra, size_t nextra, char event_id[64]);
/* New event skeleton for a case with the common fields (seq set at record). */
json_t *action_event(workspace *ws, const char *type, const char *case_id);

/* Roster changes (signed by this workspace's officer, who must be an admin
 * for them to be valid; the first entry of a ledger is the trust root). */
typedef struct {
	const char *member, *name, *unit, *role, *key;
	const char *valid_from, *valid_until; /* RFC 3339 or NULL */
} action_roster_params;
int action_roster_add(workspace *ws, const action_roster_params *p, char event_id[64]);
int action_roster_retire(workspace *ws, const char *member, const char *key,
			 const char *until, char event_id[64]);

#endif
