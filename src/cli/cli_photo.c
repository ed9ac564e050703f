/*
 * cli_photo: attach photos to a case, and show what fieldbook reads from a
 * photo file.
 */
#include "cli.h"
#include "core/attach.h"
#include "core/error.h"
#include "core/i18n.h"
#include "core/photo.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- attach ------------------------------------------------------------------------ */

static void print_attached(const json_t *r)
{
	char sha[13];
	snprintf(sha, sizeof sha, "%s", json_string_value(json_object_get(r, "sha256")));
	const char *item = json_string_value(json_object_get(r, "item"));
	printf("%s  %s %s%s%s  %s\n", json_string_value(json_object_get(r, "event")),
	       _("photo attached"), sha, item ? " → " : "", item ? item : "",
	       json_string_value(json_object_get(r, "path")));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(r, "checks"), i, c) {
		char *text = attach_check_text(c);
		printf("  ! %s\n", text ? text : "?");
		free(text);
	}
	if (json_is_true(json_object_get(r, "case_location")))
		printf("  %s\n", _("the case had no location: it takes this photo's GPS position"));
}

int cmd_attach(cli_args *a)
{
	const char *item = NULL;
	bool as_json = false;
	cli_opt opts[] = {{"item", 's', &item}, {"json", 'b', &as_json}, {0}};
	char **pos = calloc((size_t)a->argc + 1, sizeof *pos);
	int n = 0, rc;
	workspace *ws = NULL;
	json_t *report = NULL;
	if (!pos)
		return CLI_FAIL;
	if ((rc = cli_parse(a, opts, pos, a->argc, &n)))
		goto done;
	if (n < 2) {
		rc = cli_usage("attach", n ? _("which photos?") : _("which case?"));
		goto done;
	}
	if ((rc = cli_open(a, &ws)))
		goto done;
	rc = attach_photos(ws, pos[0], (const char *const *)pos + 1, (size_t)n - 1,
			   item && *item ? item : NULL, &report);
	if (as_json)
		cli_print_json(report);
	else {
		size_t i;
		json_t *r;
		json_array_foreach(report, i, r)
			print_attached(r);
	}
	if (rc)
		rc = cli_error();
done:
	json_decref(report);
	workspace_free(ws);
	free(pos);
	return rc;
}

/* --- photo info ---------------------------------------------------------------------- */

/* What fieldbook reads, one line per field (the error goes to stderr). */
static const struct { const char *key, *label; } info_fields[] = {
	{"file", N_("file")},         {"size", N_("bytes")},         {"sha256", N_("sha256")},
	{"width", N_("width")},       {"height", N_("height")},      {"exif", N_("EXIF")},
	{"taken", N_("taken")},       {"offset", N_("offset")},      {"taken_utc", N_("taken (UTC)")},
	{"gps", N_("GPS")},           {"lat", N_("latitude")},       {"lat_ref", N_("latitude ref")},
	{"lon", N_("longitude")},     {"lon_ref", N_("longitude ref")},
	{"alt", N_("altitude (m)")},  {"gps_date", N_("GPS date")},  {"gps_time", N_("GPS time")},
	{"make", N_("make")},         {"model", N_("model")},        {"orientation", N_("orientation")},
};

static void print_value(const json_t *v)
{
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld\n", (long long)json_integer_value(v));
	else if (json_is_real(v))
		printf("%.6f\n", json_real_value(v));
}

static void print_info(const json_t *info)
{
	for (size_t i = 0; i < sizeof info_fields / sizeof *info_fields; i++) {
		const json_t *v = json_object_get(info, info_fields[i].key);
		if (!v)
			continue;
		printf("%-15s ", _(info_fields[i].label));
		print_value(v);
	}
}

static json_t *photo_info(const photo *p)
{
	size_t len;
	time_t t;
	const char *src;
	json_t *o = photo_exif_json(p);
	if (!o)
		return NULL;
	photo_bytes(p, &len);
	json_object_set_new(o, "file", json_string(photo_name(p)));
	json_object_set_new(o, "size", json_integer((json_int_t)len));
	json_object_set_new(o, "sha256", json_string(photo_sha256(p)));
	if (photo_taken_utc_src(p, &t, &src) == 0) {
		char s[32];
		util_time_rfc3339(t, s);
		json_object_set_new(o, "taken_utc", json_string(s));
		json_object_set_new(o, "taken_utc_src", json_string(src));
	}
	error_clear();
	if (photo_damage(p))
		json_object_set_new(o, "error", json_string(photo_damage(p)));
	return o;
}

int cmd_photo(cli_args *a)
{
	bool as_json = false;
	cli_opt opts[] = {{"json", 'b', &as_json}, {0}};
	char *pos[2];
	int n, rc;
	photo *p = NULL;
	json_t *info;
	if ((rc = cli_parse(a, opts, pos, 2, &n)))
		return rc;
	if (n != 2 || strcmp(pos[0], "info") != 0)
		return cli_usage("photo", _("the only subcommand is \"info PHOTO\""));
	if (photo_load_file_ex(&p, pos[1], PHOTO_LOAD_KEEP_DAMAGED) != 0)
		info = json_pack("{s:s, s:s}", "file", pos[1], "error", error_last());
	else
		info = photo_info(p);
	if (!info) {
		photo_free(p);
		return cli_error();
	}
	if (as_json)
		cli_print_json(info);
	else
		print_info(info);
	rc = json_object_get(info, "error") ? CLI_FAIL : CLI_OK;
	if (rc)
		fprintf(stderr, "fieldbook: %s\n", json_string_value(json_object_get(info, "error")));
	json_decref(info);
	photo_free(p);
	return rc;
}
