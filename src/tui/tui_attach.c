/*
 * tui_attach: attach a photo from a file picker.
 *
 * The picker starts in the config's "photo_dir" ("~/" expanded), else
 * ~/DCIM when it exists, else the workspace's DCIM (the demo folder); it
 * lists sub-folders (Enter goes in, "../" up) and .jpg/.jpeg files with
 * their size and date.  The chosen file goes through attach_photos; what
 * its checks found is shown in words (attach_check_text) on the message
 * line.  Nothing here reads or writes the ledger itself.
 */
#include "tui_app.h"
#include "core/attach.h"
#include "core/error.h"
#include "core/event.h"
#include "core/i18n.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
	char name[256];
	bool dir;
	char label[512];
} pick_entry;

static bool is_jpeg_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

/* The folder the picker opens (caller frees). */
static char *start_dir(tui_app *app)
{
	const char *cfg = json_string_value(json_object_get(app->ws->config, "photo_dir"));
	const char *home = getenv("HOME");
	char path[PATH_MAX];
	if (cfg && *cfg) {
		if (cfg[0] == '~' && (cfg[1] == '/' || !cfg[1]) && home)
			snprintf(path, sizeof path, "%s%s", home, cfg + 1);
		else
			snprintf(path, sizeof path, "%s", cfg);
		return strdup(path);
	}
	if (home) {
		snprintf(path, sizeof path, "%s/DCIM", home);
		if (util_is_dir(path))
			return strdup(path);
	}
	snprintf(path, sizeof path, "%s/DCIM", app->ws->home);
	return strdup(path);
}

static void entry_label(pick_entry *e, const struct stat *st)
{
	if (e->dir) {
		snprintf(e->label, sizeof e->label, "%s/", e->name);
		return;
	}
	char when[32] = "", size[32];
	struct tm tm;
	if (localtime_r(&st->st_mtime, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	if (st->st_size >= 1 << 20)
		snprintf(size, sizeof size, "%.1f MB", (double)st->st_size / (1 << 20));
	else
		snprintf(size, sizeof size, "%lld KB", (long long)(st->st_size + 1023) / 1024);
	snprintf(e->label, sizeof e->label, "%s  %s  %s", e->name, size, when);
}

/* Folders first, then photos; ".." on top except at the root.  *out is
 * a new array (caller frees); ERR_* when the folder cannot be read. */
static int list_dir(const char *dir, pick_entry **out, size_t *n)
{
	struct dirent **names;
	int count = scandir(dir, &names, NULL, alphasort);
	*out = NULL;
	*n = 0;
	if (count < 0)
		return error_set(ERR_IO, _("cannot read the photo folder %s: %s"), dir, strerror(errno));
	pick_entry *v = calloc((size_t)count + 1, sizeof *v);
	size_t k = 0;
	if (v && strcmp(dir, "/") != 0) {
		snprintf(v[k].name, sizeof v[k].name, "..");
		v[k].dir = true;
		snprintf(v[k].label, sizeof v[k].label, "../");
		k++;
	}
	for (int pass = 0; v && pass < 2; pass++)
		for (int i = 0; i < count; i++) {
			const char *name = names[i]->d_name;
			char path[PATH_MAX];
			struct stat st;
			if (name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, name);
			if (stat(path, &st) != 0)
				continue;
			bool d = S_ISDIR(st.st_mode);
			if ((pass == 0) != d || (!d && (!S_ISREG(st.st_mode) || !is_jpeg_name(name))))
				continue;
			snprintf(v[k].name, sizeof v[k].name, "%s", name);
			v[k].dir = d;
			entry_label(&v[k], &st);
			k++;
		}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (!v)
		return error_set(ERR_NOMEM, "out of memory");
	*out = v;
	*n = k;
	return 0;
}

/* Let the user choose a photo file: 0 with *path (caller frees), 1 cancelled. */
static int pick_file(tui_app *app, char **path)
{
	char *dir = start_dir(app), title[PATH_MAX + 64];
	int rc = 1;
	*path = NULL;
	while (dir) {
		pick_entry *v;
		size_t n;
		if (list_dir(dir, &v, &n) != 0) {
			tui_err_last(app);
			rc = -1;
			break;
		}
		const char **labels = calloc(n + 1, sizeof *labels);
		for (size_t i = 0; labels && i < n; i++)
			labels[i] = v[i].label;
		snprintf(title, sizeof title, _("Photo from %s"), dir);
		int k = labels ? tui_pick(app, title, labels, n, 0) : -1;
		free(labels);
		char next[PATH_MAX];
		if (k >= 0)
			snprintf(next, sizeof next, "%s/%s", dir, v[k].name);
		bool into = k >= 0 && v[k].dir;
		free(v);
		if (k < 0)
			break;
		free(dir);
		if (!into) {
			*path = strdup(next);
			return *path ? 0 : -1;
		}
		dir = realpath(next, NULL);
	}
	free(dir);
	return rc;
}

int tui_attach_count(tui_app *app, const char *case_id, const char *item)
{
	json_t *rows, *r;
	size_t i;
	int n = 0;
	if (index_case_events(app->ws->index, case_id, &rows) != 0) {
		error_clear();
		return 0;
	}
	json_array_foreach(rows, i, r) {
		const json_t *ev = json_object_get(r, "event");
		n += strcmp(event_str(ev, "type"), EV_PHOTO) == 0 &&
		     (!item || strcmp(event_str(ev, "item"), item) == 0);
	}
	json_decref(rows);
	return n;
}

/* "IMG_1.jpg attached: check; check" on the message line. */
static void report_checks(tui_app *app, const char *path, const json_t *report)
{
	const json_t *checks = json_object_get(json_array_get(report, 0), "checks");
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char line[1024];
	size_t used, i;
	json_t *c;
	if (!json_array_size(checks)) {
		tui_msg(app, _("%s attached; the checks found nothing"), base);
		return;
	}
	used = (size_t)snprintf(line, sizeof line, _("%s attached: "), base);
	json_array_foreach(checks, i, c) {
		char *text = attach_check_text(c);
		if (used < sizeof line)
			used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? "; " : "",
						 text ? text : "?");
		free(text);
	}
	tui_err(app, "%s", line);
}

int tui_attach_pick(tui_app *app, const char *case_id, const char *item, int *count)
{
	char *path;
	json_t *report = NULL;
	int rc = pick_file(app, &path);
	if (rc)
		return rc;
	const char *paths[] = {path};
	rc = attach_photos(app->ws, case_id, paths, 1, item, &report);
	if (rc)
		tui_err_last(app);
	else
		report_checks(app, path, report);
	if (rc == 0 && count)
		*count = tui_attach_count(app, case_id, item);
	json_decref(report);
	free(path);
	return rc;
}
