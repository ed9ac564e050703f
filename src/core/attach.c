/*
 * attach: photos attached to a case.  See attach.h.
 */
#include "attach.h"
#include "action.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "photo.h"
#include "util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- settings and case facts ------------------------------------------------ */

static double config_number(const workspace *ws, const char *key, double def)
{
	const json_t *v = json_object_get(ws->config, key);
	return json_is_number(v) && json_number_value(v) > 0 ? json_number_value(v) : def;
}

static bool case_location(const json_t *st, double *lat, double *lon)
{
	const json_t *w = json_object_get(st, "where");
	const json_t *la = json_object_get(w, "lat"), *lo = json_object_get(w, "lon");
	if (!json_is_number(la) || !json_is_number(lo))
		return false;
	*lat = json_number_value(la);
	*lon = json_number_value(lo);
	return true;
}

/* Local UTC offset now, in seconds (for cameras that record local time only). */
static long local_offset_s(time_t now)
{
	char tz[8];
	util_time_tz(now, tz);
	long s = ((tz[1] - '0') * 10 + (tz[2] - '0')) * 3600L + ((tz[4] - '0') * 10 + (tz[5] - '0')) * 60L;
	return tz[0] == '-' ? -s : s;
}

/* When the photo was taken (UTC): the file's own offset or GPS time first,
 * else DateTimeOriginal read in the device's zone. */
static bool taken_time(const photo *p, time_t now, time_t *out)
{
	if (photo_taken_utc(p, out) == 0)
		return true;
	if (photo_taken_at_offset(p, local_offset_s(now), out) == 0)
		return true;
	error_clear();
	return false;
}

/* --- checks ------------------------------------------------------------------- */

static json_t *check_new(const char *name)
{
	return json_pack("{s:s}", "check", name);
}

static void add_time(json_t *c, const char *key, time_t t)
{
	char s[32];
	util_time_rfc3339(t, s);
	json_object_set_new(c, key, json_string(s));
}

static void check_gps(json_t *checks, const photo *p, const json_t *st, double limit)
{
	static const char *names[] = {
		[PHOTO_GPS_NONE] = "none", [PHOTO_GPS_ZERO] = "zero", [PHOTO_GPS_INVALID] = "invalid"};
	double lat, lon;
	if (!photo_has_gps(p)) {
		json_t *c = check_new("no_gps");
		json_object_set_new(c, "gps", json_string(names[photo_gps(p)]));
		json_array_append_new(checks, c);
		return;
	}
	if (!case_location(st, &lat, &lon))
		return;
	double d = photo_distance_m(lat, lon, photo_lat(p), photo_lon(p));
	if (!(d > limit))
		return;
	json_t *c = check_new("far");
	json_object_set_new(c, "distance_m", json_real(round(d)));
	json_object_set_new(c, "limit_m", json_real(limit));
	json_array_append_new(checks, c);
}

static void check_time(json_t *checks, const photo *p, const json_t *st, time_t now,
		       double limit_h)
{
	time_t taken, opened;
	if (!taken_time(p, now, &taken))
		return;
	if (util_time_parse(event_str(st, "opened_at"), &opened) == 0 &&
	    taken + ATTACH_CLOCK_SLACK_S < opened) {
		json_t *c = check_new("before_case");
		add_time(c, "taken_at", taken);
		add_time(c, "opened_at", opened);
		json_array_append_new(checks, c);
	}
	double hours = difftime(now, taken) / 3600.0;
	if (hours > limit_h) {
		json_t *c = check_new("long_before");
		add_time(c, "taken_at", taken);
		json_object_set_new(c, "hours", json_real(round(hours * 10) / 10));
		json_object_set_new(c, "limit_h", json_real(limit_h));
		json_array_append_new(checks, c);
	}
	if (taken > now + ATTACH_CLOCK_SLACK_S) {
		json_t *c = check_new("future");
		add_time(c, "taken_at", taken);
		json_array_append_new(checks, c);
	}
}

/* Other cases holding the same bytes. */
static int check_duplicate(json_t *checks, workspace *ws, const char *case_id, const char *sha)
{
	json_t *cases, *others = json_array();
	int rc = index_photo_cases(ws->index, sha, &cases);
	if (rc) {
		json_decref(others);
		return rc;
	}
	size_t i;
	json_t *v;
	json_array_foreach(cases, i, v)
		if (strcmp(json_string_value(v), case_id) != 0)
			json_array_append(others, v);
	json_decref(cases);
	if (json_array_size(others) == 0) {
		json_decref(others);
		return 0;
	}
	json_t *c = check_new("duplicate");
	json_object_set_new(c, "cases", others);
	json_array_append_new(checks, c);
	return 0;
}

static int build_checks(workspace *ws, const json_t *st, const photo *p, time_t now,
			json_t **out)
{
	json_t *checks = json_array();
	if (photo_exif(p) == PHOTO_EXIF_UNREADABLE)
		json_array_append_new(checks, check_new("exif_unreadable"));
	check_gps(checks, p, st, config_number(ws, "photo_max_distance_m", ATTACH_MAX_DISTANCE_M));
	check_time(checks, p, st, now, config_number(ws, "photo_max_age_h", ATTACH_MAX_AGE_H));
	int rc = check_duplicate(checks, ws, event_str(st, "id"), photo_sha256(p));
	if (rc) {
		json_decref(checks);
		return rc;
	}
	*out = checks;
	return 0;
}

/* --- loading: every file before anything is written ---------------------------- */

static void free_photos(photo **ph, size_t n)
{
	for (size_t i = 0; ph && i < n; i++)
		photo_free(ph[i]);
	free(ph);
}

/* Refuse a photo this case already holds, or the same bytes twice in a batch. */
static int check_new_to_case(workspace *ws, const char *case_id, photo **ph, size_t i)
{
	const char *sha = photo_sha256(ph[i]);
	if (!sha)
		return error_set(ERR_GENERIC, _("%s: cannot compute the SHA-256"), photo_name(ph[i]));
	for (size_t j = 0; j < i; j++)
		if (strcmp(photo_sha256(ph[j]), sha) == 0)
			return error_set(ERR_INVALID, _("%s: same photo as %s given earlier"),
					 photo_name(ph[i]), photo_name(ph[j]));
	json_t *cases;
	int rc = index_photo_cases(ws->index, sha, &cases);
	if (rc)
		return rc;
	size_t k;
	json_t *v;
	json_array_foreach(cases, k, v)
		if (strcmp(json_string_value(v), case_id) == 0)
			rc = error_set(ERR_EXISTS, _("%s: this photo is already attached to case %s"),
				       photo_name(ph[i]), case_id);
	json_decref(cases);
	return rc;
}

static int load_all(workspace *ws, const char *case_id, const char *const *paths, size_t n,
		    photo ***out)
{
	photo **ph = calloc(n ? n : 1, sizeof *ph);
	int rc = 0;
	if (!ph)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = photo_load_file(&ph[i], paths[i])) == 0)
			rc = check_new_to_case(ws, case_id, ph, i);
	if (rc) {
		free_photos(ph, n);
		return n > 1 ? error_prefix(rc, _("no photo was attached")) : rc;
	}
	*out = ph;
	return 0;
}

/* --- recording --------------------------------------------------------------------- */

static int check_item(workspace *ws, const json_t *st, const char *item)
{
	form *f;
	if (!item)
		return 0;
	int rc = workspace_form_of_case(ws, st, &f);
	if (rc)
		return rc;
	if (!form_item_find(f, item))
		rc = error_set(ERR_INVALID, _("no item %s in form %s (case %s)"), item, form_id(f),
			       event_str(st, "id"));
	form_free(f);
	return rc;
}

static json_t *photo_event(workspace *ws, const json_t *st, const photo *p, const char *item,
			   json_t *checks)
{
	double lat, lon;
	size_t len;
	json_t *ev = action_event(ws, EV_PHOTO, event_str(st, "id"));
	if (!ev)
		return NULL;
	photo_bytes(p, &len);
	json_object_set_new(ev, "sha256", json_string(photo_sha256(p)));
	json_object_set_new(ev, "size", json_integer((json_int_t)len));
	if (item)
		json_object_set_new(ev, "item", json_string(item));
	json_object_set_new(ev, "exif", photo_exif_json(p));
	json_object_set(ev, "checks", checks);
	if (photo_has_gps(p) && !case_location(st, &lat, &lon)) {
		event_set_where(ev, photo_lat(p), photo_lon(p), -1, "photo");
		json_object_set_new(ev, "case_location", json_true());
	}
	return ev;
}

static int record_one(workspace *ws, const char *case_id, const photo *p, const char *item,
		      json_t *report)
{
	json_t *st = NULL, *checks = NULL, *ev = NULL;
	char dir[256], path[400], eid[64];
	size_t len;
	const unsigned char *bytes = photo_bytes(p, &len);
	int rc;
	/* The state again: an earlier photo of the batch may have set the location. */
	if ((rc = index_case_get(ws->index, case_id, &st)) ||
	    (rc = build_checks(ws, st, p, util_now(), &checks)) ||
	    (rc = case_dir(case_id, dir, sizeof dir)))
		goto done;
	if (!(ev = photo_event(ws, st, p, item, checks))) {
		rc = error_set(ERR_NOMEM, "out of memory");
		goto done;
	}
	snprintf(path, sizeof path, "%s/photos/%s.jpg", dir, photo_sha256(p));
	ledger_file file = {path, bytes, len};
	if ((rc = action_record(ws, st, ev, &file, 1, eid)))
		goto done;
	json_t *r = json_pack("{s:s, s:s, s:I, s:s, s:O, s:b}", "path", photo_name(p), "sha256",
			      photo_sha256(p), "size", (json_int_t)len, "event", eid, "checks",
			      checks, "case_location", json_is_true(json_object_get(ev, "case_location")));
	if (r && item)
		json_object_set_new(r, "item", json_string(item));
	json_array_append_new(report, r);
done:
	json_decref(ev);
	json_decref(checks);
	json_decref(st);
	return rc;
}

int attach_photos(workspace *ws, const char *case_id, const char *const *paths, size_t n,
		  const char *item, json_t **report)
{
	json_t *st = NULL, *rep = json_array();
	photo **ph = NULL;
	int rc;
	if (n == 0)
		rc = error_set(ERR_INVALID, _("no photo given"));
	else if (!case_id_valid(case_id))
		rc = error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	else if ((rc = index_case_get(ws->index, case_id, &st)) == 0 &&
		 (rc = check_item(ws, st, item)) == 0 && (rc = load_all(ws, case_id, paths, n, &ph)) == 0)
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = record_one(ws, case_id, ph[i], item, rep);
	if (rc && json_array_size(rep))
		error_prefix(rc, _("%zu of %zu photos were attached before this error"),
			     json_array_size(rep), n);
	free_photos(ph, ph ? n : 0);
	json_decref(st);
	if (report)
		*report = rep;
	else
		json_decref(rep);
	return rc;
}

/* --- checks in words --------------------------------------------------------------- */

static void fmt_duration(double s, char *out, size_t size)
{
	s = fabs(s);
	if (s >= 2 * 86400)
		snprintf(out, size, _("%.0f days"), floor(s / 86400));
	else if (s >= 3600)
		snprintf(out, size, _("%.0f h %.0f min"), floor(s / 3600), floor(fmod(s, 3600) / 60));
	else
		snprintf(out, size, _("%.0f min"), floor(s / 60));
}

static double time_between(const json_t *c, const char *a, const char *b)
{
	time_t ta, tb = util_now();
	if (util_time_parse(event_str(c, a), &ta) != 0 || (b && util_time_parse(event_str(c, b), &tb) != 0))
		return 0;
	return difftime(tb, ta);
}

static char *joined(const json_t *arr)
{
	size_t i, n = 1;
	json_t *v;
	json_array_foreach(arr, i, v)
		n += strlen(json_string_value(v) ? json_string_value(v) : "") + 2;
	char *s = calloc(1, n);
	json_array_foreach(arr, i, v) {
		if (s && i)
			strcat(s, ", ");
		if (s && json_string_value(v))
			strcat(s, json_string_value(v));
	}
	return s;
}

static char *gps_text(const json_t *c)
{
	const char *g = event_str(c, "gps");
	if (strcmp(g, "zero") == 0)
		return strdup(_("photo has GPS position 0,0 (saved without a fix): no location"));
	if (strcmp(g, "invalid") == 0)
		return strdup(_("photo's GPS position is unreadable: no location"));
	return strdup(_("photo has no GPS position"));
}

char *attach_check_text(const json_t *c)
{
	const char *name = event_str(c, "check");
	char *s = NULL, d[48];
	int r = 0;
	if (strcmp(name, "no_gps") == 0)
		return gps_text(c);
	if (strcmp(name, "far") == 0)
		r = asprintf(&s, _("photo is %.0f m from the case location (limit %.0f m)"),
			     json_number_value(json_object_get(c, "distance_m")),
			     json_number_value(json_object_get(c, "limit_m")));
	else if (strcmp(name, "before_case") == 0) {
		fmt_duration(time_between(c, "taken_at", "opened_at"), d, sizeof d);
		r = asprintf(&s, _("photo was taken %s before the case was opened (%s)"), d,
			     event_str(c, "taken_at"));
	} else if (strcmp(name, "long_before") == 0) {
		fmt_duration(json_number_value(json_object_get(c, "hours")) * 3600, d, sizeof d);
		r = asprintf(&s, _("photo was taken %s before it was attached (limit %.0f h)"), d,
			     json_number_value(json_object_get(c, "limit_h")));
	}
	else if (strcmp(name, "future") == 0) {
		fmt_duration(time_between(c, "taken_at", NULL), d, sizeof d);
		r = asprintf(&s, _("photo was taken in the future (%s from now, %s): check the "
				   "camera clock"), d, event_str(c, "taken_at"));
	} else if (strcmp(name, "duplicate") == 0) {
		char *cases = joined(json_object_get(c, "cases"));
		r = asprintf(&s, _("the same photo is attached to case %s"), cases ? cases : "?");
		free(cases);
	} else if (strcmp(name, "exif_unreadable") == 0)
		return strdup(_("the photo's EXIF data is unreadable"));
	else
		r = asprintf(&s, _("check \"%s\""), name);
	return r < 0 ? NULL : s;
}
