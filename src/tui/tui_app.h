/*
 * tui_app: the machinery shared by the screens (internal to src/tui/).
 *
 * One loop (tui.c) owns the terminal and a stack of screens.  A screen is a
 * `tui_screen_ops` table: load (read its data from the core), draw (walk
 * that data; never reads the index), a key table, free.  Keys come from
 * one table per screen (tui_key): the bottom bar and the `?` help are
 * generated from it.  Actions return reaction flags; only the loop draws.
 *
 * Layout (any size, designed for 80x24, usable at 60x20):
 *   row 0            status bar (officer, unit, unsynced, GPS)
 *   row 1            screen title
 *   rows 2..LINES-3  body (the screen's draw)
 *   row LINES-2      message line / prompt
 *   row LINES-1      key bar
 * Resize recomputes this and redraws; no data is reloaded.
 *
 * Prompts, pickers and dialogs are modal: they read keys themselves and,
 * on a resize, redraw the whole screen under them (tui_redraw) first.
 */
#ifndef FB_TUI_APP_H
#define FB_TUI_APP_H

#include <curses.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/workspace.h"

typedef struct tui_app tui_app;
typedef struct tui_screen tui_screen;

/* Reaction flags returned by actions. */
enum {
	TUI_DONE = 0,
	TUI_POP = 1 << 0,    /* leave this screen (reloads the one below) */
	TUI_QUIT = 1 << 1,   /* leave the program */
	TUI_RELOAD = 1 << 2, /* reload the top screen's data */
};

#define TUI_ESC 27
#define TUI_ENTER '\n'
#define TUI_CTRL(c) ((c) & 0x1f)

typedef int (*tui_action)(tui_app *app, tui_screen *s);

typedef struct {
	int key;             /* character or KEY_* code; 0 ends a table */
	const char *keyname; /* N_(): how the bar names the key, "Enter" */
	const char *help;    /* N_(): what it does, a word or two */
	tui_action fn;
	bool (*avail)(tui_app *app, tui_screen *s); /* NULL: always offered */
} tui_key;

typedef struct {
	const char *name;
	const tui_key *keys;
	int (*load)(tui_app *app, tui_screen *s);  /* 0 or ERR_*: (re)read data */
	void (*draw)(tui_app *app, tui_screen *s, int y, int h); /* the body */
	void (*free)(tui_screen *s);               /* frees s->priv */
} tui_screen_ops;

/* A scrolling list: rows 0..count-1, a selection, the first row shown. */
typedef struct {
	int count, sel, top;
	int page;    /* rows shown at the last draw */
	bool cursor; /* false: a text view that only scrolls */
} tui_panel;

struct tui_screen {
	const tui_screen_ops *ops;
	void *priv;
	tui_panel panel;
	char title[512];
	tui_screen *below;
};

struct gps_conn;

struct tui_app {
	workspace *ws;
	tui_screen *top;
	SCREEN *term;
	bool colour;
	bool ascii;        /* marks in ASCII (monochrome, vt100) */
	char msg[1024];
	bool msg_error;
	char today[11];
	const char *lang; /* "zh" | "en" for form labels */
	struct gps_conn *gps;  /* gpsd connection, NULL without gpsd */
	double gps_retry;      /* monotonic seconds of the next connect attempt */
	double last_key;       /* monotonic seconds of the last key */
	char unsynced_head[41]; /* ledger head the count below was made for */
	long unsynced;          /* events no hub has yet (status bar) */
};

/* Colour slots: name, foreground, background, attribute without colour. */
#define TUI_COLOURS(X)                                                  \
	X(STATUS, COLOR_BLACK, COLOR_CYAN, A_REVERSE)                   \
	X(TITLE, COLOR_YELLOW, -1, A_BOLD)                              \
	X(HEADER, COLOR_CYAN, -1, A_BOLD | A_UNDERLINE)                 \
	X(OVERDUE, COLOR_RED, -1, A_BOLD)                               \
	X(FAIL, COLOR_RED, -1, A_BOLD)                                  \
	X(PASS, COLOR_GREEN, -1, A_NORMAL)                              \
	X(ERROR, COLOR_WHITE, COLOR_RED, A_BOLD | A_REVERSE)            \
	X(KEY, COLOR_BLACK, COLOR_CYAN, A_REVERSE | A_BOLD)             \
	X(BAR, COLOR_WHITE, -1, A_NORMAL)                               \
	X(DIALOG, COLOR_WHITE, COLOR_BLUE, A_NORMAL)

#define TUI_SLOT_ENUM(name, fg, bg, mono) TUI_C_##name,
typedef enum { TUI_COLOURS(TUI_SLOT_ENUM) TUI_C_COUNT } tui_colour;
#undef TUI_SLOT_ENUM

/* --- tui.c: the loop and the stack ------------------------------------------ */
/* Push a new screen (priv owned by it); loads it.  On a load error the
 * screen is dropped and the message shown; returns the error. */
int tui_push(tui_app *app, const tui_screen_ops *ops, void *priv);
/* Drop the top screen (no reload of the one below: the loop does that). */
void tui_pop(tui_app *app);
/* Draw everything: bars, title, the top screen, the message line. */
void tui_redraw(tui_app *app);
/* Message line: info or error (printf format). */
void tui_msg(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_err(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Show error_last() as an error. */
void tui_err_last(tui_app *app);
/* Read a key: character or KEY_* code in *key; true for function keys.
 * -1 on no input.  While waiting it polls gpsd and locks the officer key
 * after the idle timeout (the status bar is redrawn in place). */
int tui_getkey(tui_app *app, int *key, bool *fn);
/* Seconds on a monotonic clock. */
double tui_clock(void);
/* Forget the unlocked officer key (the next record asks for the PIN). */
void tui_lock(tui_app *app);
/* The keys every screen shares (help, back, redraw). */
const tui_key *tui_common_keys(void);
/* Is a key table entry offered now? */
bool tui_key_avail(tui_app *app, tui_screen *s, const tui_key *k);

/* --- tui_draw.c: colours, text, bars, panels --------------------------------- */
void tui_colours_init(tui_app *app);
attr_t tui_attr(const tui_app *app, tui_colour c);
/* Print text at (y, x) fitted to width columns (elided with "…", padded
 * when pad); control characters shown as spaces.  Returns columns used. */
int tui_put(int y, int x, int width, const char *s, attr_t attr, bool pad);
/* Display columns of UTF-8 text. */
int tui_width(const char *s);
/* The tail of s that fits in width columns (for input lines). */
const char *tui_tail(const char *s, int width);
/* Skip cols display columns of s (horizontal scrolling). */
const char *tui_skip(const char *s, int cols);
/* Lines of text broken to width columns (new array of strings). */
json_t *tui_wrap(const char *text, int width);
void tui_draw_status(tui_app *app);
/* A centred box for long work: title, one line of detail, a bar filled to
 * fraction (0..1; <= 0: empty). */
/* Append one formatted line to a JSON array of lines (summary screens). */
void tui_lines_add(json_t *lines, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_draw_progress(tui_app *app, const char *title, const char *detail, double fraction);
void tui_draw_title(tui_app *app, const char *title);
void tui_draw_keybar(tui_app *app, tui_screen *s);
void tui_draw_msg(tui_app *app);

/* Panels: draw rows [top, top+h) with row_fn; keep the selection visible. */
typedef void (*tui_row_fn)(tui_app *app, tui_screen *s, int row, int y, int width,
			   bool selected);
void tui_panel_draw(tui_app *app, tui_screen *s, int y, int h, tui_row_fn row);
void tui_panel_set(tui_panel *p, int count);
/* Navigation keys (arrows, j/k, PgUp/PgDn, Home/End).  true when handled. */
bool tui_panel_key(tui_panel *p, int key, bool fn);

/* Columns by display width: widths for a row of columns that must fit in
 * `width`.  Columns with min 0 are flexible (share what is left); a column
 * whose drop rank is > 0 is dropped (rank order, highest first) when the
 * row does not fit.  Width 0 in out[] means dropped. */
typedef struct {
	const char *title; /* N_() */
	int width;         /* fixed width, or minimum when flex */
	bool flex;
	int drop;          /* 0: never dropped */
} tui_column;
void tui_columns_layout(const tui_column *cols, size_t n, int width, int out[]);
/* Draw the column titles. */
void tui_columns_header(tui_app *app, const tui_column *cols, size_t n, const int w[], int y);

/* --- tui_prompt.c: input line, picker, dialog ---------------------------------- */
/* Read a line of text (UTF-8) on the message line.  0 with *out (caller
 * frees), 1 when cancelled with Esc. */
int tui_prompt(tui_app *app, const char *label, const char *initial, char **out);
/* The same with every character shown as '*' (PIN); the buffers are wiped. */
int tui_prompt_secret(tui_app *app, const char *label, char **out);
/* Choose one of n labels; returns the index, -1 when cancelled. */
int tui_pick(tui_app *app, const char *title, const char *const *labels, size_t n, int initial);
/* Toggle several of n labels (Space), Enter confirms: 0, or 1 when cancelled. */
int tui_pick_multi(tui_app *app, const char *title, const char *const *labels, size_t n,
		   bool *checked);
/* Show lines in a box with a y/n question.  true for y (or Enter). */
bool tui_dialog(tui_app *app, const char *title, const char *const *lines, size_t n,
		const char *question);
/* y/n question on the message line. */
bool tui_confirm(tui_app *app, const char *question);

/* --- screens --------------------------------------------------------------------- */
/* tui_text.c: scrollable text (help, an event's JSON).  Takes lines. */
int tui_text_push(tui_app *app, const char *title, json_t *lines /* stolen, array of strings */);
/* Push the help for screen s (generated from its key table). */
int tui_help_push(tui_app *app, tui_screen *s);
int tui_list_push(tui_app *app);
int tui_case_push(tui_app *app, const char *case_id);
int tui_check_push(tui_app *app, const char *case_id, bool reinspection);
int tui_new_push(tui_app *app);
int tui_history_push(tui_app *app, const char *case_id);
/* Offer to resume a draft on start; true when a checklist was opened. */
bool tui_check_offer_draft(tui_app *app);

/* Is screen s the case view of case_id? */
bool tui_case_shows(const tui_screen *s, const char *case_id);
/* tui_history.c: an event's full JSON in a text view, under its signature
 * verdict ("ok" or why it is not valid; NULL: not known). */
int tui_event_push(tui_app *app, const json_t *event, const char *verdict);
/* The timeline mark of a verdict: "✓"/"!" (ASCII "ok"/"!!"), 2 columns at
 * most; its colour in *attr. */
const char *tui_verdict_mark(const tui_app *app, const char *verdict, attr_t *attr);
bool tui_verdict_ok(const char *verdict);
/* The reason of an invalid row ({event, verdict}) on line y (else blank). */
void tui_verdict_line(tui_app *app, const json_t *row, int y);

/* tui_review.c: the supervisor's queue; approve/return (with the role
 * warning and the reason prompt).  tui_review_decide: 0 recorded (message
 * set), 1 cancelled, <0 refused (message set). */
int tui_review_push(tui_app *app);
bool tui_review_pending(tui_app *app, const json_t *state);
int tui_review_decide(tui_app *app, const char *case_id, bool approve);

/* tui_attach.c: choose a JPEG (photo_dir, else ~/DCIM, else the
 * workspace's DCIM) and attach it to a case or an item; the checks go to
 * the message line.  0 attached (*count: photos of that item now, may be
 * NULL), 1 cancelled, <0 failed (message set). */
int tui_attach_pick(tui_app *app, const char *case_id, const char *item, int *count);
/* Photos of a case attached to an item (NULL: all). */
int tui_attach_count(tui_app *app, const char *case_id, const char *item);

/* tui_sync.c: pick a hub, sync with a progress bar, show the summary.
 * 0 synced, 1 cancelled or nothing to sync with, <0 failed (shown). */
int tui_sync_run(tui_app *app);

/* tui_export.c: export a case's evidence package (output prompt, folder or
 * zip, redacted or not) with a progress bar, verify it, show the verdict.
 * 0 verified, 1 cancelled (nothing written), <0 failed (shown). */
int tui_export_run(tui_app *app, const char *case_id);
/* tui_stats.c: counts per grid, category or officer within a date range. */
int tui_stats_push(tui_app *app);

/* tui_photo.c: preview of a photo.attached event's photo (chafa), or its
 * description without colours. */
int tui_photo_push(tui_app *app, const json_t *event);

/* Helpers shared by screens (tui_case.c). */
/* Local "YYYY-MM-DD HH:MM" of an event's at/tz. */
void tui_local_time(const char *at, const char *tz, char *out, size_t size);
/* May an event of this type (close: with this outcome) be recorded now? */
bool tui_case_allows(tui_app *app, const json_t *state, const char *type, const char *outcome);

#endif
