/*
 * review: queue and decisions.  See review.h.
 */
#include "review.h"
#include "action.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool review_required(const workspace *ws, const json_t *state)
{
	const json_t *policy = json_object_get(ws->config, "review");
	const char *form = event_str(json_object_get(state, "form"), "id");
	const char *cat = event_str(json_object_get(state, "category"), "code");
	const json_t *v = json_object_get(json_object_get(policy, "forms"), form);
	if (!json_is_boolean(v))
		v = json_object_get(json_object_get(policy, "categories"), cat);
	if (!json_is_boolean(v))
		v = json_object_get(policy, "closures");
	return json_is_boolean(v) ? json_is_true(v) : true;
}

static json_t *item(const json_t *st, const char *kind, const char *detail)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "case", event_str(st, "id"), "kind", kind, "address",
			 event_str(json_object_get(st, "site"), "address"), "detail", detail);
}

static int cmp_overdue(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "days_overdue"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "days_overdue"));
	return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_closed(const void *a, const void *b)
{
	return strcmp(event_str(*(json_t *const *)a, "closed_at"), event_str(*(json_t *const *)b, "closed_at"));
}

static void append_sorted(json_t *out, json_t *part, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(part);
	json_t **v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_array_get(part, i);
	if (v)
		qsort(v, n, sizeof *v, cmp);
	for (size_t i = 0; v && i < n; i++)
		json_array_append(out, v[i]);
	free(v);
}

int review_queue(workspace *ws, const char *today, json_t **out)
{
	json_t *overdue, *closed, *open;
	int rc;
	if ((rc = index_case_list(ws->index, "overdue", NULL, today, &overdue)))
		return rc;
	if ((rc = index_case_list(ws->index, "closed", NULL, today, &closed))) {
		json_decref(overdue);
		return rc;
	}
	if ((rc = index_case_list(ws->index, "open", NULL, today, &open))) {
		json_decref(overdue);
		json_decref(closed);
		return rc;
	}
	json_t *a = json_array(), *b = json_array(), *c = json_array();
	size_t i;
	json_t *st;
	json_array_foreach(overdue, i, st) {
		long days;
		case_display_status(st, today, &days);
		char d[128];
		snprintf(d, sizeof d, _("deadline %s, %ld days overdue"),
			 event_str(json_object_get(st, "order"), "deadline"), days);
		json_t *it = item(st, "overdue", d);
		json_object_set_new(it, "days_overdue", json_integer(days));
		json_array_append_new(a, it);
	}
	json_array_foreach(closed, i, st) {
		if (strcmp(event_str(st, "review"), "pending") != 0 || !review_required(ws, st))
			continue;
		char d[128];
		snprintf(d, sizeof d, _("closed as %s, awaiting approval"), event_str(st, "outcome"));
		json_t *it = item(st, "closure", d);
		json_object_set_new(it, "closed_at", json_string(event_str(st, "closed_at")));
		json_object_set_new(it, "outcome", json_string(event_str(st, "outcome")));
		json_array_append_new(b, it);
	}
	json_array_foreach(open, i, st) {
		json_int_t flagged = json_integer_value(json_object_get(st, "photo_flags"));
		if (flagged <= 0)
			continue;
		char d[128];
		snprintf(d, sizeof d, _("%lld photos with failed checks"), (long long)flagged);
		json_array_append_new(c, item(st, "photo", d));
	}
	*out = json_array();
	append_sorted(*out, a, cmp_overdue);
	append_sorted(*out, b, cmp_closed);
	json_array_extend(*out, c);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(overdue);
	json_decref(closed);
	json_decref(open);
	return 0;
}

int review_decide(workspace *ws, const char *case_id, bool approve, const char *reason,
		  char event_id[64])
{
	json_t *st;
	int rc;
	if (!approve && (!reason || !*reason))
		return error_set(ERR_INVALID, _("returning a case needs a reason (--reason)"));
	if ((rc = index_case_get(ws->index, case_id, &st)))
		return rc;
	if (strcmp(event_str(st, "status"), "closed") == 0 &&
	    strcmp(event_str(st, "review"), "approved") == 0) {
		json_decref(st);
		return error_set(ERR_STATE, _("case %s is already approved"), case_id);
	}
	json_t *ev = action_event(ws, approve ? EV_REVIEW_APPROVED : EV_REVIEW_RETURNED, case_id);
	if (reason && *reason)
		json_object_set_new(ev, approve ? "note" : "reason", json_string(reason));
	rc = action_record(ws, st, ev, NULL, 0, event_id);
	json_decref(ev);
	json_decref(st);
	return rc;
}
