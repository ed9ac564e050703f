/*
 * main: global options, the command table and dispatch.
 */
#include "cli.h"
#include "core/error.h"
#include "core/version.h"
#include "core/gps.h"
#include "core/i18n.h"
#include "core/index.h"
#include "core/util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


bool cli_has_where;
double cli_lat, cli_lon, cli_acc = -1;

static const cli_command commands[] = {
	{"init", cmd_init, N_("init --officer ID --name NAME --unit UNIT"),
	 N_("create the workspace for this officer and device")},
	{"forms", cmd_forms, N_("forms [--json]"), N_("list the available checklists")},
	{"form", cmd_form, N_("form check FILE..."), N_("check form files and report every problem")},
	{"case", cmd_case, N_("case new --form ID --address TEXT [--grid G] [--lat D --lon D] "
			      "[--party NAME] [--contact TEXT]"),
	 N_("open a case; prints the new case id")},
	{"inspect", cmd_inspect, N_("inspect CASE [--set ITEM=VALUE]... [--note ITEM=TEXT]... "
				    "[--answers FILE.json] [--draft]"),
	 N_("record a checklist (or save it as a draft)")},
	{"order", cmd_order, N_("order CASE [--days N] [--items A,B]"),
	 N_("order rectification of failed items by a deadline")},
	{"reinspect", cmd_reinspect, N_("reinspect CASE --set ITEM=pass|fail... [--note ITEM=TEXT]"),
	 N_("re-inspect the ordered items")},
	{"close", cmd_close, N_("close CASE --outcome rectified|penalized|no-violation|waived "
				"[--reason TEXT]"),
	 N_("close a case")},
	{"note", cmd_note, N_("note CASE TEXT"), N_("add a note to a case")},
	{"attach", cmd_attach, N_("attach CASE PHOTO... [--item ITEM]"), N_("attach photos to a case")},
	{"photo", cmd_photo, N_("photo info PHOTO [--json]"), N_("show what fieldbook reads from a photo")},
	{"escalate", cmd_escalate, N_("escalate CASE [--reason TEXT]"),
	 N_("hand the case to the penalty procedure")},
	{"reopen", cmd_reopen, N_("reopen CASE [--reason TEXT]"), N_("reopen a closed case")},
	{"correct", cmd_correct, N_("correct CASE --event ID --set FIELD=VALUE... --reason TEXT"),
	 N_("amend an earlier event (the original stays)")},
	{"list", cmd_list, N_("list [--status open|ordered|overdue|closed|all] [--search TEXT] [--json]"),
	 N_("list cases")},
	{"show", cmd_show, N_("show CASE [--json]"), N_("show a case's state and timeline")},
	{"log", cmd_log, N_("log CASE [--json]"), N_("show a case's ledger history")},
	{"drafts", cmd_drafts, N_("drafts [--json]"), N_("list unfinished checklists")},
	{"reindex", cmd_reindex, N_("reindex"), N_("rebuild the index from the ledger")},
	{"key", cmd_key, N_("key show | key create"), N_("show (or create) this officer's signing key")},
	{"unlock", cmd_unlock, N_("unlock [--for MINUTES]"),
	 N_("ask the PIN once; sign without asking until idle for a while")},
	{"lock", cmd_lock, N_("lock"), N_("forget the unlocked key now")},
	{"roster", cmd_roster, N_("roster add --officer ID --name NAME --role officer|supervisor|legal|admin "
				  "--key \"ssh-ed25519 ...\" | roster show [--json] | roster retire --officer ID "
				  "[--key K] [--at TIME] | roster allowed-signers [--output FILE]"),
	 N_("officers, roles and public keys (admin)")},
	{"verify", cmd_verify, N_("verify [--case CASE | PACKAGE] [--json]"),
	 N_("check every signature, role and commit of the ledger or of one case")},
	{"export", cmd_export, N_("export CASE -o DIR|FILE.zip [--zip] [--redact]"),
	 N_("write a case's evidence package (BagIt)")},
	{"report", cmd_report, N_("report CASE -o report.pdf|report.html [--redact]"),
	 N_("write a case's report for a court or a supervisor")},
	{"stats", cmd_stats, N_("stats [--by grid|category|officer] [--from DATE --to DATE] [--csv [--bom]] [--json]"),
	 N_("cases opened, closed, overdue and mean days to close")},
	{"export-all", cmd_export_all, N_("export-all --format csv|geojson -o FILE [--status S] [--bom]"),
	 N_("every case as CSV or GeoJSON")},
	{"review", cmd_review, N_("review [--queue] [--json]"), N_("what waits for a supervisor's review")},
	{"approve", cmd_approve, N_("approve CASE [--note TEXT]"), N_("approve a closed case (supervisor)")},
	{"return", cmd_return, N_("return CASE --reason TEXT"), N_("send a closed case back (supervisor)")},
	{"remote", cmd_remote, N_("remote add NAME URL | remote list [--json] | remote remove NAME"),
	 N_("hubs this workspace syncs with")},
	{"sync", cmd_sync, N_("sync [REMOTE|PATH|URL] [--json] [--no-push]"),
	 N_("exchange events with a hub")},
	{"bundle", cmd_bundle, N_("bundle create FILE [--since DATE|REF] | bundle import FILE [--json]"),
	 N_("carry events on a USB stick as a git bundle")},
	{"hook", cmd_hook, N_("hook pre-receive"), N_("the hub's check of incoming pushes (git hook)")},
	{"tui", cmd_tui, N_("tui"), N_("open the terminal interface (the default)")},
	{"help", cmd_help, N_("help [COMMAND]"), N_("show help")},
};

const cli_command *cli_commands(size_t *n)
{
	*n = sizeof commands / sizeof *commands;
	return commands;
}

int cli_error(void)
{
	fprintf(stderr, "fieldbook: %s\n", error_last());
	return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fieldbook %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, cmd) == 0)
			fprintf(stderr, _("usage: fieldbook %s\n"), _(commands[i].usage));
	return CLI_USAGE;
}

struct cli_progress cli_progress;

static void index_progress(long events, void *payload)
{
	struct cli_progress *p = payload;
	if (!p->always && !p->drawn && events < INDEX_PROGRESS_STEP)
		return;
	p->drawn = true;
	fputc('\r', stderr);
	fprintf(stderr, _("Indexing: %ld events"), events);
	fflush(stderr);
}

void cli_progress_end(void)
{
	if (cli_progress.drawn)
		fputc('\n', stderr);
	cli_progress.drawn = false;
}

int cli_open(cli_args *a, workspace **ws)
{
	char *home;
	if (workspace_home(a->home_opt, &home) != 0)
		return cli_error();
	if (isatty(STDERR_FILENO))
		index_set_default_progress(index_progress, &cli_progress);
	/* list reads only the index: no ledger when the index is known fresh */
	int rc = strcmp(a->argv[0], "list") == 0 ? workspace_open_query(ws, home) : workspace_open(ws, home);
	free(home);
	index_set_default_progress(NULL, NULL);
	if (!cli_progress.always) {
		/* only the open's indexing draws the line: a sync's own indexing
		 * comes after its progress bar */
		cli_progress_end();
		if (rc == 0)
			index_set_progress((*ws)->index, NULL, NULL);
	}
	if (rc)
		return cli_error();
	(*ws)->pin_cb = cli_pin_cb;
	/* Commands that record something take the live position when gpsd
	 * answers (no gpsd: nothing happens); --lat/--lon wins. */
	static const char recording[] = " case inspect reinspect order close note attach escalate reopen "
					"correct approve return ";
	char word[48];
	snprintf(word, sizeof word, " %s ", a->argv[0]);
	if (!cli_has_where && strstr(recording, word))
		gps_poll(*ws, 1500);
	if (cli_has_where) {
		(*ws)->where = (workspace_where){true, cli_lat, cli_lon, cli_acc, "manual"};
	}
	return 0;
}

void cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (s)
		printf("%s\n", s);
	free(s);
}

void cli_today(char out[11]) { util_time_local_date(util_now(), out); }

void cli_local_time(const char *at, const char *tz, char *out, size_t size)
{
	util_time_in_zone(at, tz, "%Y-%m-%d %H:%M", true, out, size);
}

int cmd_help(cli_args *a)
{
	if (a->argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
			if (strcmp(commands[i].name, a->argv[1]) == 0) {
				printf(_("usage: fieldbook %s\n  %s\n"), _(commands[i].usage),
				       _(commands[i].summary));
				return CLI_OK;
			}
		return cli_usage("help", _("no command \"%s\""), a->argv[1]);
	}
	printf(_("fieldbook %s: field inspections and cases in a signed git ledger\n\n"),
	       FIELDBOOK_VERSION);
	printf(_("usage: fieldbook [--home DIR] [--lat D --lon D] COMMAND [ARGS]\n"
		 "       fieldbook            (opens the terminal interface)\n\n"));
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		printf("  %-10s %s\n", commands[i].name, _(commands[i].summary));
	printf(_("\nWorkspace: --home DIR, else $FIELDBOOK_HOME, else $XDG_DATA_HOME/fieldbook.\n"
		 "'fieldbook help COMMAND' shows a command's options.\n"));
	return CLI_OK;
}

/* Global options come before the command: --home, --lat, --lon, --acc. */
static int global_options(int argc, char **argv, cli_args *a, int *first)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--version") == 0) {
			printf("fieldbook %s\n", FIELDBOOK_VERSION);
			exit(0);
		}
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			*first = argc;
			return -1;
		}
		if (!v)
			return cli_usage("", _("option %s needs a value"), o);
		if (strcmp(o, "--home") == 0)
			a->home_opt = v;
		else if (strcmp(o, "--lat") == 0)
			cli_lat = atof(v), cli_has_where = true;
		else if (strcmp(o, "--lon") == 0)
			cli_lon = atof(v), cli_has_where = true;
		else if (strcmp(o, "--acc") == 0)
			cli_acc = atof(v);
		else
			return cli_usage("", _("unknown option %s"), o);
		i++;
	}
	*first = i;
	return 0;
}

int main(int argc, char **argv)
{
	cli_args a = {0};
	int first = 1;
	i18n_init();
	int rc = global_options(argc, argv, &a, &first);
	if (rc > 0)
		return rc;
	if (rc < 0 || first >= argc) {
		a.argc = 1;
		a.argv = (char *[]){"tui", NULL};
		if (rc < 0)
			return cmd_help(&a);
		return cmd_tui(&a);
	}
	a.argc = argc - first;
	a.argv = argv + first;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, a.argv[0]) == 0)
			return commands[i].fn(&a);
	fprintf(stderr, _("fieldbook: unknown command \"%s\"; see 'fieldbook help'\n"), a.argv[0]);
	return CLI_USAGE;
}
