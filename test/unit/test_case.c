/*
 * Case state machine: every step from every state, the fold, overdue,
 * corrections and unknown events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/case.h"
#include "core/error.h"
#include "core/event.h"

static int seq;

static json_t *ev(const char *type, const char *fields)
{
	char at[32];
	seq++;
	snprintf(at, sizeof at, "2026-11-%02dT08:00:%02dZ", 1 + seq / 60, seq % 60);
	json_t *e = event_new(type, "HZ01-20261101-abc123-1", 0, "3101-0042", "abc123", seq);
	json_object_set_new(e, "at", json_string(at));
	char id[64];
	snprintf(id, sizeof id, "20261101T0800%02dZ-abc123-%06d", seq % 60, seq);
	json_object_set_new(e, "id", json_string(id));
	if (fields) {
		json_t *f = json_loads(fields, 0, NULL);
		assert_non_null(f);
		json_object_update(e, f);
		json_decref(f);
	}
	return e;
}

/* Event sequences that reach each state. */
static const char *const paths[][8] = {
	{"opened", "case.opened", NULL},
	{"inspected", "case.opened", "inspection.recorded", NULL},
	{"ordered", "case.opened", "inspection.recorded", "order.issued", NULL},
	{"reinspected", "case.opened", "inspection.recorded", "order.issued", "reinspection.recorded", NULL},
	{"closed", "case.opened", "inspection.recorded", "order.issued", "reinspection.recorded", "case.closed", NULL},
	{"escalated", "case.opened", "inspection.recorded", "order.issued", "case.escalated", NULL},
	{"reopened", "case.opened", "inspection.recorded", "order.issued", "reinspection.recorded", "case.closed", "case.reopened", NULL},
};

static const char *fields_for(const char *type)
{
	if (!strcmp(type, "inspection.recorded"))
		return "{\"answers\": {\"SB04\": \"fail\"}, \"failures\": [\"SB04\"]}";
	if (!strcmp(type, "order.issued"))
		return "{\"items\": [{\"item\": \"SB04\"}], \"deadline\": \"2026-11-05\"}";
	if (!strcmp(type, "reinspection.recorded"))
		return "{\"answers\": {\"SB04\": \"pass\"}, \"failures\": []}";
	if (!strcmp(type, "case.closed"))
		return "{\"outcome\": \"rectified\"}";
	return NULL;
}

static json_t *state_at(const char *const *path)
{
	json_t *events = json_array(), *st;
	for (int i = 1; path[i]; i++)
		json_array_append_new(events, ev(path[i], fields_for(path[i])));
	assert_int_equal(case_fold(events, &st), 0);
	json_decref(events);
	return st;
}

static void test_fold_reaches_each_state(void **s)
{
	for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
		json_t *st = state_at(paths[p]);
		assert_string_equal(event_str(st, "status"), paths[p][0]);
		json_decref(st);
	}
}

struct step { const char *name, *type, *fields; const char *allowed; };

/* allowed: the states (space separated) in which the step is legal. */
static const struct step steps[] = {
	{"inspect", "inspection.recorded", NULL, "opened inspected reopened"},
	{"order", "order.issued", "{\"items\": [\"SB04\"]}", "inspected ordered"},
	{"reinspect", "reinspection.recorded", NULL, "ordered"},
	{"close rectified", "case.closed", "{\"outcome\": \"rectified\"}", "reinspected"},
	{"close penalized", "case.closed", "{\"outcome\": \"penalized\"}", "ordered escalated"},
	/* inspected and reopened carry a failed item here (the last inspection
	 * failed SB04), so no-violation is refused there: re-inspect first */
	{"close no-violation", "case.closed", "{\"outcome\": \"no-violation\"}", "opened"},
	{"close waived", "case.closed", "{\"outcome\": \"waived\"}", "inspected ordered reinspected reopened"},
	{"escalate", "case.escalated", NULL, "inspected ordered reinspected reopened"},
	{"reopen", "case.reopened", NULL, "closed"},
	{"approve", "review.approved", NULL, "closed"},
	{"return", "review.returned", NULL, "closed"},
	{"note", "note.added", "{\"text\": \"x\"}", "opened inspected ordered reinspected closed escalated reopened"},
	{"attach", "photo.attached", NULL, "opened inspected ordered reinspected closed escalated reopened"},
	{"correct", "correction", NULL, "opened inspected ordered reinspected closed escalated reopened"},
	{"open again", "case.opened", NULL, ""},
	{"unknown type", "inspection.ai_scored", NULL, "opened inspected ordered reinspected closed escalated reopened"},
};

static bool listed(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static void test_every_step_from_every_state(void **s)
{
	for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
		json_t *st = state_at(paths[p]);
		for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
			json_t *e = ev(steps[k].type, steps[k].fields);
			int rc = case_check(st, e);
			bool want = listed(steps[k].allowed, paths[p][0]);
			if (want != (rc == 0))
				fail_msg("%s from %s: got %d (%s), expected %s", steps[k].name, paths[p][0], rc,
					 error_last(), want ? "allowed" : "refused");
			if (!want) {
				assert_true(rc == ERR_STATE);
				/* the message names the state and what is allowed now */
				assert_non_null(strstr(error_last(), "Allowed now") ?: strstr(error_last(), "failed items"));
			}
			json_decref(e);
		}
		json_decref(st);
	}
}

static void test_new_case_only_opens(void **s)
{
	json_t *e = ev("case.opened", NULL);
	assert_int_equal(case_check(NULL, e), 0);
	json_decref(e);
	e = ev("note.added", NULL);
	assert_int_equal(case_check(NULL, e), ERR_NOTFOUND);
	json_decref(e);
}

static void test_unknown_outcome(void **s)
{
	json_t *st = state_at(paths[3]);
	json_t *e = ev("case.closed", "{\"outcome\": \"finished\"}");
	assert_int_equal(case_check(st, e), ERR_INVALID);
	assert_non_null(strstr(error_last(), "finished"));
	json_decref(e);
	json_decref(st);
}

static void test_failed_reinspection_keeps_order_open(void **s)
{
	json_t *events = json_array(), *st;
	json_array_append_new(events, ev("case.opened", NULL));
	json_array_append_new(events, ev("inspection.recorded", "{\"answers\": {\"A\": \"fail\", \"B\": 1.0},"
				       " \"failures\": [\"A\", \"B\"]}"));
	json_array_append_new(events, ev("order.issued", "{\"items\": [{\"item\": \"A\"}, {\"item\": \"B\"}],"
				       " \"deadline\": \"2026-11-10\"}"));
	json_array_append_new(events, ev("reinspection.recorded", "{\"answers\": {\"A\": \"pass\", \"B\": 1.2},"
				       " \"failures\": [\"B\"]}"));
	case_fold(events, &st);
	assert_string_equal(event_str(st, "status"), "ordered");
	assert_int_equal(json_array_size(json_object_get(st, "open_items")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "open_items"), 0)), "B");
	json_decref(st);
	json_array_append_new(events, ev("reinspection.recorded", "{\"answers\": {\"B\": 3.0}, \"failures\": []}"));
	case_fold(events, &st);
	assert_string_equal(event_str(st, "status"), "reinspected");
	json_decref(st);
	json_decref(events);
}

static void test_overdue_is_derived(void **s)
{
	json_t *st = state_at(paths[2]); /* deadline 2026-11-05 */
	long days;
	assert_string_equal(case_display_status(st, "2026-11-05", &days), "ordered");
	assert_int_equal(days, 0);
	assert_string_equal(case_display_status(st, "2026-11-08", &days), "overdue");
	assert_int_equal(days, 3);
	json_decref(st);
	st = state_at(paths[3]);
	assert_string_equal(case_display_status(st, "2026-12-30", &days), "reinspected");
	json_decref(st);
}

static void test_fold_orders_by_time_not_input(void **s)
{
	json_t *a = json_array(), *b = json_array(), *sa, *sb;
	json_t *e1 = ev("case.opened", "{\"site\": {\"address\": \"X\"}}");
	json_t *e2 = ev("inspection.recorded", fields_for("inspection.recorded"));
	json_t *e3 = ev("order.issued", fields_for("order.issued"));
	json_array_append(a, e1); json_array_append(a, e2); json_array_append(a, e3);
	json_array_append(b, e3); json_array_append(b, e1); json_array_append(b, e2);
	case_fold(a, &sa);
	case_fold(b, &sb);
	assert_true(json_equal(sa, sb));
	assert_string_equal(event_str(sa, "status"), "ordered");
	json_decref(e1); json_decref(e2); json_decref(e3);
	json_decref(a); json_decref(b); json_decref(sa); json_decref(sb);
}

static void test_correction_overlays_without_erasing(void **s)
{
	json_t *events = json_array(), *st;
	json_t *open = ev("case.opened", "{\"site\": {\"address\": \"解放路12号\", \"grid\": \"G1\"}}");
	json_array_append(events, open);
	char fix[256];
	snprintf(fix, sizeof fix, "{\"amends\": \"%s\", \"changes\": {\"site\": {\"address\": \"解放路12-1号\"}},"
		 " \"reason\": \"typo\"}", event_str(open, "id"));
	json_array_append_new(events, ev("correction", fix));
	case_fold(events, &st);
	assert_string_equal(event_str(json_object_get(st, "site"), "address"), "解放路12-1号");
	assert_string_equal(event_str(json_object_get(st, "site"), "grid"), "G1");
	assert_string_equal(event_str(json_object_get(open, "site"), "address"), "解放路12号");
	json_decref(open);
	json_decref(st);
	json_decref(events);
}

static void test_unknown_events_are_counted_not_dropped(void **s)
{
	json_t *events = json_array(), *st;
	json_array_append_new(events, ev("case.opened", NULL));
	json_array_append_new(events, ev("future.thing", "{\"x\": 1}"));
	case_fold(events, &st);
	assert_int_equal(json_integer_value(json_object_get(st, "unknown_events")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "events")), 2);
	assert_string_equal(event_str(st, "status"), "opened");
	json_decref(st);
	json_decref(events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_reaches_each_state),
		cmocka_unit_test(test_every_step_from_every_state),
		cmocka_unit_test(test_new_case_only_opens),
		cmocka_unit_test(test_unknown_outcome),
		cmocka_unit_test(test_failed_reinspection_keeps_order_open),
		cmocka_unit_test(test_overdue_is_derived),
		cmocka_unit_test(test_fold_orders_by_time_not_input),
		cmocka_unit_test(test_correction_overlays_without_erasing),
		cmocka_unit_test(test_unknown_events_are_counted_not_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
