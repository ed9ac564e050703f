/*
 * case: fold of events and the transition table.
 */
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	S_NONE = 1 << 0,
	S_OPENED = 1 << 1,
	S_INSPECTED = 1 << 2,
	S_ORDERED = 1 << 3,
	S_REINSPECTED = 1 << 4,
	S_CLOSED = 1 << 5,
	S_ESCALATED = 1 << 6,
	S_REOPENED = 1 << 7,
	S_ANY = ~S_NONE,
};

static const struct { int bit; const char *name; const char *label; } states[] = {
	{S_NONE, "", ""},
	{S_OPENED, "opened", N_("opened")},
	{S_INSPECTED, "inspected", N_("inspected")},
	{S_ORDERED, "ordered", N_("ordered")},
	{S_REINSPECTED, "reinspected", N_("reinspected")},
	{S_CLOSED, "closed", N_("closed")},
	{S_ESCALATED, "escalated", N_("escalated")},
	{S_REOPENED, "reopened", N_("reopened")},
};

static int state_bit(const char *name)
{
	for (size_t i = 0; i < sizeof states / sizeof *states; i++)
		if (strcmp(states[i].name, name) == 0)
			return states[i].bit;
	return S_NONE;
}

const char *case_status_label(const char *status)
{
	if (strcmp(status, "overdue") == 0)
		return _("overdue");
	for (size_t i = 1; i < sizeof states / sizeof *states; i++)
		if (strcmp(states[i].name, status) == 0)
			return _(states[i].label);
	return status;
}

/* --- fold ------------------------------------------------------------------ */

typedef void (*apply_fn)(json_t *st, const json_t *ev);

static void set_str(json_t *st, const char *key, const char *v)
{
	json_object_set_new(st, key, json_string(v));
}

static void copy_key(json_t *st, const json_t *ev, const char *key)
{
	json_t *v = json_object_get(ev, key);
	if (v)
		json_object_set_new(st, key, json_deep_copy(v));
}

static void apply_opened(json_t *st, const json_t *ev)
{
	set_str(st, "status", "opened");
	set_str(st, "opened_at", event_str(ev, "at"));
	set_str(st, "opened_by", event_str(ev, "officer"));
	static const char *keys[] = {"site", "party", "form", "category", "where", "unit"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		copy_key(st, ev, keys[i]);
}

static void apply_inspection(json_t *st, const json_t *ev)
{
	set_str(st, "status", "inspected");
	json_object_set_new(st, "answers", json_deep_copy(json_object_get(ev, "answers")));
	json_t *f = json_object_get(ev, "failures");
	json_object_set_new(st, "failures", f ? json_deep_copy(f) : json_array());
	json_object_del(st, "order");
	json_object_del(st, "open_items");
}

static void apply_order(json_t *st, const json_t *ev)
{
	set_str(st, "status", "ordered");
	json_t *items = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(ev, "items"), i, it)
		json_array_append_new(items, json_string(json_is_string(it) ? json_string_value(it)
									   : event_str(it, "item")));
	json_object_set_new(st, "order", json_pack("{s:s, s:s, s:s, s:O}", "event",
						  event_str(ev, "id"), "issued_at", event_str(ev, "at"),
						  "deadline", event_str(ev, "deadline"), "items", items));
	json_object_set_new(st, "open_items", items);
}

/* Items of the order still open after a reinspection: those not answered,
 * and those the form judged failed again (the event's "failures"). */
static json_t *still_open(const json_t *open, const json_t *ev)
{
	const json_t *answers = json_object_get(ev, "answers");
	const json_t *failures = json_object_get(ev, "failures");
	json_t *left = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(open, i, it) {
		const char *id = json_string_value(it);
		if (!json_object_get(answers, id) || event_array_has(failures, id))
			json_array_append(left, it);
	}
	return left;
}

static void apply_reinspection(json_t *st, const json_t *ev)
{
	const json_t *ans = json_object_get(ev, "answers");
	json_t *all = json_object_get(st, "answers");
	if (!json_is_object(all))
		json_object_set_new(st, "answers", all = json_object());
	json_object_update(all, (json_t *)ans);
	json_t *left = still_open(json_object_get(st, "open_items"), ev);
	set_str(st, "status", json_array_size(left) ? "ordered" : "reinspected");
	json_object_set_new(st, "open_items", left);
}

static void apply_closed(json_t *st, const json_t *ev)
{
	set_str(st, "status", "closed");
	set_str(st, "outcome", event_str(ev, "outcome"));
	set_str(st, "closed_at", event_str(ev, "at"));
	set_str(st, "review", "pending");
}

static void apply_escalated(json_t *st, const json_t *ev) { set_str(st, "status", "escalated"); }

static void apply_reopened(json_t *st, const json_t *ev)
{
	set_str(st, "status", "reopened");
	json_object_del(st, "outcome");
	json_object_del(st, "closed_at");
	json_object_del(st, "review");
}

static void apply_approved(json_t *st, const json_t *ev) { set_str(st, "review", "approved"); }

static void apply_returned(json_t *st, const json_t *ev)
{
	apply_reopened(st, ev);
	set_str(st, "review", "returned");
}

static void count(json_t *st, const char *key)
{
	json_object_set_new(st, key, json_integer(json_integer_value(json_object_get(st, key)) + 1));
}

static void apply_note(json_t *st, const json_t *ev) { count(st, "notes"); }
/* A case with no location takes it from a photo's GPS (case_location). */
static void apply_photo(json_t *st, const json_t *ev)
{
	count(st, "photos");
	const json_t *w = json_object_get(ev, "where");
	if (json_is_true(json_object_get(ev, "case_location")) &&
	    json_is_number(json_object_get(w, "lat")) && json_is_number(json_object_get(w, "lon")) &&
	    !json_is_number(json_object_get(json_object_get(st, "where"), "lat")))
		json_object_set_new(st, "where", json_deep_copy(w));
}
static void apply_nothing(json_t *st, const json_t *ev) {}

struct transition {
	const char *type;
	const char *verb; /* the command a user types: not translated */
	int from;
	apply_fn apply;
};

static const struct transition transitions[] = {
	{EV_CASE_OPENED, "case new", S_NONE, apply_opened},
	{EV_INSPECTION, "inspect", S_OPENED | S_INSPECTED | S_REOPENED, apply_inspection},
	{EV_ORDER, "order", S_INSPECTED | S_ORDERED, apply_order},
	{EV_REINSPECTION, "reinspect", S_ORDERED, apply_reinspection},
	{EV_CLOSED, "close", S_OPENED | S_INSPECTED | S_ORDERED | S_REINSPECTED | S_ESCALATED | S_REOPENED, apply_closed},
	{EV_ESCALATED, "escalate", S_INSPECTED | S_ORDERED | S_REINSPECTED | S_REOPENED, apply_escalated},
	{EV_REOPENED, "reopen", S_CLOSED, apply_reopened},
	{EV_REVIEW_APPROVED, "approve", S_CLOSED, apply_approved},
	{EV_REVIEW_RETURNED, "return", S_CLOSED, apply_returned},
	{EV_NOTE, "note", S_ANY, apply_note},
	{EV_PHOTO, "attach", S_ANY, apply_photo},
	{EV_CORRECTION, "correct", S_ANY, apply_nothing},
};

/* Which states each close outcome needs, beyond the transition table. */
static const struct { const char *outcome; int from; } outcomes[] = {
	{"rectified", S_REINSPECTED},
	{"penalized", S_ORDERED | S_ESCALATED},
	{"no-violation", S_OPENED | S_INSPECTED | S_REOPENED},
	{"waived", S_INSPECTED | S_ORDERED | S_REINSPECTED | S_REOPENED},
};

static const struct transition *transition_find(const char *type)
{
	for (size_t i = 0; i < sizeof transitions / sizeof *transitions; i++)
		if (strcmp(transitions[i].type, type) == 0)
			return &transitions[i];
	return NULL;
}

int case_outcome_valid(const char *outcome)
{
	for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++)
		if (strcmp(outcomes[i].outcome, outcome) == 0)
			return 1;
	return 0;
}

static int outcome_from(const char *outcome)
{
	for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++)
		if (strcmp(outcomes[i].outcome, outcome) == 0)
			return outcomes[i].from;
	return 0;
}

static int cmp_events(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(event_str(x, "at"), event_str(y, "at"));
	return c ? c : strcmp(event_str(x, "id"), event_str(y, "id"));
}

/* Corrections overlay the fields of the event they amend (the original
 * stays in the ledger and in the timeline). */
static json_t *corrected(const json_t *ev, const json_t *corrections)
{
	json_t *fix = json_object_get(corrections, event_str(ev, "id"));
	if (!fix)
		return json_incref((json_t *)ev);
	json_t *copy = json_deep_copy(ev);
	json_object_update_recursive(copy, fix);
	return copy;
}

static json_t *collect_corrections(json_t **sorted, size_t n)
{
	json_t *c = json_object();
	for (size_t i = 0; i < n; i++) {
		if (strcmp(event_str(sorted[i], "type"), EV_CORRECTION) != 0)
			continue;
		const char *target = event_str(sorted[i], "amends");
		json_t *changes = json_object_get(sorted[i], "changes");
		if (!*target || !json_is_object(changes))
			continue;
		json_t *acc = json_object_get(c, target);
		if (!acc)
			json_object_set_new(c, target, acc = json_object());
		json_object_update_recursive(acc, changes);
	}
	return c;
}

int case_fold(const json_t *events, json_t **out)
{
	size_t n = json_array_size(events);
	json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
	if (!sorted)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(events, i);
	qsort(sorted, n, sizeof *sorted, cmp_events);
	json_t *corr = collect_corrections(sorted, n);
	json_t *st = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *ev = corrected(sorted[i], corr);
		const struct transition *t = transition_find(event_str(ev, "type"));
		if (i == 0)
			set_str(st, "id", event_str(ev, "case"));
		if (t)
			t->apply(st, ev);
		else
			count(st, "unknown_events");
		set_str(st, "updated_at", event_str(ev, "at"));
		json_decref(ev);
	}
	json_object_set_new(st, "events", json_integer((json_int_t)n));
	if (!json_object_get(st, "status"))
		set_str(st, "status", "opened");
	json_decref(corr);
	free(sorted);
	*out = st;
	return 0;
}

/* --- checks ------------------------------------------------------------------ */

static void allowed_steps(int bit, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof transitions / sizeof *transitions; i++) {
		if (!(transitions[i].from & bit))
			continue;
		if (buf[0])
			strncat(buf, ", ", size - strlen(buf) - 1);
		strncat(buf, transitions[i].verb, size - strlen(buf) - 1);
		if (strcmp(transitions[i].type, EV_CLOSED) != 0)
			continue;
		strncat(buf, " (", size - strlen(buf) - 1);
		int first = 1;
		for (size_t j = 0; j < sizeof outcomes / sizeof *outcomes; j++) {
			if (!(outcomes[j].from & bit))
				continue;
			if (!first)
				strncat(buf, "|", size - strlen(buf) - 1);
			strncat(buf, outcomes[j].outcome, size - strlen(buf) - 1);
			first = 0;
		}
		strncat(buf, ")", size - strlen(buf) - 1);
	}
}

static int refuse(const json_t *state, int bit, const char *what)
{
	char allowed[512];
	allowed_steps(bit, allowed, sizeof allowed);
	const char *status = state ? event_str(state, "status") : "";
	return error_set(ERR_STATE, _("case %s is %s: cannot %s here. Allowed now: %s"),
			 state ? event_str(state, "id") : "?", case_status_label(status), what,
			 allowed[0] ? allowed : "-");
}

int case_check(const json_t *state, const json_t *event)
{
	const char *type = event_str(event, "type");
	const struct transition *t = transition_find(type);
	int bit = state ? state_bit(event_str(state, "status")) : S_NONE;
	if (!t)
		return 0; /* unknown types are recorded as they come */
	if (!state && bit == S_NONE && t->from != S_NONE)
		return error_set(ERR_NOTFOUND, _("no such case: %s"), event_str(event, "case"));
	if (!(t->from & bit))
		return refuse(state, bit, t->verb);
	if (strcmp(type, EV_CLOSED) == 0) {
		const char *oc = event_str(event, "outcome");
		if (!case_outcome_valid(oc))
			return error_set(ERR_INVALID, _("unknown outcome \"%s\": use rectified, penalized, "
							"no-violation or waived"), oc);
		if (!(outcome_from(oc) & bit)) {
			char what[64];
			snprintf(what, sizeof what, "close --outcome %s", oc);
			return refuse(state, bit, what);
		}
		if (strcmp(oc, "no-violation") == 0 && json_array_size(json_object_get(state, "failures")))
			return error_set(ERR_STATE, _("case %s has failed items (%s): it cannot be closed "
						      "as no-violation"), event_str(state, "id"),
					 json_string_value(json_array_get(json_object_get(state, "failures"), 0)));
	}
	return 0;
}

const char *case_status_on(const char *state, const char *deadline, const char *today, long *days)
{
	long d = 0;
	*days = 0;
	if (strcmp(state, "ordered") == 0 && *deadline && today && util_date_diff(deadline, today, &d) == 0 &&
	    d > 0) {
		*days = d;
		return "overdue";
	}
	return state;
}

const char *case_display_status(const json_t *state, const char *today, long *days)
{
	return case_status_on(event_str(state, "status"), event_str(json_object_get(state, "order"), "deadline"),
			      today, days);
}

json_t *case_row_json(const case_row *r)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "id", r->id, "status", r->status,
			      "state", r->state, "days_overdue", (json_int_t)r->days_overdue, "address",
			      r->address, "opened_at", r->opened_at, "updated_at", r->updated_at, "officer",
			      r->officer);
	const struct { const char *key, *value; } extra[] = {
		{"grid", r->grid}, {"party", r->party}, {"form", r->form},
		{"category", r->category}, {"deadline", r->deadline},
	};
	for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
		if (*extra[i].value)
			json_object_set_new(s, extra[i].key, json_string(extra[i].value));
	return s;
}

json_t *case_summary(const json_t *st, const char *today)
{
	case_row r = {
		.id = event_str(st, "id"),
		.state = event_str(st, "status"),
		.address = event_str(json_object_get(st, "site"), "address"),
		.grid = event_str(json_object_get(st, "site"), "grid"),
		.party = event_str(json_object_get(st, "party"), "name"),
		.form = event_str(json_object_get(st, "form"), "id"),
		.category = event_str(json_object_get(st, "category"), "code"),
		.deadline = event_str(json_object_get(st, "order"), "deadline"),
		.opened_at = event_str(st, "opened_at"),
		.updated_at = event_str(st, "updated_at"),
		.officer = event_str(st, "opened_by"),
	};
	r.status = case_status_on(r.state, r.deadline, today, &r.days_overdue);
	return case_row_json(&r);
}

