/*
 * case: the case state machine.  A case's state is the fold of its events
 * ordered by (at, id); the same events always give the same state, so an
 * incremental index and a rebuilt one agree.  Writes are checked against
 * the current state first (case_check) so an illegal step writes nothing.
 *
 * States: opened, inspected, ordered, reinspected, closed, escalated,
 * reopened; "overdue" is derived from an ordered case's deadline and today.
 */
#ifndef FB_CASE_H
#define FB_CASE_H

#include <jansson.h>

/* Fold events (any order; sorted here by at, id) into a new state object. */
int case_fold(const json_t *events, json_t **out);
/* May `event` be recorded on a case in `state` (NULL: no case yet)?
 * ERR_STATE naming the state and the allowed steps when not. */
int case_check(const json_t *state, const json_t *event);
/* Displayed status: the state, or "overdue" for an ordered case past its
 * deadline on `today` (YYYY-MM-DD); days overdue in *days (0 otherwise). */
const char *case_display_status(const json_t *state, const char *today, long *days);
/* Translated status name. */
const char *case_status_label(const char *status);
/* Close outcomes accepted by `close --outcome`. */
int case_outcome_valid(const char *outcome);

/* The same from the state's name and the order's deadline ("" when none). */
const char *case_status_on(const char *state, const char *deadline, const char *today, long *days);

/* A case as a list shows it: borrowed strings, "" when absent; status is
 * the displayed one (case_display_status). */
typedef struct {
	const char *id, *status, *state, *address, *grid, *party, *form, *category, *deadline;
	const char *opened_at, *updated_at, *officer;
	long days_overdue;
} case_row;

/* Summary of a case for lists (new reference): id, status (displayed),
 * state, days_overdue, address, grid, party, form, category, deadline,
 * opened_at, updated_at, officer. */
json_t *case_summary(const json_t *state, const char *today);
/* The same object from a row (the index's list columns). */
json_t *case_row_json(const case_row *r);

#endif
