/*
 * cli_view: commands that only read (forms, list, show, log, drafts) and
 * reindex.
 */
#include "cli.h"
#include "core/case.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print text padded/elided to a display width (CJK aware).  stdout is
 * locked by the caller (flockfile) around a list's rows. */
static void col(const char *s, int width)
{
	char buf[1024];
	util_text_fit(s ? s : "", width, true, buf, sizeof buf);
	fputs_unlocked(buf, stdout);
}

int cmd_forms(cli_args *a)
{
	bool json = false;
	cli_opt opts[] = {{"json", 'b', &json}, {0}};
	int n, rc;
	json_t *list;
	if ((rc = cli_parse(a, opts, NULL, 0, &n)))
		return rc;
	if (workspace_form_list(NULL, &list) != 0)
		return cli_error();
	if (json) {
		cli_print_json(list);
		json_decref(list);
		return CLI_OK;
	}
	const char *lang = i18n_lang();
	size_t i;
	json_t *f;
	int bad = 0;
	json_array_foreach(list, i, f) {
		if (json_object_get(f, "error")) {
			fprintf(stderr, "fieldbook: %s\n", event_str(f, "error"));
			bad = 1;
			continue;
		}
		col(event_str(f, "id"), 12);
		printf(" v%-3lld ", (long long)json_integer_value(json_object_get(f, "version")));
		col(event_str(f, "category"), 6);
		printf(" %s\n", event_str(f, strcmp(lang, "zh") == 0 ? "title_zh" : "title_en"));
	}
	json_decref(list);
	return bad ? CLI_FAIL : CLI_OK;
}

int cmd_form(cli_args *a)
{
	char *pos[64];
	int n, rc, bad = 0;
	if ((rc = cli_parse(a, NULL, pos, 64, &n)))
		return rc;
	if (n < 2 || strcmp(pos[0], "check") != 0)
		return cli_usage("form", _("use: form check FILE..."));
	for (int i = 1; i < n; i++) {
		form *f;
		if (form_load_file(&f, pos[i]) != 0) {
			fprintf(stderr, "%s\n", error_last());
			bad = 1;
			continue;
		}
		printf(_("%s: ok (%s v%d, %zu items)\n"), pos[i], form_id(f), form_version(f),
		       form_item_count(f));
		form_free(f);
	}
	return bad ? CLI_FAIL : CLI_OK;
}

/* A status's label, translated once per status: a list of 100,000 cases
 * asked gettext (a lock and getenv each time) for every row. */
static const char *status_label(const char *status)
{
	static struct {
		char status[24];
		const char *label;
	} seen[16];
	static size_t n;
	for (size_t i = 0; i < n; i++)
		if (strcmp(seen[i].status, status) == 0)
			return seen[i].label;
	const char *label = case_status_label(status);
	if (n < sizeof seen / sizeof *seen && strlen(status) < sizeof seen->status) {
		strcpy(seen[n].status, status);
		seen[n++].label = label;
	}
	return label;
}

static int print_row_cb(const case_row *r, void *shown)
{
	static const char *overdue_fmt;
	char st[64], party[512];
	if (!overdue_fmt)
		overdue_fmt = _("%s +%ldd");
	if (r->days_overdue > 0)
		snprintf(st, sizeof st, overdue_fmt, status_label(r->status), r->days_overdue);
	else
		snprintf(st, sizeof st, "%s", status_label(r->status));
	col(r->id, 26);
	putchar_unlocked(' ');
	col(st, 12);
	putchar_unlocked(' ');
	col(r->deadline, 10);
	putchar_unlocked(' ');
	col(r->address, 20);
	putchar_unlocked(' ');
	util_text_fit(r->party, 16, false, party, sizeof party);
	fputs_unlocked(party, stdout);
	putchar_unlocked('\n');
	(*(long *)shown)++;
	return 0;
}

/* --json, streamed: the same bytes as dumping the whole array with
 * cli_print_json (jansson, indent 2), one element at a time. */
static int print_json_cb(const case_row *r, void *shown)
{
	json_t *summary = case_row_json(r);
	char *s = json_dumps(summary, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(summary);
	if (!s)
		return error_set(ERR_NOMEM, "out of memory");
	fputs(*(long *)shown ? ",\n  " : "[\n  ", stdout);
	for (const char *p = s; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("  ", stdout); /* one level deeper inside the array */
	}
	free(s);
	(*(long *)shown)++;
	return 0;
}

int cmd_list(cli_args *a)
{
	const char *status = "open", *search = NULL;
	bool json = false;
	cli_opt opts[] = {{"status", 's', &status}, {"search", 's', &search}, {"json", 'b', &json}, {0}};
	int n, rc;
	workspace *ws;
	char today[11];
	if ((rc = cli_parse(a, opts, NULL, 0, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	cli_today(today);
	long shown = 0;
	/* streamed: memory does not grow with the number of cases */
	flockfile(stdout);
	rc = index_case_rows_each(ws->index, status, search, today, json ? print_json_cb : print_row_cb,
				  &shown);
	funlockfile(stdout);
	if (json && (rc == 0 || shown))
		fputs(shown ? "\n]\n" : "[]\n", stdout); /* valid JSON even when cut short */
	if (rc != 0) {
		workspace_free(ws);
		return cli_error();
	}
	if (!json && !shown)
		fprintf(stderr, _("no cases\n"));
	workspace_free(ws);
	return CLI_OK;
}

static int load_case(cli_args *a, workspace **ws, json_t **st, json_t **rows, bool *json)
{
	cli_opt opts[] = {{"json", 'b', json}, {0}};
	char *pos[1];
	int n, rc;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1)
		return cli_usage(a->argv[0], _("which case?"));
	if ((rc = cli_open(a, ws)))
		return rc;
	if (index_case_get((*ws)->index, pos[0], st) || index_case_events((*ws)->index, pos[0], rows)) {
		workspace_free(*ws);
		return cli_error();
	}
	return 0;
}

static void label_line(const char *label, const char *value)
{
	if (!value || !*value)
		return;
	col(label, 10);
	printf(" %s\n", value);
}

static void print_items(const char *label, const json_t *ids, const form *f)
{
	if (!json_array_size(ids))
		return;
	char *buf = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&buf, &size);
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		const form_item *it = f ? form_item_find(f, json_string_value(v)) : NULL;
		fprintf(m, "%s%s%s%s", i ? ", " : "", json_string_value(v), it ? " " : "",
			it ? form_item_label(it, i18n_lang()) : "");
	}
	fclose(m);
	label_line(label, buf);
	free(buf);
}

static void print_case(workspace *ws, const json_t *st, const json_t *rows)
{
	char today[11], buf[512];
	long days;
	cli_today(today);
	const char *status = case_display_status(st, today, &days);
	const json_t *order = json_object_get(st, "order");
	const char *deadline = event_str(order, "deadline");
	form *f = NULL;
	workspace_form_of_case(ws, st, &f);
	printf(_("Case %s  [%s]\n"), event_str(st, "id"), case_status_label(status));
	if (days > 0)
		printf(_("          deadline %s, %ld days overdue\n"), deadline, days);
	else if (*deadline && strcmp(status, "ordered") == 0) {
		long left = 0;
		util_date_diff(today, deadline, &left);
		printf(_("          deadline %s, %ld days left\n"), deadline, left);
	}
	const json_t *fr = json_object_get(st, "form"), *site = json_object_get(st, "site");
	snprintf(buf, sizeof buf, "%s v%lld  %s  (%s)", event_str(fr, "id"),
		 (long long)json_integer_value(json_object_get(fr, "version")),
		 f ? form_title(f, i18n_lang()) : "", event_str(json_object_get(st, "category"), "code"));
	label_line(_("Form"), buf);
	label_line(_("Site"), event_str(site, "address"));
	label_line(_("Grid"), event_str(site, "grid"));
	const json_t *w = json_object_get(st, "where");
	if (json_object_get(w, "lat")) {
		snprintf(buf, sizeof buf, "%.6f, %.6f (%s)", json_number_value(json_object_get(w, "lat")),
			 json_number_value(json_object_get(w, "lon")), event_str(w, "src"));
		label_line(_("Location"), buf);
	}
	label_line(_("Party"), event_str(json_object_get(st, "party"), "name"));
	print_items(_("Failures"), json_object_get(st, "failures"), f);
	print_items(_("Ordered"), json_object_get(order, "items"), f);
	if (order)
		print_items(_("Still open"), json_object_get(st, "open_items"), f);
	label_line(_("Outcome"), event_str(st, "outcome"));
	printf("%s\n", _("Timeline"));
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		char when[64], *sum = event_summary(ev);
		cli_local_time(event_str(ev, "at"), event_str(ev, "tz"), when, sizeof when);
		printf("  %s  %-10s %s\n", when, event_str(ev, "officer"), sum ? sum : "");
		free(sum);
	}
	form_free(f);
}

int cmd_show(cli_args *a)
{
	workspace *ws;
	json_t *st, *rows;
	bool json = false;
	int rc = load_case(a, &ws, &st, &rows, &json);
	if (rc)
		return rc;
	if (json) {
		char today[11];
		cli_today(today);
		json_t *tl = json_array();
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			char *sum = event_summary(json_object_get(row, "event"));
			json_t *r = json_deep_copy(row);
			json_object_set_new(r, "summary", json_string(sum ? sum : ""));
			json_array_append_new(tl, r);
			free(sum);
		}
		json_t *out = json_pack("{s:O, s:o, s:o}", "state", st, "summary",
					case_summary(st, today), "timeline", tl);
		cli_print_json(out);
		json_decref(out);
	} else {
		print_case(ws, st, rows);
	}
	json_decref(st);
	json_decref(rows);
	workspace_free(ws);
	return CLI_OK;
}

int cmd_log(cli_args *a)
{
	workspace *ws;
	json_t *st, *rows;
	bool json = false;
	int rc = load_case(a, &ws, &st, &rows, &json);
	if (rc)
		return rc;
	json_t *out = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		char when[64], *sum = event_summary(ev);
		cli_local_time(event_str(ev, "at"), event_str(ev, "tz"), when, sizeof when);
		if (json)
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "commit",
							     event_str(row, "commit"), "at", event_str(ev, "at"),
							     "officer", event_str(ev, "officer"), "event",
							     event_str(ev, "id"), "type", event_str(ev, "type"),
							     "summary", sum ? sum : ""));
		else
			printf("%.12s  %s  %-10s %s  %s\n", event_str(row, "commit"), when,
			       event_str(ev, "officer"), event_str(ev, "id"), sum ? sum : "");
		free(sum);
	}
	if (json)
		cli_print_json(out);
	json_decref(out);
	json_decref(st);
	json_decref(rows);
	workspace_free(ws);
	return CLI_OK;
}

int cmd_reindex(cli_args *a)
{
	workspace *ws;
	int n, rc;
	cli_progress.always = true;
	if ((rc = cli_parse(a, NULL, NULL, 0, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	/* without an index, opening the workspace has just built it */
	if (!ws->index_built)
		rc = index_rebuild(ws->index, ws->ledger);
	cli_progress_end();
	json_t *problems = NULL;
	if (rc == 0 && index_problems(ws->index, &problems) == 0) {
		size_t i;
		json_t *p;
		json_array_foreach(problems, i, p)
			fprintf(stderr, _("fieldbook: %s: %s\n"), event_str(p, "path"), event_str(p, "problem"));
		char head[41];
		index_head(ws->index, head);
		fprintf(stderr, _("Index rebuilt up to %.12s.\n"), head);
	}
	int bad = problems && json_array_size(problems);
	json_decref(problems);
	workspace_free(ws);
	return rc ? cli_error() : bad ? CLI_FAIL : CLI_OK;
}

int cmd_drafts(cli_args *a)
{
	bool json = false;
	cli_opt opts[] = {{"json", 'b', &json}, {0}};
	int n, rc;
	workspace *ws;
	json_t *list;
	if ((rc = cli_parse(a, opts, NULL, 0, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	if (index_draft_list(ws->index, &list) != 0) {
		workspace_free(ws);
		return cli_error();
	}
	if (json)
		cli_print_json(list);
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d)
		if (!json)
			printf(_("%s  %-12s %zu answers, saved %s\n"), event_str(d, "case"), event_str(d, "kind"),
			       json_object_size(json_object_get(json_object_get(d, "draft"), "answers")),
			       event_str(d, "updated_at"));
	json_decref(list);
	workspace_free(ws);
	return CLI_OK;
}
