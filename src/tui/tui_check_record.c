/*
 * tui_check_record: the checklist's typed input (by item type), the detail
 * lines under the list, the record summary with legal basis and default
 * days, and the offer to resume a saved draft on start.
 */
#include "tui_check.h"
#include "core/action.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- typed input --------------------------------------------------------------------- */

static int ask_passfail(tui_app *app, const form_item *it, json_t **out)
{
	const char *labels[] = {_("pass"), _("fail"), _("n/a")};
	static const char *const values[] = {"pass", "fail", "na"};
	int k = tui_pick(app, form_item_label(it, app->lang), labels, form_item_allows_na(it) ? 3 : 2, 0);
	if (k < 0)
		return 1;
	*out = json_string(values[k]);
	return 0;
}

static int ask_choice(tui_app *app, check_view *c, const form_item *it, json_t **out)
{
	size_t n = form_item_choice_count(it);
	const char **labels = calloc(n + 1, sizeof *labels);
	const char *cur = json_string_value(json_object_get(c->answers, form_item_id(it)));
	int initial = 0;
	if (!labels)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		labels[i] = form_item_choice_label(it, i, app->lang);
		if (cur && strcmp(cur, form_item_choice_value(it, i)) == 0)
			initial = (int)i;
	}
	int k = tui_pick(app, form_item_label(it, app->lang), labels, n, initial);
	free(labels);
	if (k < 0)
		return 1;
	return form_answer_parse(c->form, form_item_id(it), form_item_choice_value(it, (size_t)k), out);
}

static int ask_multi(tui_app *app, check_view *c, const form_item *it, json_t **out)
{
	size_t n = form_item_choice_count(it);
	const char **labels = calloc(n + 1, sizeof *labels);
	bool *checked = calloc(n + 1, sizeof *checked);
	const json_t *cur = json_object_get(c->answers, form_item_id(it));
	int rc = 1;
	if (!labels || !checked) {
		rc = error_set(ERR_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *v;
		labels[i] = form_item_choice_label(it, i, app->lang);
		json_array_foreach(cur, k, v)
			checked[i] |= strcmp(json_string_value(v) ? json_string_value(v) : "",
					     form_item_choice_value(it, i)) == 0;
	}
	if (tui_pick_multi(app, form_item_label(it, app->lang), labels, n, checked) == 0) {
		*out = json_array();
		for (size_t i = 0; i < n; i++)
			if (checked[i])
				json_array_append_new(*out, json_string(form_item_choice_value(it, i)));
		rc = 0;
	}
done:
	free(labels);
	free(checked);
	return rc;
}

/* "(m, 0–20)" style hint for typed items. */
static void hint(const form_item *it, char *out, size_t size)
{
	double lo, hi;
	const char *unit = form_item_unit(it);
	out[0] = '\0';
	if (form_item_range(it, &lo, &hi))
		snprintf(out, size, " (%s%s%g-%g)", unit, *unit ? ", " : "", lo, hi);
	else if (*unit)
		snprintf(out, size, " (%s)", unit);
}

static int ask_typed(tui_app *app, check_view *c, const form_item *it, json_t **out)
{
	char label[512], h[128], cur[512], *text;
	hint(it, h, sizeof h);
	snprintf(label, sizeof label, "%s %s%s:", form_item_id(it), form_item_label(it, app->lang), h);
	const json_t *v = json_object_get(c->answers, form_item_id(it));
	if (json_is_string(v))
		snprintf(cur, sizeof cur, "%s", json_string_value(v));
	else if (json_is_number(v))
		snprintf(cur, sizeof cur, "%g", json_number_value(v));
	else
		cur[0] = '\0';
	if (tui_prompt(app, label, cur, &text) != 0)
		return 1;
	int rc = 0;
	if (!*text)
		*out = json_null();
	else
		rc = form_answer_parse(c->form, form_item_id(it), text, out);
	free(text);
	return rc;
}

int tui_check_ask(tui_app *app, check_view *c, const form_item *it, json_t **out)
{
	switch (form_item_get_type(it)) {
	case FORM_PASSFAIL:
		return ask_passfail(app, it, out);
	case FORM_CHOICE:
		return ask_choice(app, c, it, out);
	case FORM_MULTI:
		return ask_multi(app, c, it, out);
	case FORM_NUMBER:
	case FORM_TEXT:
	case FORM_PHOTOS:
		break;
	}
	return ask_typed(app, c, it, out);
}

/* --- detail lines ------------------------------------------------------------------- */

void tui_check_detail(tui_app *app, tui_screen *s, int y)
{
	check_view *c = s->priv;
	const form_item *it = tui_check_item(c, s->panel.sel);
	char line[1024], h[128];
	move(y, 0);
	clrtoeol();
	move(y + 1, 0);
	clrtoeol();
	if (!it)
		return;
	hint(it, h, sizeof h);
	snprintf(line, sizeof line, "%s %s%s%s", form_item_id(it), form_item_label(it, app->lang), h,
		 form_item_required(it) ? _(" (required)") : "");
	tui_put(y, 0, COLS, line, A_BOLD, false);
	const char *note = json_string_value(json_object_get(c->notes, form_item_id(it)));
	const char *basis = form_item_legal_basis(it, app->lang);
	if (note)
		snprintf(line, sizeof line, _("Note: %s"), note);
	else if (form_item_failed(c->form, it, c->answers) && basis && *basis)
		snprintf(line, sizeof line, _("Basis: %s"), basis);
	else
		line[0] = '\0';
	tui_put(y + 1, 0, COLS, line, A_NORMAL, false);
}

/* --- record --------------------------------------------------------------------------- */

/* Summary lines: counts, then each failure with basis and default days. */
static json_t *summary(tui_app *app, check_view *c)
{
	json_t *lines = json_array(), *fails = json_array();
	size_t answered = 0;
	for (size_t i = 0; i < c->nrows; i++) {
		const form_item *it = tui_check_item(c, (int)i);
		const json_t *v = json_object_get(c->answers, form_item_id(it));
		answered += v && !json_is_null(v);
		if (form_item_failed(c->form, it, c->answers))
			json_array_append_new(fails, json_integer((json_int_t)i));
	}
	tui_lines_add(lines, _("%zu of %zu items answered, %zu failed."), answered, c->nrows,
		 json_array_size(fails));
	size_t k;
	json_t *v;
	json_array_foreach(fails, k, v) {
		const form_item *it = tui_check_item(c, (int)json_integer_value(v));
		const char *basis = form_item_legal_basis(it, app->lang);
		tui_lines_add(lines, "x %s %s", form_item_id(it), form_item_label(it, app->lang));
		if (basis && *basis)
			tui_lines_add(lines, _("  basis: %s"), basis);
		if (form_item_fail_days(it) >= 0)
			tui_lines_add(lines, _("  default deadline: %d days"), form_item_fail_days(it));
	}
	json_decref(fails);
	return lines;
}

/* Move the selection to the first required item without an answer. */
static void select_missing(tui_screen *s)
{
	check_view *c = s->priv;
	for (size_t i = 0; i < c->nrows; i++) {
		const form_item *it = tui_check_item(c, (int)i);
		const json_t *v = json_object_get(c->answers, form_item_id(it));
		if (form_item_required(it) && (!v || json_is_null(v))) {
			s->panel.sel = (int)i;
			return;
		}
	}
}

static bool confirm_summary(tui_app *app, check_view *c)
{
	json_t *lines = summary(app, c);
	size_t n = json_array_size(lines);
	const char **text = calloc(n + 1, sizeof *text);
	bool yes = false;
	if (text) {
		for (size_t i = 0; i < n; i++)
			text[i] = json_string_value(json_array_get(lines, i));
		yes = tui_dialog(app, c->reinspection ? _("Record the reinspection") : _("Record the inspection"),
				 text, n, _("Record it now?"));
	}
	free(text);
	json_decref(lines);
	return yes;
}

int tui_check_record(tui_app *app, tui_screen *s)
{
	check_view *c = s->priv;
	char id[96], eid[64] = "";
	if (form_answers_validate(c->form, c->answers, !c->reinspection) != 0) {
		tui_err_last(app);
		select_missing(s);
		return TUI_DONE;
	}
	if (!confirm_summary(app, c))
		return TUI_DONE;
	if (action_inspect(app->ws, c->id, NULL, NULL, c->reinspection, false, eid) != 0) {
		tui_err_last(app);
		return TUI_DONE;
	}
	snprintf(id, sizeof id, "%s", c->id);
	tui_pop(app); /* s and c are gone from here on */
	if (!app->top || !tui_case_shows(app->top, id))
		tui_case_push(app, id);
	tui_msg(app, _("Recorded %s"), eid);
	return TUI_RELOAD;
}

/* --- drafts on start ------------------------------------------------------------------- */

static const json_t *newest_draft(const json_t *list)
{
	const json_t *best = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d)
		if (!best || strcmp(event_str(d, "updated_at"), event_str(best, "updated_at")) > 0)
			best = d;
	return best;
}

bool tui_check_offer_draft(tui_app *app)
{
	json_t *list = NULL, *st = NULL;
	if (index_draft_list(app->ws->index, &list) != 0 || !json_array_size(list)) {
		json_decref(list);
		error_clear();
		return false;
	}
	const json_t *d = newest_draft(list);
	const char *case_id = event_str(d, "case");
	bool re = strcmp(event_str(d, "kind"), "reinspection") == 0;
	if (index_case_get(app->ws->index, case_id, &st) != 0)
		error_clear();
	char l1[256], l2[512], l3[256], l4[128];
	snprintf(l1, sizeof l1, re ? _("An unfinished reinspection was saved:")
				   : _("An unfinished checklist was saved:"));
	snprintf(l2, sizeof l2, "%s  %s", case_id, event_str(json_object_get(st, "site"), "address"));
	snprintf(l3, sizeof l3, _("%zu answers, saved %s"),
		 json_object_size(json_object_get(json_object_get(d, "draft"), "answers")),
		 event_str(d, "updated_at"));
	snprintf(l4, sizeof l4, _("%zu unfinished in all."), json_array_size(list));
	const char *lines[] = {l1, l2, l3, l4};
	bool yes = tui_dialog(app, _("Resume"), lines, json_array_size(list) > 1 ? 4 : 3,
			      _("Resume it?"));
	char id[96];
	snprintf(id, sizeof id, "%s", case_id);
	json_decref(st);
	json_decref(list);
	if (yes)
		tui_check_push(app, id, re);
	return yes;
}
