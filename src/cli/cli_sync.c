/*
 * cli_sync: remote, sync, bundle and the hub's pre-receive hook.
 * Progress goes to stderr as a bar when stderr is a terminal (quiet
 * otherwise); summaries go to stdout.
 */
#include "cli.h"
#include "core/bundle.h"
#include "core/error.h"
#include "core/i18n.h"
#include "core/sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- progress ------------------------------------------------------------- */

typedef struct {
	bool drawn;
	const char *stage;
	struct timespec last;
} bar_state;

static long ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void human_bytes(size_t n, char *out, size_t size)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 3)
		v /= 1024, u++;
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void draw_bar(const sync_progress *p, void *payload)
{
	bar_state *b = payload;
	bool done = p->total && p->done >= p->total;
	if (b->stage == p->stage && !done && b->drawn && ms_since(&b->last) < 100)
		return;
	if (b->drawn && b->stage != p->stage)
		fputc('\n', stderr);
	char bar[31], bytes[32];
	int fill = p->total ? (int)(30.0 * (double)p->done / (double)p->total) : 0;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	human_bytes(p->bytes, bytes, sizeof bytes);
	fprintf(stderr, "\r%-6s [%s] %zu/%zu %s, %s ", p->stage, bar, p->done, p->total,
		_("objects"), bytes);
	fflush(stderr);
	b->drawn = true;
	b->stage = p->stage;
	clock_gettime(CLOCK_MONOTONIC, &b->last);
}

static void progress_setup(sync_options *o, bar_state *b)
{
	memset(b, 0, sizeof *b);
	if (isatty(STDERR_FILENO)) {
		o->progress = draw_bar;
		o->payload = b;
	}
}

static void progress_end(bar_state *b)
{
	if (b->drawn)
		fputc('\n', stderr);
}

/* --- remote --------------------------------------------------------------- */

static int remote_list(workspace *ws, bool json)
{
	json_t *list;
	if (sync_remote_list(ws->ledger, &list) != 0)
		return cli_error();
	size_t i;
	json_t *r;
	if (json)
		cli_print_json(list);
	else
		json_array_foreach(list, i, r)
			printf("%-12s %s\n", json_string_value(json_object_get(r, "name")),
			       json_string_value(json_object_get(r, "url")));
	json_decref(list);
	return CLI_OK;
}

int cmd_remote(cli_args *a)
{
	bool json = false;
	cli_opt opts[] = {{"json", 'b', &json}, {0}};
	char *pos[3];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 3, &n)))
		return rc;
	const char *verb = n ? pos[0] : "list";
	bool add = strcmp(verb, "add") == 0, rm = strcmp(verb, "remove") == 0;
	if ((add && n != 3) || (rm && n != 2) || (!add && !rm && (strcmp(verb, "list") || n > 1)))
		return cli_usage("remote", _("use: remote add NAME URL | remote list | remote remove NAME"));
	if ((rc = cli_open(a, &ws)))
		return rc;
	if (add)
		rc = sync_remote_add(ws->ledger, pos[1], pos[2]) ? cli_error() : CLI_OK;
	else if (rm)
		rc = sync_remote_remove(ws->ledger, pos[1]) ? cli_error() : CLI_OK;
	else
		rc = remote_list(ws, json);
	workspace_free(ws);
	return rc;
}

/* --- sync ------------------------------------------------------------------ */

static void print_summary(const sync_summary *s, bool json, const char *what)
{
	if (json) {
		json_t *j = sync_summary_json(s);
		cli_print_json(j);
		json_decref(j);
		return;
	}
	const char *who = s->remote[0] ? s->remote : s->url;
	int cases = s->cases ? (int)json_object_size(s->cases) : 0;
	if (s->refused)
		printf(_("%s %s: refused, nothing was changed\n"), what, who);
	else if (!s->events_received && !s->events_sent && !s->commits_received && !s->commits_sent)
		printf(_("%s %s: up to date\n"), what, who);
	else
		printf(_("%s %s: %d events received (%d cases changed), %d events sent%s\n"), what, who,
		       s->events_received, cases, s->events_sent,
		       s->merged ? _(", histories merged") : "");
}

static int finish(workspace *ws, int rc, sync_summary *s, bool json, const char *what)
{
	if (rc == 0 || s->refused)
		print_summary(s, json, what);
	if (rc)
		fprintf(stderr, s->refused ? _("fieldbook: refused: %s\n") : "fieldbook: %s\n",
			error_last());
	sync_summary_clear(s);
	workspace_free(ws);
	return rc ? CLI_FAIL : CLI_OK;
}

int cmd_sync(cli_args *a)
{
	bool json = false, no_push = false;
	const char *attempts = NULL;
	cli_opt opts[] = {{"json", 'b', &json}, {"no-push", 'b', &no_push},
			  {"attempts", 's', &attempts}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if ((rc = cli_open(a, &ws)))
		return rc;
	sync_options o = {.no_push = no_push, .max_attempts = attempts ? atoi(attempts) : 0};
	sync_summary s = {0};
	bar_state b;
	progress_setup(&o, &b);
	rc = sync_run(ws, n ? pos[0] : NULL, &o, &s);
	progress_end(&b);
	return finish(ws, rc, &s, json, _("sync with"));
}

/* --- bundle ------------------------------------------------------------------ */

static int bundle_create_cmd(cli_args *a, const char *file, const char *since, bool json)
{
	workspace *ws;
	bundle_info info;
	sync_options o = {0};
	bar_state b;
	int rc = cli_open(a, &ws);
	if (rc)
		return rc;
	progress_setup(&o, &b);
	rc = bundle_create(ws->ledger, file, since, &o, &info);
	progress_end(&b);
	workspace_free(ws);
	if (rc)
		return cli_error();
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:I, s:I}", "file", file, "head",
				      info.head, "prerequisites", info.prerequisites, "commits",
				      info.commits, "events", info.events, "objects",
				      (json_int_t)info.objects, "bytes", (json_int_t)info.bytes);
		cli_print_json(j);
		json_decref(j);
	} else {
		char bytes[32];
		human_bytes(info.bytes, bytes, sizeof bytes);
		printf(_("%s: %d commits, %d events, %zu objects, %s (%d prerequisites)\n"), file,
		       info.commits, info.events, info.objects, bytes, info.prerequisites);
	}
	return CLI_OK;
}

static int bundle_import_cmd(cli_args *a, const char *file, bool json)
{
	workspace *ws;
	sync_options o = {0};
	sync_summary s = {0};
	bar_state b;
	int rc = cli_open(a, &ws);
	if (rc)
		return rc;
	progress_setup(&o, &b);
	rc = bundle_import(ws, file, &o, &s);
	progress_end(&b);
	return finish(ws, rc, &s, json, _("import of"));
}

int cmd_bundle(cli_args *a)
{
	bool json = false;
	const char *since = NULL;
	cli_opt opts[] = {{"json", 'b', &json}, {"since", 's', &since}, {0}};
	char *pos[2];
	int n, rc;
	if ((rc = cli_parse(a, opts, pos, 2, &n)))
		return rc;
	if (n == 2 && strcmp(pos[0], "create") == 0)
		return bundle_create_cmd(a, pos[1], since, json);
	if (n == 2 && strcmp(pos[0], "import") == 0 && !since)
		return bundle_import_cmd(a, pos[1], json);
	return cli_usage("bundle", _("use: bundle create FILE [--since DATE|REF] | bundle import FILE"));
}

/* --- hook ---------------------------------------------------------------------- */

static int pre_receive(void)
{
	ledger *hub;
	char line[1024], old[64], new[64], ref[900];
	int rc = 0;
	if (sync_hook_open(&hub) != 0) {
		fprintf(stderr, "fieldbook: %s\n", error_last());
		return CLI_FAIL;
	}
	while (rc == 0 && fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "%63s %63s %899s", old, new, ref) != 3)
			continue;
		rc = sync_hook_check(hub, old, new, ref);
	}
	if (rc)
		fprintf(stderr, _("fieldbook: refused: %s\n"), error_last());
	ledger_free(hub);
	return rc ? CLI_FAIL : CLI_OK;
}

int cmd_hook(cli_args *a)
{
	char *pos[1];
	int n, rc;
	if ((rc = cli_parse(a, NULL, pos, 1, &n)))
		return rc;
	if (n != 1 || strcmp(pos[0], "pre-receive") != 0)
		return cli_usage("hook", _("use: hook pre-receive (installed by sync/hub-init)"));
	return pre_receive();
}
