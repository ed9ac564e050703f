/*
 * audit: recompute every verdict from the ledger.  See audit.h.
 */
#include "audit.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "sign.h"
#include "util.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct commit_ctx {
	const verify_roster *roster;
	const json_t *only;  /* commit ids to check, NULL: all */
	json_t *problems;
	long checked;
};

static void commit_problem(struct commit_ctx *c, const char *commit, const char *problem)
{
	json_array_append_new(c->problems, json_pack("{s:s, s:s}", "commit", commit, "problem", problem));
}

static int check_commit(const char *commit, const char *email, time_t when, int parents,
			const char *sig, const char *data, size_t len, void *payload)
{
	struct commit_ctx *c = payload;
	char signer[160], officer[96], at[32], msg[512];
	if (parents == 0 || (c->only && !json_object_get(c->only, commit)))
		return 0; /* the unsigned start commit; or not this case's */
	c->checked++;
	if (!sig) {
		commit_problem(c, commit, _("commit is not signed"));
		return 0;
	}
	if (sign_verify(SIGN_NS_GIT, data, len, sig, strlen(sig), signer, sizeof signer) != 0) {
		snprintf(msg, sizeof msg, _("commit signature: %s"), error_last());
		commit_problem(c, commit, msg);
		return 0;
	}
	snprintf(officer, sizeof officer, "%.*s", (int)strcspn(email, "@"), email);
	util_time_rfc3339(when, at);
	if (!verify_roster_role(c->roster, officer, signer, at)) {
		snprintf(msg, sizeof msg, _("commit signed by a key the roster does not give %s at %s"),
			 officer, at);
		commit_problem(c, commit, msg);
	}
	return 0;
}

/* Group the events' verdicts by case. */
static json_t *case_reports(workspace *ws, const verify_roster *r, const char *case_id,
			    json_t *commits, long *nevents, long *nbad)
{
	json_t *list, *out = json_array();
	if (case_id)
		list = json_pack("[{s:s}]", "id", case_id);
	else if (index_case_list(ws->index, "all", NULL, NULL, &list) != 0)
		return out;
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *rows, *problems = json_array();
		if (index_case_events(ws->index, id, &rows) != 0)
			continue;
		size_t k;
		json_t *row;
		json_array_foreach(rows, k, row) {
			const json_t *ev = json_object_get(row, "event");
			const char *path = event_str(row, "path");
			char *text = NULL, *sig = NULL, sigpath[600], reason[512] = "";
			size_t tlen = 0, slen = 0;
			snprintf(sigpath, sizeof sigpath, "%s.sig", path);
			json_object_set_new(commits, event_str(row, "commit"), json_true());
			(*nevents)++;
			if (ledger_read(ws->ledger, path, &text, &tlen) != 0)
				snprintf(reason, sizeof reason, "%s", error_last());
			else if (ledger_read(ws->ledger, sigpath, &sig, &slen) != 0)
				error_clear();
			if (!reason[0])
				verify_event(r, ev, text, tlen, sig, slen, reason, sizeof reason);
			if (reason[0]) {
				(*nbad)++;
				json_array_append_new(problems, json_pack("{s:s, s:s, s:s}", "event",
									  event_str(ev, "id"), "type",
									  event_str(ev, "type"), "problem", reason));
			}
			free(text);
			free(sig);
		}
		json_array_append_new(out, json_pack("{s:s, s:b, s:I, s:o}", "case", id, "ok",
						     json_array_size(problems) == 0, "events",
						     (json_int_t)json_array_size(rows), "problems", problems));
		json_decref(rows);
	}
	json_decref(list);
	return out;
}

int audit_run(workspace *ws, const char *case_id, json_t **report)
{
	verify_roster *r;
	json_t *files = NULL;
	int rc;
	if (case_id && !case_id_valid(case_id))
		return error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	if ((rc = index_sync(ws->index, ws->ledger)) || (rc = index_roster(ws->index, &r)))
		return rc;
	if (case_id) {
		json_t *st;
		if ((rc = index_case_get(ws->index, case_id, &st))) {
			verify_roster_free(r);
			return rc;
		}
		json_decref(st);
	}
	long nevents = 0, nbad = 0;
	json_t *commits = json_object();
	json_t *cases = case_reports(ws, r, case_id, commits, &nevents, &nbad);
	struct commit_ctx cc = {r, case_id ? commits : NULL, json_array(), 0};
	rc = ledger_walk_commits(ws->ledger, check_commit, &cc);
	index_problems(ws->index, &files);
	const json_t *rp = verify_roster_problems(r);
	long failed = 0;
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c)
		failed += !json_is_true(json_object_get(c, "ok"));
	bool ok = rc == 0 && failed == 0 && json_array_size(cc.problems) == 0 &&
		  (case_id || (json_array_size(rp) == 0 && json_array_size(files) == 0));
	*report = json_pack("{s:b, s:o, s:{s:I, s:O}, s:{s:I, s:o}, s:o, s:{s:I, s:I, s:I, s:I}}",
			    "ok", ok, "cases", cases, "roster", "entries",
			    (json_int_t)json_array_size(verify_roster_entries(r)), "problems", rp,
			    "commits", "checked", (json_int_t)cc.checked, "problems", cc.problems,
			    "files", files ? files : json_array(), "summary", "cases",
			    (json_int_t)json_array_size(cases), "failed_cases", (json_int_t)failed,
			    "events", (json_int_t)nevents, "invalid_events", (json_int_t)nbad);
	json_decref(commits);
	verify_roster_free(r);
	return rc;
}

/* --- the hub's rule for pushes -------------------------------------------------------- */

/* Roster of a commit: every roster/<id>.json with its .sig. */
static int roster_at(ledger *l, const char *commit, const char *trust_root, verify_roster **out)
{
	char **names;
	size_t n;
	json_t *items = json_array();
	int rc = ledger_list_at(l, commit, "roster", &names, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t len = strlen(names[i]), tl, sl;
		char *text = NULL, *sig = NULL, sigpath[600];
		json_t *ev = NULL;
		if (len < 5 || strcmp(names[i] + len - 5, ".json") != 0)
			continue;
		snprintf(sigpath, sizeof sigpath, "%s.sig", names[i]);
		if (ledger_read_at(l, commit, names[i], &text, &tl) == 0 &&
		    event_parse(text, tl, names[i], &ev) == 0) {
			if (ledger_read_at(l, commit, sigpath, &sig, &sl) != 0)
				error_clear();
			json_array_append_new(items, json_pack("{s:o, s:s, s:s?}", "event", ev, "text", text,
							      "sig", sig));
		}
		free(text);
		free(sig);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0)
		rc = verify_roster_build(out, items, trust_root);
	json_decref(items);
	return rc;
}

/* The hub's check of one push: the roster as of the tip, then every added
 * event against it.  An event's .sig is normally the next file of the same
 * commit: the event waits for it (no lookup from the tip's root). */
typedef struct {
	char commit[41], path[512];
	json_t *ev;
	char *text;
	size_t len;
} pending_event;

struct audit_pusher {
	ledger *l;
	char tip[41];
	verify_roster *roster;
	char *roster_error; /* reported after the layout checks */
	pending_event cur;  /* the event waiting for its .sig (cur.ev NULL: none) */
	/* events whose .sig did not follow them: checked after the walk, since
	 * reading the .sig needs libgit2, which the walk's thread owns (walkpipe.h) */
	pending_event *later;
	size_t nlater, caplater;
};

static void pending_clear(pending_event *e)
{
	json_decref(e->ev);
	free(e->text);
	e->ev = NULL;
	e->text = NULL;
}

static int check_pending(audit_pusher *p, pending_event *e, const char *sig, size_t slen)
{
	char reason[512];
	bool ok = verify_event(p->roster, e->ev, e->text, e->len, sig, sig ? slen : 0, reason,
			       sizeof reason);
	if (!ok)
		return error_set(ERR_CONFLICT, _("commit %.12s: %s: %s"), e->commit, e->path, reason);
	return 0;
}

/* Check the waiting event with its .sig, or keep it for later (no sig). */
static int flush_event(audit_pusher *p, const char *sig, size_t slen)
{
	if (!p->cur.ev)
		return 0;
	if (!sig) {
		if (p->nlater == p->caplater) {
			size_t cap = p->caplater ? 2 * p->caplater : 8;
			pending_event *l = realloc(p->later, cap * sizeof *l);
			if (!l)
				return error_set(ERR_NOMEM, "out of memory");
			p->later = l;
			p->caplater = cap;
		}
		p->later[p->nlater++] = p->cur;
		p->cur = (pending_event){0};
		return 0;
	}
	int rc = check_pending(p, &p->cur, sig, slen);
	pending_clear(&p->cur);
	return rc;
}

/* After the walk: each kept event with its .sig as of the tip, if any. */
static int check_later(audit_pusher *p)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->nlater; i++) {
		char sigpath[600], *sig = NULL;
		size_t slen = 0;
		snprintf(sigpath, sizeof sigpath, "%s.sig", p->later[i].path);
		if (ledger_read_at(p->l, p->tip, sigpath, &sig, &slen) != 0)
			error_clear();
		rc = check_pending(p, &p->later[i], sig, slen);
		free(sig);
	}
	return rc;
}

static bool is_sig_of(const audit_pusher *p, const char *commit, const char *path)
{
	size_t n = strlen(p->cur.path);
	return strcmp(commit, p->cur.commit) == 0 && strncmp(path, p->cur.path, n) == 0 &&
	       strcmp(path + n, ".sig") == 0;
}

int audit_push_file(audit_pusher *p, const char *commit, const char *path, const json_t *ev,
		    const char *data, size_t len)
{
	int rc = 0;
	if (!p || p->roster_error)
		return 0;
	if (p->cur.ev && is_sig_of(p, commit, path))
		return flush_event(p, data, len);
	if ((rc = flush_event(p, NULL, 0)))
		return rc;
	char case_id[96], event_id[96];
	if (!ev || !event_path_parse(path, case_id, event_id))
		return 0;
	if (!(p->cur.text = malloc(len + 1)))
		return error_set(ERR_NOMEM, "out of memory");
	memcpy(p->cur.text, data, len);
	p->cur.text[len] = '\0';
	p->cur.len = len;
	p->cur.ev = json_incref((json_t *)ev);
	snprintf(p->cur.commit, sizeof p->cur.commit, "%s", commit);
	snprintf(p->cur.path, sizeof p->cur.path, "%s", path);
	return 0;
}

int audit_push_open(ledger *hub, const char *tip, const char *trust_root, audit_pusher **out)
{
	verify_roster *r;
	*out = NULL;
	int rc = roster_at(hub, tip, trust_root, &r);
	if (rc)
		return rc;
	if ((!trust_root || !*trust_root) && json_array_size(verify_roster_entries(r)) == 0 &&
	    json_array_size(verify_roster_problems(r)) == 0) {
		/* A unit without a roster yet: nothing can be verified. */
		verify_roster_free(r);
		return 0;
	}
	audit_pusher *p = calloc(1, sizeof *p);
	if (!p) {
		verify_roster_free(r);
		return error_set(ERR_NOMEM, "out of memory");
	}
	p->l = hub;
	p->roster = r;
	snprintf(p->tip, sizeof p->tip, "%s", tip);
	const json_t *problems = verify_roster_problems(r);
	if (json_array_size(problems)) {
		const json_t *pb = json_array_get(problems, 0);
		error_set(ERR_CONFLICT, _("roster change %s: %s"), event_str(pb, "event"),
			  event_str(pb, "problem"));
		p->roster_error = util_strdup(error_last());
	}
	*out = p;
	return 0;
}

int audit_push_close(audit_pusher *p, bool check, char *root_out, size_t root_size)
{
	int rc = 0;
	if (root_out)
		root_out[0] = '\0';
	if (!p)
		return 0;
	if (check && p->roster_error)
		rc = error_set(ERR_CONFLICT, "%s", p->roster_error);
	else if (check && (rc = flush_event(p, NULL, 0)) == 0)
		rc = check_later(p);
	if (rc == 0 && check && root_out)
		snprintf(root_out, root_size, "%s", verify_roster_root(p->roster) ? verify_roster_root(p->roster) : "");
	pending_clear(&p->cur);
	for (size_t i = 0; i < p->nlater; i++)
		pending_clear(&p->later[i]);
	free(p->later);
	free(p->roster_error);
	verify_roster_free(p->roster);
	free(p);
	return rc;
}
