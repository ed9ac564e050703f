/*
 * cli_trust: keys, PIN, roster, verify and supervisor review.
 */
#include "cli.h"
#include "core/action.h"
#include "core/agent.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/review.h"
#include "core/sign.h"
#include "core/util.h"
#include "core/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

/* PIN from $FIELDBOOK_PIN (scripts, tests) or the terminal, echo off. */
int cli_read_pin(const char *prompt, char *buf, size_t size)
{
	const char *env = getenv("FIELDBOOK_PIN");
	if (env) {
		snprintf(buf, size, "%s", env);
		return 0;
	}
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return error_set(ERR_STATE, _("the officer key is locked: run in a terminal to enter "
					      "the PIN, or set FIELDBOOK_PIN"));
	struct termios old, quiet;
	int fd = fileno(tty);
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	fputs(prompt, tty);
	fflush(tty);
	char *got = fgets(buf, (int)size, tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!got)
		return error_set(ERR_STATE, _("no PIN given"));
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int cli_pin_cb(workspace *ws, const char *prompt, char *buf, size_t size, void *payload)
{
	(void)ws;
	(void)payload;
	return cli_read_pin(prompt, buf, size);
}

/* New PIN: $FIELDBOOK_PIN, or asked twice on the terminal. */
int cli_new_pin(char *buf, size_t size)
{
	char again[256];
	int rc;
	if (getenv("FIELDBOOK_PIN"))
		return cli_read_pin("", buf, size);
	if ((rc = cli_read_pin(_("Choose a PIN (at least 6 characters): "), buf, size)) ||
	    (rc = cli_read_pin(_("Repeat the PIN: "), again, sizeof again)))
		return rc;
	if (strcmp(buf, again) != 0)
		return error_set(ERR_INVALID, _("the two PINs differ"));
	return 0;
}

int cmd_key(cli_args *a)
{
	char *pos[1], pub[160], fp[96];
	int n, rc;
	if ((rc = cli_parse(a, NULL, pos, 1, &n)))
		return rc;
	if (n != 1 || (strcmp(pos[0], "show") != 0 && strcmp(pos[0], "create") != 0))
		return cli_usage("key", _("use: key show | key create"));
	if (strcmp(pos[0], "create") == 0) {
		char *home, pin[256];
		if (workspace_home(a->home_opt, &home))
			return cli_error();
		rc = cli_new_pin(pin, sizeof pin) || workspace_key_create(home, pin, pub, sizeof pub);
		free(home);
		if (rc)
			return cli_error();
	} else {
		workspace *ws;
		if ((rc = cli_open(a, &ws)))
			return rc;
		rc = workspace_public_key(ws, pub, sizeof pub);
		workspace_free(ws);
		if (rc)
			return cli_error();
	}
	sign_fingerprint(pub, fp, sizeof fp);
	printf("%s\n%s\n", pub, fp);
	return CLI_OK;
}

/* --- roster ------------------------------------------------------------------------------------ */

static int roster_add(cli_args *a)
{
	action_roster_params p = {0};
	cli_opt opts[] = {{"officer", 's', &p.member}, {"name", 's', &p.name}, {"unit", 's', &p.unit},
			  {"role", 's', &p.role}, {"key", 's', &p.key}, {"from", 's', &p.valid_from},
			  {"until", 's', &p.valid_until}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	rc = action_roster_add(ws, &p, eid);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf(_("%s  roster: %s added as %s\n"), eid, p.member, p.role);
	return CLI_OK;
}

static int roster_retire(cli_args *a)
{
	const char *member = NULL, *key = NULL, *at = NULL;
	cli_opt opts[] = {{"officer", 's', &member}, {"key", 's', &key}, {"at", 's', &at}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	rc = action_roster_retire(ws, member, key, at, eid);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf(_("%s  roster: %s retired\n"), eid, member);
	return CLI_OK;
}

static int roster_print(cli_args *a, bool signers)
{
	bool json = false;
	const char *file = NULL;
	cli_opt opts[] = {{"json", 'b', &json}, {"output", 's', &file}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws;
	verify_roster *r;
	if ((rc = cli_parse(a, opts, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	if (index_roster(ws->index, &r) != 0) {
		workspace_free(ws);
		return cli_error();
	}
	if (signers) {
		char *text = verify_allowed_signers(r, NULL);
		if (file)
			rc = util_write_file(file, text, strlen(text), 0644) ? cli_error() : CLI_OK;
		else
			fputs(text, stdout);
		free(text);
	} else if (json) {
		cli_print_json(verify_roster_entries(r));
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(verify_roster_entries(r), i, e) {
			char fp[96] = "";
			sign_fingerprint(event_str(e, "key"), fp, sizeof fp);
			printf("%-12s %-10s %-6s %-10s %s %s%s%s\n", event_str(e, "officer"), event_str(e, "role"),
			       event_str(e, "unit"), event_str(e, "name"), fp, event_str(e, "from"),
			       *event_str(e, "until") ? " .. " : "", event_str(e, "until"));
		}
	}
	size_t i;
	json_t *p;
	json_array_foreach(verify_roster_problems(r), i, p)
		fprintf(stderr, _("fieldbook: roster: %s: %s\n"), event_str(p, "event"), event_str(p, "problem"));
	verify_roster_free(r);
	workspace_free(ws);
	return rc;
}

int cmd_roster(cli_args *a)
{
	if (a->argc < 2)
		return cli_usage("roster", _("use: roster add|show|retire|allowed-signers"));
	const char *sub = a->argv[1];
	cli_args rest = {a->home_opt, a->argc - 1, a->argv + 1};
	rest.argv[0] = a->argv[0];
	int rc;
	if (strcmp(sub, "add") == 0)
		rc = roster_add(&rest);
	else if (strcmp(sub, "retire") == 0)
		rc = roster_retire(&rest);
	else if (strcmp(sub, "show") == 0)
		rc = roster_print(&rest, false);
	else if (strcmp(sub, "allowed-signers") == 0)
		rc = roster_print(&rest, true);
	else
		rc = cli_usage("roster", _("unknown subcommand \"%s\""), sub);
	a->home_opt = rest.home_opt;
	return rc;
}

/* --- verify ---------------------------------------------------------------------------------------- */

static void print_problems(const json_t *list, const char *key)
{
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
		printf("    %s %.*s: %s\n", key, strcmp(key, "commit") == 0 ? 12 : 64,
		       event_str(p, key), event_str(p, "problem"));
}

int cmd_verify(cli_args *a)
{
	const char *case_id = NULL;
	bool json = false;
	cli_opt opts[] = {{"case", 's', &case_id}, {"json", 'b', &json}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws;
	json_t *rep;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n == 1)
		return cli_verify_package(pos[0], json);
	if ((rc = cli_open(a, &ws)))
		return rc;
	if (audit_run(ws, case_id, &rep) != 0) {
		workspace_free(ws);
		return cli_error();
	}
	bool ok = json_is_true(json_object_get(rep, "ok"));
	if (json) {
		cli_print_json(rep);
	} else {
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(rep, "cases"), i, c) {
			bool cok = json_is_true(json_object_get(c, "ok"));
			printf("%s  %s (%lld %s)\n", event_str(c, "case"), cok ? _("verified") : _("FAILED"),
			       json_integer_value(json_object_get(c, "events")), _("events"));
			print_problems(json_object_get(c, "problems"), "event");
		}
		const json_t *ro = json_object_get(rep, "roster"), *co = json_object_get(rep, "commits");
		if (json_array_size(json_object_get(ro, "problems"))) {
			printf("%s\n", _("roster: FAILED"));
			print_problems(json_object_get(ro, "problems"), "event");
		}
		if (json_array_size(json_object_get(co, "problems"))) {
			printf("%s\n", _("commits: FAILED"));
			print_problems(json_object_get(co, "problems"), "commit");
		}
		json_array_foreach(json_object_get(rep, "files"), i, c)
			printf(_("file %s: %s\n"), event_str(c, "path"), event_str(c, "problem"));
		const json_t *s = json_object_get(rep, "summary");
		printf(_("%s: %lld cases (%lld failed), %lld events (%lld invalid), %lld commits checked, "
			 "%lld roster entries\n"),
		       ok ? _("VERIFIED") : _("FAILED"), json_integer_value(json_object_get(s, "cases")),
		       json_integer_value(json_object_get(s, "failed_cases")),
		       json_integer_value(json_object_get(s, "events")),
		       json_integer_value(json_object_get(s, "invalid_events")),
		       json_integer_value(json_object_get(co, "checked")),
		       json_integer_value(json_object_get(ro, "entries")));
	}
	json_decref(rep);
	workspace_free(ws);
	return ok ? CLI_OK : CLI_FAIL;
}

/* --- review ------------------------------------------------------------------------------------------ */

int cmd_review(cli_args *a)
{
	bool json = false, queue = false;
	cli_opt opts[] = {{"json", 'b', &json}, {"queue", 'b', &queue}, {0}};
	char *pos[1], today[11];
	int n, rc;
	workspace *ws;
	json_t *q;
	if ((rc = cli_parse(a, opts, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	cli_today(today);
	if (review_queue(ws, today, &q) != 0) {
		workspace_free(ws);
		return cli_error();
	}
	if (json)
		cli_print_json(q);
	size_t i;
	json_t *it;
	json_array_foreach(q, i, it)
		if (!json) {
			char addr[256];
			util_text_fit(event_str(it, "address"), 20, true, addr, sizeof addr);
			printf("%-8s %-26s %s %s\n", event_str(it, "kind"), event_str(it, "case"), addr,
			       event_str(it, "detail"));
		}
	if (!json && !json_array_size(q))
		fprintf(stderr, _("nothing waits for review\n"));
	json_decref(q);
	workspace_free(ws);
	return CLI_OK;
}

/* Warn (the step is still recorded: the roster on this device may be
 * older than the hub's) when the local roster does not make us a supervisor. */
static void warn_role(workspace *ws)
{
	verify_roster *r;
	char pub[160], now[32];
	if (workspace_public_key(ws, pub, sizeof pub) || index_roster(ws->index, &r))
		return;
	util_time_rfc3339(util_now(), now);
	const char *role = verify_roster_role(r, ws->officer, pub, now);
	if (!role || strcmp(role, ROLE_SUPERVISOR) != 0)
		fprintf(stderr, _("fieldbook: warning: the roster on this device does not give %s the "
				  "supervisor role; this review will be flagged as invalid unless it does\n"),
			ws->officer);
	verify_roster_free(r);
}

static int decide(cli_args *a, bool approve)
{
	const char *reason = NULL;
	cli_opt opts[] = {{approve ? "note" : "reason", 's', &reason}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1)
		return cli_usage(a->argv[0], _("which case?"));
	if ((rc = cli_open(a, &ws)))
		return rc;
	warn_role(ws);
	rc = review_decide(ws, pos[0], approve, reason, eid);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf("%s  %s\n", eid, approve ? _("approved") : _("returned"));
	return CLI_OK;
}

int cmd_approve(cli_args *a) { return decide(a, true); }
int cmd_return(cli_args *a) { return decide(a, false); }

/* --- session unlock (key agent) ------------------------------------------------------------ */

static void agent_socket(workspace *ws, char *out, size_t size)
{
	workspace_path(ws, "agent.sock", out, size);
}

int cmd_unlock(cli_args *a)
{
	const char *minutes = NULL;
	cli_opt opts[] = {{"for", 's', &minutes}, {0}};
	char *pos[1], sock[4096];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, opts, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	long idle = json_integer_value(json_object_get(ws->config, "unlock_timeout_min"));
	if (minutes)
		idle = strtol(minutes, NULL, 10);
	if (idle <= 0 || idle > 24 * 60)
		idle = 30;
	agent_socket(ws, sock, sizeof sock);
	if (workspace_unlock(ws) != 0) {
		workspace_free(ws);
		return cli_error();
	}
	if (ws->use_agent) {
		printf(_("Already unlocked (a key agent is running).\n"));
		workspace_free(ws);
		return CLI_OK;
	}
	struct sign_key *key = ws->key;
	ws->key = NULL; /* the agent process owns it now */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		agent_serve(key, sock, (int)idle * 60);
		_exit(0);
	}
	sign_key_free(key);
	char pub[160];
	for (int i = 0; pid > 0 && i < 100 && agent_public(sock, pub, sizeof pub) != 0; i++)
		usleep(20000);
	workspace_free(ws);
	if (pid < 0 || agent_public(sock, pub, sizeof pub) != 0)
		return cli_error();
	printf(_("Unlocked: events are signed without asking for the PIN until %ld minutes pass "
		 "without use, or 'fieldbook lock'.\n"), idle);
	return CLI_OK;
}

int cmd_lock(cli_args *a)
{
	char *pos[1], sock[4096];
	int n, rc;
	workspace *ws;
	if ((rc = cli_parse(a, NULL, pos, 1, &n)) || (rc = cli_open(a, &ws)))
		return rc;
	agent_socket(ws, sock, sizeof sock);
	rc = agent_quit(sock);
	workspace_free(ws);
	if (rc == ERR_NOTFOUND)
		printf(_("Not unlocked.\n"));
	else if (rc)
		return cli_error();
	else
		printf(_("Locked.\n"));
	return CLI_OK;
}
