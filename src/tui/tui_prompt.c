/*
 * tui_prompt: the modal pieces: a text input line (UTF-8 through get_wch,
 * backspace by character), a picker (one of N, or several), a dialog box
 * with a y/n question, and a y/n confirmation on the message line.
 *
 * Each reads keys itself; on a resize it redraws the whole screen under it
 * with tui_redraw and then itself, so nothing typed is lost.
 */
#include "tui_app.h"
#include "core/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define PROMPT_MAX 1024

/* --- text input ------------------------------------------------------------------ */

typedef struct {
	utf8proc_int32_t cp[PROMPT_MAX];
	size_t n;
} prompt_buf;

static void buf_from_utf8(prompt_buf *b, const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(s ? s : "");
	b->n = 0;
	while (*p && b->n < PROMPT_MAX) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
		if (k <= 0)
			break;
		b->cp[b->n++] = cp;
		p += k;
	}
}

/* Encoded text, caller frees. */
static char *buf_to_utf8(const prompt_buf *b)
{
	char *out = malloc(b->n * 4 + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < b->n; i++)
		o += (size_t)utf8proc_encode_char(b->cp[i], (utf8proc_uint8_t *)out + o);
	out[o] = '\0';
	return out;
}

static void prompt_draw(tui_app *app, const char *label, const prompt_buf *b, bool mask)
{
	int y = LINES - 2;
	move(y, 0);
	clrtoeol();
	int x = tui_put(y, 0, COLS / 2, label, A_BOLD, false);
	x += tui_put(y, x, 1, " ", A_NORMAL, false);
	char *text = mask ? NULL : buf_to_utf8(b);
	if (mask) {
		char stars[PROMPT_MAX + 1];
		size_t n = b->n < PROMPT_MAX ? b->n : PROMPT_MAX;
		memset(stars, '*', n);
		stars[n] = '\0';
		x += tui_put(y, x, COLS - x - 1, tui_tail(stars, COLS - x - 1), A_NORMAL, false);
	} else if (text) {
		const char *shown = tui_tail(text, COLS - x - 1);
		x += tui_put(y, x, COLS - x - 1, shown, A_NORMAL, false);
	}
	free(text);
	move(y, x < COLS ? x : COLS - 1);
	refresh();
}

/* Apply one key to the buffer: 1 done, -1 cancelled, 0 go on. */
static int prompt_key(prompt_buf *b, int key, bool fn)
{
	if (!fn && key == TUI_ENTER)
		return 1;
	if (!fn && key == TUI_ESC)
		return -1;
	if ((fn && key == KEY_BACKSPACE) || (!fn && (key == 127 || key == 8))) {
		if (b->n)
			b->n--;
	} else if (!fn && key == TUI_CTRL('u')) {
		b->n = 0;
	} else if (!fn && key >= ' ' && b->n < PROMPT_MAX && utf8proc_codepoint_valid(key)) {
		b->cp[b->n++] = key;
	}
	return 0;
}

static int prompt_run(tui_app *app, const char *label, const char *initial, bool mask,
		      char **out)
{
	prompt_buf *b = calloc(1, sizeof *b);
	int done = 0;
	*out = NULL;
	if (!b)
		return 1;
	buf_from_utf8(b, initial);
	curs_set(1);
	tui_redraw(app);
	while (!done) {
		prompt_draw(app, label, b, mask);
		int key;
		bool fn;
		if (tui_getkey(app, &key, &fn) != 0)
			done = -1;
		else if (fn && key == KEY_RESIZE)
			tui_redraw(app);
		else
			done = prompt_key(b, key, fn);
	}
	curs_set(0);
	if (done > 0)
		*out = buf_to_utf8(b);
	explicit_bzero(b, sizeof *b);
	free(b);
	return *out ? 0 : 1;
}

int tui_prompt(tui_app *app, const char *label, const char *initial, char **out)
{
	return prompt_run(app, label, initial, false, out);
}

int tui_prompt_secret(tui_app *app, const char *label, char **out)
{
	return prompt_run(app, label, "", true, out);
}

bool tui_confirm(tui_app *app, const char *question)
{
	char q[1024];
	snprintf(q, sizeof q, "%s %s", question, _("(y/n)"));
	tui_redraw(app);
	for (;;) {
		move(LINES - 2, 0);
		clrtoeol();
		tui_put(LINES - 2, 0, COLS, q, A_BOLD, false);
		refresh();
		int key;
		bool fn;
		if (tui_getkey(app, &key, &fn) != 0)
			return false;
		if (fn && key == KEY_RESIZE)
			tui_redraw(app);
		else if (!fn && (key == 'y' || key == 'Y'))
			return true;
		else if (!fn && (key == 'n' || key == 'N' || key == TUI_ESC || key == 'q'))
			return false;
	}
}

/* --- boxes -------------------------------------------------------------------------- */

typedef struct {
	int y, x, h, w;
} tui_box;

/* A centred tui_box for rows of content of width cw; drawn empty with a title. */
static tui_box box_draw(tui_app *app, const char *title, int rows, int cw)
{
	tui_box b;
	b.w = cw + 4;
	if (b.w > COLS - 2)
		b.w = COLS - 2;
	if (b.w < 12)
		b.w = COLS < 12 ? COLS : 12;
	b.h = rows + 2;
	if (b.h > LINES - 2)
		b.h = LINES - 2;
	if (b.h < 3)
		b.h = 3;
	b.y = (LINES - b.h) / 2;
	b.x = (COLS - b.w) / 2;
	attr_t a = tui_attr(app, TUI_C_DIALOG);
	for (int i = 0; i < b.h; i++)
		tui_put(b.y + i, b.x, b.w, "", a, true);
	attron(a);
	mvhline(b.y, b.x, ACS_HLINE, b.w);
	mvhline(b.y + b.h - 1, b.x, ACS_HLINE, b.w);
	mvvline(b.y, b.x, ACS_VLINE, b.h);
	mvvline(b.y, b.x + b.w - 1, ACS_VLINE, b.h);
	mvaddch(b.y, b.x, ACS_ULCORNER);
	mvaddch(b.y, b.x + b.w - 1, ACS_URCORNER);
	mvaddch(b.y + b.h - 1, b.x, ACS_LLCORNER);
	mvaddch(b.y + b.h - 1, b.x + b.w - 1, ACS_LRCORNER);
	attroff(a);
	if (title && *title) {
		char t[512];
		snprintf(t, sizeof t, " %s ", title);
		tui_put(b.y, b.x + 2, b.w - 4, t, a | A_BOLD, false);
	}
	return b;
}

/* --- picker ------------------------------------------------------------------------- */

typedef struct {
	const char *title;
	const char *const *labels;
	size_t n;
	bool *checked; /* NULL: pick one */
	tui_panel panel;
} picker;

static void picker_draw(tui_app *app, picker *pk)
{
	int cw = tui_width(pk->title) + 2;
	for (size_t i = 0; i < pk->n; i++) {
		int w = tui_width(pk->labels[i]) + 7;
		if (w > cw)
			cw = w;
	}
	tui_box b = box_draw(app, pk->title, (int)pk->n, cw);
	int h = b.h - 2;
	tui_panel *p = &pk->panel;
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + h)
		p->top = p->sel - h + 1;
	p->page = h;
	attr_t a = tui_attr(app, TUI_C_DIALOG);
	for (int i = 0; i < h && p->top + i < p->count; i++) {
		int row = p->top + i;
		char line[1024];
		if (pk->checked)
			snprintf(line, sizeof line, " [%c] %s", pk->checked[row] ? 'x' : ' ', pk->labels[row]);
		else
			snprintf(line, sizeof line, " %d. %s", row + 1, pk->labels[row]);
		tui_put(b.y + 1 + i, b.x + 1, b.w - 2, line, row == p->sel ? (a | A_REVERSE) : a, true);
	}
	move(LINES - 2, 0);
	clrtoeol();
	tui_put(LINES - 2, 0, COLS,
		pk->checked ? _("Space: mark  Enter: done  Esc: cancel")
			    : _("Enter: choose  1-9: choose by number  Esc: cancel"),
		A_BOLD, false);
	refresh();
}

/* 1 chosen, -1 cancelled, 0 go on. */
static int picker_key(picker *pk, int key, bool fn)
{
	if (tui_panel_key(&pk->panel, key, fn))
		return 0;
	if (!fn && key == TUI_ENTER)
		return 1;
	if (!fn && (key == TUI_ESC || key == 'q'))
		return -1;
	if (!fn && !pk->checked && key >= '1' && key <= '9' && (size_t)(key - '1') < pk->n) {
		pk->panel.sel = key - '1';
		return 1;
	}
	return 0;
}

static int picker_run(tui_app *app, picker *pk)
{
	pk->panel.count = (int)pk->n;
	pk->panel.cursor = true;
	tui_redraw(app);
	for (;;) {
		picker_draw(app, pk);
		int key, rc;
		bool fn;
		if (tui_getkey(app, &key, &fn) != 0)
			return -1;
		if (fn && key == KEY_RESIZE) {
			tui_redraw(app);
			continue;
		}
		/* Space is "next page" in panels but "mark" in a multi picker. */
		if (pk->checked && !fn && key == ' ')
			pk->checked[pk->panel.sel] = !pk->checked[pk->panel.sel];
		else if ((rc = picker_key(pk, key, fn)) != 0)
			return rc > 0 ? pk->panel.sel : -1;
	}
}

int tui_pick(tui_app *app, const char *title, const char *const *labels, size_t n, int initial)
{
	if (n == 0)
		return -1;
	picker pk = {title, labels, n, NULL, {.sel = initial >= 0 && (size_t)initial < n ? initial : 0}};
	return picker_run(app, &pk);
}

int tui_pick_multi(tui_app *app, const char *title, const char *const *labels, size_t n,
		   bool *checked)
{
	picker pk = {title, labels, n, checked, {0}};
	return picker_run(app, &pk) >= 0 ? 0 : 1;
}

/* --- dialog -------------------------------------------------------------------------- */

static void dialog_draw(tui_app *app, const char *title, const char *const *lines, size_t n,
			const char *question, int *top)
{
	int cw = COLS - 8 > 72 ? 72 : COLS - 8;
	json_t *wrapped = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *w = tui_wrap(lines[i], cw);
		json_array_extend(wrapped, w);
		json_decref(w);
	}
	size_t wn = json_array_size(wrapped);
	tui_box b = box_draw(app, title, (int)wn + 2, cw);
	int h = b.h - 4;
	if (h < 1)
		h = 1;
	if (*top > (int)wn - h)
		*top = (int)wn - h;
	if (*top < 0)
		*top = 0;
	attr_t a = tui_attr(app, TUI_C_DIALOG);
	for (int i = 0; i < h && *top + i < (int)wn; i++)
		tui_put(b.y + 1 + i, b.x + 2, b.w - 4, json_string_value(json_array_get(wrapped, (size_t)(*top + i))),
			a, false);
	char q[512];
	snprintf(q, sizeof q, "%s %s", question, _("(y/n)"));
	tui_put(b.y + b.h - 2, b.x + 2, b.w - 4, q, a | A_BOLD, false);
	json_decref(wrapped);
	move(LINES - 2, 0);
	clrtoeol();
	refresh();
}

bool tui_dialog(tui_app *app, const char *title, const char *const *lines, size_t n,
		const char *question)
{
	int top = 0;
	tui_redraw(app);
	for (;;) {
		dialog_draw(app, title, lines, n, question, &top);
		int key;
		bool fn;
		if (tui_getkey(app, &key, &fn) != 0)
			return false;
		if (fn && key == KEY_RESIZE)
			tui_redraw(app);
		else if ((fn && key == KEY_DOWN) || (!fn && key == 'j'))
			top++;
		else if ((fn && key == KEY_UP) || (!fn && key == 'k'))
			top--;
		else if (!fn && (key == 'y' || key == 'Y' || key == TUI_ENTER))
			return true;
		else if (!fn && (key == 'n' || key == 'N' || key == TUI_ESC || key == 'q'))
			return false;
	}
}
