/*
 * tui_list: the case list, the first screen.  Filter by status, search
 * (the index's substring search over id, address, grid, party, notes),
 * sort by date or deadline.  Overdue cases stand out with "+Nd".
 * Data: the number of matching cases, and a window of PAGE_ROWS summaries
 * (index_case_page: index columns, no case state parsed) around the rows on
 * screen, loaded again when the cursor leaves it; so the first screen and
 * the memory cost the same at 100 cases and at 100,000.
 */
#include "tui_app.h"
#include "core/case.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/index.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *status; /* index filter (index_case_count, index_case_page) */
	const char *label;  /* N_() */
} filters[] = {
	{"open", N_("open")},       {"ordered", N_("ordered")}, {"overdue", N_("overdue")},
	{"closed", N_("closed")},   {"all", N_("all")},
};
#define NFILTERS (sizeof filters / sizeof *filters)

enum { SORT_DATE, SORT_DEADLINE, SORT_COUNT };
static const char *const sort_labels[SORT_COUNT] = {N_("newest first"), N_("deadline")};
static const index_sort sort_orders[SORT_COUNT] = {INDEX_SORT_NEWEST, INDEX_SORT_DEADLINE};

#define PAGE_ROWS 240 /* summaries held: a few screens on the largest terminal */

typedef struct {
	size_t filter;
	int sort;
	char *search;
	long total;   /* cases the filter and search match */
	json_t *page; /* summaries of rows page_at .. page_at + size - 1 */
	long page_at;
} list_view;

static const tui_column columns[] = {
	{N_("Status"), 12, false, 0},
	{N_("Deadline"), 10, false, 1},
	{N_("Address"), 12, true, 0},
	{N_("Party"), 8, true, 2},
	{N_("Case"), 22, false, 3},
};
#define NCOLS (sizeof columns / sizeof *columns)

/* --- data ------------------------------------------------------------------------- */

/* The summary of row i (borrowed), loading the window around it when
 * needed; NULL when it cannot be read. */
static const json_t *row_at(tui_app *app, list_view *l, long i)
{
	if (i < 0 || i >= l->total)
		return NULL;
	if (!l->page || i < l->page_at || i >= l->page_at + (long)json_array_size(l->page)) {
		long at = i > PAGE_ROWS / 2 ? i - PAGE_ROWS / 2 : 0;
		json_t *page;
		if (index_case_page(app->ws->index, filters[l->filter].status, l->search, app->today,
				    sort_orders[l->sort], PAGE_ROWS, at, &page) != 0)
			return NULL;
		json_decref(l->page);
		l->page = page;
		l->page_at = at;
	}
	return json_array_get(l->page, (size_t)(i - l->page_at));
}

static const char *selected_id(tui_app *app, tui_screen *s)
{
	return event_str(row_at(app, s->priv, s->panel.sel), "id");
}

static void set_title(tui_screen *s)
{
	list_view *l = s->priv;
	int n = snprintf(s->title, sizeof s->title, _("Cases: %s (%ld)  sort: %s"),
			 _(filters[l->filter].label), l->total, _(sort_labels[l->sort]));
	if (l->search && *l->search && n > 0 && (size_t)n < sizeof s->title)
		snprintf(s->title + n, sizeof s->title - (size_t)n, _("  search: %s"), l->search);
}

/* After a reload, keep the cursor on the same case when it is still near. */
static void keep_selection(tui_app *app, tui_screen *s, const char *id)
{
	list_view *l = s->priv;
	if (!*id || !row_at(app, l, s->panel.sel))
		return;
	size_t i;
	json_t *c;
	json_array_foreach(l->page, i, c)
		if (strcmp(event_str(c, "id"), id) == 0)
			s->panel.sel = (int)(l->page_at + (long)i);
}

static int list_load(tui_app *app, tui_screen *s)
{
	list_view *l = s->priv;
	char *keep = strdup(l->page ? selected_id(app, s) : "");
	long total = 0;
	int rc = index_case_count(app->ws->index, filters[l->filter].status, l->search, app->today,
				  &total);
	if (rc) {
		free(keep);
		return rc;
	}
	json_decref(l->page);
	l->page = NULL;
	l->total = total;
	tui_panel_set(&s->panel, (int)(total < INT_MAX ? total : INT_MAX));
	keep_selection(app, s, keep ? keep : "");
	free(keep);
	set_title(s);
	return 0;
}

/* --- drawing ------------------------------------------------------------------------ */

static void list_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	const json_t *c = row_at(app, s->priv, row);
	int w[NCOLS];
	tui_columns_layout(columns, NCOLS, width, w);
	const char *status = event_str(c, "status");
	long days = (long)json_integer_value(json_object_get(c, "days_overdue"));
	char st[96];
	if (days > 0)
		snprintf(st, sizeof st, _("%s +%ldd"), case_status_label(status), days);
	else
		snprintf(st, sizeof st, "%s", case_status_label(status));
	const char *cells[NCOLS] = {st, event_str(c, "deadline"), event_str(c, "address"),
				    event_str(c, "party"), event_str(c, "id")};
	attr_t base = selected ? A_REVERSE : A_NORMAL;
	if (days > 0)
		base |= tui_attr(app, TUI_C_OVERDUE);
	int x = 0;
	tui_put(y, 0, width, "", base, true);
	for (size_t i = 0; i < NCOLS; i++) {
		if (!w[i])
			continue;
		tui_put(y, x, w[i], cells[i], base, true);
		x += w[i] + 1;
	}
}

static void list_draw(tui_app *app, tui_screen *s, int y, int h)
{
	list_view *l = s->priv;
	int w[NCOLS];
	tui_columns_layout(columns, NCOLS, COLS, w);
	tui_columns_header(app, columns, NCOLS, w, y);
	if (!l->total) {
		tui_put(y + 2, 2, COLS - 4, _("No cases here. n starts an inspection; f changes the filter."),
			A_NORMAL, false);
		return;
	}
	tui_panel_draw(app, s, y + 1, h - 1, list_row);
}

/* --- actions ------------------------------------------------------------------------- */

static bool have_case(tui_app *app, tui_screen *s) { return *selected_id(app, s) != '\0'; }

static int act_open(tui_app *app, tui_screen *s)
{
	char id[96];
	snprintf(id, sizeof id, "%s", selected_id(app, s));
	tui_case_push(app, id);
	return TUI_DONE;
}

static int act_history(tui_app *app, tui_screen *s)
{
	char id[96];
	snprintf(id, sizeof id, "%s", selected_id(app, s));
	tui_history_push(app, id);
	return TUI_DONE;
}

static int act_new(tui_app *app, tui_screen *s)
{
	tui_new_push(app);
	return TUI_DONE;
}

static int act_search(tui_app *app, tui_screen *s)
{
	list_view *l = s->priv;
	char *text;
	if (tui_prompt(app, _("Search:"), l->search, &text) != 0)
		return TUI_DONE;
	free(l->search);
	l->search = *text ? text : NULL;
	if (!l->search)
		free(text);
	s->panel.sel = 0;
	return TUI_RELOAD;
}

static int act_filter(tui_app *app, tui_screen *s)
{
	list_view *l = s->priv;
	const char *labels[NFILTERS];
	for (size_t i = 0; i < NFILTERS; i++)
		labels[i] = _(filters[i].label);
	int k = tui_pick(app, _("Show cases"), labels, NFILTERS, (int)l->filter);
	if (k < 0)
		return TUI_DONE;
	l->filter = (size_t)k;
	s->panel.sel = 0;
	return TUI_RELOAD;
}

static int act_next_filter(tui_app *app, tui_screen *s)
{
	list_view *l = s->priv;
	l->filter = (l->filter + 1) % NFILTERS;
	s->panel.sel = 0;
	return TUI_RELOAD;
}

static int act_sort(tui_app *app, tui_screen *s)
{
	list_view *l = s->priv;
	l->sort = (l->sort + 1) % SORT_COUNT;
	return TUI_RELOAD;
}

static int act_review(tui_app *app, tui_screen *s)
{
	tui_review_push(app);
	return TUI_DONE;
}

static int act_sync(tui_app *app, tui_screen *s)
{
	tui_sync_run(app);
	return TUI_RELOAD; /* the list below the summary shows what came in */
}

static int act_lock(tui_app *app, tui_screen *s)
{
	tui_lock(app);
	return TUI_DONE;
}

static int act_quit(tui_app *app, tui_screen *s) { return TUI_QUIT; }
static int act_stay(tui_app *app, tui_screen *s) { return TUI_DONE; }

static int act_stats(tui_app *app, tui_screen *s)
{
	tui_stats_push(app);
	return TUI_DONE;
}

static const tui_key list_keys[] = {
	{TUI_ENTER, N_("Enter"), N_("Open"), act_open, have_case},
	{'n', N_("n"), N_("New"), act_new, NULL},
	{'/', N_("/"), N_("Search"), act_search, NULL},
	{'f', N_("f"), N_("Filter"), act_filter, NULL},
	{'o', N_("o"), N_("Sort"), act_sort, NULL},
	{'h', N_("h"), N_("History"), act_history, have_case},
	{'R', N_("R"), N_("Review"), act_review, NULL},
	{'S', N_("S"), N_("Sync"), act_sync, NULL},
	{'T', N_("T"), N_("Stats"), act_stats, NULL},
	{'L', N_("L"), N_("Lock"), act_lock, NULL},
	{'q', N_("q"), N_("Quit"), act_quit, NULL},
	{'\t', N_("Tab"), N_("Next filter"), act_next_filter, NULL},
	{TUI_ESC, N_("Esc"), NULL, act_stay, NULL}, /* Esc never quits by accident */
	{0},
};

static void list_free(tui_screen *s)
{
	list_view *l = s->priv;
	if (!l)
		return;
	json_decref(l->page);
	free(l->search);
	free(l);
}

static const tui_screen_ops list_ops = {"list", list_keys, list_load, list_draw, list_free};

int tui_list_push(tui_app *app)
{
	list_view *l = calloc(1, sizeof *l);
	if (!l)
		return error_set(ERR_NOMEM, "out of memory");
	return tui_push(app, &list_ops, l);
}
