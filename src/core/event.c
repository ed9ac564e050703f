/*
 * event: building, serialising, parsing and summarising events.
 */
#include "event.h"
#include "error.h"
#include "i18n.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct type_info {
	const char *type;
	const char *label; /* N_() */
};

static const struct type_info types[] = {
	{EV_CASE_OPENED, N_("case opened")},
	{EV_INSPECTION, N_("inspection recorded")},
	{EV_PHOTO, N_("photo attached")},
	{EV_NOTE, N_("note")},
	{EV_ORDER, N_("rectification ordered")},
	{EV_REINSPECTION, N_("re-inspection recorded")},
	{EV_ESCALATED, N_("case escalated")},
	{EV_CLOSED, N_("case closed")},
	{EV_REVIEW_APPROVED, N_("review approved")},
	{EV_REVIEW_RETURNED, N_("review returned")},
	{EV_REOPENED, N_("case reopened")},
	{EV_CORRECTION, N_("correction")},
};

static const struct type_info *type_find(const char *type)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i].type, type) == 0)
			return &types[i];
	return NULL;
}

bool event_type_known(const char *type) { return type_find(type) != NULL; }

const char *event_type_label(const char *type)
{
	const struct type_info *t = type_find(type);
	return t ? _(t->label) : type;
}

void event_id_make(char out[64], time_t at, const char *device, long seq)
{
	char ts[20];
	util_time_compact(at, ts);
	snprintf(out, 64, "%s-%s-%06ld", ts, device, seq);
}

json_t *event_new(const char *type, const char *case_id, time_t at,
		  const char *officer, const char *device, long seq)
{
	char id[64], when[32], tz[8];
	event_id_make(id, at, device, seq);
	util_time_rfc3339(at, when);
	util_time_tz(at, tz);
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s}}",
			 "fieldbook", EVENT_FORMAT, "id", id, "case", case_id,
			 "type", type, "at", when, "tz", tz, "officer", officer,
			 "device", device, "seq", (json_int_t)seq, "where", "src", "none");
}

void event_set_where(json_t *ev, double lat, double lon, double acc_m, const char *src)
{
	json_t *w = json_pack("{s:f, s:f, s:s}", "lat", lat, "lon", lon, "src", src);
	if (acc_m >= 0)
		json_object_set_new(w, "acc_m", json_real(acc_m));
	json_object_set_new(ev, "where", w);
}

char *event_dump(const json_t *ev)
{
	char *s = json_dumps(ev, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

const char *event_str(const json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));
	return s ? s : "";
}

int event_parse(const char *text, size_t len, const char *name, json_t **out)
{
	json_error_t jerr;
	json_t *ev = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ev)
		return error_set(ERR_INVALID, _("%s:%d:%d: not valid JSON: %s"), name,
				 jerr.line, jerr.column, jerr.text);
	static const char *required[] = {"id", "type", "at", "officer", "device", "case"};
	const char *missing = NULL;
	size_t nreq = sizeof required / sizeof *required;
	if (!json_is_object(ev))
		missing = "{}";
	else if (strncmp(event_str(ev, "type"), "roster.", 7) == 0)
		nreq--; /* roster changes belong to no case */
	for (size_t i = 0; !missing && i < nreq; i++)
		if (!json_is_string(json_object_get(ev, required[i])))
			missing = required[i];
	time_t t;
	if (!missing && util_time_parse(event_str(ev, "at"), &t) != 0)
		missing = "at";
	if (missing) {
		json_decref(ev);
		return error_set(ERR_INVALID, _("%s: event lacks a valid \"%s\" field"), name, missing);
	}
	*out = ev;
	return 0;
}

/* --- summaries ---------------------------------------------------------- */

static char *join_items(const json_t *arr)
{
	char buf[512] = "";
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *s = json_is_string(v) ? json_string_value(v)
						  : event_str(v, "item");
		if (i)
			strncat(buf, ",", sizeof buf - strlen(buf) - 1);
		strncat(buf, s, sizeof buf - strlen(buf) - 1);
	}
	return strdup(buf);
}

static int count_fail(const json_t *answers)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach((json_t *)answers, k, v)
		if (json_is_string(v) && strcmp(json_string_value(v), "fail") == 0)
			n++;
	(void)k;
	return n;
}

char *event_summary(const json_t *ev)
{
	const char *type = event_str(ev, "type");
	char *buf = NULL, *items = NULL;
	int r = -1;
	if (strcmp(type, EV_CASE_OPENED) == 0) {
		const json_t *site = json_object_get(ev, "site");
		r = asprintf(&buf, "%s: %s (%s)", _("case opened"), event_str(site, "address"),
			     event_str(json_object_get(ev, "form"), "id"));
	} else if (strcmp(type, EV_INSPECTION) == 0 || strcmp(type, EV_REINSPECTION) == 0) {
		const json_t *ans = json_object_get(ev, "answers");
		json_t *fails = json_object_get(ev, "failures");
		int nf = json_is_array(fails) ? (int)json_array_size(fails) : count_fail(ans);
		items = join_items(fails ? fails : json_array());
		r = asprintf(&buf, _("%s: %d answered, %d failed%s%s%s"), event_type_label(type),
			     (int)json_object_size(ans), nf, nf ? " (" : "", nf ? items : "", nf ? ")" : "");
	} else if (strcmp(type, EV_ORDER) == 0) {
		items = join_items(json_object_get(ev, "items"));
		r = asprintf(&buf, _("rectification ordered: %s by %s"), items, event_str(ev, "deadline"));
	} else if (strcmp(type, EV_CLOSED) == 0) {
		r = asprintf(&buf, _("case closed: %s"), event_str(ev, "outcome"));
	} else if (strcmp(type, EV_NOTE) == 0) {
		r = asprintf(&buf, "%s: %s", _("note"), event_str(ev, "text"));
	} else if (strcmp(type, EV_CORRECTION) == 0) {
		r = asprintf(&buf, _("correction of %s: %s"), event_str(ev, "amends"), event_str(ev, "reason"));
	} else if (strcmp(type, EV_ESCALATED) == 0 || strcmp(type, EV_REOPENED) == 0 ||
		   strcmp(type, EV_REVIEW_RETURNED) == 0) {
		const char *why = event_str(ev, "reason");
		r = asprintf(&buf, "%s%s%s", event_type_label(type), *why ? ": " : "", why);
	} else if (strcmp(type, EV_PHOTO) == 0) {
		char sha[13];
		snprintf(sha, sizeof sha, "%s", event_str(ev, "sha256"));
		const char *item = event_str(ev, "item");
		r = asprintf(&buf, "%s %s%s%s", _("photo attached"), sha, *item ? " → " : "", item);
	} else if (event_type_known(type)) {
		r = asprintf(&buf, "%s", event_type_label(type));
	} else {
		r = asprintf(&buf, _("unknown event type \"%s\" (kept as recorded)"), type);
	}
	free(items);
	return r < 0 ? NULL : buf;
}

/* --- ids and paths -------------------------------------------------------- */

static bool all(const char *s, size_t n, int (*pred)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!pred((unsigned char)s[i]))
			return false;
	return n > 0;
}

static int is_lower_alnum(int c) { return islower(c) || isdigit(c); }

bool case_id_valid(const char *id)
{
	/* <unit>-<yyyymmdd>-<device>-<n> */
	const char *p[4];
	size_t len[4];
	const char *s = id;
	for (int i = 0; i < 4; i++) {
		const char *dash = strchr(s, '-');
		if (i < 3 && !dash)
			return false;
		p[i] = s;
		len[i] = i < 3 ? (size_t)(dash - s) : strlen(s);
		s = dash ? dash + 1 : s + strlen(s);
	}
	return strlen(id) < 80 && all(p[0], len[0], isalnum) && len[1] == 8 &&
	       all(p[1], 8, isdigit) && all(p[2], len[2], is_lower_alnum) &&
	       all(p[3], len[3], isdigit);
}

int case_dir(const char *case_id, char *out, size_t size)
{
	if (!case_id_valid(case_id))
		return error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	const char *d = strchr(case_id, '-') + 1;
	snprintf(out, size, "cases/%.4s/%.2s/%.2s/%s", d, d + 4, d + 6, case_id);
	return 0;
}

int event_path(const char *case_id, const char *event_id, char *out, size_t size)
{
	char dir[160];
	int rc = case_dir(case_id, dir, sizeof dir);
	if (rc)
		return rc;
	snprintf(out, size, "%s/events/%s.json", dir, event_id);
	return 0;
}

bool event_path_parse(const char *path, char case_id[96], char event_id[96])
{
	/* cases/yyyy/mm/dd/<case>/events/<id>.json */
	char y[5], m[3], d[3];
	int n = 0;
	if (sscanf(path, "cases/%4[0-9]/%2[0-9]/%2[0-9]/%95[^/]/events/%95[^/]%n", y, m, d,
		   case_id, event_id, &n) != 5 || path[n] != '\0')
		return false;
	size_t el = strlen(event_id);
	if (el < 6 || strcmp(event_id + el - 5, ".json") != 0)
		return false;
	event_id[el - 5] = '\0';
	return case_id_valid(case_id);
}

int roster_event_path(const char *event_id, char *out, size_t size)
{
	snprintf(out, size, "roster/%s.json", event_id);
	return 0;
}

bool roster_path_parse(const char *path, char event_id[96])
{
	int n = 0;
	if (sscanf(path, "roster/%95[^/]%n", event_id, &n) != 1 || path[n] != '\0')
		return false;
	size_t el = strlen(event_id);
	if (el < 6 || strcmp(event_id + el - 5, ".json") != 0)
		return false;
	event_id[el - 5] = '\0';
	return true;
}

bool event_array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}
