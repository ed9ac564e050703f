/*
 * review: the supervisor's queue and decisions.  Closures wait for
 * approval unless the policy in the config says otherwise:
 *   "review": {"closures": true, "forms": {"posting": false}, "categories": {"07006": true}}
 * (a form's setting beats its category's, which beats "closures").
 */
#ifndef FB_REVIEW_H
#define FB_REVIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "workspace.h"

/* Does closing this case need a supervisor's approval? */
bool review_required(const workspace *ws, const json_t *state);
/* What waits for review, most urgent first: overdue orders (most overdue
 * first), closures awaiting approval (oldest first), photos whose checks
 * failed.  Array of {case, kind, address, days_overdue?, closed_at?, outcome?, detail}. */
int review_queue(workspace *ws, const char *today, json_t **out);
/* Record review.approved or review.returned (reason required to return). */
int review_decide(workspace *ws, const char *case_id, bool approve, const char *reason,
		  char event_id[64]);

#endif
