/*
 * workspace: locating, creating and opening an officer's data directory.
 */
#include "workspace.h"
#include "error.h"
#include "i18n.h"
#include "agent.h"
#include "sign.h"
#include "util.h"
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int workspace_home(const char *opt, char **out)
{
	const char *env = getenv("FIELDBOOK_HOME"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int r;
	if (opt && *opt)
		r = asprintf(out, "%s", opt);
	else if (env && *env)
		r = asprintf(out, "%s", env);
	else if (xdg && *xdg)
		r = asprintf(out, "%s/fieldbook", xdg);
	else if (home && *home)
		r = asprintf(out, "%s/.local/share/fieldbook", home);
	else
		return error_set(ERR_NOTFOUND, _("no workspace: use --home DIR or set FIELDBOOK_HOME"));
	return r < 0 ? error_set(ERR_NOMEM, "out of memory") : 0;
}

static void make_device_id(char out[7])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	unsigned char raw[6];
	randombytes_buf(raw, sizeof raw);
	for (int i = 0; i < 6; i++)
		out[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
	out[6] = '\0';
}

static int valid_token(const char *s, const char *what)
{
	if (!s || !*s)
		return error_set(ERR_INVALID, _("%s is required"), what);
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return error_set(ERR_INVALID, _("%s may hold only letters, digits, - and _: %s"),
					 what, s);
	return 0;
}

int workspace_init(const char *home, const char *officer, const char *name, const char *unit)
{
	char path[4096], dev[7];
	int rc;
	if ((rc = valid_token(officer, "--officer")) || (rc = valid_token(unit, "--unit")))
		return rc;
	for (const char *p = unit; *p; p++)
		if (*p == '-' || *p == '_')
			return error_set(ERR_INVALID, _("--unit may hold only letters and digits: %s"), unit);
	if (!name || !*name || strpbrk(name, "<>\n"))
		return error_set(ERR_INVALID, _("--name is required (no <, > or newlines)"));
	if (sodium_init() < 0)
		return error_set(ERR_GENERIC, "libsodium init failed");
	snprintf(path, sizeof path, "%s/config", home);
	if (util_is_file(path))
		return error_set(ERR_EXISTS, _("%s already holds a workspace"), home);
	if ((rc = util_mkdirs(home, 0700)))
		return rc;
	chmod(home, 0700);
	make_device_id(dev);
	snprintf(path, sizeof path, "%s/device", home);
	char line[16];
	snprintf(line, sizeof line, "%s\n", dev);
	if ((rc = util_write_file(path, line, strlen(line), 0600)))
		return rc;
	snprintf(path, sizeof path, "%s/ledger.git", home);
	if (!util_is_dir(path) && (rc = ledger_create(path)))
		return rc;
	json_t *cfg = json_pack("{s:i, s:s, s:s, s:s, s:i}", "fieldbook", 1, "officer", officer,
				"name", name, "unit", unit, "photo_max_distance_m", 200);
	char *text = json_dumps(cfg, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(cfg);
	snprintf(path, sizeof path, "%s/config", home);
	rc = util_write_file(path, text, strlen(text), 0600);
	free(text);
	if (rc)
		return rc;
	fbindex *ix;
	snprintf(path, sizeof path, "%s/index.sqlite", home);
	if ((rc = index_open(&ix, path)))
		return rc;
	index_free(ix);
	chmod(path, 0600);
	return 0;
}

static int read_device(workspace *ws)
{
	char path[4096], *text;
	snprintf(path, sizeof path, "%s/device", ws->home);
	int rc = util_read_file(path, &text, NULL);
	if (rc)
		return rc;
	text[strcspn(text, "\r\n ")] = '\0';
	json_object_set_new(ws->config, "device", json_string(text));
	free(text);
	return 0;
}

/* Trust on first use: once the ledger holds a roster, its first admin key
 * is pinned in the config; a later ledger with another root is refused
 * by the roster fold. */
static int pin_trust_root(workspace *ws)
{
	if (json_object_get(ws->config, "trust_root"))
		return 0;
	verify_roster *r;
	int rc = index_roster(ws->index, &r);
	if (rc == 0 && verify_roster_root(r)) {
		json_object_set_new(ws->config, "trust_root", json_string(verify_roster_root(r)));
		index_set_trust_root(ws->index, verify_roster_root(r));
		rc = workspace_config_save(ws);
	}
	verify_roster_free(r);
	return rc;
}

/* The ledger's branch as the file system sees it: inode, mtime and size of
 * the loose ref and of packed-refs.  Every move of the branch, by libgit2 or
 * stock git, replaces one of these files (lock file + rename). */
static void ref_stamp(const workspace *ws, char *out, size_t size)
{
	static const char *const files[] = {"ledger.git/refs/heads/main", "ledger.git/packed-refs"};
	char path[4096];
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files && n < size; i++) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", ws->home, files[i]);
		if (stat(path, &st) == 0)
			n += (size_t)snprintf(out + n, size - n, "%ju.%jd.%ld.%jd;", (uintmax_t)st.st_ino,
					      (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
					      (intmax_t)st.st_size);
		else
			n += (size_t)snprintf(out + n, size - n, "-;");
	}
}

#define STAMP_KEY "ledger_stamp"

/* Is the index known to hold the ledger's head without opening the ledger?
 * The stamp is "<head> <ref stamp>", stored after a sync with the ref stamp
 * taken before the head was read: a branch moved since then changes it. */
static bool index_is_fresh(workspace *ws, const char *stamp)
{
	char stored[512], head[41], want[600];
	if (index_meta_get(ws->index, STAMP_KEY, stored, sizeof stored) || index_head(ws->index, head) ||
	    !head[0])
		return false;
	snprintf(want, sizeof want, "%s %s", head, stamp);
	return strcmp(stored, want) == 0;
}

static int remember_stamp(workspace *ws, const char *stamp)
{
	char head[41], value[600];
	int rc = index_head(ws->index, head);
	if (rc || !head[0])
		return rc;
	snprintf(value, sizeof value, "%s %s", head, stamp);
	return index_meta_set(ws->index, STAMP_KEY, value);
}

static int open_config(workspace *ws)
{
	char path[4096];
	json_error_t jerr;
	int rc;
	if (sodium_init() < 0)
		return error_set(ERR_GENERIC, "libsodium init failed");
	snprintf(path, sizeof path, "%s/config", ws->home);
	if (!util_is_file(path))
		return error_set(ERR_NOTFOUND, _("no workspace at %s: run 'fieldbook init --officer ID "
						 "--name NAME --unit UNIT' first"), ws->home);
	if (!(ws->config = json_load_file(path, 0, &jerr)) || !json_is_object(ws->config))
		return error_set(ERR_INVALID, _("%s:%d: broken config: %s"), path, jerr.line, jerr.text);
	if ((rc = read_device(ws)))
		return rc;
	ws->officer = json_string_value(json_object_get(ws->config, "officer"));
	ws->name = json_string_value(json_object_get(ws->config, "name"));
	ws->unit = json_string_value(json_object_get(ws->config, "unit"));
	ws->device = json_string_value(json_object_get(ws->config, "device"));
	if (!ws->officer || !ws->name || !ws->unit || !ws->device)
		return error_set(ERR_INVALID, _("%s: officer, name or unit missing"), path);
	snprintf(path, sizeof path, "%s/index.sqlite", ws->home);
	if ((rc = index_open(&ws->index, path)))
		return rc;
	index_set_trust_root(ws->index, json_string_value(json_object_get(ws->config, "trust_root")));
	return 0;
}

/* Open the ledger and bring the index up to date with it. */
static int open_ledger(workspace *ws)
{
	char path[4096], stamp[256], indexed[41] = "";
	int rc;
	ref_stamp(ws, stamp, sizeof stamp);
	snprintf(path, sizeof path, "%s/ledger.git", ws->home);
	if ((rc = ledger_open(&ws->ledger, path)) || (rc = index_head(ws->index, indexed)) ||
	    (rc = index_sync(ws->index, ws->ledger)) || (rc = pin_trust_root(ws)))
		return rc;
	ws->index_built = !indexed[0];
	return remember_stamp(ws, stamp);
}

static int open_ws(workspace **out, const char *home, bool query)
{
	char stamp[256];
	int rc;
	workspace *ws = calloc(1, sizeof *ws);
	if (!ws || !(ws->home = strdup(home))) {
		free(ws);
		return error_set(ERR_NOMEM, "out of memory");
	}
	if ((rc = open_config(ws)))
		goto fail;
	if (query && json_object_get(ws->config, "trust_root")) {
		ref_stamp(ws, stamp, sizeof stamp);
		if (index_is_fresh(ws, stamp)) {
			*out = ws;
			return 0;
		}
	}
	if ((rc = open_ledger(ws)))
		goto fail;
	*out = ws;
	return 0;
fail:
	workspace_free(ws);
	return rc;
}

int workspace_open(workspace **out, const char *home) { return open_ws(out, home, false); }

int workspace_open_query(workspace **out, const char *home) { return open_ws(out, home, true); }

void workspace_free(workspace *ws)
{
	if (!ws)
		return;
	sign_key_free(ws->key);
	index_free(ws->index);
	ledger_free(ws->ledger);
	json_decref(ws->config);
	free(ws->home);
	free(ws);
}

/* --- forms ---------------------------------------------------------------------- */

/* Directories searched for forms, most local first. */
static int form_dirs(workspace *ws, char dirs[][4096], int max)
{
	int n = 0;
	const char *env = getenv("FIELDBOOK_FORMS");
	char exe[4000];
	if (env && *env && n < max)
		snprintf(dirs[n++], 4096, "%s", env);
	if (ws && n < max)
		snprintf(dirs[n++], 4096, "%s/forms", ws->home);
	if (util_exe_dir(exe, sizeof exe) == 0) {
		if (n < max)
			snprintf(dirs[n++], 4096, "%s/../forms", exe);
		if (n < max)
			snprintf(dirs[n++], 4096, "%s/../share/fieldbook/forms", exe);
	}
	if (n < max)
		snprintf(dirs[n++], 4096, "%s/share/fieldbook/forms", FB_PREFIX);
	return n;
}

int workspace_form_find(workspace *ws, const char *id, form **out, char **path)
{
	char dirs[5][4096], file[4200];
	int n = form_dirs(ws, dirs, 5);
	for (int i = 0; i < n; i++) {
		if (snprintf(file, sizeof file, "%s/%s.yaml", dirs[i], id) >= (int)sizeof file ||
		    !util_is_file(file))
			continue;
		int rc = form_load_file(out, file);
		if (rc == 0 && path)
			*path = strdup(file);
		return rc;
	}
	return error_set(ERR_NOTFOUND, _("no form \"%s\" (see 'fieldbook forms')"), id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int workspace_form_list(workspace *ws, json_t **out)
{
	char dirs[5][4096];
	int n = form_dirs(ws, dirs, 5);
	json_t *seen = json_object(), *arr = json_array();
	for (int i = 0; i < n; i++) {
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		char *names[512];
		size_t nn = 0;
		struct dirent *de;
		while ((de = readdir(d)) && nn < 512) {
			size_t l = strlen(de->d_name);
			if (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)
				names[nn++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, nn, sizeof *names, cmp_str);
		for (size_t k = 0; k < nn; k++) {
			char file[4400], id[256];
			snprintf(id, sizeof id, "%.*s", (int)(strlen(names[k]) - 5), names[k]);
			int toolong = snprintf(file, sizeof file, "%s/%s", dirs[i], names[k]) >= (int)sizeof file;
			free(names[k]);
			if (toolong)
				continue;
			if (json_object_get(seen, id))
				continue;
			json_object_set_new(seen, id, json_true());
			form *f;
			if (form_load_file(&f, file) != 0) {
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", id, "path",
								     file, "error", error_last()));
				continue;
			}
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id",
							     form_id(f), "version", form_version(f),
							     "title_zh", form_title(f, "zh"), "title_en",
							     form_title(f, "en"), "category",
							     form_category_code(f), "path", file));
			form_free(f);
		}
	}
	json_decref(seen);
	*out = arr;
	return 0;
}

int workspace_form_of_case(workspace *ws, const json_t *state, form **out)
{
	const json_t *fr = json_object_get(state, "form");
	const char *id = json_string_value(json_object_get(fr, "id"));
	json_int_t version = json_integer_value(json_object_get(fr, "version"));
	if (!id)
		return error_set(ERR_INVALID, _("case %s has no form"),
				 json_string_value(json_object_get(state, "id")));
	char path[512], *text;
	size_t len;
	snprintf(path, sizeof path, "forms/%s/%lld.yaml", id, (long long)version);
	int rc = ledger_read(ws->ledger, path, &text, &len);
	if (rc)
		return rc;
	rc = form_load_buffer(out, text, len, path);
	free(text);
	return rc;
}

/* --- keys ---------------------------------------------------------------------------------- */

void workspace_path(const workspace *ws, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", ws->home, name);
}

int workspace_key_create(const char *home, const char *pin, char *pubkey, size_t size)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/key", home);
	return sign_key_create(path, pin, pubkey, size);
}

int workspace_public_key(const workspace *ws, char *pubkey, size_t size)
{
	char path[4096];
	workspace_path(ws, "key", path, sizeof path);
	return sign_key_public_of(path, pubkey, size);
}

/* A key agent started by `fieldbook unlock` for this workspace's key. */
static bool agent_available(workspace *ws)
{
	char sock[4096], theirs[160], ours[160];
	workspace_path(ws, "agent.sock", sock, sizeof sock);
	if (!util_is_file(sock) && access(sock, F_OK) != 0)
		return false;
	if (agent_public(sock, theirs, sizeof theirs) != 0 || workspace_public_key(ws, ours, sizeof ours) != 0) {
		error_clear();
		return false;
	}
	return strcmp(theirs, ours) == 0;
}

int workspace_sign(workspace *ws, const char *ns, const void *data, size_t len, char **sig)
{
	int rc = workspace_unlock(ws);
	if (rc)
		return rc;
	if (ws->key)
		return sign_data(ws->key, ns, data, len, sig);
	char sock[4096];
	workspace_path(ws, "agent.sock", sock, sizeof sock);
	return agent_sign(sock, ns, data, len, sig);
}

int workspace_unlock(workspace *ws)
{
	char key[4096], state[4096], pin[256];
	if (ws->key || (ws->use_agent = agent_available(ws)))
		return 0;
	workspace_path(ws, "key", key, sizeof key);
	workspace_path(ws, "pin-state", state, sizeof state);
	if (!util_is_file(key))
		return error_set(ERR_NOTFOUND, _("no officer key in %s: run 'fieldbook key create'"), ws->home);
	if (!ws->pin_cb)
		return error_set(ERR_STATE, _("the officer key is locked and there is no way to ask for the PIN"));
	int rc = ws->pin_cb(ws, _("PIN: "), pin, sizeof pin, ws->pin_payload);
	if (rc == 0)
		rc = sign_key_unlock(&ws->key, key, state, pin);
	sodium_memzero(pin, sizeof pin);
	return rc;
}

void workspace_lock(workspace *ws)
{
	sign_key_free(ws->key);
	ws->key = NULL;
	ws->use_agent = false; /* look for the agent again at the next unlock */
}

int workspace_config_save(workspace *ws)
{
	char path[4096];
	json_t *copy = json_deep_copy(ws->config);
	json_object_del(copy, "device"); /* kept in its own file */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(copy, tmp, k, v)
		if (k[0] == '_')
			json_object_del(copy, k); /* runtime values */
	char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(copy);
	workspace_path(ws, "config", path, sizeof path);
	int rc = text ? util_write_file(path, text, strlen(text), 0600) : error_set(ERR_NOMEM, "out of memory");
	free(text);
	return rc;
}
