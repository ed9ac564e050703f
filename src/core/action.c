/*
 * action: the write path.  See action.h.
 */
#include "action.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "sign.h"
#include "util.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *action_event(workspace *ws, const char *type, const char *case_id)
{
	char at[32];
	util_time_rfc3339_ms(at);
	json_t *ev = event_new(type, case_id, util_now(), ws->officer, ws->device, 0);
	if (ev)
		json_object_set_new(ev, "at", json_string(at));
	if (ev && ws->where.has)
		event_set_where(ev, ws->where.lat, ws->where.lon, ws->where.acc_m, ws->where.src);
	/* set by gps_poll when the clock is more than 5 minutes off GPS time */
	if (ev && json_is_integer(json_object_get(ws->config, "_clock_skew_s")))
		json_object_set(ev, "clock_skew_s", json_object_get(ws->config, "_clock_skew_s"));
	return ev;
}

/* Give the event its final seq and id (allocated only once checks pass). */
static int assign_id(workspace *ws, json_t *ev)
{
	long seq;
	time_t at;
	int rc = index_next_seq(ws->index, ws->device, &seq);
	if (rc)
		return rc;
	util_time_parse(event_str(ev, "at"), &at);
	char id[64];
	event_id_make(id, at, ws->device, seq);
	json_object_set_new(ev, "seq", json_integer(seq));
	json_object_set_new(ev, "id", json_string(id));
	return 0;
}

static int sign_commit(const char *buf, size_t len, char **sig, void *payload)
{
	return workspace_sign(payload, SIGN_NS_GIT, buf, len, sig);
}

static int event_file_path(const json_t *ev, char *path, size_t size)
{
	const char *case_id = event_str(ev, "case");
	if (*case_id)
		return event_path(case_id, event_str(ev, "id"), path, size);
	return roster_event_path(event_str(ev, "id"), path, size);
}

/* One commit: the event file, its SSHSIG signature, any extra files; the
 * commit itself is signed too.  Then the index catches up. */
static int commit_event(workspace *ws, json_t *ev, const ledger_file *extra, size_t nextra)
{
	char path[256], sigpath[264], email[160], *summary = NULL, *message = NULL, *text = NULL;
	char *sig = NULL;
	const char *case_id = event_str(ev, "case"), *id = event_str(ev, "id");
	ledger_file *files = calloc(nextra + 2, sizeof *files);
	int rc = 0;
	time_t at;
	if (!files || (rc = workspace_unlock(ws)) || (rc = event_file_path(ev, path, sizeof path)))
		goto done;
	if (!(text = event_dump(ev)) || !(summary = event_summary(ev)) ||
	    asprintf(&message, "%s\n\n%s%s%sEvent: %s\nOfficer: %s\n", summary, *case_id ? "Case: " : "",
		     case_id, *case_id ? "\n" : "", id, ws->officer) < 0) {
		message = NULL;
		rc = error_set(ERR_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = workspace_sign(ws, SIGN_NS_EVENT, text, strlen(text), &sig)))
		goto done;
	snprintf(sigpath, sizeof sigpath, "%s.sig", path);
	files[0] = (ledger_file){path, text, strlen(text)};
	files[1] = (ledger_file){sigpath, sig, strlen(sig)};
	for (size_t i = 0; i < nextra; i++)
		files[i + 2] = extra[i];
	util_time_parse(event_str(ev, "at"), &at);
	char tz[8];
	util_time_tz(at, tz);
	int tzmin = ((tz[1] - '0') * 10 + (tz[2] - '0')) * 60 + (tz[4] - '0') * 10 + (tz[5] - '0');
	snprintf(email, sizeof email, "%s@%s.fieldbook", ws->officer, ws->unit);
	ledger_author author = {ws->name, email, at, tz[0] == '-' ? -tzmin : tzmin};
	ledger_set_signer(ws->ledger, sign_commit, ws);
	rc = ledger_append(ws->ledger, files, nextra + 2, &author, message, NULL);
	ledger_set_signer(ws->ledger, NULL, NULL);
	if (rc == 0)
		rc = index_sync(ws->index, ws->ledger);
done:
	free(files);
	free(text);
	free(sig);
	free(summary);
	free(message);
	return rc;
}

int action_record(workspace *ws, const json_t *state, json_t *event,
		  const ledger_file *extra, size_t nextra, char event_id[64])
{
	int rc;
	if ((rc = case_check(state, event)) || (rc = assign_id(ws, event)))
		return rc;
	if ((rc = commit_event(ws, event, extra, nextra)))
		return rc;
	if (event_id)
		snprintf(event_id, 64, "%s", event_str(event, "id"));
	return 0;
}

static int load_state(workspace *ws, const char *case_id, json_t **st)
{
	if (!case_id_valid(case_id))
		return error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	return index_case_get(ws->index, case_id, st);
}

/* Load a case and record a simple event with the given string fields. */
static int record_simple(workspace *ws, const char *case_id, const char *type,
			 const char *key, const char *value, char event_id[64])
{
	json_t *st = NULL, *ev = NULL;
	int rc = load_state(ws, case_id, &st);
	if (rc == 0) {
		ev = action_event(ws, type, case_id);
		if (key && value && *value)
			json_object_set_new(ev, key, json_string(value));
		rc = action_record(ws, st, ev, NULL, 0, event_id);
	}
	json_decref(ev);
	json_decref(st);
	return rc;
}

/* --- case new --------------------------------------------------------------------- */

/* The form text goes into the ledger on first use; a different text under
 * the same id and version is refused (bump the version). */
static int form_file(workspace *ws, form *f, ledger_file *file, char path[256], char sha[65])
{
	size_t len;
	const char *text = form_text(f, &len);
	util_sha256_hex(text, len, sha);
	snprintf(path, 256, "forms/%s/%d.yaml", form_id(f), form_version(f));
	*file = (ledger_file){path, text, len};
	char *old;
	size_t old_len;
	if (ledger_read(ws->ledger, path, &old, &old_len) != 0) {
		error_clear();
		return 0;
	}
	char old_sha[65];
	util_sha256_hex(old, old_len, old_sha);
	free(old);
	if (strcmp(old_sha, sha) != 0)
		return error_set(ERR_CONFLICT, _("form %s version %d in the ledger differs from this "
						 "file: give the changed form a new version"),
				 form_id(f), form_version(f));
	return 0;
}

static int make_case_id(workspace *ws, char out[96])
{
	char day[11], compact[9];
	long n;
	util_time_local_date(util_now(), day);
	snprintf(compact, sizeof compact, "%.4s%.2s%.2s", day, day + 5, day + 8);
	int rc = index_next_case_number(ws->index, ws->device, compact, &n);
	if (rc == 0)
		snprintf(out, 96, "%s-%s-%s-%ld", ws->unit, compact, ws->device, n);
	return rc;
}

int action_case_new(workspace *ws, const action_case_params *p, char case_id[96])
{
	form *f = NULL;
	json_t *ev = NULL;
	ledger_file ff;
	char fpath[256], sha[65];
	int rc;
	if (!p->address || !*p->address)
		return error_set(ERR_INVALID, _("--address is required"));
	if (p->has_location && (p->lat < -90 || p->lat > 90 || p->lon < -180 || p->lon > 180))
		return error_set(ERR_INVALID, _("location %.6f, %.6f is not on Earth"), p->lat, p->lon);
	if ((rc = workspace_form_find(ws, p->form_id, &f, NULL)) ||
	    (rc = form_file(ws, f, &ff, fpath, sha)) || (rc = make_case_id(ws, case_id)))
		goto done;
	ev = action_event(ws, EV_CASE_OPENED, case_id);
	json_object_set_new(ev, "form", json_pack("{s:s, s:i, s:s}", "id", form_id(f), "version",
						   form_version(f), "sha256", sha));
	json_object_set_new(ev, "category", json_pack("{s:s, s:s, s:s}", "code", form_category_code(f),
						       "zh", form_category_label(f, "zh"), "en",
						       form_category_label(f, "en")));
	json_t *site = json_pack("{s:s}", "address", p->address);
	if (p->grid && *p->grid)
		json_object_set_new(site, "grid", json_string(p->grid));
	json_object_set_new(ev, "site", site);
	if (p->party && *p->party) {
		json_t *party = json_pack("{s:s}", "name", p->party);
		if (p->contact && *p->contact)
			json_object_set_new(party, "contact", json_string(p->contact));
		json_object_set_new(ev, "party", party);
	}
	json_object_set_new(ev, "unit", json_string(ws->unit));
	if (p->has_location)
		event_set_where(ev, p->lat, p->lon, -1, "manual");
	rc = action_record(ws, NULL, ev, &ff, 1, NULL);
done:
	json_decref(ev);
	form_free(f);
	return rc;
}

/* --- inspections ------------------------------------------------------------------ */

/* Re-inspection answers may only name items of the open order. */
static int check_reinspection_items(const json_t *st, const json_t *answers)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)answers, k, v) {
		size_t i;
		json_t *it;
		bool found = false;
		json_array_foreach(json_object_get(st, "open_items"), i, it)
			found |= strcmp(json_string_value(it), k) == 0;
		if (!found)
			return error_set(ERR_INVALID, _("%s is not among the ordered items still open"), k);
	}
	if (json_object_size(answers) == 0)
		return error_set(ERR_INVALID, _("no answers: give at least one ordered item (--set ITEM=pass)"));
	return 0;
}

/* A re-inspection answers only the ordered items: they are judged over
 * the case's last answers, so items shown under a condition still apply. */
static json_t *judged_answers(const json_t *st, const json_t *all, bool reinspection)
{
	if (!reinspection)
		return json_incref((json_t *)all);
	json_t *over = json_deep_copy(json_object_get(st, "answers"));
	if (!json_is_object(over)) {
		json_decref(over);
		over = json_object();
	}
	json_object_update(over, (json_t *)all);
	return over;
}

/* Failures among the items answered now. */
static json_t *failures_of(const form *f, const json_t *judged, const json_t *answered)
{
	json_t *all = form_failures(f, judged), *out = json_array();
	size_t i;
	json_t *id;
	json_array_foreach(all, i, id)
		if (json_object_get(answered, json_string_value(id)))
			json_array_append(out, id);
	json_decref(all);
	return out;
}

static json_t *merged(const json_t *draft, const char *key, const json_t *add)
{
	json_t *m = json_deep_copy(json_object_get(draft, key));
	if (!json_is_object(m)) {
		json_decref(m);
		m = json_object();
	}
	if (add)
		json_object_update(m, (json_t *)add);
	/* null clears an answer given earlier (e.g. an item that no longer applies) */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(m, tmp, k, v)
		if (json_is_null(v))
			json_object_del(m, k);
	return m;
}

int action_inspect(workspace *ws, const char *case_id, const json_t *answers,
		   const json_t *notes, bool reinspection, bool draft_only, char event_id[64])
{
	const char *kind = reinspection ? "reinspection" : "inspection";
	json_t *st = NULL, *draft = NULL, *all = NULL, *all_notes = NULL, *ev = NULL, *judged = NULL;
	form *f = NULL;
	int rc;
	if ((rc = load_state(ws, case_id, &st)) || (rc = workspace_form_of_case(ws, st, &f)))
		goto done;
	if (index_draft_get(ws->index, case_id, kind, &draft) != 0)
		draft = json_object();
	all = merged(draft, "answers", answers);
	all_notes = merged(draft, "notes", notes);
	/* Check the state before saving anything, so an illegal step leaves no draft. */
	ev = action_event(ws, reinspection ? EV_REINSPECTION : EV_INSPECTION, case_id);
	if ((rc = case_check(st, ev)))
		goto done;
	if (reinspection && (rc = check_reinspection_items(st, all)))
		goto done;
	judged = judged_answers(st, all, reinspection);
	if ((rc = form_answers_validate(f, judged, !draft_only && !reinspection)))
		goto done;
	json_object_set(draft, "answers", all);
	json_object_set(draft, "notes", all_notes);
	json_object_set_new(draft, "form", json_string(form_id(f)));
	json_object_del(draft, "committing_event");
	if ((rc = index_draft_put(ws->index, case_id, kind, draft)) || draft_only)
		goto done;
	json_object_set_new(ev, "form", json_deep_copy(json_object_get(st, "form")));
	json_object_set(ev, "answers", all);
	if (json_object_size(all_notes))
		json_object_set(ev, "notes", all_notes);
	json_object_set_new(ev, "failures", failures_of(f, judged, all));
	if ((rc = assign_id(ws, ev)))
		goto done;
	/* The draft names its event: indexing that event deletes the draft, so
	 * a crash leaves either the draft or the recorded event. */
	json_object_set_new(draft, "committing_event", json_string(event_str(ev, "id")));
	if ((rc = index_draft_put(ws->index, case_id, kind, draft)) ||
	    (rc = commit_event(ws, ev, NULL, 0)))
		goto done;
	if (event_id)
		snprintf(event_id, 64, "%s", event_str(ev, "id"));
done:
	json_decref(ev);
	json_decref(judged);
	json_decref(all);
	json_decref(all_notes);
	json_decref(draft);
	json_decref(st);
	form_free(f);
	return rc;
}

/* --- order, close, notes -------------------------------------------------------------- */

static json_t *order_item(const form_item *it)
{
	json_t *o = json_pack("{s:s}", "item", form_item_id(it));
	const char *zh = form_item_legal_basis(it, "zh"), *en = form_item_legal_basis(it, "en");
	if (*zh || *en)
		json_object_set_new(o, "basis", json_pack("{s:s, s:s}", "zh", zh, "en", en));
	if (form_item_fail_days(it) >= 0)
		json_object_set_new(o, "days", json_integer(form_item_fail_days(it)));
	return o;
}

static int build_order(const form *f, const json_t *ids, json_t *ev, int *days)
{
	json_t *items = json_array();
	int min_days = -1;
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		const form_item *it = form_item_find(f, json_string_value(v));
		if (!it) {
			json_decref(items);
			return error_set(ERR_INVALID, _("no item %s in form %s"), json_string_value(v),
					 form_id(f));
		}
		int d = form_item_fail_days(it);
		if (d >= 0 && (min_days < 0 || d < min_days))
			min_days = d;
		json_array_append_new(items, order_item(it));
	}
	json_object_set_new(ev, "items", items);
	if (*days < 0)
		*days = min_days;
	if (*days < 0)
		return error_set(ERR_INVALID, _("the ordered items have no default deadline: give --days N"));
	return 0;
}

int action_order(workspace *ws, const char *case_id, const json_t *items, int days,
		 char event_id[64])
{
	json_t *st = NULL, *ev = NULL;
	form *f = NULL;
	int rc;
	if ((rc = load_state(ws, case_id, &st)))
		goto done;
	ev = action_event(ws, EV_ORDER, case_id);
	if ((rc = case_check(st, ev)) || (rc = workspace_form_of_case(ws, st, &f)))
		goto done;
	const json_t *ids = items ? items : json_object_get(st, "failures");
	if (json_array_size(ids) == 0) {
		rc = error_set(ERR_INVALID, _("case %s has no failed items to order: name them with "
					      "--items"), case_id);
		goto done;
	}
	if ((rc = build_order(f, ids, ev, &days)))
		goto done;
	char today[11], deadline[11];
	util_time_local_date(util_now(), today);
	util_date_add(today, days, deadline);
	json_object_set_new(ev, "days", json_integer(days));
	json_object_set_new(ev, "deadline", json_string(deadline));
	rc = action_record(ws, st, ev, NULL, 0, event_id);
done:
	json_decref(ev);
	json_decref(st);
	form_free(f);
	return rc;
}

int action_close(workspace *ws, const char *case_id, const char *outcome, const char *reason,
		 char event_id[64])
{
	json_t *st = NULL, *ev = NULL;
	int rc = load_state(ws, case_id, &st);
	if (rc == 0) {
		ev = action_event(ws, EV_CLOSED, case_id);
		json_object_set_new(ev, "outcome", json_string(outcome ? outcome : ""));
		if (reason && *reason)
			json_object_set_new(ev, "reason", json_string(reason));
		rc = action_record(ws, st, ev, NULL, 0, event_id);
	}
	json_decref(ev);
	json_decref(st);
	return rc;
}

int action_note(workspace *ws, const char *case_id, const char *text, char event_id[64])
{
	if (!text || !*text)
		return error_set(ERR_INVALID, _("the note is empty"));
	return record_simple(ws, case_id, EV_NOTE, "text", text, event_id);
}

int action_escalate(workspace *ws, const char *case_id, const char *reason, char event_id[64])
{
	return record_simple(ws, case_id, EV_ESCALATED, "reason", reason, event_id);
}

int action_reopen(workspace *ws, const char *case_id, const char *reason, char event_id[64])
{
	return record_simple(ws, case_id, EV_REOPENED, "reason", reason, event_id);
}

int action_correct(workspace *ws, const char *case_id, const char *amends,
		   const json_t *changes, const char *reason, char event_id[64])
{
	json_t *st = NULL, *events = NULL, *ev = NULL;
	int rc;
	if (!reason || !*reason)
		return error_set(ERR_INVALID, _("a correction needs a reason (--reason)"));
	if (!json_is_object(changes) || json_object_size(changes) == 0)
		return error_set(ERR_INVALID, _("a correction needs at least one change (--set FIELD=VALUE)"));
	if ((rc = load_state(ws, case_id, &st)) ||
	    (rc = index_case_events(ws->index, case_id, &events)))
		goto done;
	size_t i;
	json_t *row;
	bool found = false;
	json_array_foreach(events, i, row)
		found |= strcmp(event_str(json_object_get(row, "event"), "id"), amends) == 0;
	if (!found) {
		rc = error_set(ERR_NOTFOUND, _("case %s has no event %s"), case_id, amends);
		goto done;
	}
	static const char *fixed[] = {"id", "case", "type", "at", "officer", "device", "seq", "fieldbook"};
	for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
		if (json_object_get(changes, fixed[k])) {
			rc = error_set(ERR_INVALID, _("\"%s\" identifies the event and cannot be corrected"),
				       fixed[k]);
			goto done;
		}
	ev = action_event(ws, EV_CORRECTION, case_id);
	json_object_set_new(ev, "amends", json_string(amends));
	json_object_set(ev, "changes", (json_t *)changes);
	json_object_set_new(ev, "reason", json_string(reason));
	rc = action_record(ws, st, ev, NULL, 0, event_id);
done:
	json_decref(ev);
	json_decref(events);
	json_decref(st);
	return rc;
}

/* --- roster ---------------------------------------------------------------------------------- */

/* Validity times in the roster compare as strings with events' "at":
 * give them the same form (UTC, milliseconds). */
static int roster_time(json_t *ev, const char *key, const char *text)
{
	time_t t;
	char buf[32];
	if (!text || !*text)
		return 0;
	if (util_time_parse(text, &t) != 0)
		return error_set(ERR_INVALID, _("%s: not a time (use 2026-11-23T08:00:00+08:00)"), text);
	util_time_rfc3339(t, buf);
	snprintf(buf + 19, sizeof buf - 19, ".000Z");
	json_object_set_new(ev, key, json_string(buf));
	return 0;
}

/* Roster changes belong to no case: no state check; takes ownership of ev. */
static int record_roster(workspace *ws, json_t *ev, char event_id[64])
{
	int rc = assign_id(ws, ev);
	if (rc == 0)
		rc = commit_event(ws, ev, NULL, 0);
	if (rc == 0 && event_id)
		snprintf(event_id, 64, "%s", event_str(ev, "id"));
	json_decref(ev);
	return rc;
}

/* A roster event skeleton (no "case"). */
static json_t *roster_event(workspace *ws, const char *type, const char *member)
{
	json_t *ev = action_event(ws, type, "");
	json_object_del(ev, "case");
	json_object_set_new(ev, "member", json_string(member));
	return ev;
}

int action_roster_add(workspace *ws, const action_roster_params *p, char event_id[64])
{
	if (!p->member || !*p->member || !p->name || !*p->name || !p->key || !*p->key)
		return error_set(ERR_INVALID, _("a roster entry needs --officer, --name and --key"));
	if (!verify_role_valid(p->role))
		return error_set(ERR_INVALID, _("unknown role \"%s\": use officer, supervisor, legal or admin"),
				 p->role ? p->role : "");
	char fp[96];
	if (sign_fingerprint(p->key, fp, sizeof fp))
		return ERR_INVALID;
	json_t *ev = roster_event(ws, EV_ROSTER_ADDED, p->member);
	json_object_set_new(ev, "name", json_string(p->name));
	json_object_set_new(ev, "unit", json_string(p->unit && *p->unit ? p->unit : ws->unit));
	json_object_set_new(ev, "role", json_string(p->role));
	json_object_set_new(ev, "key", json_string(p->key));
	if (roster_time(ev, "valid_from", p->valid_from) || roster_time(ev, "valid_until", p->valid_until)) {
		json_decref(ev);
		return ERR_INVALID;
	}
	return record_roster(ws, ev, event_id);
}

int action_roster_retire(workspace *ws, const char *member, const char *key, const char *until,
			 char event_id[64])
{
	if (!member || !*member)
		return error_set(ERR_INVALID, _("which officer? (--officer)"));
	json_t *ev = roster_event(ws, EV_ROSTER_RETIRED, member);
	if (key && *key)
		json_object_set_new(ev, "key", json_string(key));
	if (roster_time(ev, "valid_until", until)) {
		json_decref(ev);
		return ERR_INVALID;
	}
	return record_roster(ws, ev, event_id);
}
