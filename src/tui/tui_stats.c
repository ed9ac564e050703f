/*
 * tui_stats: the supervisor's figures from the list (`T`): cases opened,
 * closed, overdue and still open, and the mean days to close, per grid,
 * category or officer (Tab cycles), within a date range on the opening
 * date (`d`; empty = all).  Data: stats_compute's rows, loaded on entry
 * and after every change; drawing only walks them.  Columns are laid out
 * by display width (titles in any language fit their column).
 */
#include "tui_app.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/stats.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *by;    /* stats_compute's grouping */
	const char *label; /* N_() */
} groups[] = {
	{"grid", N_("Grid")},
	{"category", N_("Category")},
	{"officer", N_("Officer")},
};
#define NGROUPS (sizeof groups / sizeof *groups)

typedef struct {
	size_t by;
	char from[11], to[11]; /* "" = open */
	json_t *rows;          /* stats_compute's array, the total last */
} stats_view;

/* Key column first (its title is the grouping), then the figures. */
enum { COL_KEY, COL_OPENED, COL_CLOSED, COL_OVERDUE, COL_OPEN, COL_MEAN, NCOLS };
static const tui_column base_columns[NCOLS] = {
	{NULL, 10, true, 0},
	{N_("opened"), 6, false, 0},
	{N_("closed"), 6, false, 0},
	{N_("overdue"), 7, false, 2},
	{N_("open"), 6, false, 0},
	{N_("days/close"), 10, false, 1},
};

/* The columns for now: the key titled by the grouping, every fixed
 * column at least as wide as its (translated) title. */
static void columns_now(const stats_view *v, tui_column cols[NCOLS])
{
	memcpy(cols, base_columns, sizeof base_columns);
	cols[COL_KEY].title = groups[v->by].label;
	for (int i = 0; i < NCOLS; i++) {
		int tw = tui_width(_(cols[i].title));
		if (!cols[i].flex && tw > cols[i].width)
			cols[i].width = tw;
	}
}

/* --- data ------------------------------------------------------------------------- */

static int stats_load(tui_app *app, tui_screen *s)
{
	stats_view *v = s->priv;
	json_t *rows;
	int rc = stats_compute(app->ws, groups[v->by].by, *v->from ? v->from : NULL,
			       *v->to ? v->to : NULL, app->today, &rows);
	if (rc)
		return rc;
	json_decref(v->rows);
	v->rows = rows;
	tui_panel_set(&s->panel, (int)json_array_size(rows));
	if (*v->from || *v->to)
		snprintf(s->title, sizeof s->title, _("Statistics by %s, opened %s .. %s"),
			 _(groups[v->by].label), *v->from ? v->from : "…", *v->to ? v->to : "…");
	else
		snprintf(s->title, sizeof s->title, _("Statistics by %s, all dates"), _(groups[v->by].label));
	return 0;
}

/* --- drawing ------------------------------------------------------------------------- */

/* A number right-aligned in w columns. */
static void put_num(int y, int x, int w, const char *num, attr_t a)
{
	int nw = tui_width(num);
	tui_put(y, x, w, "", a, true);
	tui_put(y, x + (nw < w ? w - nw : 0), w, num, a, false);
}

static void stats_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	stats_view *v = s->priv;
	const json_t *r = json_array_get(v->rows, (size_t)row);
	const char *key = event_str(r, "key");
	bool total = !*key;
	tui_column cols[NCOLS];
	int w[NCOLS], x = 0;
	char cells[NCOLS][32], fit[256];
	columns_now(v, cols);
	tui_columns_layout(cols, NCOLS, width, w);
	static const char *const fields[NCOLS] = {NULL, "opened", "closed", "overdue", "open", NULL};
	for (int i = COL_OPENED; i <= COL_OPEN; i++)
		snprintf(cells[i], sizeof cells[i], "%lld", json_integer_value(json_object_get(r, fields[i])));
	const json_t *m = json_object_get(r, "mean_days_to_close");
	if (json_is_number(m))
		snprintf(cells[COL_MEAN], sizeof cells[COL_MEAN], "%.1f", json_number_value(m));
	else
		snprintf(cells[COL_MEAN], sizeof cells[COL_MEAN], "-");
	attr_t a = selected ? A_REVERSE : A_NORMAL;
	if (total)
		a |= A_BOLD;
	tui_put(y, 0, width, "", a, true);
	/* The key by display width: CJK names take two columns a character. */
	util_text_fit(total ? _("total") : key, w[COL_KEY], true, fit, sizeof fit);
	tui_put(y, 0, w[COL_KEY], fit, a, true);
	x = w[COL_KEY] + 1;
	for (int i = COL_OPENED; i < NCOLS; i++) {
		if (!w[i])
			continue;
		attr_t ca = a;
		if (i == COL_OVERDUE && json_integer_value(json_object_get(r, "overdue")) > 0)
			ca |= tui_attr(app, TUI_C_OVERDUE);
		put_num(y, x, w[i], cells[i], ca);
		x += w[i] + 1;
	}
}

static void stats_draw(tui_app *app, tui_screen *s, int y, int h)
{
	stats_view *v = s->priv;
	tui_column cols[NCOLS];
	int w[NCOLS];
	columns_now(v, cols);
	tui_columns_layout(cols, NCOLS, COLS, w);
	tui_columns_header(app, cols, NCOLS, w, y);
	if (json_array_size(v->rows) <= 1 &&
	    json_integer_value(json_object_get(json_array_get(v->rows, 0), "opened")) == 0) {
		tui_put(y + 2, 2, COLS - 4, _("No cases in this range. d changes the dates."), A_NORMAL,
			false);
		return;
	}
	tui_panel_draw(app, s, y + 1, h - 1, stats_row);
}

/* --- actions ------------------------------------------------------------------------- */

static int act_next_group(tui_app *app, tui_screen *s)
{
	stats_view *v = s->priv;
	v->by = (v->by + 1) % NGROUPS;
	s->panel.sel = 0;
	return TUI_RELOAD;
}

static int act_group(tui_app *app, tui_screen *s)
{
	stats_view *v = s->priv;
	const char *labels[NGROUPS];
	for (size_t i = 0; i < NGROUPS; i++)
		labels[i] = _(groups[i].label);
	int k = tui_pick(app, _("Group by"), labels, NGROUPS, (int)v->by);
	if (k < 0)
		return TUI_DONE;
	v->by = (size_t)k;
	s->panel.sel = 0;
	return TUI_RELOAD;
}

/* Ask for a date; false when cancelled or not a date (message set). */
static bool ask_date(tui_app *app, const char *label, const char *initial, char out[11])
{
	char *text;
	long d;
	if (tui_prompt(app, label, initial, &text) != 0)
		return false;
	bool okd = !*text || (strlen(text) == 10 && util_date_diff(text, text, &d) == 0);
	if (!okd) {
		error_clear();
		tui_err(app, _("not a date (YYYY-MM-DD): %s"), text);
	} else {
		snprintf(out, 11, "%s", text);
	}
	free(text);
	return okd;
}

static int act_dates(tui_app *app, tui_screen *s)
{
	stats_view *v = s->priv;
	char from[11] = "", to[11] = "";
	if (!ask_date(app, _("Opened from (YYYY-MM-DD, empty: no limit):"), v->from, from) ||
	    !ask_date(app, _("Opened until (YYYY-MM-DD, empty: no limit):"), v->to, to))
		return TUI_DONE;
	if (*from && *to && strcmp(from, to) > 0) {
		tui_err(app, "%s", _("the first date is after the second: nothing changed"));
		return TUI_DONE;
	}
	memcpy(v->from, from, sizeof from);
	memcpy(v->to, to, sizeof to);
	s->panel.sel = 0;
	return TUI_RELOAD;
}

static const tui_key stats_keys[] = {
	{'\t', N_("Tab"), N_("Next grouping"), act_next_group, NULL},
	{'g', N_("g"), N_("Group by"), act_group, NULL},
	{'d', N_("d"), N_("Dates"), act_dates, NULL},
	{0},
};

static void stats_free(tui_screen *s)
{
	stats_view *v = s->priv;
	if (v)
		json_decref(v->rows);
	free(v);
}

static const tui_screen_ops stats_ops = {"stats", stats_keys, stats_load, stats_draw, stats_free};

int tui_stats_push(tui_app *app)
{
	stats_view *v = calloc(1, sizeof *v);
	if (!v)
		return error_set(ERR_NOMEM, "out of memory");
	return tui_push(app, &stats_ops, v);
}
