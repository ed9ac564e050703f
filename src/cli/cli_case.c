/*
 * cli_case: commands that record something (init, case new, inspect, ...).
 */
#include "cli.h"
#include "core/action.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first officer of a new ledger becomes its trust root: a
 * self-signed admin entry in the roster. */
static int bootstrap_roster(cli_args *a, const char *pin, const char *pub)
{
	workspace *ws;
	int rc = cli_open(a, &ws);
	if (rc)
		return rc;
	setenv("FIELDBOOK_PIN", pin, 1); /* the PIN just chosen, for this one unlock */
	action_roster_params p = {ws->officer, ws->name, ws->unit, "admin", pub, NULL, NULL};
	rc = action_roster_add(ws, &p, NULL);
	unsetenv("FIELDBOOK_PIN");
	workspace_free(ws);
	return rc ? cli_error() : CLI_OK;
}

int cmd_init(cli_args *a)
{
	const char *officer = NULL, *name = NULL, *unit = NULL;
	bool admin = false;
	cli_opt opts[] = {{"officer", 's', &officer}, {"name", 's', &name}, {"unit", 's', &unit},
			  {"admin", 'b', &admin}, {0}};
	int n, rc;
	char *home, pin[256], pub[160];
	if ((rc = cli_parse(a, opts, NULL, 0, &n)))
		return rc;
	if (!officer || !name || !unit)
		return cli_usage("init", _("--officer, --name and --unit are required"));
	if (workspace_home(a->home_opt, &home) != 0)
		return cli_error();
	if ((rc = cli_new_pin(pin, sizeof pin)) == 0 && strlen(pin) < 6)
		rc = error_set(ERR_INVALID, _("the PIN must have at least 6 characters"));
	if (rc == 0 && (rc = workspace_init(home, officer, name, unit)) == 0)
		rc = workspace_key_create(home, pin, pub, sizeof pub);
	if (rc) {
		free(home);
		return cli_error();
	}
	printf(_("Workspace ready at %s for %s (%s), unit %s.\n"), home, name, officer, unit);
	printf(_("Officer key: %s\n"), pub);
	free(home);
	if (admin)
		rc = bootstrap_roster(a, pin, pub);
	else
		printf(_("Ask your unit's admin to add you to the roster:\n  fieldbook roster add --officer %s "
			 "--name %s --role officer --key \"%s\"\n"), officer, name, pub);
	return rc;
}

/* Print what was recorded: the event id, then its summary. */
static int recorded(workspace *ws, int rc, const char *case_id, const char *event_id)
{
	if (rc) {
		workspace_free(ws);
		return cli_error();
	}
	json_t *rows;
	if (index_case_events(ws->index, case_id, &rows) == 0) {
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			const json_t *ev = json_object_get(row, "event");
			if (strcmp(event_str(ev, "id"), event_id) != 0)
				continue;
			char *s = event_summary(ev);
			printf("%s  %s\n", event_id, s ? s : "");
			free(s);
		}
		json_decref(rows);
	}
	workspace_free(ws);
	return CLI_OK;
}

int cmd_case(cli_args *a)
{
	const char *form = NULL, *address = NULL, *grid = NULL, *party = NULL, *contact = NULL;
	const char *lat = NULL, *lon = NULL;
	cli_opt opts[] = {{"form", 's', &form}, {"address", 's', &address}, {"grid", 's', &grid},
			  {"party", 's', &party}, {"contact", 's', &contact}, {"lat", 's', &lat},
			  {"lon", 's', &lon}, {0}};
	char *pos[1];
	int n, rc;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1 || strcmp(pos[0], "new") != 0)
		return cli_usage("case", _("the only subcommand is \"new\""));
	if (!form || !address)
		return cli_usage("case", _("--form and --address are required"));
	if (!lat != !lon)
		return cli_usage("case", _("give both --lat and --lon"));
	action_case_params p = {form, address, grid, party, contact, lat != NULL, 0, 0};
	char *end1 = NULL, *end2 = NULL;
	if (lat) {
		p.lat = strtod(lat, &end1);
		p.lon = strtod(lon, &end2);
		if (*end1 || *end2 || end1 == lat || end2 == lon)
			return cli_usage("case", _("--lat and --lon take decimal degrees, e.g. 24.414"));
	}
	workspace *ws;
	if ((rc = cli_open(a, &ws)))
		return rc;
	char id[96];
	rc = action_case_new(ws, &p, id);
	workspace_free(ws);
	if (rc)
		return cli_error();
	printf("%s\n", id);
	return CLI_OK;
}

/* Split "KEY=VALUE"; returns false when there is no '='. */
static bool split_kv(const char *s, char *key, size_t ksize, const char **value)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || (size_t)(eq - s) >= ksize)
		return false;
	snprintf(key, ksize, "%.*s", (int)(eq - s), s);
	*value = eq + 1;
	return true;
}

/* Turn --set ITEM=VALUE texts into typed answers using the case's form. */
static int parse_answers(workspace *ws, const char *case_id, const json_t *sets,
			 json_t *answers)
{
	json_t *st;
	form *f;
	int rc;
	if (json_array_size(sets) == 0)
		return 0;
	if ((rc = index_case_get(ws->index, case_id, &st)))
		return rc;
	rc = workspace_form_of_case(ws, st, &f);
	json_decref(st);
	if (rc)
		return rc;
	size_t i;
	json_t *v;
	json_array_foreach(sets, i, v) {
		char key[64];
		const char *text;
		json_t *val;
		if (!split_kv(json_string_value(v), key, sizeof key, &text)) {
			rc = error_set(ERR_INVALID, _("--set takes ITEM=VALUE, got \"%s\""),
				       json_string_value(v));
			break;
		}
		if (!*text)
			val = json_null(); /* --set ITEM= clears an earlier answer */
		else if ((rc = form_answer_parse(f, key, text, &val)))
			break;
		json_object_set_new(answers, key, val);
	}
	form_free(f);
	return rc;
}

static int parse_notes(const json_t *list, json_t *notes)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char key[64];
		const char *text;
		if (!split_kv(json_string_value(v), key, sizeof key, &text))
			return error_set(ERR_INVALID, _("--note takes ITEM=TEXT, got \"%s\""),
					 json_string_value(v));
		json_object_set_new(notes, key, json_string(text));
	}
	return 0;
}

static int load_answers_file(const char *path, json_t *answers, json_t *notes)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return error_set(ERR_INVALID, _("%s:%d:%d: %s"), path, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return error_set(ERR_INVALID, _("%s: expected a JSON object of answers"), path);
	}
	/* Either {"answers": {...}, "notes": {...}} or a plain answers object. */
	json_t *ans = json_object_get(j, "answers");
	json_object_update(answers, json_is_object(ans) ? ans : j);
	if (json_is_object(json_object_get(j, "notes")))
		json_object_update(notes, json_object_get(j, "notes"));
	json_decref(j);
	return 0;
}

static int inspect_common(cli_args *a, bool reinspection)
{
	json_t *sets = json_array(), *note_list = json_array();
	json_t *answers = json_object(), *notes = json_object();
	const char *file = NULL;
	bool draft = false;
	cli_opt opts[] = {{"set", 'm', sets}, {"note", 'm', note_list}, {"answers", 's', &file},
			  {"draft", 'b', &draft}, {0}};
	char *pos[1];
	int n, rc;
	workspace *ws = NULL;
	char eid[64] = "";
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		goto done;
	if (n != 1) {
		rc = cli_usage(a->argv[0], _("which case?"));
		goto done;
	}
	if ((rc = cli_open(a, &ws)))
		goto done;
	if ((file && load_answers_file(file, answers, notes)) ||
	    parse_answers(ws, pos[0], sets, answers) || parse_notes(note_list, notes) ||
	    action_inspect(ws, pos[0], answers, notes, reinspection, draft, eid)) {
		rc = cli_error();
		goto done;
	}
	if (draft)
		printf(_("Draft saved for %s (%zu answers). Record it with 'fieldbook %s %s'.\n"),
		       pos[0], json_object_size(answers), a->argv[0], pos[0]);
	else {
		rc = recorded(ws, 0, pos[0], eid);
		ws = NULL;
	}
done:
	workspace_free(ws);
	json_decref(sets);
	json_decref(note_list);
	json_decref(answers);
	json_decref(notes);
	return rc;
}

int cmd_inspect(cli_args *a) { return inspect_common(a, false); }
int cmd_reinspect(cli_args *a) { return inspect_common(a, true); }

int cmd_order(cli_args *a)
{
	const char *days = NULL, *items = NULL;
	cli_opt opts[] = {{"days", 's', &days}, {"items", 's', &items}, {0}};
	char *pos[1], eid[64];
	int n, rc, d = -1;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1)
		return cli_usage("order", _("which case?"));
	if (days) {
		char *end;
		long v = strtol(days, &end, 10);
		if (*end || end == days || v < 0 || v > 3650)
			return cli_usage("order", _("--days takes a number of days (0 to 3650)"));
		d = (int)v;
	}
	json_t *list = NULL;
	if (items) {
		list = json_array();
		char *copy = strdup(items), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			json_array_append_new(list, json_string(t));
		free(copy);
	}
	workspace *ws;
	if ((rc = cli_open(a, &ws))) {
		json_decref(list);
		return rc;
	}
	rc = action_order(ws, pos[0], list, d, eid);
	json_decref(list);
	return recorded(ws, rc, pos[0], eid);
}

int cmd_close(cli_args *a)
{
	const char *outcome = NULL, *reason = NULL;
	cli_opt opts[] = {{"outcome", 's', &outcome}, {"reason", 's', &reason}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1 || !outcome)
		return cli_usage("close", _("give the case and --outcome"));
	workspace *ws;
	if ((rc = cli_open(a, &ws)))
		return rc;
	return recorded(ws, action_close(ws, pos[0], outcome, reason, eid), pos[0], eid);
}

int cmd_note(cli_args *a)
{
	char *pos[2], eid[64];
	int n, rc;
	if ((rc = cli_parse(a, NULL, pos, 2, &n)))
		return rc;
	if (n != 2)
		return cli_usage("note", _("give the case and the text"));
	workspace *ws;
	if ((rc = cli_open(a, &ws)))
		return rc;
	return recorded(ws, action_note(ws, pos[0], pos[1], eid), pos[0], eid);
}

static int reason_command(cli_args *a, int (*fn)(workspace *, const char *, const char *, char *))
{
	const char *reason = NULL;
	cli_opt opts[] = {{"reason", 's', &reason}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		return rc;
	if (n != 1)
		return cli_usage(a->argv[0], _("which case?"));
	workspace *ws;
	if ((rc = cli_open(a, &ws)))
		return rc;
	return recorded(ws, fn(ws, pos[0], reason, eid), pos[0], eid);
}

int cmd_escalate(cli_args *a) { return reason_command(a, action_escalate); }
int cmd_reopen(cli_args *a) { return reason_command(a, action_reopen); }

/* FIELD=VALUE sets a string, FIELD:=JSON a JSON value; dots nest. */
static int set_path(json_t *obj, const char *spec)
{
	char key[256];
	const char *value;
	if (!split_kv(spec, key, sizeof key, &value))
		return error_set(ERR_INVALID, _("--set takes FIELD=VALUE, got \"%s\""), spec);
	json_t *v;
	size_t kl = strlen(key);
	if (kl > 1 && key[kl - 1] == ':') {
		key[kl - 1] = '\0';
		json_error_t jerr;
		if (!(v = json_loads(value, JSON_DECODE_ANY, &jerr)))
			return error_set(ERR_INVALID, _("%s: not JSON: %s"), key, jerr.text);
	} else {
		v = json_string(value);
	}
	json_t *cur = obj;
	char *save = NULL, *part = strtok_r(key, ".", &save);
	while (part) {
		char *next = strtok_r(NULL, ".", &save);
		if (!next) {
			json_object_set_new(cur, part, v);
			break;
		}
		json_t *child = json_object_get(cur, part);
		if (!json_is_object(child))
			json_object_set_new(cur, part, child = json_object());
		cur = child;
		part = next;
	}
	return 0;
}

int cmd_correct(cli_args *a)
{
	const char *event = NULL, *reason = NULL;
	json_t *sets = json_array(), *changes = json_object();
	cli_opt opts[] = {{"event", 's', &event}, {"reason", 's', &reason}, {"set", 'm', sets}, {0}};
	char *pos[1], eid[64];
	int n, rc;
	workspace *ws = NULL;
	if ((rc = cli_parse(a, opts, pos, 1, &n)))
		goto done;
	if (n != 1 || !event) {
		rc = cli_usage("correct", _("give the case and --event"));
		goto done;
	}
	size_t i;
	json_t *v;
	json_array_foreach(sets, i, v)
		if (set_path(changes, json_string_value(v))) {
			rc = cli_error();
			goto done;
		}
	if ((rc = cli_open(a, &ws)))
		goto done;
	rc = recorded(ws, action_correct(ws, pos[0], event, changes, reason, eid), pos[0], eid);
	ws = NULL;
done:
	workspace_free(ws);
	json_decref(sets);
	json_decref(changes);
	return rc;
}
