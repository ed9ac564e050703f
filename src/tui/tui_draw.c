/*
 * tui_draw: colours, display-width text, the bars and the list panel.
 *
 * Every string goes through tui_put, which measures with utf8proc (the
 * core's util_text_fit) so CJK columns line up and nothing is cut through
 * a character.  Colours are used when the terminal has them and NO_COLOR
 * is unset; otherwise each slot falls back to reverse/bold.
 */
#include "tui_app.h"
#include "core/sync.h"
#include "core/i18n.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const struct {
	short fg, bg;
	attr_t mono;
} slots[] = {
#define TUI_SLOT_ROW(name, fg, bg, mono) {fg, bg, mono},
	TUI_COLOURS(TUI_SLOT_ROW)
#undef TUI_SLOT_ROW
};

void tui_colours_init(tui_app *app)
{
	const char *nc = getenv("NO_COLOR");
	app->colour = has_colors() && !(nc && *nc);
	app->ascii = !app->colour;
	if (!app->colour)
		return;
	start_color();
	bool dflt = use_default_colors() == OK;
	for (int i = 0; i < TUI_C_COUNT; i++) {
		short bg = slots[i].bg < 0 && !dflt ? COLOR_BLACK : slots[i].bg;
		init_pair((short)(i + 1), slots[i].fg, bg);
	}
}

attr_t tui_attr(const tui_app *app, tui_colour c)
{
	if (!app->colour)
		return slots[c].mono;
	attr_t bold = slots[c].mono & (A_BOLD | A_UNDERLINE);
	return COLOR_PAIR(c + 1) | bold;
}

/* --- text ---------------------------------------------------------------------- */

int tui_width(const char *s) { return s ? util_text_width(s) : 0; }

const char *tui_skip(const char *s, int cols)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	while (*p && cols > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0)
			n = 1, cp = '?';
		cols -= utf8proc_charwidth(cp);
		p += n;
	}
	return (const char *)p;
}

const char *tui_tail(const char *s, int width)
{
	while (*s && tui_width(s) > width)
		s = tui_skip(s, 1);
	return s;
}

/* A copy with control characters made spaces. */
static char *clean(const char *s)
{
	char *c = strdup(s ? s : "");
	for (unsigned char *p = (unsigned char *)c; c && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

int tui_put(int y, int x, int width, const char *s, attr_t attr, bool pad)
{
	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + width > COLS)
		width = COLS - x;
	char *c = clean(s);
	size_t size = (c ? strlen(c) : 0) + (size_t)width + 16;
	char *buf = malloc(size);
	int used = 0;
	if (c && buf) {
		used = util_text_fit(c, width, pad, buf, size);
		attrset(attr);
		mvaddstr(y, x, buf);
		attrset(A_NORMAL);
	}
	free(buf);
	free(c);
	return used;
}

/* Append one UTF-8 line to lines, breaking it to width columns (at a
 * space when there is one in the second half of the line). */
static void wrap_line(json_t *lines, const char *s, int width)
{
	while (tui_width(s) > width) {
		const char *end = tui_skip(s, width), *cut = end;
		for (const char *p = end; p > s + (end - s) / 2; p--)
			if (*p == ' ') {
				cut = p;
				break;
			}
		/* A wide character that does not fit: take it anyway, never loop. */
		if (cut == s)
			cut = tui_skip(s, 1);
		json_array_append_new(lines, json_stringn(s, (size_t)(cut - s)));
		s = *cut == ' ' ? cut + 1 : cut;
	}
	json_array_append_new(lines, json_string(s));
}

json_t *tui_wrap(const char *text, int width)
{
	json_t *lines = json_array();
	if (width < 4)
		width = 4;
	const char *p = text ? text : "";
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *one = strndup(p, len);
		if (one)
			wrap_line(lines, one, width);
		free(one);
		if (!nl)
			break;
		p = nl + 1;
	}
	return lines;
}

/* --- bars -------------------------------------------------------------------------- */

/* This device's events recorded since the last sync that pushed, from the
 * index (index_unsynced), counted up to UNSYNCED_MAX ("99+"). */
#define UNSYNCED_MAX 99

/* Recounted only when the ledger head moved (a record, a sync). */
static long unsynced_events(tui_app *app)
{
	char head[41] = "";
	if (ledger_head(app->ws->ledger, head) == 0 && strcmp(head, app->unsynced_head) != 0) {
		if (index_unsynced(app->ws->index, app->ws->device, UNSYNCED_MAX + 1, &app->unsynced) == 0)
			snprintf(app->unsynced_head, sizeof app->unsynced_head, "%s", head);
	}
	return app->unsynced;
}

void tui_draw_status(tui_app *app)
{
	const workspace *ws = app->ws;
	long unsynced = unsynced_events(app);
	char gps[96], line[512], count[24];
	if (unsynced > UNSYNCED_MAX)
		snprintf(count, sizeof count, "%d+", UNSYNCED_MAX);
	else
		snprintf(count, sizeof count, "%ld", unsynced);
	if (ws->where.has && strcmp(ws->where.src, "gps") == 0 && ws->where.acc_m >= 0)
		snprintf(gps, sizeof gps, _("GPS ±%.0fm"), ws->where.acc_m);
	else if (ws->where.has && strcmp(ws->where.src, "gps") == 0)
		snprintf(gps, sizeof gps, "%s", _("GPS"));
	else
		snprintf(gps, sizeof gps, "%s", _("no GPS"));
	snprintf(line, sizeof line, _(" %s %s | %s | unsynced %s | %s"), ws->name ? ws->name : "",
		 ws->officer ? ws->officer : "", ws->unit ? ws->unit : "", count, gps);
	attr_t a = tui_attr(app, TUI_C_STATUS);
	int dw = tui_width(app->today) + 1;
	tui_put(0, 0, COLS, line, a, true);
	if (COLS - dw > tui_width(line))
		tui_put(0, COLS - dw, dw, app->today, a, true);
}

void tui_draw_title(tui_app *app, const char *title)
{
	tui_put(1, 0, COLS, title, tui_attr(app, TUI_C_TITLE), true);
}

/* One "key label" pair; returns the new x, or -1 when it does not fit. */
static int bar_item(tui_app *app, int x, int limit, const tui_key *k)
{
	const char *key = _(k->keyname), *label = _(k->help);
	int need = tui_width(key) + tui_width(label) + 2;
	if (x + need > limit)
		return -1;
	x += tui_put(LINES - 1, x, need, key, tui_attr(app, TUI_C_KEY), false);
	x += tui_put(LINES - 1, x, need, " ", A_NORMAL, false);
	x += tui_put(LINES - 1, x, need, label, tui_attr(app, TUI_C_BAR), false);
	x += tui_put(LINES - 1, x, 1, " ", A_NORMAL, false);
	return x;
}

void tui_draw_keybar(tui_app *app, tui_screen *s)
{
	const tui_key *common = tui_common_keys();
	const tui_key *help = &common[0], *back = &common[1];
	int help_w = tui_width(_(help->keyname)) + tui_width(_(help->help)) + 2;
	int limit = COLS - help_w, x = 0;
	move(LINES - 1, 0);
	clrtoeol();
	for (const tui_key *k = s->ops->keys; k && k->key; k++) {
		if (!tui_key_avail(app, s, k) || !k->help)
			continue;
		int nx = bar_item(app, x, limit, k);
		if (nx < 0)
			break;
		x = nx;
	}
	bool own_q = false;
	for (const tui_key *k = s->ops->keys; k && k->key; k++)
		own_q |= k->key == 'q';
	if (!own_q)
		bar_item(app, x, limit, back);
	bar_item(app, COLS - help_w, COLS, help);
}

void tui_draw_msg(tui_app *app)
{
	move(LINES - 2, 0);
	clrtoeol();
	if (app->msg[0])
		tui_put(LINES - 2, 0, COLS, app->msg,
			app->msg_error ? tui_attr(app, TUI_C_ERROR) : A_BOLD, false);
}

/* --- panels ------------------------------------------------------------------------- */

void tui_panel_set(tui_panel *p, int count)
{
	p->count = count;
	if (p->sel >= count)
		p->sel = count - 1;
	if (p->sel < 0)
		p->sel = 0;
}

static void panel_fix(tui_panel *p, int h)
{
	if (h < 1)
		h = 1;
	p->page = h;
	if (p->cursor) {
		if (p->sel < p->top)
			p->top = p->sel;
		if (p->sel >= p->top + h)
			p->top = p->sel - h + 1;
	}
	if (p->top > p->count - h)
		p->top = p->count - h;
	if (p->top < 0)
		p->top = 0;
}

void tui_panel_draw(tui_app *app, tui_screen *s, int y, int h, tui_row_fn row)
{
	tui_panel *p = &s->panel;
	panel_fix(p, h);
	for (int i = 0; i < h && p->top + i < p->count; i++) {
		bool sel = p->cursor && p->top + i == p->sel;
		row(app, s, p->top + i, y + i, COLS, sel);
	}
}

static void panel_move(tui_panel *p, int delta)
{
	if (p->cursor) {
		p->sel += delta;
		if (p->sel >= p->count)
			p->sel = p->count - 1;
		if (p->sel < 0)
			p->sel = 0;
	} else {
		p->top += delta; /* clamped at the next draw */
		if (p->top < 0)
			p->top = 0;
	}
}

bool tui_panel_key(tui_panel *p, int key, bool fn)
{
	int page = p->page > 1 ? p->page - 1 : 1;
	if ((fn && key == KEY_DOWN) || (!fn && key == 'j'))
		panel_move(p, 1);
	else if ((fn && key == KEY_UP) || (!fn && key == 'k'))
		panel_move(p, -1);
	else if ((fn && key == KEY_NPAGE) || (!fn && key == ' '))
		panel_move(p, page);
	else if (fn && key == KEY_PPAGE)
		panel_move(p, -page);
	else if ((fn && key == KEY_HOME) || (!fn && key == 'g'))
		panel_move(p, -p->count);
	else if ((fn && key == KEY_END) || (!fn && key == 'G'))
		panel_move(p, p->count);
	else
		return false;
	return true;
}

/* --- columns --------------------------------------------------------------------- */

static int columns_total(const tui_column *cols, size_t n, const int w[])
{
	int total = 0, shown = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i]) {
			total += w[i];
			shown++;
		}
	return total + (shown > 0 ? shown - 1 : 0);
}

void tui_columns_layout(const tui_column *cols, size_t n, int width, int out[])
{
	for (size_t i = 0; i < n; i++)
		out[i] = cols[i].width;
	while (columns_total(cols, n, out) > width) {
		size_t worst = n;
		for (size_t i = 0; i < n; i++)
			if (out[i] && cols[i].drop > 0 && (worst == n || cols[i].drop > cols[worst].drop))
				worst = i;
		if (worst == n)
			break;
		out[worst] = 0;
	}
	int flex = 0, left = width - columns_total(cols, n, out);
	for (size_t i = 0; i < n; i++)
		flex += out[i] && cols[i].flex;
	for (size_t i = 0; i < n && flex > 0 && left > 0; i++)
		if (out[i] && cols[i].flex) {
			int add = left / flex;
			out[i] += add;
			left -= add;
			flex--;
		}
}

void tui_columns_header(tui_app *app, const tui_column *cols, size_t n, const int w[], int y)
{
	int x = 0;
	move(y, 0);
	clrtoeol();
	for (size_t i = 0; i < n; i++) {
		if (!w[i])
			continue;
		tui_put(y, x, w[i], _(cols[i].title), tui_attr(app, TUI_C_HEADER), true);
		x += w[i] + 1;
	}
}

void tui_draw_progress(tui_app *app, const char *title, const char *detail, double fraction)
{
	int w = COLS - 8 > 60 ? 60 : COLS - 8, y = LINES / 2 - 2, x = (COLS - w) / 2;
	attr_t a = tui_attr(app, TUI_C_DIALOG);
	if (w < 10)
		return;
	for (int i = 0; i < 4; i++)
		tui_put(y + i, x, w, "", a, true);
	tui_put(y, x + 1, w - 2, title, a | A_BOLD, false);
	tui_put(y + 1, x + 2, w - 4, detail, a, true);
	int bw = w - 4, fill = fraction > 0 ? (int)((double)bw * fraction) : 0;
	if (fill > bw)
		fill = bw;
	char bar[1024];
	int n = 0;
	for (int i = 0; i < bw && n < (int)sizeof bar - 4; i++)
		n += snprintf(bar + n, sizeof bar - (size_t)n, "%s",
			      i < fill ? (app->ascii ? "#" : "\u2588") : (app->ascii ? "." : "\u2591"));
	tui_put(y + 2, x + 2, bw, bar, a, false);
	refresh();
}

void tui_lines_add(json_t *lines, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(lines, json_string(buf));
}
