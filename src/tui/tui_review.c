/*
 * tui_review: the supervisor's queue (review_queue: overdue orders first,
 * then closures awaiting approval, then photos whose checks failed) and
 * the approve/return decisions, shared with the case view.
 *
 * Deciding is allowed to anyone the core allows; when the roster on this
 * device does not give the officer the supervisor role, the screen says so
 * (as the CLI's warning does) because the decision will be flagged invalid.
 */
#include "tui_app.h"
#include "core/case.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/review.h"
#include "core/util.h"
#include "core/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	json_t *items;   /* review_queue's array, in its order */
	bool supervisor; /* the local roster gives us the supervisor role */
} review_view;

static const struct {
	const char *kind;  /* review_queue's kind */
	const char *label; /* N_() */
} kinds[] = {
	{"overdue", N_("overdue")},
	{"closure", N_("closure")},
	{"photo", N_("photo")},
};

static const tui_column columns[] = {
	{N_("Kind"), 9, false, 0},
	{N_("Case"), 22, false, 2},
	{N_("Address"), 10, true, 0},
	{N_("Detail"), 14, true, 1},
};
#define NCOLS (sizeof columns / sizeof *columns)

static const char *kind_label(const char *kind)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return _(kinds[i].label);
	return kind;
}

/* Does the roster on this device give our officer the supervisor role now? */
static bool is_supervisor(tui_app *app)
{
	verify_roster *r;
	char pub[160], now[32];
	if (workspace_public_key(app->ws, pub, sizeof pub) || index_roster(app->ws->index, &r)) {
		error_clear();
		return false;
	}
	util_time_rfc3339(util_now(), now);
	const char *role = verify_roster_role(r, app->ws->officer, pub, now);
	bool yes = role && strcmp(role, ROLE_SUPERVISOR) == 0;
	verify_roster_free(r);
	return yes;
}

static const char *role_warning(tui_app *app, char *buf, size_t size)
{
	snprintf(buf, size,
		 _("The roster on this device does not give %s the supervisor role: a decision "
		   "made here will be flagged as invalid unless it does."),
		 app->ws->officer ? app->ws->officer : "");
	return buf;
}

/* --- deciding (also from the case view) ----------------------------------------------- */

bool tui_review_pending(tui_app *app, const json_t *state)
{
	return strcmp(event_str(state, "status"), "closed") == 0 &&
	       strcmp(event_str(state, "review"), "pending") == 0 &&
	       tui_case_allows(app, state, EV_REVIEW_APPROVED, NULL);
}

int tui_review_decide(tui_app *app, const char *case_id, bool approve)
{
	char warn[512], q[256], eid[64] = "", *reason = NULL;
	snprintf(q, sizeof q, approve ? _("Approve the closure of %s?") : _("Return %s to the officer?"),
		 case_id);
	if (!is_supervisor(app)) {
		const char *lines[] = {role_warning(app, warn, sizeof warn)};
		if (!tui_dialog(app, _("Not a supervisor here"), lines, 1, q))
			return 1;
	} else if (!tui_confirm(app, q)) {
		return 1;
	}
	if (tui_prompt(app, approve ? _("Note (optional):") : _("Reason for returning:"), "",
		       &reason) != 0)
		return 1;
	if (!approve && !*reason) {
		free(reason);
		tui_err(app, "%s", _("returning a case needs a reason: nothing was recorded"));
		return 1;
	}
	int rc = review_decide(app->ws, case_id, approve, *reason ? reason : NULL, eid);
	free(reason);
	if (rc) {
		tui_err_last(app);
		return rc;
	}
	tui_msg(app, approve ? _("Approved %s (%s)") : _("Returned %s (%s)"), case_id, eid);
	return 0;
}

/* --- the queue ---------------------------------------------------------------------------- */

static const json_t *selected(tui_screen *s)
{
	review_view *r = s->priv;
	return json_array_get(r->items, (size_t)s->panel.sel);
}

static int review_load(tui_app *app, tui_screen *s)
{
	review_view *r = s->priv;
	json_t *items;
	int rc = review_queue(app->ws, app->today, &items);
	if (rc)
		return rc;
	json_decref(r->items);
	r->items = items;
	r->supervisor = is_supervisor(app);
	tui_panel_set(&s->panel, (int)json_array_size(items));
	snprintf(s->title, sizeof s->title, _("Review queue (%zu)"), json_array_size(items));
	return 0;
}

static void review_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected_row)
{
	review_view *r = s->priv;
	const json_t *it = json_array_get(r->items, (size_t)row);
	const char *kind = event_str(it, "kind");
	int w[NCOLS], x = 0;
	const char *cells[NCOLS] = {kind_label(kind), event_str(it, "case"), event_str(it, "address"),
				    event_str(it, "detail")};
	attr_t a = selected_row ? A_REVERSE : A_NORMAL;
	if (strcmp(kind, "overdue") == 0)
		a |= tui_attr(app, TUI_C_OVERDUE);
	tui_columns_layout(columns, NCOLS, width, w);
	tui_put(y, 0, width, "", a, true);
	for (size_t i = 0; i < NCOLS; i++) {
		if (!w[i])
			continue;
		tui_put(y, x, w[i], cells[i], a, true);
		x += w[i] + 1;
	}
}

static void review_draw(tui_app *app, tui_screen *s, int y, int h)
{
	review_view *r = s->priv;
	int w[NCOLS];
	if (!r->supervisor) {
		char warn[512];
		json_t *lines = tui_wrap(role_warning(app, warn, sizeof warn), COLS);
		size_t n = json_array_size(lines) < 2 ? json_array_size(lines) : 2;
		for (size_t i = 0; i < n; i++, y++, h--)
			tui_put(y, 0, COLS, json_string_value(json_array_get(lines, i)),
				tui_attr(app, TUI_C_FAIL), true);
		json_decref(lines);
	}
	tui_columns_layout(columns, NCOLS, COLS, w);
	tui_columns_header(app, columns, NCOLS, w, y);
	if (!json_array_size(r->items)) {
		tui_put(y + 2, 2, COLS - 4, _("Nothing waits for review."), A_NORMAL, false);
		return;
	}
	tui_panel_draw(app, s, y + 1, h - 1, review_row);
}

static bool have_item(tui_app *app, tui_screen *s) { return selected(s) != NULL; }

static bool is_closure(tui_app *app, tui_screen *s)
{
	return strcmp(event_str(selected(s), "kind"), "closure") == 0;
}

static int act_open(tui_app *app, tui_screen *s)
{
	char id[96];
	snprintf(id, sizeof id, "%s", event_str(selected(s), "case"));
	tui_case_push(app, id);
	return TUI_DONE;
}

static int decide(tui_app *app, tui_screen *s, bool approve)
{
	char id[96];
	snprintf(id, sizeof id, "%s", event_str(selected(s), "case"));
	return tui_review_decide(app, id, approve) == 0 ? TUI_RELOAD : TUI_DONE;
}

static int act_approve(tui_app *app, tui_screen *s) { return decide(app, s, true); }
static int act_return(tui_app *app, tui_screen *s) { return decide(app, s, false); }

static const tui_key review_keys[] = {
	{TUI_ENTER, N_("Enter"), N_("Open"), act_open, have_item},
	{'a', N_("a"), N_("Approve"), act_approve, is_closure},
	{'t', N_("t"), N_("Return"), act_return, is_closure},
	{0},
};

static void review_free(tui_screen *s)
{
	review_view *r = s->priv;
	if (r)
		json_decref(r->items);
	free(r);
}

static const tui_screen_ops review_ops = {"review", review_keys, review_load, review_draw,
					  review_free};

int tui_review_push(tui_app *app)
{
	review_view *r = calloc(1, sizeof *r);
	if (!r)
		return error_set(ERR_NOMEM, "out of memory");
	return tui_push(app, &review_ops, r);
}
