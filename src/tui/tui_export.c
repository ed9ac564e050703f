/*
 * tui_export: the evidence package of a case, from its view (`x`).
 *
 * A short dialog: the output (prompt; default <export_dir>/<case-id> when
 * the config has "export_dir", else ~/fieldbook-export/<case-id>), folder
 * or zip, complete or redacted (pickers).  Esc at any of these leaves
 * before anything is written.  Then export_case runs with a progress bar
 * (files and bytes, drawn in a box as tui_sync.c does), pkgverify checks
 * what was written, and the verdict goes to the message line and a
 * summary screen.
 */
#include "tui_app.h"
#include "core/error.h"
#include "core/export.h"
#include "core/i18n.h"
#include "core/pkgverify.h"
#include "core/report.h"
#include "core/util.h"
#include "core/version.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT "fieldbook " FIELDBOOK_VERSION

typedef struct {
	tui_app *app;
	const char *case_id;
	double last; /* tui_clock of the last draw */
} export_ctx;

/* The box: title, "files n of m, x of y MiB", a bar of bytes (files when
 * there are no bytes). */
static void draw_progress(tui_app *app, const char *case_id, size_t files, size_t ftotal,
			  uint64_t bytes, uint64_t btotal)
{
	char title[256], line[512];
	snprintf(title, sizeof title, _(" Exporting %s "), case_id);
	if (ftotal)
		snprintf(line, sizeof line, _("%zu of %zu files, %.1f of %.1f MiB"), files, ftotal,
			 bytes / 1048576.0, btotal / 1048576.0);
	else
		snprintf(line, sizeof line, "%s", _("preparing..."));
	double f = btotal ? (double)bytes / (double)btotal : ftotal ? (double)files / (double)ftotal : 0;
	tui_draw_progress(app, title, line, f);
}

static void on_progress(size_t files, size_t ftotal, uint64_t bytes, uint64_t btotal, void *payload)
{
	export_ctx *ctx = payload;
	double now = tui_clock();
	if (now - ctx->last < 0.05 && files != ftotal)
		return; /* at most 20 draws a second */
	ctx->last = now;
	draw_progress(ctx->app, ctx->case_id, files, ftotal, bytes, btotal);
}

/* The default output: <export_dir>/<case> ("~/" expanded), else
 * ~/fieldbook-export/<case>. */
static void default_out(tui_app *app, const char *case_id, char *out, size_t size)
{
	const char *cfg = json_string_value(json_object_get(app->ws->config, "export_dir"));
	const char *home = getenv("HOME");
	if (!home)
		home = ".";
	if (cfg && *cfg) {
		if (cfg[0] == '~' && (cfg[1] == '/' || !cfg[1]))
			snprintf(out, size, "%s%s/%s", home, cfg + 1, case_id);
		else
			snprintf(out, size, "%s/%s", cfg, case_id);
	} else {
		snprintf(out, size, "%s/fieldbook-export/%s", home, case_id);
	}
}

/* The verdict line of a pkgverify report (as the CLI's verify prints it). */
static void verdict_line(const json_t *rep, char *out, size_t size)
{
	bool ok = json_is_true(json_object_get(rep, "ok"));
	long long ev = json_integer_value(json_object_get(rep, "events")),
		  sigs = json_integer_value(json_object_get(rep, "signatures")),
		  ph = json_integer_value(json_object_get(rep, "photos")),
		  nf = (long long)json_array_size(json_object_get(rep, "failures"));
	if (json_is_true(json_object_get(rep, "redacted")))
		snprintf(out, size,
			 _("%s: %lld events, %lld photos, %lld problems (redacted: signatures not "
			   "checkable)"),
			 ok ? _("VERIFIED") : _("FAILED"), ev, ph, nf);
	else
		snprintf(out, size, _("%s: %lld events (%lld signatures valid), %lld photos, %lld problems"),
			 ok ? _("VERIFIED") : _("FAILED"), ev, sigs, ph, nf);
}

static json_t *summary_lines(const json_t *rep, const char *verdict, const char *out, bool zip,
			     bool redact)
{
	json_t *l = json_array();
	tui_lines_add(l, "%s", verdict);
	tui_lines_add(l, _("Package: %s"), out);
	tui_lines_add(l, _("Format: %s"), zip ? _("zip file") : _("folder"));
	if (redact)
		tui_lines_add(l, "%s", _("Redacted for publication: personal fields and party contact replaced"));
	tui_lines_add(l, _("Files: %lld"), json_integer_value(json_object_get(rep, "files")));
	const json_t *root = json_object_get(rep, "root");
	if (json_is_object(root))
		tui_lines_add(l, _("Trust root: %s (%s)"), json_string_value(json_object_get(root, "fingerprint")),
		    json_string_value(json_object_get(root, "officer")));
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rep, "failures"), i, f)
		tui_lines_add(l, "  %s: %s", json_string_value(json_object_get(f, "file")),
		    json_string_value(json_object_get(f, "problem")));
	tui_lines_add(l, "%s", "");
	tui_lines_add(l, "%s", _("Check it anywhere: fieldbook verify PACKAGE, or sha256sum -c manifest-sha256.txt "
		       "in the bag"));
	return l;
}

int tui_export_run(tui_app *app, const char *case_id)
{
	char def[PATH_MAX], out[PATH_MAX + 8], *text;
	report_prepare(); /* the PDF's fonts load while the officer answers */
	default_out(app, case_id, def, sizeof def);
	if (tui_prompt(app, _("Export to:"), def, &text) != 0)
		return 1;
	if (!*text) {
		free(text);
		tui_msg(app, "%s", _("Export cancelled"));
		return 1;
	}
	if (text[0] == '~' && (text[1] == '/' || !text[1]) && getenv("HOME"))
		snprintf(out, sizeof out, "%s%s", getenv("HOME"), text + 1);
	else
		snprintf(out, sizeof out, "%s", text);
	free(text);
	size_t len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';

	const char *formats[] = {_("folder"), _("zip file")};
	int k = tui_pick(app, _("Write the package as"), formats, 2, 0);
	if (k < 0)
		return 1;
	bool zip = k == 1;
	const char *kinds[] = {_("complete (signatures checkable)"),
			       _("redacted for publication (no personal fields)")};
	int r = tui_pick(app, _("Package contents"), kinds, 2, 0);
	if (r < 0)
		return 1;
	bool redact = r == 1;
	if (zip && (len < 4 || strcmp(out + len - 4, ".zip") != 0))
		snprintf(out + len, sizeof out - len, ".zip");

	/* The folder the package goes in. */
	char parent[PATH_MAX + 8];
	snprintf(parent, sizeof parent, "%s", out);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (!util_is_dir(parent) && util_mkdirs(parent, 0755) != 0) {
			tui_err_last(app);
			return -1;
		}
	}

	export_ctx ctx = {app, case_id, 0};
	export_opts eo = {.out = out, .zip = zip, .redact = redact, .agent = AGENT,
			  .progress = on_progress, .payload = &ctx};
	tui_redraw(app);
	draw_progress(app, case_id, 0, 0, 0, 0);
	int rc = export_case(app->ws, case_id, &eo);
	if (rc) {
		tui_err_last(app);
		return rc;
	}
	json_t *rep;
	if (pkgverify_run(out, &rep) != 0) {
		tui_err_last(app);
		return -1;
	}
	bool ok = json_is_true(json_object_get(rep, "ok"));
	char verdict[512], title[256];
	verdict_line(rep, verdict, sizeof verdict);
	json_t *lines = summary_lines(rep, verdict, out, zip, redact);
	json_decref(rep);
	if (ok)
		snprintf(title, sizeof title, _("Export of %s: verified"), case_id);
	else
		snprintf(title, sizeof title, _("Export of %s: NOT verified"), case_id);
	if (ok)
		tui_msg(app, "%s  %s", verdict, out);
	else
		tui_err(app, "%s  %s", verdict, out);
	tui_text_push(app, title, lines);
	return ok ? 0 : -1;
}
