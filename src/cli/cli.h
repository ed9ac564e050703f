/*
 * cli: subcommands over the core API.  One table (main.c) lists every
 * command with its usage and help; handlers live in cli_*.c.
 */
#ifndef FB_CLI_H
#define FB_CLI_H

#include <stdbool.h>
#include <jansson.h>

#include "core/workspace.h"

typedef struct {
	const char *home_opt;
	int argc;
	char **argv; /* argv[0] is the command name */
} cli_args;

typedef int (*cli_fn)(cli_args *a);

typedef struct {
	const char *name;
	cli_fn fn;
	const char *usage;   /* N_() */
	const char *summary; /* N_() */
} cli_command;

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Print the core's last error as "fieldbook: ..." and return CLI_FAIL. */
int cli_error(void);
/* Print a usage error for a command and return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the workspace named by --home / the environment; applies --lat/--lon. */
int cli_open(cli_args *a, workspace **ws);
void cli_print_json(const json_t *j);
/* Today's local date (YYYY-MM-DD). */
void cli_today(char out[11]);
/* "2026-11-23 20:47 +08:00" for an event's at + tz. */
void cli_local_time(const char *at, const char *tz, char *out, size_t size);
/* Current position given by --lat/--lon on the command line. */
extern bool cli_has_where;
/* "Indexing: N events" on a terminal while the index is built: shown once
 * 1,000 events are done, or from the start when `always` (reindex). */
extern struct cli_progress {
	bool always, drawn;
} cli_progress;
/* End the progress line, if one was drawn. */
void cli_progress_end(void);
extern double cli_lat, cli_lon, cli_acc;

int cmd_init(cli_args *a);
int cmd_forms(cli_args *a);
int cmd_form(cli_args *a);
int cmd_case(cli_args *a);
int cmd_inspect(cli_args *a);
int cmd_reinspect(cli_args *a);
int cmd_order(cli_args *a);
int cmd_close(cli_args *a);
int cmd_note(cli_args *a);
int cmd_escalate(cli_args *a);
int cmd_reopen(cli_args *a);
int cmd_correct(cli_args *a);
int cmd_list(cli_args *a);
int cmd_show(cli_args *a);
int cmd_log(cli_args *a);
int cmd_reindex(cli_args *a);
int cmd_drafts(cli_args *a);
int cmd_help(cli_args *a);
int cmd_key(cli_args *a);
int cmd_unlock(cli_args *a);
int cmd_lock(cli_args *a);
int cmd_roster(cli_args *a);
int cmd_verify(cli_args *a);
int cmd_review(cli_args *a);
int cmd_approve(cli_args *a);
int cmd_return(cli_args *a);
/* PIN handling (cli_trust.c). */
int cli_read_pin(const char *prompt, char *buf, size_t size);
int cli_new_pin(char *buf, size_t size);
int cli_pin_cb(workspace *ws, const char *prompt, char *buf, size_t size, void *payload);
int cmd_tui(cli_args *a);
int cmd_remote(cli_args *a);
int cmd_sync(cli_args *a);
int cmd_bundle(cli_args *a);
int cmd_hook(cli_args *a);
int cmd_attach(cli_args *a);
int cmd_photo(cli_args *a);
int cmd_export(cli_args *a);
int cmd_report(cli_args *a);
int cmd_stats(cli_args *a);
int cmd_export_all(cli_args *a);
/* `verify PKG`: check an evidence package (cli_export.c). */
int cli_verify_package(const char *path, bool json);

const cli_command *cli_commands(size_t *n);

#endif

/* Table-driven option parsing for one command. */
typedef struct {
	const char *name; /* long option without "--" */
	char kind;        /* 's' string, 'b' flag, 'm' repeatable string */
	void *target;     /* const char **, bool *, or json_t * (array) */
} cli_opt;

/* Parse a->argv[1..]: options from the table (plus --home/--lat/--lon/--acc
 * anywhere) and positional arguments into pos (at most maxpos; *npos set).
 * Returns 0 or CLI_USAGE after printing the problem. */
int cli_parse(cli_args *a, const cli_opt *opts, char **pos, int maxpos, int *npos);
