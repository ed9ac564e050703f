/*
 * tui_check: the checklist of an inspection or a re-inspection.
 *
 * One row per item that applies now (conditional items appear and
 * disappear as answers change; a re-inspection shows only the order's open
 * items).  Every change is saved at once as a draft through
 * action_inspect(draft_only), so a killed terminal loses nothing; "record"
 * shows the failures with their legal basis and default days, and records
 * one event on confirm.  The local answers change only after the core
 * accepted them, so the screen always shows what the draft holds.
 */
#include "tui_app.h"
#include "tui_check.h"
#include "core/action.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- data ------------------------------------------------------------------------- */

/* The items shown: open order items (re-inspection) or the visible ones. */
static void check_rows(check_view *c)
{
	c->nrows = 0;
	size_t n = form_item_count(c->form);
	for (size_t i = 0; i < n; i++) {
		const form_item *it = form_item_at(c->form, i);
		bool show;
		if (c->reinspection) {
			show = false;
			size_t k;
			json_t *v;
			json_array_foreach(json_object_get(c->state, "open_items"), k, v)
				show |= strcmp(json_string_value(v), form_item_id(it)) == 0;
		} else {
			show = form_item_visible(c->form, it, c->answers);
		}
		if (show)
			c->rows[c->nrows++] = i;
	}
}

const form_item *tui_check_item(const check_view *c, int row)
{
	if (row < 0 || (size_t)row >= c->nrows)
		return NULL;
	return form_item_at(c->form, c->rows[row]);
}

static void check_title(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	size_t answered = 0;
	for (size_t i = 0; i < c->nrows; i++) {
		const json_t *v = json_object_get(c->answers, form_item_id(tui_check_item(c, (int)i)));
		answered += v && !json_is_null(v);
	}
	snprintf(s->title, sizeof s->title,
		 c->reinspection ? _("Reinspection %s  %s  %zu/%zu") : _("Checklist %s  %s  %zu/%zu"),
		 c->id, form_title(c->form, app->lang), answered, c->nrows);
}

static json_t *object_or_new(const json_t *j)
{
	return json_is_object(j) ? json_deep_copy(j) : json_object();
}

static int check_load(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	json_t *draft = NULL;
	int rc;
	if (c->form) /* already loaded: answers live here, not reloaded */
		return 0;
	if ((rc = index_case_get(app->ws->index, c->id, &c->state)) ||
	    (rc = workspace_form_of_case(app->ws, c->state, &c->form)))
		return rc;
	if (index_draft_get(app->ws->index, c->id, c->reinspection ? "reinspection" : "inspection",
			    &draft) != 0)
		error_clear();
	c->answers = object_or_new(json_object_get(draft, "answers"));
	c->notes = object_or_new(json_object_get(draft, "notes"));
	json_decref(draft);
	c->rows = calloc(form_item_count(c->form) + 1, sizeof *c->rows);
	if (!c->rows)
		return error_set(ERR_NOMEM, "out of memory");
	check_rows(c);
	tui_panel_set(&s->panel, (int)c->nrows);
	check_title(app, s);
	return 0;
}

/* --- saving -------------------------------------------------------------------------- */

static void drop_nulls(json_t *obj)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, k, v)
		if (json_is_null(v))
			json_object_del(obj, k);
}

/* Add nulls to delta for answered items that the new answers hide (the
 * core drops null answers from the draft). */
static void hide_answers(check_view *c, json_t *all, json_t *delta)
{
	bool changed = true;
	while (changed && !c->reinspection) {
		changed = false;
		for (size_t i = 0; i < form_item_count(c->form); i++) {
			const form_item *it = form_item_at(c->form, i);
			const json_t *v = json_object_get(all, form_item_id(it));
			if (!v || json_is_null(v) || form_item_visible(c->form, it, all))
				continue;
			json_object_set_new(all, form_item_id(it), json_null());
			json_object_set_new(delta, form_item_id(it), json_null());
			changed = true;
		}
	}
}

int tui_check_save(tui_app *app, tui_screen *s, const char *item, json_t *value, bool note)
{
	check_view *c = s->priv;
	json_t *delta = json_object(), *all = json_deep_copy(note ? c->notes : c->answers);
	json_object_set_new(delta, item, value);
	json_object_set(all, item, value);
	if (!note)
		hide_answers(c, all, delta);
	int rc = action_inspect(app->ws, c->id, note ? NULL : delta, note ? delta : NULL,
				c->reinspection, true, NULL);
	if (rc) {
		tui_err_last(app);
		json_decref(all);
	} else {
		drop_nulls(all);
		json_decref(note ? c->notes : c->answers);
		*(note ? &c->notes : &c->answers) = all;
		check_rows(c);
		tui_panel_set(&s->panel, (int)c->nrows);
		check_title(app, s);
		tui_msg(app, _("%s saved"), item);
	}
	json_decref(delta);
	return rc;
}

/* --- drawing ------------------------------------------------------------------------- */

void tui_check_value(const check_view *c, const form_item *it, const char *lang, char *out,
		     size_t size)
{
	const json_t *v = json_object_get(c->answers, form_item_id(it));
	out[0] = '\0';
	if (!v || json_is_null(v))
		return;
	switch (form_item_get_type(it)) {
	case FORM_PASSFAIL: {
		const char *s = json_string_value(v);
		snprintf(out, size, "%s", !s ? "?" : strcmp(s, "pass") == 0 ? _("pass")
					   : strcmp(s, "fail") == 0 ? _("FAIL") : _("n/a"));
		return;
	}
	case FORM_NUMBER:
		snprintf(out, size, "%g %s", json_number_value(v), form_item_unit(it));
		return;
	case FORM_PHOTOS:
		snprintf(out, size, _("%lld photos"), (long long)json_integer_value(v));
		return;
	case FORM_TEXT:
		snprintf(out, size, "%s", json_string_value(v));
		return;
	case FORM_CHOICE:
	case FORM_MULTI:
		break;
	}
	size_t used = 0, i;
	json_t *e;
	json_t *list = json_is_array(v) ? json_incref((json_t *)v) : json_pack("[O]", v);
	json_array_foreach(list, i, e) {
		const char *label = json_string_value(e);
		for (size_t k = 0; k < form_item_choice_count(it); k++)
			if (label && strcmp(form_item_choice_value(it, k), label) == 0)
				label = form_item_choice_label(it, k, lang);
		int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "", label ? label : "?");
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	json_decref(list);
}

static void check_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, row);
	char value[512], head[32];
	tui_check_value(c, it, app->lang, value, sizeof value);
	bool failed = form_item_failed(c->form, it, c->answers);
	if (failed && form_item_get_type(it) != FORM_PASSFAIL) { /* "! 2.1 m": visible without colour */
		memmove(value + 2, value, strnlen(value, sizeof value - 3) + 1);
		memcpy(value, "! ", 2);
	}
	attr_t a = selected ? A_REVERSE : A_NORMAL;
	attr_t va = a | (failed ? tui_attr(app, TUI_C_FAIL) : *value ? tui_attr(app, TUI_C_PASS) : 0);
	int vw = width >= 70 ? 18 : 12;
	bool noted = json_string_value(json_object_get(c->notes, form_item_id(it))) != NULL;
	/* '>' marks the cursor where reverse video is not shown (dumps, vt100). */
	snprintf(head, sizeof head, "%c%c%c%-5s", selected ? '>' : ' ',
		 form_item_required(it) ? '*' : ' ', noted ? '+' : ' ', form_item_id(it));
	tui_put(y, 0, width, "", a, true);
	int x = tui_put(y, 0, 9, head, a, true) + 1;
	tui_put(y, x, width - x - vw - 1, form_item_label(it, app->lang), a, true);
	tui_put(y, width - vw, vw, *value ? value : _("-"), va, true);
}

static void check_draw(tui_app *app, tui_screen *s, int y, int h)
{
	check_view *c = s->priv;
	int vw = COLS >= 70 ? 18 : 12;
	attr_t ha = tui_attr(app, TUI_C_HEADER);
	tui_put(y, 0, COLS, "", ha, true);
	tui_put(y, 0, 9, _("   Item"), ha, true);
	tui_put(y, 10, COLS - 11 - vw, _("Check"), ha, true);
	tui_put(y, COLS - vw, vw, _("Answer"), ha, true);
	tui_panel_draw(app, s, y + 1, h - 3, check_row);
	tui_check_detail(app, s, y + h - 2);
	(void)c;
}

/* --- actions ------------------------------------------------------------------------- */

static int quick(tui_app *app, tui_screen *s, const char *value)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	json_t *v;
	if (!it)
		return TUI_DONE;
	if (form_answer_parse(c->form, form_item_id(it), value, &v) != 0) {
		tui_err_last(app);
		return TUI_DONE;
	}
	if (tui_check_save(app, s, form_item_id(it), v, false) == 0 &&
	    s->panel.sel + 1 < (int)c->nrows)
		s->panel.sel++;
	return TUI_DONE;
}

static int act_pass(tui_app *app, tui_screen *s) { return quick(app, s, "pass"); }
static int act_fail(tui_app *app, tui_screen *s) { return quick(app, s, "fail"); }
static int act_na(tui_app *app, tui_screen *s) { return quick(app, s, "na"); }

static bool is_passfail(tui_app *app, tui_screen *s)
{
	const form_item *it = tui_check_item(s->priv, s->panel.sel);
	return it && form_item_get_type(it) == FORM_PASSFAIL;
}

static bool allows_na(tui_app *app, tui_screen *s)
{
	const form_item *it = tui_check_item(s->priv, s->panel.sel);
	return is_passfail(app, s) && form_item_allows_na(it);
}

static bool has_item(tui_app *app, tui_screen *s)
{
	return tui_check_item(s->priv, s->panel.sel) != NULL;
}

static int act_clear(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	if (it)
		tui_check_save(app, s, form_item_id(it), json_null(), false);
	return TUI_DONE;
}

static int act_note(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	char *text, label[256];
	if (!it)
		return TUI_DONE;
	snprintf(label, sizeof label, _("Note on %s:"), form_item_id(it));
	if (tui_prompt(app, label, json_string_value(json_object_get(c->notes, form_item_id(it))),
		       &text) != 0)
		return TUI_DONE;
	tui_check_save(app, s, form_item_id(it), *text ? json_string(text) : json_null(), true);
	free(text);
	return TUI_DONE;
}

static int act_answer(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	json_t *v = NULL;
	int rc = it ? tui_check_ask(app, c, it, &v) : 1;
	if (rc < 0)
		tui_err_last(app);
	else if (rc == 0 && tui_check_save(app, s, form_item_id(it), v, false) == 0 &&
		 s->panel.sel + 1 < (int)c->nrows)
		s->panel.sel++;
	return TUI_DONE;
}

/* Attach a photo to the item; a photos item's answer becomes the number
 * of photos attached to it. */
static int act_attach(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	char item[96], msg[sizeof app->msg];
	int count = 0;
	if (!it)
		return TUI_DONE;
	snprintf(item, sizeof item, "%s", form_item_id(it));
	if (tui_attach_pick(app, c->id, item, &count) != 0 || form_item_get_type(it) != FORM_PHOTOS)
		return TUI_DONE;
	bool err = app->msg_error;
	memcpy(msg, app->msg, sizeof msg);
	if (tui_check_save(app, s, item, json_integer(count), false) == 0) {
		memcpy(app->msg, msg, sizeof msg); /* the checks say more than "saved" */
		app->msg_error = err;
	}
	return TUI_DONE;
}

static const tui_key check_keys[] = {
	{'p', N_("p"), N_("Pass"), act_pass, is_passfail},
	{'f', N_("f"), N_("Fail"), act_fail, is_passfail},
	{'n', N_("n"), N_("N/A"), act_na, allows_na},
	{TUI_ENTER, N_("Enter"), N_("Answer"), act_answer, has_item},
	{'m', N_("m"), N_("Note"), act_note, has_item},
	{'x', N_("x"), N_("Clear"), act_clear, has_item},
	{'a', N_("a"), N_("Attach photo"), act_attach, has_item},
	{'r', N_("r"), N_("Record"), tui_check_record, NULL},
	{0},
};

static void check_free(tui_screen *s)
{
	check_view *c = s->priv;
	if (!c)
		return;
	json_decref(c->state);
	json_decref(c->answers);
	json_decref(c->notes);
	form_free(c->form);
	free(c->rows);
	free(c);
}

static const tui_screen_ops check_ops = {"checklist", check_keys, check_load, check_draw,
					 check_free};

int tui_check_push(tui_app *app, const char *case_id, bool reinspection)
{
	check_view *c = calloc(1, sizeof *c);
	if (!c)
		return error_set(ERR_NOMEM, "out of memory");
	snprintf(c->id, sizeof c->id, "%s", case_id);
	c->reinspection = reinspection;
	return tui_push(app, &check_ops, c);
}
