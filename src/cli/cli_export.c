/*
 * cli_export: evidence packages, reports, package verification, stats
 * and whole-ledger exports.
 */
#include "cli.h"
#include "core/version.h"
#include "core/error.h"
#include "core/export.h"
#include "core/i18n.h"
#include "core/pkgverify.h"
#include "core/report.h"
#include "core/stats.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AGENT "fieldbook " FIELDBOOK_VERSION

/* Progress on stderr when it is a terminal: "files/total, MiB". */
static void progress(size_t files, size_t total, uint64_t bytes, uint64_t btotal, void *payload)
{
	fputc('\r', stderr);
	fprintf(stderr, _("writing %zu/%zu files, %.1f/%.1f MiB"), files, total, bytes / 1048576.0,
		btotal / 1048576.0);
	if (files == total)
		fputc('\n', stderr);
}

/* "-o FILE" is accepted as "--output FILE". */
static void short_o(cli_args *a)
{
	static char output[] = "--output";
	for (int i = 1; i < a->argc; i++)
		if (strcmp(a->argv[i], "-o") == 0)
			a->argv[i] = output;
}

int cmd_export(cli_args *a)
{
	const char *out = NULL;
	bool zip = false, redact = false;
	cli_opt opts[] = {{"output", 's', &out}, {"zip", 'b', &zip}, {"redact", 'b', &redact}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws;
	short_o(a);
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1 || !out)
		return cli_usage("export", _("name a case and the output with -o"));
	report_prepare();
	if ((rc = cli_open(a, &ws)))
		return rc;
	export_opts eo = {.out = out, .zip = zip, .redact = redact, .agent = AGENT,
			  .progress = isatty(2) ? progress : NULL};
	rc = export_case(ws, pos[0], &eo);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf(_("%s: evidence package of %s%s\n"), out, pos[0], redact ? _(" (redacted)") : "");
	return CLI_OK;
}

int cmd_report(cli_args *a)
{
	const char *out = NULL;
	bool redact = false;
	cli_opt opts[] = {{"output", 's', &out}, {"redact", 'b', &redact}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws;
	short_o(a);
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1 || !out)
		return cli_usage("report", _("name a case and the output with -o report.pdf|report.html"));
	if (util_ends_with(out, ".pdf"))
		report_prepare();
	if ((rc = cli_open(a, &ws)))
		return rc;
	rc = export_report(ws, pos[0], out, redact, AGENT);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf(_("%s: report of %s\n"), out, pos[0]);
	return CLI_OK;
}

/* --- package verification (called by `verify PKG`) ------------------------------------------- */

int cli_verify_package(const char *path, bool json)
{
	json_t *rep;
	if (pkgverify_run(path, &rep) != 0)
		return cli_error();
	bool ok = json_is_true(json_object_get(rep, "ok"));
	if (json) {
		cli_print_json(rep);
		json_decref(rep);
		return ok ? CLI_OK : CLI_FAIL;
	}
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rep, "failures"), i, f)
		printf("%s: %s\n", json_string_value(json_object_get(f, "file")),
		       json_string_value(json_object_get(f, "problem")));
	const json_t *root = json_object_get(rep, "root");
	if (json_is_object(root))
		printf(_("trust root: %s (%s %s); compare it with the key the unit publishes\n"),
		       json_string_value(json_object_get(root, "fingerprint")),
		       json_string_value(json_object_get(root, "officer")),
		       json_string_value(json_object_get(root, "name")));
	long long ev = json_integer_value(json_object_get(rep, "events")),
		  sigs = json_integer_value(json_object_get(rep, "signatures")),
		  ph = json_integer_value(json_object_get(rep, "photos")),
		  nf = (long long)json_array_size(json_object_get(rep, "failures"));
	const char *case_id = json_string_value(json_object_get(rep, "case"));
	if (json_is_true(json_object_get(rep, "redacted")))
		printf(_("%s: package of case %s, %lld events, %lld photos; %lld problems; REDACTED: "
			 "manifests checked, signatures not checkable (they apply to the unredacted "
			 "originals)\n"),
		       ok ? _("VERIFIED") : _("FAILED"), case_id, ev, ph, nf);
	else
		printf(_("%s: package of case %s, %lld events (%lld signatures valid), %lld photos; "
			 "%lld problems\n"),
		       ok ? _("VERIFIED") : _("FAILED"), case_id, ev, sigs, ph, nf);
	json_decref(rep);
	return ok ? CLI_OK : CLI_FAIL;
}

/* --- stats and export-all ---------------------------------------------------------------------- */

static void print_stats(const json_t *rows, const char *by)
{
	printf("%-20s %7s %7s %7s %7s %10s\n", by, _("opened"), _("closed"), _("overdue"), _("open"),
	       _("days/close"));
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *key = json_string_value(json_object_get(r, "key"));
		char fit[96], mean[32] = "-";
		const json_t *m = json_object_get(r, "mean_days_to_close");
		if (json_is_number(m))
			snprintf(mean, sizeof mean, "%.1f", json_number_value(m));
		util_text_fit(*key ? key : _("total"), 20, true, fit, sizeof fit);
		printf("%s %7lld %7lld %7lld %7lld %10s\n", fit, json_integer_value(json_object_get(r, "opened")),
		       json_integer_value(json_object_get(r, "closed")),
		       json_integer_value(json_object_get(r, "overdue")),
		       json_integer_value(json_object_get(r, "open")), mean);
	}
}

int cmd_stats(cli_args *a)
{
	const char *by = "grid", *from = NULL, *to = NULL;
	bool csv = false, json = false, bom = false;
	cli_opt opts[] = {{"by", 's', &by},	  {"from", 's', &from}, {"to", 's', &to}, {"csv", 'b', &csv},
			  {"json", 'b', &json}, {"bom", 'b', &bom},   {0}};
	char *pos[1], today[11];
	int n, rc;
	workspace *ws;
	json_t *rows;
	if ((rc = cli_parse(a, opts, pos, 0, &n)))
		return rc;
	if ((rc = cli_open(a, &ws)))
		return rc;
	cli_today(today);
	rc = stats_compute(ws, by, from, to, today, &rows);
	workspace_free(ws);
	if (rc)
		return cli_error();
	if (json)
		cli_print_json(rows);
	else if (csv) {
		char *buf;
		size_t len;
		if (stats_csv(rows, by, bom, &buf, &len) != 0) {
			json_decref(rows);
			return cli_error();
		}
		fwrite(buf, 1, len, stdout);
		free(buf);
	} else
		print_stats(rows, by);
	json_decref(rows);
	return CLI_OK;
}

int cmd_export_all(cli_args *a)
{
	const char *format = NULL, *out = NULL, *status = "all";
	bool bom = false;
	cli_opt opts[] = {{"format", 's', &format}, {"output", 's', &out},
			  {"status", 's', &status}, {"bom", 'b', &bom}, {0}};
	char *pos[1], today[11], *buf = NULL;
	size_t len;
	int n, rc;
	workspace *ws;
	short_o(a);
	if ((rc = cli_parse(a, opts, pos, 0, &n)))
		return rc;
	bool csv = format && strcmp(format, "csv") == 0, geo = format && strcmp(format, "geojson") == 0;
	if (!(csv || geo) || !out)
		return cli_usage("export-all", _("give --format csv|geojson and -o FILE"));
	if ((rc = cli_open(a, &ws)))
		return rc;
	cli_today(today);
	rc = csv ? stats_export_csv(ws, status, today, bom, &buf, &len)
		 : stats_export_geojson(ws, status, today, &buf, &len);
	workspace_free(ws);
	if (rc == 0)
		rc = strcmp(out, "-") == 0 ? (fwrite(buf, 1, len, stdout) == len ? 0 : ERR_IO)
					   : util_write_file(out, buf, len, 0644);
	free(buf);
	return rc ? cli_error() : CLI_OK;
}
