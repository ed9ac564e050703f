/*
 * tui: the terminal, the screen stack and the one event loop.
 *
 * Keys go to the top screen's table first, then to the keys every screen
 * shares (help, back, redraw), then to its panel (navigation).  Actions
 * return reaction flags; the loop applies them and redraws.  The only
 * state is the ncurses screen and the tui_app passed around.
 *
 * Key reads wait at most TUI_TICK_MS; in between (tui_idle) the gpsd
 * connection is polled and the officer key is locked again after
 * unlock_timeout_min minutes (config, default 30) without a key.  The PIN
 * is asked by our own callback (a masked prompt), $FIELDBOOK_PIN first.
 */
#include "tui.h"
#include "tui_app.h"
#include "core/error.h"
#include "core/gps.h"
#include "core/i18n.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUI_TICK_MS 500
#define TUI_GPS_RETRY_S 30.0
#define TUI_UNLOCK_DEFAULT_MIN 30.0

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

double tui_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- idle work: gpsd, the unlock timeout ------------------------------------------ */

static double unlock_timeout_s(const tui_app *app)
{
	const json_t *v = json_object_get(app->ws->config, "unlock_timeout_min");
	double min = json_is_number(v) ? json_number_value(v) : TUI_UNLOCK_DEFAULT_MIN;
	return (min > 0 ? min : TUI_UNLOCK_DEFAULT_MIN) * 60.0;
}

/* Poll gpsd (reconnecting now and then); true when the fix changed. */
static bool gps_idle(tui_app *app, double now)
{
	if (!app->gps && now >= app->gps_retry) {
		app->gps = gps_connect(app->ws);
		app->gps_retry = now + TUI_GPS_RETRY_S;
	}
	return app->gps && gps_update(app->gps, app->ws, 0);
}

/* true when something shown changed (status bar or message line). */
static bool tui_idle(tui_app *app)
{
	double now = tui_clock();
	bool changed = gps_idle(app, now);
	if (app->ws->key && now - app->last_key >= unlock_timeout_s(app)) {
		workspace_lock(app->ws);
		tui_msg(app, _("Locked after %.0f minutes without a key; the next record asks for "
			       "the PIN"),
			unlock_timeout_s(app) / 60.0);
		changed = true;
	}
	return changed;
}

void tui_lock(tui_app *app)
{
	workspace_lock(app->ws);
	tui_msg(app, "%s", _("Locked: the next record asks for the PIN"));
}

/* One key, or 1 when idle work changed what is shown (main loop only:
 * modal readers get the status bar redrawn in place instead). */
static int key_read(tui_app *app, int *key, bool *fn, bool main_loop)
{
	wint_t wc;
	int rc;
	while ((rc = get_wch(&wc)) == ERR) {
		if (!isatty(STDIN_FILENO))
			return -1;
		if (!tui_idle(app))
			continue;
		if (main_loop)
			return 1;
		int y, x;
		getyx(stdscr, y, x);
		tui_draw_status(app);
		move(y, x);
		refresh();
	}
	app->last_key = tui_clock();
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

int tui_getkey(tui_app *app, int *key, bool *fn) { return key_read(app, key, fn, false) < 0 ? -1 : 0; }

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
		int key, rc;
		bool fn;
		if ((rc = key_read(app, &key, &fn, true)) < 0)
			break;
		if (rc > 0 || (fn && key == KEY_RESIZE))
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
	timeout(TUI_TICK_MS);
	curs_set(0);
	tui_colours_init(app);
	return 0;
}

/* --- the PIN ------------------------------------------------------------------------- */

static int pin_cb(workspace *ws, const char *prompt, char *buf, size_t size, void *payload)
{
	tui_app *app = payload;
	const char *env = getenv("FIELDBOOK_PIN");
	char *pin;
	if (env) {
		snprintf(buf, size, "%s", env);
		return 0;
	}
	if (tui_prompt_secret(app, _("Officer PIN to sign (Esc cancels):"), &pin) != 0)
		return error_set(ERR_STATE, "%s", _("no PIN given: nothing was recorded"));
	snprintf(buf, size, "%s", pin);
	explicit_bzero(pin, strlen(pin));
	free(pin);
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
	tui_app app = {.ws = ws, .lang = i18n_lang(), .last_key = tui_clock()};
	workspace_pin_cb old_cb = ws->pin_cb;
	void *old_payload = ws->pin_payload;
	util_time_local_date(util_now(), app.today);
	int rc = term_start(&app);
	if (rc)
		return rc;
	ws->pin_cb = pin_cb;
	ws->pin_payload = &app;
	rc = tui_list_push(&app);
	if (rc == 0) {
		tui_check_offer_draft(&app);
		run_loop(&app);
	}
	while (app.top)
		tui_pop(&app);
	gps_disconnect(app.gps);
	ws->pin_cb = old_cb;
	ws->pin_payload = old_payload;
	term_end(&app);
	return rc;
}
