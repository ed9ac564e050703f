/*
 * tui_case: one case: its state, the deadline countdown, the timeline, and
 * the steps its state allows.  Which steps are offered is asked of the
 * core's state machine (case_check on a skeleton event), so the screen
 * never duplicates the rules; a refused step shows error_last().
 * Every timeline row carries its signature mark; the reason of an invalid
 * one shows under the timeline when it is selected.
 */
#include "tui_app.h"
#include "core/action.h"
#include "core/case.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char id[96];
	json_t *state;
	json_t *rows; /* [{commit, event}] */
	form *form;
} case_view;

static const struct {
	const char *outcome;
	const char *label; /* N_() */
} outcomes[] = {
	{"rectified", N_("rectified")},
	{"penalized", N_("penalized")},
	{"no-violation", N_("no violation")},
	{"waived", N_("first violation waived")},
};
#define NOUTCOMES (sizeof outcomes / sizeof *outcomes)

/* --- shared helpers --------------------------------------------------------------- */

void tui_local_time(const char *at, const char *tz, char *out, size_t size)
{
	util_time_in_zone(at, tz, "%Y-%m-%d %H:%M", false, out, size);
}

bool tui_case_allows(tui_app *app, const json_t *state, const char *type, const char *outcome)
{
	json_t *ev = action_event(app->ws, type, event_str(state, "id"));
	bool ok = false;
	if (!ev)
		return false;
	for (size_t i = 0; i < NOUTCOMES && !ok; i++) {
		const char *oc = outcome ? outcome : outcomes[i].outcome;
		if (strcmp(type, EV_CLOSED) == 0)
			json_object_set_new(ev, "outcome", json_string(oc));
		ok = case_check(state, ev) == 0;
		if (outcome || strcmp(type, EV_CLOSED) != 0)
			break;
	}
	json_decref(ev);
	error_clear();
	return ok;
}

/* --- data ------------------------------------------------------------------------- */

static int case_load(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	json_t *st, *rows;
	int rc = index_case_get(app->ws->index, c->id, &st);
	if (rc)
		return rc;
	if ((rc = index_case_events(app->ws->index, c->id, &rows))) {
		json_decref(st);
		return rc;
	}
	json_decref(c->state);
	json_decref(c->rows);
	c->state = st;
	c->rows = rows;
	if (!c->form && workspace_form_of_case(app->ws, st, &c->form) != 0)
		error_clear(); /* the case shows without labels */
	tui_panel_set(&s->panel, (int)json_array_size(rows));
	long days;
	const char *status = case_display_status(st, app->today, &days);
	snprintf(s->title, sizeof s->title, _("Case %s  [%s]"), c->id, case_status_label(status));
	return 0;
}

/* --- drawing ------------------------------------------------------------------------- */

static void field(tui_app *app, int *y, const char *label, const char *value, attr_t a)
{
	if (!value || !*value)
		return;
	tui_put(*y, 0, 10, label, A_BOLD, true);
	tui_put(*y, 11, COLS - 11, value, a, false);
	(*y)++;
}

/* "SB04 Label, SB09 Label" for an array of item ids. */
static void items_text(const case_view *c, const json_t *ids, const char *lang, char *out,
		       size_t size)
{
	size_t used = 0, i;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(ids, i, v) {
		const form_item *it = c->form ? form_item_find(c->form, json_string_value(v)) : NULL;
		int n = snprintf(out + used, size - used, "%s%s%s%s", i ? ", " : "", json_string_value(v),
				 it ? " " : "", it ? form_item_label(it, lang) : "");
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static void deadline_line(tui_app *app, case_view *c, int *y)
{
	long days;
	const char *status = case_display_status(c->state, app->today, &days);
	const char *deadline = event_str(json_object_get(c->state, "order"), "deadline");
	char buf[256];
	if (!*deadline)
		return;
	if (days > 0) {
		snprintf(buf, sizeof buf, _("%s, %ld days overdue"), deadline, days);
		field(app, y, _("Deadline"), buf, tui_attr(app, TUI_C_OVERDUE));
		return;
	}
	long left = 0;
	util_date_diff(app->today, deadline, &left);
	if (strcmp(status, "ordered") == 0)
		snprintf(buf, sizeof buf, _("%s, %ld days left"), deadline, left);
	else
		snprintf(buf, sizeof buf, "%s", deadline);
	field(app, y, _("Deadline"), buf, A_BOLD);
}

static const char *review_label(const char *review)
{
	static const struct {
		const char *state, *label; /* label: N_() */
	} labels[] = {
		{"pending", N_("awaiting approval")},
		{"approved", N_("approved")},
		{"returned", N_("returned")},
	};
	for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
		if (strcmp(review, labels[i].state) == 0)
			return _(labels[i].label);
	return review;
}

static void timeline_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	case_view *c = s->priv;
	const json_t *r = json_array_get(c->rows, (size_t)row), *ev = json_object_get(r, "event");
	char when[64], *sum = event_summary(ev);
	attr_t ma;
	const char *mark = tui_verdict_mark(app, event_str(r, "verdict"), &ma);
	tui_local_time(event_str(ev, "at"), event_str(ev, "tz"), when, sizeof when);
	attr_t a = selected ? A_REVERSE : A_NORMAL;
	tui_put(y, 0, width, "", a, true);
	tui_put(y, 0, 2, mark, a | ma, true);
	int x = 3;
	x += tui_put(y, x, 16, when, a, true) + 1;
	if (width >= 70)
		x += tui_put(y, x, 10, event_str(ev, "officer"), a, true) + 1;
	tui_put(y, x, width - x, sum ? sum : event_str(ev, "type"), a, false);
	free(sum);
}

static void case_draw(tui_app *app, tui_screen *s, int y, int h)
{
	case_view *c = s->priv;
	const json_t *st = c->state;
	char buf[2048];
	int y0 = y;
	long days;
	const char *status = case_display_status(st, app->today, &days);
	field(app, &y, _("Status"), case_status_label(status),
	      days > 0 ? tui_attr(app, TUI_C_OVERDUE) : A_BOLD);
	deadline_line(app, c, &y);
	const json_t *fr = json_object_get(st, "form");
	snprintf(buf, sizeof buf, "%s  (%s v%lld)", c->form ? form_title(c->form, app->lang) : "",
		 event_str(fr, "id"), (long long)json_integer_value(json_object_get(fr, "version")));
	field(app, &y, _("Form"), buf, A_NORMAL);
	const json_t *site = json_object_get(st, "site");
	snprintf(buf, sizeof buf, "%s%s%s", event_str(site, "address"),
		 *event_str(site, "grid") ? "  · " : "", event_str(site, "grid"));
	field(app, &y, _("Site"), buf, A_NORMAL);
	field(app, &y, _("Party"), event_str(json_object_get(st, "party"), "name"), A_NORMAL);
	items_text(c, json_object_get(st, "failures"), app->lang, buf, sizeof buf);
	field(app, &y, _("Failures"), buf, tui_attr(app, TUI_C_FAIL));
	if (json_object_get(st, "order")) {
		items_text(c, json_object_get(st, "open_items"), app->lang, buf, sizeof buf);
		field(app, &y, _("Still open"), buf, A_NORMAL);
	}
	field(app, &y, _("Outcome"), event_str(st, "outcome"), A_NORMAL);
	field(app, &y, _("Review"), review_label(event_str(st, "review")),
	      strcmp(event_str(st, "review"), "returned") == 0 ? tui_attr(app, TUI_C_FAIL) : A_NORMAL);
	int used = y - y0;
	if (h - used < 3)
		return;
	tui_put(y, 0, COLS, _("Timeline"), tui_attr(app, TUI_C_HEADER), true);
	tui_panel_draw(app, s, y + 1, h - used - 2, timeline_row);
	tui_verdict_line(app, json_array_get(c->rows, (size_t)s->panel.sel), y0 + h - 1);
}

/* --- actions ------------------------------------------------------------------------- */

static bool may(tui_app *app, tui_screen *s, const char *type)
{
	case_view *c = s->priv;
	return c->state && tui_case_allows(app, c->state, type, NULL);
}
static bool may_inspect(tui_app *app, tui_screen *s) { return may(app, s, EV_INSPECTION); }
static bool may_order(tui_app *app, tui_screen *s) { return may(app, s, EV_ORDER); }
static bool may_reinspect(tui_app *app, tui_screen *s) { return may(app, s, EV_REINSPECTION); }
static bool may_close(tui_app *app, tui_screen *s) { return may(app, s, EV_CLOSED); }
static bool may_escalate(tui_app *app, tui_screen *s) { return may(app, s, EV_ESCALATED); }
static bool may_reopen(tui_app *app, tui_screen *s) { return may(app, s, EV_REOPENED); }

/* Report an action's result; reload on success. */
static int recorded(tui_app *app, int rc, const char *event_id)
{
	if (rc) {
		tui_err_last(app);
		return TUI_DONE;
	}
	tui_msg(app, _("Recorded %s"), event_id);
	return TUI_RELOAD;
}

static int act_inspect(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	tui_check_push(app, c->id, false);
	return TUI_DONE;
}

static int act_reinspect(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	tui_check_push(app, c->id, true);
	return TUI_DONE;
}

/* Which of the last inspection's failures to order (all preselected):
 * 0 with *items (NULL: no failures to choose from), 1 cancelled. */
static int order_items(tui_app *app, case_view *c, json_t **items)
{
	const json_t *fails = json_object_get(c->state, "failures");
	size_t n = json_array_size(fails), i;
	json_t *v;
	*items = NULL;
	if (n == 0)
		return 0;
	char (*text)[256] = calloc(n, sizeof *text);
	const char **labels = calloc(n, sizeof *labels);
	bool *checked = calloc(n, sizeof *checked);
	int rc = 1;
	if (!text || !labels || !checked)
		goto done;
	json_array_foreach(fails, i, v) {
		json_t *one = json_pack("[O]", v);
		items_text(c, one, app->lang, text[i], sizeof text[i]);
		json_decref(one);
		labels[i] = text[i];
		checked[i] = true;
	}
	if (tui_pick_multi(app, _("Order these items"), labels, n, checked) != 0)
		goto done;
	*items = json_array();
	json_array_foreach(fails, i, v)
		if (checked[i])
			json_array_append(*items, v);
	rc = 0;
	if (!json_array_size(*items)) {
		json_decref(*items);
		*items = NULL;
		tui_err(app, "%s", _("no item chosen: nothing was ordered"));
		rc = 1;
	}
done:
	free(text);
	free(labels);
	free(checked);
	return rc;
}

static int act_order(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	char *text, *end, eid[64] = "";
	json_t *items;
	if (order_items(app, c, &items) != 0)
		return TUI_DONE;
	if (tui_prompt(app, _("Days to rectify (empty: the form's default):"), "", &text) != 0) {
		json_decref(items);
		return TUI_DONE;
	}
	long days = *text ? strtol(text, &end, 10) : -1;
	bool bad = *text && (*end || days < 0 || days > 3650);
	free(text);
	if (bad) {
		json_decref(items);
		tui_err(app, "%s", _("give a number of days from 0 to 3650"));
		return TUI_DONE;
	}
	int rc = action_order(app->ws, c->id, items, (int)days, eid);
	json_decref(items);
	return recorded(app, rc, eid);
}

static int act_note(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	char *text, eid[64] = "";
	if (tui_prompt(app, _("Note:"), "", &text) != 0)
		return TUI_DONE;
	int rc = *text ? action_note(app->ws, c->id, text, eid) : 0;
	free(text);
	return *eid || rc ? recorded(app, rc, eid) : TUI_DONE;
}

/* Ask for an optional reason; false when cancelled.  *out may be NULL. */
static bool ask_reason(tui_app *app, char **out)
{
	if (tui_prompt(app, _("Reason (optional):"), "", out) != 0)
		return false;
	if (!**out) {
		free(*out);
		*out = NULL;
	}
	return true;
}

static int act_close(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	const char *labels[NOUTCOMES];
	size_t idx[NOUTCOMES], n = 0;
	for (size_t i = 0; i < NOUTCOMES; i++)
		if (tui_case_allows(app, c->state, EV_CLOSED, outcomes[i].outcome)) {
			idx[n] = i;
			labels[n++] = _(outcomes[i].label);
		}
	int k = tui_pick(app, _("Close with outcome"), labels, n, 0);
	char *reason = NULL, eid[64] = "";
	if (k < 0 || !ask_reason(app, &reason))
		return TUI_DONE;
	int rc = action_close(app->ws, c->id, outcomes[idx[k]].outcome, reason, eid);
	free(reason);
	return recorded(app, rc, eid);
}

static int reason_step(tui_app *app, tui_screen *s,
		       int (*fn)(workspace *, const char *, const char *, char *))
{
	case_view *c = s->priv;
	char *reason = NULL, eid[64] = "";
	if (!ask_reason(app, &reason))
		return TUI_DONE;
	int rc = fn(app->ws, c->id, reason, eid);
	free(reason);
	return recorded(app, rc, eid);
}

static int act_escalate(tui_app *app, tui_screen *s)
{
	if (!tui_confirm(app, _("Hand this case to the penalty procedure?")))
		return TUI_DONE;
	return reason_step(app, s, action_escalate);
}

static int act_reopen(tui_app *app, tui_screen *s) { return reason_step(app, s, action_reopen); }

static int act_history(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	tui_history_push(app, c->id);
	return TUI_DONE;
}

static const json_t *selected_row(tui_screen *s)
{
	case_view *c = s->priv;
	return json_array_get(c->rows, (size_t)s->panel.sel);
}

static int act_event(tui_app *app, tui_screen *s)
{
	const json_t *r = selected_row(s), *ev = json_object_get(r, "event");
	if (ev)
		tui_event_push(app, ev, event_str(r, "verdict"));
	return TUI_DONE;
}

static bool on_photo(tui_app *app, tui_screen *s)
{
	return strcmp(event_str(json_object_get(selected_row(s), "event"), "type"), EV_PHOTO) == 0;
}

static int act_preview(tui_app *app, tui_screen *s)
{
	tui_photo_push(app, json_object_get(selected_row(s), "event"));
	return TUI_DONE;
}

static int act_attach(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	return tui_attach_pick(app, c->id, NULL, NULL) == 0 ? TUI_RELOAD : TUI_DONE;
}

static bool may_review(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	return c->state && tui_review_pending(app, c->state);
}

static int act_approve(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	return tui_review_decide(app, c->id, true) == 0 ? TUI_RELOAD : TUI_DONE;
}

static int act_return(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	return tui_review_decide(app, c->id, false) == 0 ? TUI_RELOAD : TUI_DONE;
}

static int act_export(tui_app *app, tui_screen *s)
{
	case_view *c = s->priv;
	tui_export_run(app, c->id);
	return TUI_DONE;
}

static const tui_key case_keys[] = {
	{'i', N_("i"), N_("Inspect"), act_inspect, may_inspect},
	{'o', N_("o"), N_("Order"), act_order, may_order},
	{'r', N_("r"), N_("Reinspect"), act_reinspect, may_reinspect},
	{'n', N_("n"), N_("Note"), act_note, NULL},
	{'c', N_("c"), N_("Close"), act_close, may_close},
	{'e', N_("e"), N_("Escalate"), act_escalate, may_escalate},
	{'A', N_("A"), N_("Approve"), act_approve, may_review},
	{'t', N_("t"), N_("Return"), act_return, may_review},
	{'R', N_("R"), N_("Reopen"), act_reopen, may_reopen},
	{'a', N_("a"), N_("Attach photo"), act_attach, NULL},
	{'v', N_("v"), N_("View photo"), act_preview, on_photo},
	{'h', N_("h"), N_("History"), act_history, NULL},
	{'x', N_("x"), N_("Export"), act_export, NULL},
	{TUI_ENTER, N_("Enter"), N_("Event"), act_event, NULL},
	{0},
};

static void case_free(tui_screen *s)
{
	case_view *c = s->priv;
	if (!c)
		return;
	json_decref(c->state);
	json_decref(c->rows);
	form_free(c->form);
	free(c);
}

static const tui_screen_ops case_ops = {"case", case_keys, case_load, case_draw, case_free};

bool tui_case_shows(const tui_screen *s, const char *case_id)
{
	return s->ops == &case_ops && strcmp(((const case_view *)s->priv)->id, case_id) == 0;
}

int tui_case_push(tui_app *app, const char *case_id)
{
	case_view *c = calloc(1, sizeof *c);
	if (!c)
		return error_set(ERR_NOMEM, "out of memory");
	snprintf(c->id, sizeof c->id, "%s", case_id);
	return tui_push(app, &case_ops, c);
}
