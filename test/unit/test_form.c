/*
 * Unit tests for src/core/form.c: the shipped checklists, the error
 * messages a form author sees, and the parsing, validation, visibility and
 * failure rules an officer relies on.
 *
 * Files are found under $FIELDBOOK_TOP (the repository root, default ".").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/form.h"
#include "core/util.h"

static const char *SHIPPED[] = { "signboard", "fencing", "lane", "stacking",
				 "posting" };
#define N_SHIPPED (sizeof SHIPPED / sizeof SHIPPED[0])

static const char *top(void)
{
	const char *t = getenv("FIELDBOOK_TOP");
	return t && *t ? t : ".";
}

static void path_of(char *buf, size_t n, const char *rel)
{
	snprintf(buf, n, "%s/%s", top(), rel);
}

static form *shipped(const char *id)
{
	char path[4096], rel[256];
	form *f = NULL;
	snprintf(rel, sizeof rel, "forms/%s.yaml", id);
	path_of(path, sizeof path, rel);
	int rc = form_load_file(&f, path);
	if (rc)
		fail_msg("%s", error_last());
	return f;
}

static int setup_en(void **state)
{
	setenv("LANGUAGE", "en", 1);
	return 0;
}

/* Fixed head of the inline test forms; items follow. */
#define HEAD                                  \
	"id: t\n"                             \
	"version: 1\n"                        \
	"title: {zh: 测试, en: Test}\n"       \
	"category: {zh: 测试, en: Test}\n"    \
	"items:\n"

static form *load_ok(const char *text)
{
	form *f = NULL;
	int rc = form_load_buffer(&f, text, strlen(text), "t.yaml");
	if (rc)
		fail_msg("unexpected error: %s", error_last());
	return f;
}

/* Loading text must fail with exactly this message. */
static void load_fails(const char *text, const char *msg)
{
	form *f = (form *)1;
	int rc = form_load_buffer(&f, text, strlen(text), "t.yaml");
	assert_int_equal(rc, ERR_FORM);
	assert_null(f);
	assert_string_equal(error_last(), msg);
}

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("bad JSON in test: %s", e.text);
	return v;
}

/* ------------------------------------------------------- shipped forms */

static void test_shipped_forms_load(void **state)
{
	for (size_t i = 0; i < N_SHIPPED; i++) {
		form *f = shipped(SHIPPED[i]);
		size_t n = form_item_count(f);
		bool big = i < 3;
		assert_string_equal(form_id(f), SHIPPED[i]);
		assert_int_equal(form_version(f), 1);
		assert_true(big ? n >= 10 && n <= 12 : n >= 6 && n <= 9);
		assert_true(*form_title(f, "zh") && *form_title(f, "en"));
		assert_string_not_equal(form_title(f, "zh"), form_title(f, "en"));
		assert_true(*form_category_label(f, "zh"));
		for (size_t k = 0; k < n; k++) {
			const form_item *it = form_item_at(f, k);
			assert_true(*form_item_label(it, "zh"));
			assert_true(*form_item_label(it, "en"));
		}
		form_free(f);
	}
}

/* The text kept is byte for byte the file (it is copied into the ledger
 * and hashed). */
static void test_form_text_is_exact(void **state)
{
	char path[4096], *raw;
	size_t len, flen;
	path_of(path, sizeof path, "forms/fencing.yaml");
	assert_int_equal(util_read_file(path, &raw, &len), 0);
	form *f = shipped("fencing");
	const char *t = form_text(f, &flen);
	assert_int_equal(flen, len);
	assert_memory_equal(t, raw, len);
	free(raw);
	form_free(f);
}

static void test_shipped_details(void **state)
{
	form *f = shipped("signboard");
	double lo, hi;
	assert_string_equal(form_category_code(f), "07006");
	assert_string_equal(form_title(f, "zh"), "户外招牌/广告");
	const form_item *sb09 = form_item_find(f, "SB09");
	assert_int_equal(form_item_get_type(sb09), FORM_NUMBER);
	assert_string_equal(form_item_unit(sb09), "m");
	assert_true(form_item_range(sb09, &lo, &hi));
	assert_true(lo == 0 && hi == 20);
	const form_item *sb04 = form_item_find(f, "SB04");
	assert_true(form_item_required(sb04));
	assert_true(form_item_fail_needs_photo(sb04));
	assert_int_equal(form_item_fail_days(sb04), 1);
	assert_non_null(strstr(form_item_legal_basis(sb04, "zh"), "CJJ/T 149"));
	assert_int_equal(form_item_fail_days(form_item_find(f, "SB10")), 0);
	assert_int_equal(form_item_fail_days(form_item_find(f, "SB02")), -1);
	assert_string_equal(form_item_legal_basis(form_item_find(f, "SB02"), "en"), "");
	assert_true(form_item_allows_na(form_item_find(f, "SB06")));
	assert_false(form_item_allows_na(form_item_find(f, "SB03")));
	assert_int_equal(form_item_min_photos(form_item_find(f, "SB11")), 2);
	const form_item *sb01 = form_item_find(f, "SB01");
	assert_int_equal(form_item_choice_count(sb01), 4);
	assert_string_equal(form_item_choice_value(sb01, 0), "approved");
	assert_string_equal(form_item_choice_label(sb01, 2, "zh"), "无");
	assert_null(form_item_choice_value(sb01, 4));
	assert_null(form_item_find(f, "SB99"));
	assert_null(form_item_at(f, 11));
	form_free(f);

	f = shipped("lane");
	assert_true(form_item_personal(form_item_find(f, "LO11")));
	assert_false(form_item_personal(form_item_find(f, "LO01")));
	form_free(f);
	f = shipped("stacking");
	assert_string_equal(form_category_code(f), "");
	form_free(f);
}

static void test_type_names(void **state)
{
	static const char *names[] = { "passfail", "number", "choice",
				       "multi",    "text",   "photos" };
	for (int t = FORM_PASSFAIL; t <= FORM_PHOTOS; t++)
		assert_string_equal(form_item_type_name((form_item_type)t), names[t]);
}

/* A valid sample answer for every item of every shipped form passes a
 * complete validation (given its conditions hold). */
static void test_shipped_all_answerable(void **state)
{
	for (size_t i = 0; i < N_SHIPPED; i++) {
		form *f = shipped(SHIPPED[i]);
		json_t *a = json_object();
		for (size_t k = 0; k < form_item_count(f); k++) {
			const form_item *it = form_item_at(f, k);
			static const char *sample[] = { "pass", "1", "", "", "x", "2" };
			form_item_type t = form_item_get_type(it);
			const char *text = sample[t];
			json_t *v;
			if (t == FORM_CHOICE || t == FORM_MULTI)
				text = form_item_choice_value(it, 0);
			if (!form_item_visible(f, it, a))
				continue;
			if (form_answer_parse(f, form_item_id(it), text, &v))
				fail_msg("%s: %s", SHIPPED[i], error_last());
			json_object_set_new(a, form_item_id(it), v);
		}
		if (form_answers_validate(f, a, true))
			fail_msg("%s: %s", SHIPPED[i], error_last());
		json_decref(a);
		form_free(f);
	}
}

/* ------------------------------------------------------ load errors */

static const struct {
	const char *file, *msg;
} FIXTURES[] = {
	{ "unknown-key.yaml", "8:5: unknown key \"lable\" in item X1; expected one of: id, type, label, required, personal, na, when, on_fail" },
	{ "missing-id.yaml", "9:5: missing \"id\" in item 2" },
	{ "bad-type.yaml", "7:11: unknown item type \"yesno\"; expected passfail, number, choice, multi, text or photos" },
	{ "duplicate-id.yaml", "12:9: duplicate item id \"X1\" (already used by item 1)" },
	{ "when-unknown.yaml", "9:18: \"when\" refers to unknown item \"X9\"" },
	{ "when-later.yaml", "9:18: \"when\" refers to X2, which is not before this item; conditions may only refer to earlier items" },
	{ "min-max.yaml", "10:10: min (5) is greater than max (2)" },
	{ "empty-choices.yaml", "9:14: \"choices\" is an empty list" },
	{ "fail-value.yaml", "12:24: fail value \"broken\" is not among the choices of item X1" },
	{ "version.yaml", "2:10: version must be a positive whole number (1, 2, ...), got \"0\"" },
	{ "missing-label-en.yaml", "8:12: missing \"en\" in label" },
	{ "two-documents.yaml", "8:1: a form file holds one YAML document; remove the second one (after \"---\")" },
	{ "syntax.yaml", "9:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 8)" },
	{ "tabs.yaml", "7:1: tab character: YAML does not allow tabs for indentation; use spaces" },
	{ "not-utf8.yaml", "3:13: not valid UTF-8 text (byte 0xb2); save the form as UTF-8" },
	{ "empty.yaml", "1:1: the form file is empty" },
};

/* Each fixture fails with "PATH:LINE:COL: message". */
static void test_fixture_errors(void **state)
{
	for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++) {
		char rel[256], path[4096], want[8192];
		form *f = (form *)1;
		snprintf(rel, sizeof rel, "test/unit/forms/%s", FIXTURES[i].file);
		path_of(path, sizeof path, rel);
		snprintf(want, sizeof want, "%s:%s", path, FIXTURES[i].msg);
		assert_int_equal(form_load_file(&f, path), ERR_FORM);
		assert_null(f);
		assert_string_equal(error_last(), want);
	}
}

static void test_missing_file(void **state)
{
	form *f;
	assert_int_equal(form_load_file(&f, "/nonexistent/form.yaml"), ERR_NOTFOUND);
	assert_non_null(strstr(error_last(), "/nonexistent/form.yaml"));
}

static void test_form_level_errors(void **state)
{
	load_fails("- a\n- b\n", "t.yaml:1:1: the form must be a mapping of keys to values");
	load_fails("id: t\nversion: 1\ntitle: {zh: 测试, en: Test}\ncategory: {zh: 测试, en: Test}\n",
		   "t.yaml:1:1: missing \"items\" in the form");
	load_fails(HEAD "  - {id: X1, type: text, label: {zh: 甲, en: A}}\nauthor: me\n",
		   "t.yaml:7:1: unknown key \"author\" in the form; expected one of: id, version, title, category, items");
	load_fails("id: Sign Board\nversion: 1\n",
		   "t.yaml:1:5: form id \"Sign Board\" must be lowercase letters, digits, _ and - only");
	load_fails("id: t\nversion: 1.5\n",
		   "t.yaml:2:10: version must be a positive whole number (1, 2, ...), got \"1.5\"");
	load_fails("id: t\nversion: -3\n",
		   "t.yaml:2:10: version must be a positive whole number (1, 2, ...), got \"-3\"");
	load_fails("id: t\nid: u\n", "t.yaml:2:1: key \"id\" appears twice in the form");
	load_fails("id: t\nversion: 1\ntitle: {en: Test}\n", "t.yaml:3:8: missing \"zh\" in title");
	load_fails("id: t\nversion: 1\ntitle: {zh: 测试, en: \"  \"}\n",
		   "t.yaml:3:21: the value is empty");
	load_fails("id: t\nversion: 1\ntitle: {zh: 测试, en: Test}\ncategory: {code: 07 006, zh: 甲, en: A}\n",
		   "t.yaml:4:18: category code \"07 006\" must be letters, digits, _ . or - (e.g. \"07006\")");
	load_fails("id: t\nversion: 1\ntitle: {zh: 测试, en: Test}\ncategory: {zh: 甲, en: A}\nitems: []\n",
		   "t.yaml:5:8: \"items\" is an empty list");
	load_fails("id: t\nversion: 1\ntitle: [测试, Test]\n",
		   "t.yaml:3:8: title must be a mapping of keys to values");
	load_fails("id: \"t\\0u\"\n", "t.yaml:1:5: the value contains a NUL character");
}

static void test_item_errors(void **state)
{
	load_fails(HEAD "  - {id: X1, type: passfail, unit: m, label: {zh: 甲, en: A}}\n",
		   "t.yaml:6:30: key \"unit\" does not apply to passfail items; they take: id, type, label, required, personal, na, when, on_fail");
	load_fails(HEAD "  - {id: X1, type: text, label: {zh: 甲, en: A}, on_fail: {days: 1}}\n",
		   "t.yaml:6:49: key \"on_fail\" does not apply to text items; they take: id, type, label, required, personal, when");
	load_fails(HEAD "  - {id: X-1, type: text, label: {zh: 甲, en: A}}\n",
		   "t.yaml:6:10: item id \"X-1\" must be letters, digits and _ only (e.g. SB01)");
	load_fails(HEAD "  - {id: X1, label: {zh: 甲, en: A}}\n",
		   "t.yaml:6:5: missing \"type\" in item X1");
	load_fails(HEAD "  - {id: X1, type: text}\n", "t.yaml:6:5: missing \"label\" in item X1");
	load_fails(HEAD "  - {id: X1, type: text, label: {zh: 甲, en: A}, required: yes}\n",
		   "t.yaml:6:59: expected true or false, got \"yes\"");
	load_fails(HEAD "  - X1\n",
		   "t.yaml:6:5: each item must be a mapping (id: ..., type: ..., label: ...)");
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}}\n",
		   "t.yaml:6:5: missing \"choices\" in item X1");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, min: abc}\n",
		   "t.yaml:6:56: expected a decimal number such as 2.5, got \"abc\"");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, min: 1e3}\n",
		   "t.yaml:6:56: expected a decimal number such as 2.5, got \"1e3\"");
	load_fails(HEAD "  - {id: X1, type: photos, label: {zh: 甲, en: A}, photos_min: -1}\n",
		   "t.yaml:6:63: expected a whole number from 0 to 100, got \"-1\"");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}, on_fail: {days: 2.5}}\n",
		   "t.yaml:6:69: expected a whole number from 0 to 3650, got \"2.5\"");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}, on_fail: {basis: {zh: 第一条}}}\n",
		   "t.yaml:6:70: missing \"en\" in basis");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}, on_fail: {deadline: 2}}\n",
		   "t.yaml:6:63: unknown key \"deadline\" in on_fail; expected one of: photo, basis, days");
}

#define CHOICES2 "choices: [{value: a, zh: 甲, en: A}, {value: b, zh: 乙, en: B}]"

static void test_choice_errors(void **state)
{
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, " CHOICES2 ", on_fail: {days: 1}}\n",
		   "t.yaml:6:123: item X1 has \"on_fail\" but can never fail: add \"fail_values\"");
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, choices: [{value: a, zh: 甲, en: A}, {value: a, zh: 乙, en: B}]}\n",
		   "t.yaml:6:87: choice \"a\" appears twice in item X1");
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, choices: [{value: a, zh: 甲, en: A}, {value: b, zh: 甲, en: B}]}\n",
		   "t.yaml:6:87: choice \"甲\" appears twice in item X1");
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, choices: [{value: a b, zh: 甲, en: A}]}\n",
		   "t.yaml:6:69: choice value \"a b\" must be a short word of letters, digits, _ . or -");
	load_fails(HEAD "  - {id: X1, type: multi, label: {zh: 甲, en: A}, choices: [{value: a, zh: 甲}]}\n",
		   "t.yaml:6:60: missing \"en\" in choice");
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, choices: {a: 甲}}\n",
		   "t.yaml:6:60: \"choices\" must be a list ([a, b] or lines starting with \"- \")");
}

static void test_condition_errors(void **state)
{
	load_fails(HEAD "  - {id: X1, type: choice, label: {zh: 甲, en: A}, " CHOICES2 "}\n"
			"  - {id: X2, type: text, label: {zh: 乙, en: B}, when: {item: X1, in: [c]}}\n",
		   "t.yaml:7:71: \"c\" is not a possible answer of X1");
	load_fails(HEAD "  - {id: X1, type: text, label: {zh: 甲, en: A}, when: {item: X1, in: [c]}}\n",
		   "t.yaml:6:62: \"when\" refers to X1, which is not before this item; conditions may only refer to earlier items");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}}\n"
			"  - {id: X2, type: text, label: {zh: 乙, en: B}, when: {item: X1, in: [1]}}\n",
		   "t.yaml:7:62: \"when\" refers to X1, a number item; conditions need a passfail, choice or multi item");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}}\n"
			"  - {id: X2, type: text, label: {zh: 乙, en: B}, when: {item: X1}}\n",
		   "t.yaml:7:55: \"when\" needs \"in: [values]\" or \"equals: value\"");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}}\n"
			"  - {id: X2, type: text, label: {zh: 乙, en: B}, when: {item: X1, in: [], equals: pass}}\n",
		   "t.yaml:7:70: \"in\" is an empty list");
	load_fails(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}}\n"
			"  - {id: X2, type: text, label: {zh: 乙, en: B}, when: {item: X1, in: [fail], equals: pass}}\n",
		   "t.yaml:7:86: use either \"in\" or \"equals\", not both");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, fail_if: [{when: {item: X0, in: [a]}}]}\n",
		   "t.yaml:6:75: \"when\" refers to unknown item \"X0\"");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, fail_if: [{equal: 3}]}\n",
		   "t.yaml:6:62: unknown key \"equal\" in fail_if; expected one of: below, above, when");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, fail_if: [{}]}\n",
		   "t.yaml:6:61: a fail_if rule needs \"below\" or \"above\"");
	load_fails(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, on_fail: {days: 1}}\n",
		   "t.yaml:6:60: item X1 has \"on_fail\" but can never fail: add \"fail_if\" rules");
}

/* ---------------------------------------------------- answer parsing */

/* Parse text for item id of f; expect the JSON result (compact dump). */
static void parses(const form *f, const char *id, const char *text, const char *want)
{
	json_t *v = NULL;
	if (form_answer_parse(f, id, text, &v))
		fail_msg("%s=%s: %s", id, text, error_last());
	char *got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
	assert_string_equal(got, want);
	free(got);
	json_decref(v);
}

static void rejects(const form *f, const char *id, const char *text, const char *msg)
{
	json_t *v = (json_t *)1;
	assert_int_equal(form_answer_parse(f, id, text, &v), ERR_INVALID);
	assert_null(v);
	assert_string_equal(error_last(), msg);
}

static void test_parse_passfail(void **state)
{
	form *f = shipped("signboard");
	parses(f, "SB03", "pass", "\"pass\"");
	parses(f, "SB03", "P", "\"pass\"");
	parses(f, "SB03", "合格", "\"pass\"");
	parses(f, "SB03", " FAIL\n", "\"fail\"");
	parses(f, "SB03", "f", "\"fail\"");
	parses(f, "SB03", "不合格", "\"fail\"");
	parses(f, "SB06", "na", "\"na\"");
	parses(f, "SB06", "n", "\"na\"");
	parses(f, "SB06", "不适用", "\"na\"");
	rejects(f, "SB03", "na",
		"SB03 (Valid safety inspection) must be pass or fail (合格/不合格), got \"na\"");
	rejects(f, "SB06", "ok",
		"SB06 (Lighting complete (no dark letters)) must be pass, fail or na (合格/不合格/不适用), got \"ok\"");
	form_free(f);
}

static void test_parse_number(void **state)
{
	form *f = shipped("signboard");
	parses(f, "SB09", "2.1", "2.1");
	parses(f, "SB09", " 3 ", "3");
	parses(f, "SB09", "0", "0");
	parses(f, "SB09", "20", "20");
	parses(f, "SB09", ".5", "0.5");
	rejects(f, "SB09", "abc",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got \"abc\"");
	rejects(f, "SB09", "20.5",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got 20.5");
	rejects(f, "SB09", "-1",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got -1");
	rejects(f, "SB09", "1e1",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got \"1e1\"");
	rejects(f, "SB09", "2,5",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got \"2,5\"");
	rejects(f, "SB09", "nan",
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got \"nan\"");
	form_free(f);
}

static void test_parse_choice(void **state)
{
	form *f = shipped("signboard");
	parses(f, "SB01", "approved", "\"approved\"");
	parses(f, "SB01", "Filed", "\"filed\"");
	parses(f, "SB01", "无", "\"none\"");
	parses(f, "SB01", "EXEMPT", "\"exempt\"");
	rejects(f, "SB01", "maybe",
		"SB01 (Permit or filing) must be one of approved (Approved), filed (Filed), none (None), exempt (Exempt); got \"maybe\"");
	form_free(f);
}

static void test_parse_multi(void **state)
{
	form *f = shipped("stacking");
	parses(f, "ST02", "soil", "[\"soil\"]");
	/* canonical order (the form's), duplicates dropped, labels accepted */
	parses(f, "ST02", "scrap, building,scrap", "[\"building\",\"scrap\"]");
	parses(f, "ST02", "大件家具、建筑材料", "[\"building\",\"furniture\"]");
	parses(f, "ST02", "Scrap，Other", "[\"scrap\",\"other\"]");
	rejects(f, "ST02", "soil, gold",
		"ST02 (Materials) must be one of building (Building materials), soil (Spoil or sand), goods (Goods and sundries), furniture (Bulky furniture), scrap (Scrap), other (Other); got \"gold\"");
	rejects(f, "ST02", " , ,", "ST02 (Materials): the answer is empty");
	form_free(f);
}

static void test_parse_text_and_photos(void **state)
{
	form *f = shipped("signboard");
	parses(f, "SB02", "  粤A-2026-0123 ", "\"粤A-2026-0123\"");
	rejects(f, "SB02", "   ", "SB02 (Permit number): the answer is empty");
	rejects(f, "SB02", "\xff\xfe", "SB02 (Permit number): the answer is not valid UTF-8 text");
	parses(f, "SB11", "3", "3");
	parses(f, "SB11", "0", "0");
	rejects(f, "SB11", "-1",
		"SB11 (Overview and close-up photos) must be a photo count (a whole number, 0 or more), got \"-1\"");
	rejects(f, "SB11", "two",
		"SB11 (Overview and close-up photos) must be a photo count (a whole number, 0 or more), got \"two\"");
	rejects(f, "SB99", "x", "SB99 is not an item of form signboard");
	form_free(f);
}

/* The label in messages follows the UI language. */
static void test_parse_message_language(void **state)
{
	form *f = shipped("signboard");
	setenv("LANGUAGE", "zh_CN", 1);
	rejects(f, "SB09", "x", "SB09 (底部净高) must be a number between 0 and 20 m, got \"x\"");
	rejects(f, "SB01", "x",
		"SB01 (设置审批/备案) must be one of approved (有), filed (备案), none (无), exempt (免审); got \"x\"");
	setenv("LANGUAGE", "en", 1);
	form_free(f);
}

/* ------------------------------------------------------- validation */

static void validates(const form *f, const char *answers, bool complete)
{
	json_t *a = J(answers);
	if (form_answers_validate(f, a, complete))
		fail_msg("%s: %s", answers, error_last());
	json_decref(a);
}

static void invalid(const form *f, const char *answers, bool complete, const char *msg)
{
	json_t *a = J(answers);
	assert_int_equal(form_answers_validate(f, a, complete), ERR_INVALID);
	assert_string_equal(error_last(), msg);
	json_decref(a);
}

static void test_validate_types(void **state)
{
	form *f = shipped("signboard");
	validates(f, "{}", false);
	validates(f, "{\"SB01\": \"approved\", \"SB02\": \"X-1\", \"SB09\": 2.5, \"SB06\": \"na\", \"SB11\": 1}", false);
	validates(f, "{\"SB01\": null, \"SB09\": null}", false);
	invalid(f, "{\"SB03\": true}", false,
		"SB03 (Valid safety inspection) must be pass or fail (合格/不合格), got true");
	invalid(f, "{\"SB09\": \"2.5\"}", false,
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got \"2.5\"");
	invalid(f, "{\"SB09\": 21}", false,
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got 21");
	invalid(f, "{\"SB01\": \"有\"}", false,
		"SB01 (Permit or filing) must be one of approved (Approved), filed (Filed), none (None), exempt (Exempt); got \"有\"");
	invalid(f, "{\"SB11\": 1.5}", false,
		"SB11 (Overview and close-up photos) must be a photo count (a whole number, 0 or more), got 1.5");
	invalid(f, "{\"SB01\": \"approved\", \"SB02\": \"\"}", false,
		"SB02 (Permit number) must be a non-empty text");
	form_free(f);

	f = shipped("stacking");
	validates(f, "{\"ST02\": [\"soil\", \"scrap\"]}", false);
	invalid(f, "{\"ST02\": \"soil\"}", false,
		"ST02 (Materials) must be a list of choices, got \"soil\"");
	invalid(f, "{\"ST02\": [\"soil\", \"soil\"]}", false, "ST02 (Materials) lists \"soil\" twice");
	form_free(f);

	json_t *arr = json_array();
	f = shipped("signboard");
	assert_int_equal(form_answers_validate(f, arr, false), ERR_INVALID);
	assert_string_equal(error_last(), "the answers must be a JSON object");
	json_decref(arr);
	form_free(f);
}

/* Every problem is listed, one per line: unknown items (sorted) first,
 * then items in form order. */
static void test_validate_lists_all(void **state)
{
	form *f = shipped("signboard");
	invalid(f, "{\"ZZ1\": 1, \"SB09\": -2, \"AA1\": 1, \"SB03\": \"maybe\"}", false,
		"AA1 is not an item of form signboard\n"
		"ZZ1 is not an item of form signboard\n"
		"SB03 (Valid safety inspection) must be pass or fail (合格/不合格), got \"maybe\"\n"
		"SB09 (Ground clearance) must be a number between 0 and 20 m, got -2");
	form_free(f);
}

static void test_validate_required(void **state)
{
	form *f = shipped("signboard");
	/* a draft may be incomplete */
	validates(f, "{\"SB03\": \"pass\"}", false);
	invalid(f, "{\"SB03\": \"pass\"}", true,
		"SB04 (Structurally secure (no loosening, rust or tilt)) is required but not answered");
	/* photo items are optional in the shipped forms (photos come with attach) */
	validates(f, "{\"SB04\": \"pass\"}", true);
	validates(f, "{\"SB04\": \"pass\", \"SB11\": 2}", true);
	form_free(f);

	/* a required photos item needs its minimum */
	f = load_ok(HEAD "  - {id: P1, type: photos, required: true, photos_min: 2, label: {zh: 照片, en: Photos}}\n");
	invalid(f, "{\"P1\": 1}", true, "P1 (Photos) needs at least 2 photo(s), has 1");
	validates(f, "{\"P1\": 2}", true);
	form_free(f);

	/* a hidden required item is not required */
	f = load_ok(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}}\n"
			 "  - {id: X2, type: text, required: true, label: {zh: 乙, en: B}, when: {item: X1, equals: fail}}\n"
			 "  - {id: X3, type: multi, required: true, label: {zh: 丙, en: C}, " CHOICES2 "}\n");
	invalid(f, "{\"X1\": \"fail\", \"X3\": []}", true,
		"X2 (B) is required but not answered\nX3 (C) is required but not answered");
	validates(f, "{\"X1\": \"pass\", \"X3\": [\"a\"]}", true);
	form_free(f);
}

static void test_validate_hidden(void **state)
{
	form *f = shipped("signboard");
	validates(f, "{\"SB01\": \"filed\", \"SB02\": \"B-7\"}", false);
	invalid(f, "{\"SB01\": \"none\", \"SB02\": \"B-7\"}", false,
		"SB02 (Permit number) is answered but does not apply: it is shown only when SB01 is one of: approved, filed");
	invalid(f, "{\"SB02\": \"B-7\"}", false,
		"SB02 (Permit number) is answered but does not apply: it is shown only when SB01 is one of: approved, filed");
	form_free(f);
}

static void test_validate_language(void **state)
{
	form *f = shipped("fencing");
	setenv("LANGUAGE", "zh_CN:en", 1);
	invalid(f, "{\"CF01\": \"main\"}", true,
		"CF02 (围挡高度) is required but not answered\n"
		"CF03 (硬质连续封闭无缺口) is required but not answered");
	setenv("LANGUAGE", "en", 1);
	invalid(f, "{\"CF01\": \"main\"}", true,
		"CF02 (Fence height) is required but not answered\n"
		"CF03 (Hard, continuous, no gaps) is required but not answered");
	form_free(f);
}

/* ------------------------------------------------ visibility, failures */

static bool visible(const form *f, const char *id, const char *answers)
{
	json_t *a = J(answers);
	bool v = form_item_visible(f, form_item_find(f, id), a);
	json_decref(a);
	return v;
}

static void test_visibility(void **state)
{
	form *f = shipped("signboard");
	assert_true(visible(f, "SB01", "{}"));
	assert_false(visible(f, "SB02", "{}"));
	assert_true(visible(f, "SB02", "{\"SB01\": \"approved\"}"));
	assert_true(visible(f, "SB02", "{\"SB01\": \"filed\"}"));
	assert_false(visible(f, "SB02", "{\"SB01\": \"none\"}"));
	assert_false(visible(f, "SB02", "{\"SB01\": null}"));
	assert_false(form_item_visible(f, form_item_find(f, "SB02"), NULL));
	form_free(f);

	f = shipped("lane");
	assert_true(visible(f, "LO04", "{\"LO01\": \"storefront\"}"));
	assert_false(visible(f, "LO04", "{\"LO01\": \"vendor\"}"));
	form_free(f);

	/* chains: X3 depends on X2, which is hidden, so X3 is hidden even
	 * when a stale X2 answer would match; multi conditions match any */
	f = load_ok(HEAD "  - {id: X1, type: passfail, label: {zh: 甲, en: A}}\n"
			 "  - {id: X2, type: multi, label: {zh: 乙, en: B}, " CHOICES2 ", when: {item: X1, equals: fail}}\n"
			 "  - {id: X3, type: text, label: {zh: 丙, en: C}, when: {item: X2, in: [b]}}\n");
	assert_true(visible(f, "X3", "{\"X1\": \"fail\", \"X2\": [\"a\", \"b\"]}"));
	assert_false(visible(f, "X3", "{\"X1\": \"fail\", \"X2\": [\"a\"]}"));
	assert_false(visible(f, "X3", "{\"X1\": \"pass\", \"X2\": [\"b\"]}"));
	form_free(f);
}

static char *failures(const form *f, const char *answers)
{
	json_t *a = J(answers), *r = form_failures(f, a);
	char *s = json_dumps(r, JSON_COMPACT);
	json_decref(a);
	json_decref(r);
	return s;
}

static void expect_failures(const form *f, const char *answers, const char *want)
{
	char *got = failures(f, answers);
	assert_string_equal(got, want);
	free(got);
}

static void test_failures_number_rules(void **state)
{
	form *f = shipped("fencing");
	/* main road: at least 2.5 m; other roads: at least 1.8 m */
	expect_failures(f, "{\"CF01\": \"main\", \"CF02\": 2.0}", "[\"CF02\"]");
	expect_failures(f, "{\"CF01\": \"main\", \"CF02\": 2.5}", "[]");
	expect_failures(f, "{\"CF01\": \"other\", \"CF02\": 2.0}", "[]");
	expect_failures(f, "{\"CF01\": \"other\", \"CF02\": 1.7}", "[\"CF02\"]");
	/* road class not yet known: only the unconditional rule applies */
	expect_failures(f, "{\"CF02\": 2.0}", "[]");
	expect_failures(f, "{\"CF02\": 1}", "[\"CF02\"]");
	/* a wrong-typed answer is a validation problem, not a failure */
	expect_failures(f, "{\"CF02\": \"1\"}", "[]");
	form_free(f);

	f = load_ok(HEAD "  - {id: X1, type: number, label: {zh: 甲, en: A}, fail_if: [{above: 10}, {below: 0}]}\n");
	expect_failures(f, "{\"X1\": 10}", "[]");
	expect_failures(f, "{\"X1\": 10.5}", "[\"X1\"]");
	expect_failures(f, "{\"X1\": -0.1}", "[\"X1\"]");
	form_free(f);
}

static void test_failures_choice_passfail(void **state)
{
	form *f = shipped("fencing");
	/* passfail: only "fail" fails; na does not; choice: fail_values */
	expect_failures(f,
			"{\"CF03\": \"fail\", \"CF04\": \"pass\", \"CF11\": \"exceeded\", \"CF12\": \"na\", \"CF05\": \"fail\"}",
			"[\"CF03\",\"CF05\",\"CF11\"]");
	expect_failures(f, "{\"CF11\": \"none\"}", "[\"CF11\"]");
	expect_failures(f, "{\"CF11\": \"compliant\", \"CF12\": \"fail\"}", "[\"CF12\"]");
	/* CF12 is hidden without a road-occupation permit: its stale answer
	 * does not fail */
	expect_failures(f, "{\"CF11\": \"na\", \"CF12\": \"fail\"}", "[]");
	assert_false(form_item_failed(f, form_item_find(f, "CF03"), NULL));
	form_free(f);

	f = load_ok(HEAD "  - {id: X1, type: multi, label: {zh: 甲, en: A}, " CHOICES2 ", fail_values: [b]}\n"
			 "  - {id: X2, type: text, label: {zh: 乙, en: B}}\n"
			 "  - {id: X3, type: photos, label: {zh: 丙, en: C}, photos_min: 3}\n");
	expect_failures(f, "{\"X1\": [\"a\"], \"X2\": \"fail\", \"X3\": 0}", "[]");
	expect_failures(f, "{\"X1\": [\"a\", \"b\"]}", "[\"X1\"]");
	form_free(f);

	f = shipped("lane");
	expect_failures(f, "{\"LO10\": \"refused\", \"LO06\": 1.2, \"LO07\": \"fail\"}",
			"[\"LO06\",\"LO07\",\"LO10\"]");
	expect_failures(f, "{\"LO10\": \"left\", \"LO06\": 1.5, \"LO07\": \"pass\"}", "[]");
	form_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_shipped_forms_load, setup_en),
		cmocka_unit_test_setup(test_form_text_is_exact, setup_en),
		cmocka_unit_test_setup(test_shipped_details, setup_en),
		cmocka_unit_test_setup(test_type_names, setup_en),
		cmocka_unit_test_setup(test_shipped_all_answerable, setup_en),
		cmocka_unit_test_setup(test_fixture_errors, setup_en),
		cmocka_unit_test_setup(test_missing_file, setup_en),
		cmocka_unit_test_setup(test_form_level_errors, setup_en),
		cmocka_unit_test_setup(test_item_errors, setup_en),
		cmocka_unit_test_setup(test_choice_errors, setup_en),
		cmocka_unit_test_setup(test_condition_errors, setup_en),
		cmocka_unit_test_setup(test_parse_passfail, setup_en),
		cmocka_unit_test_setup(test_parse_number, setup_en),
		cmocka_unit_test_setup(test_parse_choice, setup_en),
		cmocka_unit_test_setup(test_parse_multi, setup_en),
		cmocka_unit_test_setup(test_parse_text_and_photos, setup_en),
		cmocka_unit_test_setup(test_parse_message_language, setup_en),
		cmocka_unit_test_setup(test_validate_types, setup_en),
		cmocka_unit_test_setup(test_validate_lists_all, setup_en),
		cmocka_unit_test_setup(test_validate_required, setup_en),
		cmocka_unit_test_setup(test_validate_hidden, setup_en),
		cmocka_unit_test_setup(test_validate_language, setup_en),
		cmocka_unit_test_setup(test_visibility, setup_en),
		cmocka_unit_test_setup(test_failures_number_rules, setup_en),
		cmocka_unit_test_setup(test_failures_choice_passfail, setup_en),
	};
	return cmocka_run_group_tests_name("form", tests, NULL, NULL);
}
