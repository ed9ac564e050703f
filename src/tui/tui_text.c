/*
 * tui_text: a scrollable text screen (an event's full JSON, the help).
 * Long lines are elided; Left/Right scroll sideways.  The help is
 * generated from the key table of the screen it describes.
 */
#include "tui_app.h"
#include "core/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	json_t *lines;
	int hscroll;
} text_view;

static void text_row(tui_app *app, tui_screen *s, int row, int y, int width, bool selected)
{
	text_view *t = s->priv;
	const char *line = json_string_value(json_array_get(t->lines, (size_t)row));
	tui_put(y, 0, width, tui_skip(line ? line : "", t->hscroll), A_NORMAL, false);
}

static void text_draw(tui_app *app, tui_screen *s, int y, int h)
{
	tui_panel_draw(app, s, y, h, text_row);
}

static int text_load(tui_app *app, tui_screen *s)
{
	text_view *t = s->priv;
	s->panel.cursor = false;
	tui_panel_set(&s->panel, (int)json_array_size(t->lines));
	return 0;
}

static void text_free(tui_screen *s)
{
	text_view *t = s->priv;
	if (t)
		json_decref(t->lines);
	free(t);
}

static int text_left(tui_app *app, tui_screen *s)
{
	text_view *t = s->priv;
	t->hscroll = t->hscroll > 8 ? t->hscroll - 8 : 0;
	return TUI_DONE;
}

static int text_right(tui_app *app, tui_screen *s)
{
	text_view *t = s->priv;
	t->hscroll += 8;
	return TUI_DONE;
}

static const tui_key text_keys[] = {
	{KEY_LEFT, N_("Left"), N_("Scroll left"), text_left, NULL},
	{KEY_RIGHT, N_("Right"), N_("Scroll right"), text_right, NULL},
	{0},
};

static const tui_screen_ops text_ops = {"text", text_keys, text_load, text_draw, text_free};

int tui_text_push(tui_app *app, const char *title, json_t *lines)
{
	text_view *t = calloc(1, sizeof *t);
	if (!t) {
		json_decref(lines);
		return -1;
	}
	t->lines = lines;
	int rc = tui_push(app, &text_ops, t);
	if (rc == 0)
		snprintf(app->top->title, sizeof app->top->title, "%s", title);
	return rc;
}

/* --- help --------------------------------------------------------------------------- */

/* Keys handled by every list (tui_panel_key), for the help only. */
static const tui_key nav_keys[] = {
	{1, N_("Up/Down j/k"), N_("Move"), NULL, NULL},
	{1, N_("PgUp/PgDn Space"), N_("Page"), NULL, NULL},
	{1, N_("Home/End g/G"), N_("First, last"), NULL, NULL},
	{0},
};

static void help_section(json_t *lines, const char *heading, tui_app *app, tui_screen *s,
			 const tui_key *keys)
{
	json_array_append_new(lines, json_string(heading));
	for (const tui_key *k = keys; k && k->key; k++) {
		if (!k->help)
			continue;
		char line[512], name[128];
		snprintf(name, sizeof name, "%s", _(k->keyname));
		int pad = 18 - tui_width(name);
		snprintf(line, sizeof line, "  %s%*s %s%s", name, pad > 0 ? pad : 1, "", _(k->help),
			 s && !tui_key_avail(app, s, k) ? _(" (not now)") : "");
		json_array_append_new(lines, json_string(line));
	}
	json_array_append_new(lines, json_string(""));
}

int tui_help_push(tui_app *app, tui_screen *s)
{
	json_t *lines = json_array();
	help_section(lines, _("Keys on this screen"), app, s, s->ops->keys);
	help_section(lines, _("Keys everywhere"), app, NULL, tui_common_keys());
	help_section(lines, _("Lists"), app, NULL, nav_keys);
	json_array_append_new(lines, json_string(_("q or Esc leaves this help.")));
	char title[600];
	snprintf(title, sizeof title, _("Help: %s"), s->title);
	return tui_text_push(app, title, lines);
}
