/*
 * tui_history: a case's ledger log (signature mark, commit, time, officer,
 * event summary); Enter opens the event's full JSON, fields this version
 * does not know included, exactly as stored (sorted keys, indent 2), under
 * its signature verdict.
 */
#include "tui_app.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char id[96];
	json_t *rows; /* [{commit, event}] */
} history_view;

static const tui_column columns[] = {
	{N_("Sig"), 3, false, 0},
	{N_("Commit"), 12, false, 0},
	{N_("Time"), 16, false, 0},
	{N_("Officer"), 10, false, 1},
	{N_("Event"), 10, true, 0},
};
#define NCOLS (sizeof columns / sizeof *columns)

bool tui_verdict_ok(const char *verdict) { return verdict && strcmp(verdict, "ok") == 0; }

const char *tui_verdict_mark(const tui_app *app, const char *verdict, attr_t *attr)
{
	if (!verdict || !*verdict) {
		*attr = A_NORMAL;
		return "";
	}
	bool ok = tui_verdict_ok(verdict);
	*attr = tui_attr(app, ok ? TUI_C_PASS : TUI_C_FAIL);
	if (app->ascii)
		return ok ? "ok" : "!!";
	return ok ? "✓" : "!";
}

int tui_event_push(tui_app *app, const json_t *ev, const char *verdict)
{
	char *text = json_dumps(ev, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (!text)
		return error_set(ERR_NOMEM, "out of memory");
	json_t *lines = json_array(), *body = tui_wrap(text, 1 << 20);
	free(text);
	if (verdict && *verdict) {
		char line[1024];
		if (tui_verdict_ok(verdict))
			snprintf(line, sizeof line, "%s", _("Signature: valid"));
		else
			snprintf(line, sizeof line, _("Signature: NOT VALID: %s"), verdict);
		json_array_append_new(lines, json_string(line));
		json_array_append_new(lines, json_string(""));
	}
	json_array_extend(lines, body);
	json_decref(body);
	char title[256];
	snprintf(title, sizeof title, _("Event %s"), event_str(ev, "id"));
	return tui_text_push(app, title, lines);
}

static int history_load(tui_app *app, tui_screen *s)
{
	history_view *h = s->priv;
	json_t *rows;
	int rc = index_case_events(app->ws->index, h->id, &rows);
	if (rc)
		return rc;
	json_decref(h->rows);
	h->rows = rows;
	tui_panel_set(&s->panel, (int)json_array_size(rows));
	snprintf(s->title, sizeof s->title, _("History of %s (%zu events)"), h->id,
		 json_array_size(rows));
	return 0;
}

static void history_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	history_view *h = s->priv;
	const json_t *r = json_array_get(h->rows, (size_t)row), *ev = json_object_get(r, "event");
	char commit[13], when[64], *sum = event_summary(ev);
	int w[NCOLS], x = 0;
	attr_t ma;
	const char *mark = tui_verdict_mark(app, event_str(r, "verdict"), &ma);
	snprintf(commit, sizeof commit, "%s", event_str(r, "commit"));
	tui_local_time(event_str(ev, "at"), event_str(ev, "tz"), when, sizeof when);
	const char *cells[NCOLS] = {mark, commit, when, event_str(ev, "officer"),
				    sum ? sum : event_str(ev, "type")};
	attr_t a = selected ? A_REVERSE : A_NORMAL;
	tui_columns_layout(columns, NCOLS, width, w);
	tui_put(y, 0, width, "", a, true);
	for (size_t i = 0; i < NCOLS; i++) {
		if (!w[i])
			continue;
		tui_put(y, x, w[i], cells[i], i == 0 ? a | ma : a, true);
		x += w[i] + 1;
	}
	free(sum);
}

void tui_verdict_line(tui_app *app, const json_t *row, int y)
{
	const char *verdict = event_str(row, "verdict");
	char line[1024];
	move(y, 0);
	clrtoeol();
	if (!*verdict || tui_verdict_ok(verdict))
		return;
	snprintf(line, sizeof line, _("Signature not valid: %s"), verdict);
	tui_put(y, 0, COLS, line, tui_attr(app, TUI_C_FAIL), false);
}

static void history_draw(tui_app *app, tui_screen *s, int y, int h)
{
	history_view *hv = s->priv;
	int w[NCOLS];
	tui_columns_layout(columns, NCOLS, COLS, w);
	tui_columns_header(app, columns, NCOLS, w, y);
	tui_panel_draw(app, s, y + 1, h - 2, history_row);
	tui_verdict_line(app, json_array_get(hv->rows, (size_t)s->panel.sel), y + h - 1);
}

static bool have_row(tui_app *app, tui_screen *s) { return s->panel.count > 0; }

static int act_open(tui_app *app, tui_screen *s)
{
	history_view *h = s->priv;
	const json_t *r = json_array_get(h->rows, (size_t)s->panel.sel);
	const json_t *ev = json_object_get(r, "event");
	if (ev)
		tui_event_push(app, ev, event_str(r, "verdict"));
	return TUI_DONE;
}

static const tui_key history_keys[] = {
	{TUI_ENTER, N_("Enter"), N_("Show event"), act_open, have_row},
	{0},
};

static void history_free(tui_screen *s)
{
	history_view *h = s->priv;
	if (h)
		json_decref(h->rows);
	free(h);
}

static const tui_screen_ops history_ops = {"history", history_keys, history_load, history_draw,
					   history_free};

int tui_history_push(tui_app *app, const char *case_id)
{
	history_view *h = calloc(1, sizeof *h);
	if (!h)
		return error_set(ERR_NOMEM, "out of memory");
	snprintf(h->id, sizeof h->id, "%s", case_id);
	return tui_push(app, &history_ops, h);
}
