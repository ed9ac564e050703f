/*
 * tui_sync: exchange the ledger with a hub from the list (`S`).
 *
 * Pick one of the remotes kept in the ledger's git config (the only one is
 * taken without asking), run sync_run with a progress callback that draws a
 * bar in a box while it works (the call blocks; the bar is all the user
 * needs to see), then show the summary as a text screen.  A refused sync
 * (ERR_CONFLICT) shows its reason; the workspace is unchanged then.
 */
#include "tui_app.h"
#include "core/error.h"
#include "core/i18n.h"
#include "core/sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	tui_app *app;
	const char *remote;
	double last; /* tui_clock of the last draw */
} sync_run_ctx;

static const struct {
	const char *stage; /* sync_progress.stage */
	const char *label; /* N_() */
} stages[] = {
	{"fetch", N_("receiving")},
	{"push", N_("sending")},
	{"pack", N_("packing")},
	{"bundle", N_("bundle")},
};

static const char *stage_label(const char *stage)
{
	for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
		if (stage && strcmp(stages[i].stage, stage) == 0)
			return _(stages[i].label);
	return stage ? stage : "";
}

/* The box with the remote, the stage and a bar of done/total. */
static void draw_progress(tui_app *app, const char *remote, const sync_progress *p)
{
	char title[256], line[512];
	snprintf(title, sizeof title, _(" Syncing with %s "), remote);
	if (p && p->total)
		snprintf(line, sizeof line, _("%s: %zu of %zu objects, %zu KB"), stage_label(p->stage),
			 p->done, p->total, p->bytes / 1024);
	else if (p)
		snprintf(line, sizeof line, _("%s: %zu KB"), stage_label(p->stage), p->bytes / 1024);
	else
		snprintf(line, sizeof line, "%s", _("connecting..."));
	tui_draw_progress(app, title, line, p && p->total ? (double)p->done / (double)p->total : 0);
}

static void on_progress(const sync_progress *p, void *payload)
{
	sync_run_ctx *ctx = payload;
	double now = tui_clock();
	if (now - ctx->last < 0.05 && p->done != p->total)
		return; /* at most 20 draws a second */
	ctx->last = now;
	draw_progress(ctx->app, ctx->remote, p);
}

static json_t *summary_lines(const sync_summary *s, int rc)
{
	json_t *l = json_array();
	tui_lines_add(l, _("Hub: %s %s"), s->remote, s->url);
	if (s->refused)
		tui_lines_add(l, _("REFUSED: %s"), s->reason);
	else if (rc)
		tui_lines_add(l, _("FAILED: %s"), error_last());
	tui_lines_add(l, _("Received: %d events in %d commits"), s->events_received, s->commits_received);
	tui_lines_add(l, _("Sent: %d events in %d commits"), s->events_sent, s->commits_sent);
	if (s->merged)
		tui_lines_add(l, "%s", _("Both sides had new events: merged"));
	else if (s->fast_forward)
		tui_lines_add(l, "%s", _("Brought up to date with the hub"));
	if (!rc)
		tui_lines_add(l, "%s", s->pushed ? _("The hub has everything from this device")
				       : _("Nothing was sent"));
	if (s->attempts > 1)
		tui_lines_add(l, _("%d attempts (someone else was syncing)"), s->attempts);
	tui_lines_add(l, _("Cases changed here: %zu"), json_object_size(s->cases));
	const char *id;
	json_t *v;
	json_object_foreach(s->cases, id, v)
		tui_lines_add(l, "  %s", id);
	tui_lines_add(l, _("Head: %.12s -> %.12s"), s->old_head, s->new_head);
	return l;
}

int tui_sync_run(tui_app *app)
{
	json_t *remotes;
	int rc = sync_remote_list(app->ws->ledger, &remotes);
	if (rc) {
		tui_err_last(app);
		return rc;
	}
	size_t n = json_array_size(remotes);
	char name[128];
	int k = 0;
	if (n == 0) {
		json_decref(remotes);
		tui_err(app, "%s", _("no hub to sync with: add one with 'fieldbook remote add NAME URL'"));
		return 1;
	}
	if (n > 1) {
		const char **labels = calloc(n, sizeof *labels);
		char (*text)[1200] = calloc(n, sizeof *text);
		for (size_t i = 0; labels && text && i < n; i++) {
			const json_t *r = json_array_get(remotes, i);
			snprintf(text[i], sizeof text[i], "%s  %s", json_string_value(json_object_get(r, "name")),
				 json_string_value(json_object_get(r, "url")));
			labels[i] = text[i];
		}
		k = labels && text ? tui_pick(app, _("Sync with"), labels, n, 0) : -1;
		free(labels);
		free(text);
	}
	if (k >= 0)
		snprintf(name, sizeof name, "%s",
			 json_string_value(json_object_get(json_array_get(remotes, (size_t)k), "name")));
	json_decref(remotes);
	if (k < 0)
		return 1;
	sync_run_ctx ctx = {app, name, 0};
	sync_options opts = {.progress = on_progress, .payload = &ctx};
	sync_summary s;
	memset(&s, 0, sizeof s);
	tui_redraw(app);
	draw_progress(app, name, NULL);
	rc = sync_run(app->ws, name, &opts, &s);
	app->unsynced_head[0] = '\0'; /* recount: a push moves no local head */
	json_t *lines = summary_lines(&s, rc);
	char title[256];
	snprintf(title, sizeof title, rc ? _("Sync with %s: not done") : _("Sync with %s: done"), name);
	if (rc)
		tui_err_last(app);
	else
		tui_msg(app, _("Synced with %s: %d events in, %d out"), name, s.events_received,
			s.events_sent);
	sync_summary_clear(&s);
	tui_text_push(app, title, lines);
	return rc;
}
