/*
 * tui_check: the checklist screen's state, shared by tui_check.c (rows,
 * saving, keys) and tui_check_record.c (typed input, the detail lines, the
 * record summary, resuming drafts).
 */
#ifndef FB_TUI_CHECK_H
#define FB_TUI_CHECK_H

#include "tui_app.h"
#include "core/form.h"

typedef struct {
	char id[96];
	bool reinspection;
	json_t *state;
	form *form;
	json_t *answers; /* what the draft holds, no nulls */
	json_t *notes;
	size_t *rows;    /* form item indices shown */
	size_t nrows;
} check_view;

const form_item *tui_check_item(const check_view *c, int row);
/* An item's answer as text ("" when unanswered). */
void tui_check_value(const check_view *c, const form_item *it, const char *lang, char *out,
		     size_t size);
/* Save one answer (or note) as a draft; value stolen (json_null clears).
 * On refusal the message line shows why and nothing changes. */
int tui_check_save(tui_app *app, tui_screen *s, const char *item, json_t *value, bool note);
/* Ask for an item's answer by its type: 0 with *out, 1 cancelled, <0 error. */
int tui_check_ask(tui_app *app, check_view *c, const form_item *it, json_t **out);
/* Two lines about the selected item at row y. */
void tui_check_detail(tui_app *app, tui_screen *s, int y);
/* The "record" action. */
int tui_check_record(tui_app *app, tui_screen *s);

#endif
