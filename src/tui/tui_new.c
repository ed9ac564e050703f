/*
 * tui_new: a new inspection: pick a form, then the site (address, grid,
 * location typed or the current fix) and the party, open the case with
 * action_case_new and go straight into its checklist.  Modal prompts over
 * the current screen; Esc at any prompt cancels and nothing is written.
 */
#include "tui_app.h"
#include "core/action.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pick a form id into out; false when cancelled. */
static bool pick_form(tui_app *app, char *out, size_t size)
{
	json_t *list;
	if (workspace_form_list(app->ws, &list) != 0) {
		tui_err_last(app);
		return false;
	}
	size_t n = json_array_size(list), k = 0, i;
	const char **labels = calloc(n + 1, sizeof *labels);
	size_t *idx = calloc(n + 1, sizeof *idx);
	json_t *f, *texts = json_array();
	bool ok = false;
	json_array_foreach(list, i, f) {
		if (!labels || !idx || json_object_get(f, "error"))
			continue;
		char buf[512];
		snprintf(buf, sizeof buf, "%s (%s)",
			 event_str(f, strcmp(app->lang, "zh") == 0 ? "title_zh" : "title_en"),
			 event_str(f, "id"));
		json_array_append_new(texts, json_string(buf));
		idx[k++] = i;
	}
	for (i = 0; labels && i < k; i++)
		labels[i] = json_string_value(json_array_get(texts, i));
	int pick = labels && k ? tui_pick(app, _("New inspection: which checklist?"), labels, k, 0) : -1;
	if (pick >= 0) {
		snprintf(out, size, "%s", event_str(json_array_get(list, idx[pick]), "id"));
		ok = true;
	}
	free(labels);
	free(idx);
	json_decref(texts);
	json_decref(list);
	return ok;
}

/* "24.414, 111.566" or "24.414 111.566"; empty means none. */
static int parse_location(const char *text, action_case_params *p)
{
	double lat, lon;
	char extra;
	if (!*text)
		return 0;
	if (sscanf(text, "%lf%*[ ,]%lf %c", &lat, &lon, &extra) != 2 || fabs(lat) > 90 ||
	    fabs(lon) > 180)
		return error_set(ERR_INVALID, _("location takes decimal degrees \"lat, lon\", e.g. "
						"24.414, 111.566; got \"%s\""), text);
	p->has_location = true;
	p->lat = lat;
	p->lon = lon;
	return 0;
}

/* Prompt for one field; empty stays NULL when optional.  false: cancelled. */
static bool ask(tui_app *app, const char *label, const char *initial, bool required, char **out)
{
	for (;;) {
		if (tui_prompt(app, label, initial, out) != 0)
			return false;
		if (**out || !required)
			return true;
		free(*out);
		tui_err(app, "%s", _("this field is required (Esc cancels)"));
	}
}

int tui_new_push(tui_app *app)
{
	char form_id[128], loc0[64] = "", case_id[96];
	char *address = NULL, *grid = NULL, *loc = NULL, *party = NULL;
	int rc = 1;
	if (!pick_form(app, form_id, sizeof form_id))
		return 1;
	if (app->ws->where.has)
		snprintf(loc0, sizeof loc0, "%.6f, %.6f", app->ws->where.lat, app->ws->where.lon);
	action_case_params p = {.form_id = form_id};
	if (!ask(app, _("Address:"), "", true, &address) || !ask(app, _("Grid (optional):"), "", false, &grid) ||
	    !ask(app, _("Location lat, lon (optional):"), loc0, false, &loc) ||
	    !ask(app, _("Party (optional):"), "", false, &party)) {
		tui_msg(app, "%s", _("cancelled: nothing recorded"));
		goto done;
	}
	p.address = address;
	p.grid = *grid ? grid : NULL;
	p.party = *party ? party : NULL;
	if ((rc = parse_location(loc, &p)) || (rc = action_case_new(app->ws, &p, case_id))) {
		tui_err_last(app);
		goto done;
	}
	tui_msg(app, _("Case %s opened"), case_id);
	rc = tui_check_push(app, case_id, false);
done:
	free(address);
	free(grid);
	free(loc);
	free(party);
	return rc;
}
