/*
 * Event model: ids, paths, serialisation (sorted keys, unknown fields
 * kept), parsing errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/event.h"

static void test_event_id_sorts_by_time(void **s)
{
	char a[64], b[64], c[64];
	event_id_make(a, 1795000000, "k3m9qz", 9);
	event_id_make(b, 1795000000, "k3m9qz", 10);
	event_id_make(c, 1795000001, "aaaaaa", 1);
	assert_string_equal(a, "20261118T110640Z-k3m9qz-000009");
	assert_true(strcmp(a, b) < 0);
	assert_true(strcmp(b, c) < 0);
}

static void test_case_paths_fan_out_by_day(void **s)
{
	char p[256], cid[96], eid[96];
	assert_int_equal(event_path("HZ01-20261123-k3m9qz-12", "20261123T044729Z-k3m9qz-000042", p, sizeof p), 0);
	assert_string_equal(p, "cases/2026/11/23/HZ01-20261123-k3m9qz-12/events/20261123T044729Z-k3m9qz-000042.json");
	assert_true(event_path_parse(p, cid, eid));
	assert_string_equal(cid, "HZ01-20261123-k3m9qz-12");
	assert_string_equal(eid, "20261123T044729Z-k3m9qz-000042");
	assert_false(event_path_parse("cases/2026/11/23/HZ01-20261123-k3m9qz-12/photos/ab.jpg", cid, eid));
	assert_false(event_path_parse("FIELDBOOK", cid, eid));
}

static void test_case_id_validation(void **s)
{
	assert_true(case_id_valid("HZ01-20261123-k3m9qz-1"));
	assert_false(case_id_valid("HZ01-2026112-k3m9qz-1"));
	assert_false(case_id_valid("HZ01-20261123-K3M9QZ-1"));
	assert_false(case_id_valid("../etc-20261123-k3m9qz-1"));
	assert_false(case_id_valid("HZ01-20261123-k3m9qz-"));
	assert_false(case_id_valid(""));
	char p[64];
	assert_int_equal(case_dir("nope", p, sizeof p), ERR_INVALID);
}

static void test_dump_sorts_keys_and_keeps_unknown_fields(void **s)
{
	json_t *ev;
	const char *in = "{\"type\": \"note.added\", \"zeta\": {\"b\": 1, \"a\": [1, 2]}, \"id\": \"x\","
			 " \"case\": \"HZ01-20261123-k3m9qz-1\", \"at\": \"2026-11-23T04:47:29Z\","
			 " \"officer\": \"o\", \"device\": \"d\", \"text\": \"锈蚀\"}";
	assert_int_equal(event_parse(in, strlen(in), "t.json", &ev), 0);
	char *out = event_dump(ev);
	assert_non_null(strstr(out, "\"zeta\""));
	assert_true(strstr(out, "\"at\"") < strstr(out, "\"case\""));
	assert_true(strstr(out, "\"a\"") < strstr(out, "\"b\""));
	assert_non_null(strstr(out, "锈蚀")); /* UTF-8, not \u escapes */
	assert_int_equal(out[strlen(out) - 1], '\n');
	json_t *again;
	assert_int_equal(event_parse(out, strlen(out), "t.json", &again), 0);
	assert_true(json_equal(ev, again));
	free(out);
	json_decref(ev);
	json_decref(again);
}

static void test_parse_errors_name_the_file(void **s)
{
	json_t *ev;
	const char *broken = "{\"id\": \"x\",\n \"case\": }";
	assert_int_equal(event_parse(broken, strlen(broken), "e.json", &ev), ERR_INVALID);
	assert_non_null(strstr(error_last(), "e.json:2:"));
	const char *missing = "{\"id\": \"x\", \"case\": \"c\", \"type\": \"t\", \"officer\": \"o\", \"device\": \"d\"}";
	assert_int_equal(event_parse(missing, strlen(missing), "e.json", &ev), ERR_INVALID);
	assert_non_null(strstr(error_last(), "\"at\""));
	const char *dup = "{\"id\": \"x\", \"id\": \"y\"}";
	assert_int_equal(event_parse(dup, strlen(dup), "e.json", &ev), ERR_INVALID);
}

static void test_summaries(void **s)
{
	json_t *ev = event_new("order.issued", "HZ01-20261123-k3m9qz-1", 0, "o", "d", 1);
	json_object_set_new(ev, "items", json_pack("[{s:s},{s:s}]", "item", "SB04", "item", "SB05"));
	json_object_set_new(ev, "deadline", json_string("2026-11-26"));
	char *sum = event_summary(ev);
	assert_string_equal(sum, "rectification ordered: SB04,SB05 by 2026-11-26");
	free(sum);
	json_object_set_new(ev, "type", json_string("future.type"));
	sum = event_summary(ev);
	assert_non_null(strstr(sum, "future.type"));
	free(sum);
	json_decref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_id_sorts_by_time),
		cmocka_unit_test(test_case_paths_fan_out_by_day),
		cmocka_unit_test(test_case_id_validation),
		cmocka_unit_test(test_dump_sorts_keys_and_keeps_unknown_fields),
		cmocka_unit_test(test_parse_errors_name_the_file),
		cmocka_unit_test(test_summaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
