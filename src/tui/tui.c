/*
 * tui: the terminal, the screen stack and the one event loop.
 *
 * Keys go to the top screen's table first, then to the keys every screen
 * shares (help, back, redraw), then to its panel (navigation).  Actions
 * return reaction flags; the loop applies them and redraws.  The only
 * state is the ncurses screen and the tui_app passed around.
 */
#include "tui.h"
#include "tui_app.h"
#include "core/error.h"
#include "core/i18n.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tui_push(tui_app *app, const tui_screen_ops *ops, void *priv)
{
	tui_screen *s = calloc(1, sizeof *s);
	if (!s) {
		if (ops->free) {
			tui_screen tmp = {.ops = ops, .priv = priv};
			ops->free(&tmp);
		}
		return error_set(ERR_NOMEM, "out of memory");
	}
	s->ops = ops;
	s->priv = priv;
	s->panel.cursor = true;
	s->below = app->top;
	app->top = s;
	int rc = ops->load ? ops->load(app, s) : 0;
	if (rc) {
		tui_err_last(app);
		tui_pop(app);
	}
	return rc;
}

void tui_pop(tui_app *app)
{
	tui_screen *s = app->top;
	if (!s)
		return;
	app->top = s->below;
	if (s->ops->free)
		s->ops->free(s);
	free(s);
}

static void vmsg(tui_app *app, bool error, const char *fmt, va_list ap)
{
	vsnprintf(app->msg, sizeof app->msg, fmt, ap);
	app->msg_error = error;
}

void tui_msg(tui_app *app, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(app, false, fmt, ap);
	va_end(ap);
}

void tui_err(tui_app *app, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(app, true, fmt, ap);
	va_end(ap);
}

void tui_err_last(tui_app *app)
{
	const char *m = error_last();
	tui_err(app, "%s", *m ? m : _("failed"));
}

int tui_getkey(int *key, bool *fn)
{
	wint_t wc;
	int rc = get_wch(&wc);
	if (rc == ERR)
		return -1;
	*fn = rc == KEY_CODE_YES;
	*key = (int)wc;
	if (*fn && *key == KEY_ENTER) {
		*fn = false;
		*key = TUI_ENTER;
	} else if (!*fn && *key == '\r') {
		*key = TUI_ENTER;
	}
	return 0;
}

bool tui_key_avail(tui_app *app, tui_screen *s, const tui_key *k)
{
	return !k->avail || k->avail(app, s);
}

void tui_redraw(tui_app *app)
{
	erase();
	util_time_local_date(util_now(), app->today);
	tui_draw_status(app);
	if (app->top) {
		tui_draw_title(app, app->top->title);
		int h = LINES - 4;
		if (h > 0 && app->top->ops->draw)
			app->top->ops->draw(app, app->top, 2, h);
		tui_draw_keybar(app, app->top);
	}
	tui_draw_msg(app);
	refresh();
}

/* --- keys every screen shares --------------------------------------------------- */

static int act_help(tui_app *app, tui_screen *s)
{
	tui_help_push(app, s);
	return TUI_DONE;
}

static int act_back(tui_app *app, tui_screen *s) { return TUI_POP; }

static int act_redraw(tui_app *app, tui_screen *s)
{
	clearok(curscr, TRUE);
	return TUI_DONE;
}

static const tui_key common_keys[] = {
	{'?', N_("?"), N_("Help"), act_help, NULL},
	{'q', N_("q"), N_("Back"), act_back, NULL},
	{TUI_ESC, N_("Esc"), N_("Back"), act_back, NULL},
	{TUI_CTRL('l'), N_("^L"), N_("Redraw"), act_redraw, NULL},
	{0},
};

const tui_key *tui_common_keys(void) { return common_keys; }

static const tui_key *find_key(tui_app *app, tui_screen *s, const tui_key *table, int key)
{
	for (const tui_key *k = table; k && k->key; k++)
		if (k->key == key && tui_key_avail(app, s, k))
			return k;
	return NULL;
}

/* Apply an action's flags: pop (and reload what is below), quit, reload. */
static void react(tui_app *app, int flags)
{
	if (flags & TUI_QUIT) {
		while (app->top)
			tui_pop(app);
		return;
	}
	if (flags & TUI_POP) {
		tui_pop(app);
		flags |= TUI_RELOAD;
	}
	if ((flags & TUI_RELOAD) && app->top && app->top->ops->load &&
	    app->top->ops->load(app, app->top) != 0)
		tui_err_last(app);
}

static void dispatch(tui_app *app, int key, bool fn)
{
	tui_screen *s = app->top;
	const tui_key *k = NULL;
	/* Function keys and characters share the table; function keys are
	 * never ordinary characters in our tables, so no clash. */
	if (!(k = find_key(app, s, s->ops->keys, key)))
		k = find_key(app, s, common_keys, key);
	if (k) {
		app->msg[0] = '\0';
		react(app, k->fn(app, s));
		return;
	}
	if (!tui_panel_key(&s->panel, key, fn) && !fn && key >= ' ')
		tui_msg(app, _("no action on this key; ? shows the keys"));
}

static int run_loop(tui_app *app)
{
	while (app->top) {
		tui_redraw(app);
		int key;
		bool fn;
		if (tui_getkey(&key, &fn) != 0) {
			if (!isatty(STDIN_FILENO))
				break;
			continue;
		}
		if (fn && key == KEY_RESIZE)
			continue; /* ncurses updated LINES/COLS: the loop redraws */
		dispatch(app, key, fn);
	}
	return 0;
}

static int term_start(tui_app *app)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return error_set(ERR_GENERIC, _("the terminal interface needs a terminal; "
						"use the commands (fieldbook help)"));
	app->term = newterm(NULL, stdout, stdin);
	if (!app->term)
		return error_set(ERR_GENERIC, _("cannot use terminal type \"%s\""),
				 getenv("TERM") ? getenv("TERM") : "");
	set_term(app->term);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	tui_colours_init(app);
	return 0;
}

static void term_end(tui_app *app)
{
	if (!app->term)
		return;
	endwin();
	delscreen(app->term);
	app->term = NULL;
}

int tui_run(workspace *ws)
{
	tui_app app = {.ws = ws, .lang = i18n_lang()};
	util_time_local_date(util_now(), app.today);
	int rc = term_start(&app);
	if (rc)
		return rc;
	rc = tui_list_push(&app);
	if (rc == 0) {
		tui_check_offer_draft(&app);
		run_loop(&app);
	}
	while (app.top)
		tui_pop(&app);
	term_end(&app);
	return rc;
}
