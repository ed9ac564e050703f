/*
 * stats: figures and exports over the index's case states.  See stats.h.
 *
 * CSV is written here (RFC 4180 quoting: a field with a comma, quote or
 * line break is quoted and its quotes doubled; CRLF line ends): Debian's
 * libcsv ships no pkg-config file, so it cannot go in the build's PKGS.
 * Text cells starting with = + @ or a tab get a leading apostrophe so a
 * spreadsheet program shows them instead of evaluating them (OWASP
 * "CSV injection").
 */
#include "stats.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "index.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Group keys: where in the state each grouping reads its key. */
static const struct { const char *by, *obj, *field; } groups[] = {
	{"grid", "site", "grid"},
	{"category", "category", "code"},
	{"officer", NULL, "opened_by"},
};

static const char *group_key(const json_t *st, size_t g)
{
	const json_t *o = groups[g].obj ? json_object_get(st, groups[g].obj) : st;
	const char *k = str(o, groups[g].field);
	return *k ? k : "-";
}

/* Local date a case was opened, "" when unreadable. */
static void opened_date(const json_t *st, char out[11])
{
	time_t t;
	*out = '\0';
	if (util_time_parse(str(st, "opened_at"), &t) == 0)
		util_time_local_date(t, out);
}

static bool in_range(const json_t *st, const char *from, const char *to)
{
	char d[11];
	opened_date(st, d);
	return (!from || strcmp(d, from) >= 0) && (!to || strcmp(d, to) <= 0);
}

static int check_date(const char *d, const char *what)
{
	long days;
	if (d && (strlen(d) != 10 || util_date_diff(d, d, &days) != 0))
		return error_set(ERR_INVALID, _("%s date \"%s\" is not YYYY-MM-DD"), what, d);
	return 0;
}

/* Add one case to its row: {opened, closed, overdue, open, days_sum}. */
static void count_case(json_t *row, const json_t *st, const char *today)
{
	static const char *const keys[] = {"opened", "closed", "overdue", "open"};
	long od;
	const char *status = case_display_status(st, today, &od);
	bool closed = strcmp(str(st, "status"), "closed") == 0;
	bool hit[] = {true, closed, strcmp(status, "overdue") == 0, !closed};
	for (size_t i = 0; i < 4; i++)
		json_object_set_new(row, keys[i], json_integer(json_integer_value(json_object_get(row, keys[i])) + hit[i]));
	time_t a, b;
	if (closed && util_time_parse(str(st, "opened_at"), &a) == 0 && util_time_parse(str(st, "closed_at"), &b) == 0)
		json_object_set_new(row, "days_sum",
				    json_real(json_number_value(json_object_get(row, "days_sum")) + (double)(b - a) / 86400.0));
}

static json_t *row_for(json_t *rows, const char *key)
{
	json_t *r = json_object_get(rows, key);
	if (!r) {
		r = json_pack("{s:s, s:i, s:i, s:i, s:i, s:f}", "key", key, "opened", 0, "closed", 0, "overdue", 0,
			      "open", 0, "days_sum", 0.0);
		json_object_set_new(rows, key, r);
	}
	return r;
}

static void finish_row(json_t *r)
{
	json_int_t closed = json_integer_value(json_object_get(r, "closed"));
	double sum = json_number_value(json_object_get(r, "days_sum"));
	json_object_set_new(r, "mean_days_to_close",
			    closed ? json_real(round(sum / (double)closed * 100) / 100) : json_null());
	json_object_del(r, "days_sum");
}

int stats_compute(workspace *ws, const char *by, const char *from, const char *to, const char *today,
		  json_t **out)
{
	size_t g = 0;
	while (g < sizeof groups / sizeof *groups && strcmp(groups[g].by, by) != 0)
		g++;
	if (g == sizeof groups / sizeof *groups)
		return error_set(ERR_INVALID, _("cannot group by \"%s\": use grid, category or officer"), by);
	json_t *cases, *rows = json_object();
	int rc;
	if ((rc = check_date(from, "--from")) || (rc = check_date(to, "--to")) ||
	    (rc = index_case_list(ws->index, "all", NULL, today, &cases))) {
		json_decref(rows);
		return rc;
	}
	json_t *total = json_pack("{s:s, s:i, s:i, s:i, s:i, s:f}", "key", "", "opened", 0, "closed", 0,
				  "overdue", 0, "open", 0, "days_sum", 0.0);
	size_t i;
	json_t *st;
	json_array_foreach(cases, i, st) {
		if (!in_range(st, from, to))
			continue;
		count_case(row_for(rows, group_key(st, g)), st, today);
		count_case(total, st, today);
	}
	json_decref(cases);
	*out = json_array();
	const char *key;
	json_t *r;
	json_object_foreach(rows, key, r) { /* jansson keeps insertion order: sort below */
		finish_row(r);
		json_array_append(*out, r);
	}
	finish_row(total);
	json_decref(rows);
	/* sort by key */
	size_t n = json_array_size(*out);
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(str(json_array_get(*out, b - 1), "key"),
						   str(json_array_get(*out, b), "key")) > 0; b--) {
			json_t *x = json_incref(json_array_get(*out, b - 1));
			json_array_set(*out, b - 1, json_array_get(*out, b));
			json_array_set_new(*out, b, x);
		}
	json_array_append_new(*out, total);
	return 0;
}

/* --- CSV ---------------------------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s, bool text, bool last)
{
	bool guard = text && (*s == '=' || *s == '+' || *s == '@' || *s == '\t' || *s == '\r');
	bool quote = guard || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		fputc('"', f);
	if (guard)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

static FILE *csv_open(char **buf, size_t *size, bool bom)
{
	FILE *f = open_memstream(buf, size);
	if (f && bom)
		fputs("\xEF\xBB\xBF", f);
	return f;
}

int stats_csv(const json_t *rows, const char *by, bool bom, char **out, size_t *len)
{
	FILE *f = csv_open(out, len, bom);
	if (!f)
		return error_set(ERR_NOMEM, "out of memory");
	fprintf(f, "%s,opened,closed,overdue,open,mean_days_to_close\r\n", by);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		char num[5][32];
		static const char *const keys[] = {"opened", "closed", "overdue", "open"};
		for (size_t k = 0; k < 4; k++)
			snprintf(num[k], sizeof num[k], "%lld", (long long)json_integer_value(json_object_get(r, keys[k])));
		const json_t *m = json_object_get(r, "mean_days_to_close");
		num[4][0] = '\0';
		if (json_is_number(m))
			snprintf(num[4], sizeof num[4], "%.2f", json_number_value(m));
		csv_field(f, *str(r, "key") ? str(r, "key") : "total", true, false);
		for (size_t k = 0; k < 5; k++)
			csv_field(f, num[k], false, k == 4);
	}
	fclose(f);
	return 0;
}

/* Columns of export-all: key in the case summary / state. */
static const struct { const char *name, *obj, *field; } columns[] = {
	{"id", NULL, "id"},		 {"status", NULL, "status"},	{"state", NULL, "state"},
	{"category", NULL, "category"}, {"grid", NULL, "grid"},	{"address", NULL, "address"},
	{"lat", "where", "lat"},	 {"lon", "where", "lon"},	{"opened_at", NULL, "opened_at"},
	{"deadline", NULL, "deadline"}, {"closed_at", "state", "closed_at"}, {"outcome", "state", "outcome"},
	{"officer", NULL, "officer"},
};

/* A cell's text: from the summary, the state, or the state's location. */
static void cell(const json_t *sum, const json_t *st, size_t c, char *out, size_t size)
{
	const json_t *o = !columns[c].obj ? sum : strcmp(columns[c].obj, "state") == 0 ? st
								  : json_object_get(st, columns[c].obj);
	const json_t *v = json_object_get(o, columns[c].field);
	bool located = strcmp(str(json_object_get(st, "where"), "src"), "none") != 0;
	*out = '\0';
	if (json_is_number(v) && located)
		snprintf(out, size, "%.7g", json_number_value(v));
	else if (!json_is_number(v))
		snprintf(out, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int stats_export_csv(workspace *ws, const char *status, const char *today, bool bom, char **out, size_t *len)
{
	json_t *cases;
	int rc = index_case_list(ws->index, status, NULL, today, &cases);
	if (rc)
		return rc;
	FILE *f = csv_open(out, len, bom);
	if (!f) {
		json_decref(cases);
		return error_set(ERR_NOMEM, "out of memory");
	}
	size_t nc = sizeof columns / sizeof *columns;
	for (size_t c = 0; c < nc; c++)
		csv_field(f, columns[c].name, false, c == nc - 1);
	size_t i;
	json_t *st;
	json_array_foreach(cases, i, st) {
		json_t *sum = case_summary(st, today);
		for (size_t c = 0; c < nc; c++) {
			char v[2048];
			cell(sum, st, c, v, sizeof v);
			csv_field(f, v, c != 6 && c != 7, c == nc - 1);
		}
		json_decref(sum);
	}
	fclose(f);
	json_decref(cases);
	return 0;
}

/* --- GeoJSON ------------------------------------------------------------------------------------ */

static json_t *geometry(const json_t *st)
{
	const json_t *w = json_object_get(st, "where");
	const json_t *lat = json_object_get(w, "lat"), *lon = json_object_get(w, "lon");
	if (!json_is_number(lat) || !json_is_number(lon) || strcmp(str(w, "src"), "none") == 0)
		return json_null();
	return json_pack("{s:s, s:[f,f]}", "type", "Point", "coordinates", json_number_value(lon),
			 json_number_value(lat));
}

static json_t *feature(const json_t *st, const char *today)
{
	json_t *sum = case_summary(st, today), *props = json_object();
	static const char *const keys[] = {"id", "status", "state", "category", "grid", "address",
					   "deadline", "officer", "opened_at"};
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		const json_t *v = json_object_get(sum, keys[k]);
		json_object_set_new(props, keys[k], v ? json_deep_copy(v) : json_null());
	}
	json_object_set_new(props, "closed_at", *str(st, "closed_at") ? json_string(str(st, "closed_at")) : json_null());
	json_decref(sum);
	return json_pack("{s:s, s:s, s:o, s:o}", "type", "Feature", "id", str(st, "id"), "geometry", geometry(st),
			 "properties", props);
}

int stats_export_geojson(workspace *ws, const char *status, const char *today, char **out, size_t *len)
{
	json_t *cases;
	int rc = index_case_list(ws->index, status, NULL, today, &cases);
	if (rc)
		return rc;
	json_t *features = json_array();
	size_t i;
	json_t *st;
	json_array_foreach(cases, i, st)
		json_array_append_new(features, feature(st, today));
	json_decref(cases);
	json_t *fc = json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", features);
	*out = json_dumps(fc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	json_decref(fc);
	if (!*out)
		return error_set(ERR_NOMEM, "out of memory");
	*len = strlen(*out);
	return 0;
}
