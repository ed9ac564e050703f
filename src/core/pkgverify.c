/*
 * pkgverify: checks of an evidence package.  See pkgverify.h.
 *
 * Each check is a function over the package read into memory; failures
 * name the file and what is wrong with it.  Checks run in order and all
 * of them run, so one report lists every problem.
 */
#include "pkgverify.h"
#include "error.h"
#include "event.h"
#include "export.h"
#include "i18n.h"
#include "sign.h"
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	export_bag bag;
	json_t *failures;
	json_t *info;     /* bag-info.txt: label -> value */
	json_t *events;   /* event id -> {event, file} */
	json_t *verdicts; /* event id -> "ok" or the reason */
	const char *case_id, *unit;
	bool redacted;
	size_t signatures;
	verify_roster *roster;
	json_t *report;
} pv;

static void failure(pv *p, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failure(pv *p, const char *file, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(p->failures, json_pack("{s:s, s:s}", "file", file, "problem", buf));
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static bool ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A copy of a file's bytes as a NUL-terminated string (caller frees). */
static char *text_of(const export_file *f)
{
	char *s = malloc(f->len + 1);
	if (s) {
		memcpy(s, f->data, f->len);
		s[f->len] = '\0';
	}
	return s;
}

/* Call fn for each line of a text file (without its newline). */
static void each_line(const export_file *f, void (*fn)(pv *, const char *, int, void *), pv *p, void *ud)
{
	char *text = text_of(f), *save = NULL;
	int n = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		fn(p, line, ++n, ud);
	}
	free(text);
}

/* --- bagit.txt, bag-info.txt ---------------------------------------------------------------- */

static void check_bagit(pv *p)
{
	static const char want[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	const export_file *f = export_bag_find(&p->bag, "bagit.txt");
	if (!f)
		failure(p, "bagit.txt", "%s", _("missing: this is not a BagIt package"));
	else if (f->len != strlen(want) || memcmp(f->data, want, f->len) != 0)
		failure(p, "bagit.txt", "%s", _("must say \"BagIt-Version: 1.0\" and \"Tag-File-Character-Encoding: UTF-8\""));
}

static void info_line(pv *p, const char *line, int n, void *ud)
{
	const char **last = ud;
	if ((*line == ' ' || *line == '\t') && *last) { /* continuation */
		char *joined;
		if (asprintf(&joined, "%s %s", str(p->info, *last), line + strspn(line, " \t")) >= 0) {
			json_object_set_new(p->info, *last, json_string(joined));
			free(joined);
		}
		return;
	}
	const char *colon = strchr(line, ':');
	if (!colon) {
		failure(p, "bag-info.txt", _("line %d is not \"Label: value\""), n);
		return;
	}
	char label[128];
	snprintf(label, sizeof label, "%.*s", (int)(colon - line), line);
	json_object_set_new(p->info, label, json_string(colon + 1 + strspn(colon + 1, " \t")));
	*last = json_object_iter_key(json_object_iter_at(p->info, label));
}

static void check_info(pv *p)
{
	static const char *const required[] = {"Source-Organization", "External-Identifier", "Bagging-Date",
					       "Payload-Oxum", "Bag-Software-Agent"};
	const export_file *f = export_bag_find(&p->bag, "bag-info.txt");
	const char *last = NULL;
	if (!f) {
		failure(p, "bag-info.txt", "%s", _("missing"));
		return;
	}
	each_line(f, info_line, p, &last);
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		if (!*str(p->info, required[i]))
			failure(p, "bag-info.txt", _("no %s"), required[i]);
	p->case_id = str(p->info, "External-Identifier");
	p->unit = str(p->info, "Source-Organization");
	p->redacted = json_object_get(p->info, "Fieldbook-Redaction") != NULL;
	if (*p->case_id && !case_id_valid(p->case_id))
		failure(p, "bag-info.txt", _("External-Identifier \"%s\" is not a case id"), p->case_id);
}

/* --- manifests -------------------------------------------------------------------------------- */

typedef struct {
	size_t alg;
	const char *name;
	bool payload;
	json_t *listed; /* path -> true */
} manifest_ctx;

static void manifest_line(pv *p, const char *line, int n, void *ud)
{
	manifest_ctx *m = ud;
	char want[EXPORT_HEX_MAX], got[EXPORT_HEX_MAX];
	size_t hl = strcspn(line, " \t");
	const char *path = line + hl + strspn(line + hl, " \t");
	if (*path == '*')
		path++;
	if (hl == 0 || hl >= sizeof want || !*path) {
		failure(p, m->name, _("line %d is not \"<hash>  <file>\""), n);
		return;
	}
	snprintf(want, sizeof want, "%.*s", (int)hl, line);
	if (!export_path_valid(path) || starts(path, "data/") != m->payload) {
		failure(p, m->name, _("line %d names \"%s\", which may not be in this manifest"), n, path);
		return;
	}
	if (json_object_get(m->listed, path)) {
		failure(p, m->name, _("lists %s twice"), path);
		return;
	}
	json_object_set_new(m->listed, path, json_true());
	const export_file *f = export_bag_find(&p->bag, path);
	if (!f) {
		failure(p, path, _("missing, but listed in %s"), m->name);
		return;
	}
	export_hash_hex(m->alg, f->data, f->len, got);
	if (strcasecmp(got, want) != 0)
		failure(p, path, _("%s does not match %s (file %.16s..., manifest %.16s...): the file was changed"),
			export_alg_name(m->alg), m->name, got, want);
}

static bool is_tag_manifest(const char *path) { return starts(path, "tagmanifest-"); }

/* Files a manifest must list: payload files, or the tag files (every
 * file outside data/ except the tag manifests themselves). */
static void check_listed_all(pv *p, manifest_ctx *m)
{
	for (size_t i = 0; i < p->bag.n; i++) {
		const char *path = p->bag.files[i].path;
		if (starts(path, "data/") != m->payload || is_tag_manifest(path))
			continue;
		if (!json_object_get(m->listed, path))
			failure(p, path, _("not listed in %s: a file was added"), m->name);
	}
}

static void check_manifest(pv *p, size_t alg, bool payload)
{
	char name[64];
	snprintf(name, sizeof name, "%smanifest-%s.txt", payload ? "" : "tag", export_alg_name(alg));
	manifest_ctx m = {alg, name, payload, json_object()};
	const export_file *f = export_bag_find(&p->bag, name);
	if (!f)
		failure(p, name, "%s", _("missing"));
	else {
		each_line(f, manifest_line, p, &m);
		check_listed_all(p, &m);
	}
	json_decref(m.listed);
}

static void check_manifests(pv *p)
{
	for (size_t i = 0; i < export_alg_count(); i++)
		check_manifest(p, i, true);
	for (size_t i = 0; i < export_alg_count(); i++)
		check_manifest(p, i, false);
}

static void check_oxum(pv *p)
{
	unsigned long long octets = 0, count = 0, want_o, want_c;
	for (size_t i = 0; i < p->bag.n; i++)
		if (starts(p->bag.files[i].path, "data/"))
			octets += p->bag.files[i].len, count++;
	const char *ox = str(p->info, "Payload-Oxum");
	if (!*ox)
		return;
	if (sscanf(ox, "%llu.%llu", &want_o, &want_c) != 2)
		failure(p, "bag-info.txt", _("Payload-Oxum \"%s\" is not <bytes>.<files>"), ox);
	else if (want_o != octets || want_c != count)
		failure(p, "bag-info.txt", _("Payload-Oxum says %llu bytes in %llu files; data/ holds %llu bytes in %llu files"),
			want_o, want_c, octets, count);
}

/* --- roster and signatures -------------------------------------------------------------------- */

static const export_file *sig_of(pv *p, const char *path)
{
	char sig[600];
	snprintf(sig, sizeof sig, "%s.sig", path);
	return export_bag_find(&p->bag, sig);
}

static void check_roster(pv *p)
{
	json_t *items = json_array();
	for (size_t i = 0; i < p->bag.n; i++) {
		const export_file *f = &p->bag.files[i];
		if (!starts(f->path, "data/roster/") || !ends(f->path, ".json"))
			continue;
		char *text = text_of(f), *sig = NULL;
		const export_file *s = sig_of(p, f->path);
		json_t *ev = NULL;
		if (event_parse(text, f->len, f->path, &ev) != 0)
			failure(p, f->path, "%s", error_last());
		else {
			sig = s ? text_of(s) : NULL;
			json_array_append_new(items, json_pack("{s:o, s:s, s:s?}", "event", ev, "text", text, "sig", sig));
		}
		free(text);
		free(sig);
	}
	if (json_array_size(items) == 0 && !p->redacted)
		failure(p, "data/roster", "%s", _("no roster changes: the signers' keys cannot be checked"));
	verify_roster_build(&p->roster, items, NULL);
	json_decref(items);
	size_t i;
	json_t *pr;
	json_array_foreach(verify_roster_problems(p->roster), i, pr) {
		char file[200];
		snprintf(file, sizeof file, "data/roster/%s.json", str(pr, "event"));
		failure(p, file, "%s", str(pr, "problem"));
	}
}

static void check_signature(pv *p, const export_file *f, const json_t *ev)
{
	const export_file *s = sig_of(p, f->path);
	char reason[512];
	char *text = text_of(f), *sig = s ? text_of(s) : NULL;
	bool ok = verify_event(p->roster, ev, text, f->len, sig, s ? s->len : 0, reason, sizeof reason);
	if (!ok)
		failure(p, f->path, _("signature: %s"), reason);
	else
		p->signatures++;
	json_object_set_new(p->verdicts, str(ev, "id"), json_string(ok ? "ok" : reason));
	free(text);
	free(sig);
}

/* --- events, photos, forms ------------------------------------------------------------------ */

static const char *events_dir(const pv *p) { return p->redacted ? "data/redacted/" : "data/events/"; }

static void check_photo_ref(pv *p, const char *file, const json_t *ev)
{
	const char *sha = str(ev, "sha256");
	char path[160], got[EXPORT_HEX_MAX];
	snprintf(path, sizeof path, "data/photos/%s.jpg", sha);
	const export_file *f = export_path_valid(path) ? export_bag_find(&p->bag, path) : NULL;
	if (!f) {
		failure(p, file, _("refers to photo %s, which is not in the package"), path);
		return;
	}
	export_hash_hex(0, f->data, f->len, got);
	if (strcmp(got, sha) != 0)
		failure(p, path, _("sha256 is %s, but event %s recorded %s"), got, str(ev, "id"), sha);
}

static void check_form_ref(pv *p, const char *file, const json_t *ev)
{
	const json_t *fr = json_object_get(ev, "form");
	char path[300], got[EXPORT_HEX_MAX];
	if (!json_is_object(fr))
		return;
	snprintf(path, sizeof path, "data/forms/%s/%lld.yaml", str(fr, "id"),
		 (long long)json_integer_value(json_object_get(fr, "version")));
	const export_file *f = export_path_valid(path) ? export_bag_find(&p->bag, path) : NULL;
	if (!f) {
		failure(p, file, _("uses form %s, which is not in the package"), path);
		return;
	}
	export_hash_hex(0, f->data, f->len, got);
	if (*str(fr, "sha256") && strcmp(got, str(fr, "sha256")) != 0)
		failure(p, path, _("sha256 is %s, but event %s recorded %s"), got, str(ev, "id"), str(fr, "sha256"));
}

static void check_event_file(pv *p, const export_file *f)
{
	const char *name = f->path + strlen(events_dir(p));
	char *text = text_of(f);
	json_t *ev;
	if (event_parse(text, f->len, f->path, &ev) != 0) {
		failure(p, f->path, "%s", error_last());
		free(text);
		return;
	}
	free(text);
	const char *id = str(ev, "id");
	if (strlen(name) != strlen(id) + 5 || strncmp(name, id, strlen(id)) != 0)
		failure(p, f->path, _("holds event %s: the file name and the id differ"), id);
	if (json_object_get(p->events, id))
		failure(p, f->path, _("event id %s appears twice"), id);
	if (strcmp(str(ev, "case"), p->case_id) != 0)
		failure(p, f->path, _("belongs to case %s, not to this package's case %s"), str(ev, "case"), p->case_id);
	if (!p->redacted)
		check_signature(p, f, ev);
	if (strcmp(str(ev, "type"), EV_PHOTO) == 0)
		check_photo_ref(p, f->path, ev);
	check_form_ref(p, f->path, ev);
	json_object_set_new(p->events, id, json_pack("{s:O, s:s}", "event", ev, "file", f->path));
	json_decref(ev);
}

/* Photos no event refers to, signatures with no event, stray files. */
static void check_strays(pv *p)
{
	for (size_t i = 0; i < p->bag.n; i++) {
		const char *path = p->bag.files[i].path;
		char id[200];
		if (starts(path, "data/photos/")) {
			bool used = false;
			const char *k;
			json_t *v;
			json_object_foreach(p->events, k, v) {
				const json_t *ev = json_object_get(v, "event");
				used |= strcmp(str(ev, "type"), EV_PHOTO) == 0 && strstr(path, str(ev, "sha256")) &&
					strlen(path) == strlen("data/photos/.jpg") + strlen(str(ev, "sha256"));
			}
			if (!used)
				failure(p, path, "%s", _("no event of the case refers to this photo"));
		} else if (starts(path, events_dir(p)) && ends(path, ".json.sig")) {
			snprintf(id, sizeof id, "%.*s", (int)(strlen(path) - 4), path);
			if (!export_bag_find(&p->bag, id))
				failure(p, path, "%s", _("a signature with no event file"));
		} else if (p->redacted && starts(path, "data/redacted/") && ends(path, ".sig")) {
			failure(p, path, "%s", _("a signature in a redacted package"));
		}
	}
}

static int cmp_events(const void *a, const void *b)
{
	const json_t *x = json_object_get(*(json_t *const *)a, "event"),
		     *y = json_object_get(*(json_t *const *)b, "event");
	int c = strcmp(str(x, "at"), str(y, "at"));
	return c ? c : strcmp(str(x, "id"), str(y, "id"));
}

/* The first event in (at, id) order opens the case, and only one does. */
static void check_timeline(pv *p)
{
	size_t n = json_object_size(p->events), k = 0, opened = 0;
	if (n == 0) {
		failure(p, events_dir(p), "%s", _("no events"));
		return;
	}
	json_t **all = calloc(n, sizeof *all);
	const char *key;
	json_t *v;
	json_object_foreach(p->events, key, v) {
		all[k++] = v;
		opened += strcmp(str(json_object_get(v, "event"), "type"), EV_CASE_OPENED) == 0;
	}
	qsort(all, n, sizeof *all, cmp_events);
	if (strcmp(str(json_object_get(all[0], "event"), "type"), EV_CASE_OPENED) != 0)
		failure(p, str(all[0], "file"), "%s", _("the first event of the timeline does not open the case"));
	if (opened > 1)
		failure(p, events_dir(p), _("%zu events open the case"), opened);
	free(all);
}

static void check_events(pv *p)
{
	for (size_t i = 0; i < p->bag.n; i++) {
		const export_file *f = &p->bag.files[i];
		if (starts(f->path, events_dir(p)) && ends(f->path, ".json"))
			check_event_file(p, f);
	}
	for (size_t i = 0; p->redacted && i < p->bag.n; i++)
		if (starts(p->bag.files[i].path, "data/events/"))
			failure(p, p->bag.files[i].path, "%s", _("a redacted package holds an original event"));
	check_strays(p);
	check_timeline(p);
}

/* --- audit.tsv ------------------------------------------------------------------------------- */

static void audit_line(pv *p, const char *line, int n, void *ud)
{
	json_t *seen = ud;
	char *copy = strdup(line), *save = NULL, *f[7] = {0};
	int k = 0;
	for (char *t = strtok_r(copy, "\t", &save); t && k < 7; t = strtok_r(NULL, "\t", &save))
		f[k++] = t;
	if (n == 1) {
		if (strcmp(line, "commit\ttime\tofficer\tevent\ttype\tsignature") != 0)
			failure(p, "data/audit.tsv", "%s", _("the first line is not the expected header"));
	} else if (k != 6) {
		failure(p, "data/audit.tsv", _("line %d has %d fields, not 6"), n, k);
	} else {
		const json_t *ev = json_object_get(json_object_get(p->events, f[3]), "event");
		const char *mine = str(p->verdicts, f[3]);
		if (!ev)
			failure(p, "data/audit.tsv", _("line %d names event %s, which is not in the package"), n, f[3]);
		else if (strcmp(str(ev, "at"), f[1]) || strcmp(str(ev, "officer"), f[2]) || strcmp(str(ev, "type"), f[4]))
			failure(p, "data/audit.tsv", _("line %d does not match event %s (time, officer or type)"), n, f[3]);
		else if (!p->redacted && (strcmp(f[5], "ok") == 0) != (strcmp(mine, "ok") == 0))
			failure(p, "data/audit.tsv", _("line %d says the signature of %s is \"%s\"; the package shows \"%s\""),
				n, f[3], f[5], mine);
		json_object_set_new(seen, f[3], json_true());
	}
	free(copy);
}

static void check_audit(pv *p)
{
	const export_file *f = export_bag_find(&p->bag, "data/audit.tsv");
	if (!f) {
		failure(p, "data/audit.tsv", "%s", _("missing"));
		return;
	}
	json_t *seen = json_object();
	each_line(f, audit_line, p, seen);
	const char *id;
	json_t *v;
	json_object_foreach(p->events, id, v)
		if (!json_object_get(seen, id))
			failure(p, "data/audit.tsv", _("has no line for event %s"), id);
	json_decref(seen);
}

/* --- the run --------------------------------------------------------------------------------- */

static void (*const checks[])(pv *) = {
	check_bagit, check_info, check_manifests, check_oxum, check_roster, check_events, check_audit,
};

static json_t *root_of(pv *p)
{
	const char *root = verify_roster_root(p->roster);
	char fp[96] = "";
	if (!root || sign_fingerprint(root, fp, sizeof fp) != 0)
		return json_null();
	size_t i;
	json_t *e;
	size_t klen = strcspn(root, " ");
	klen += strcspn(root + klen + 1, " ") + 1;
	json_array_foreach(verify_roster_entries(p->roster), i, e)
		if (strncmp(str(e, "key"), root, klen) == 0)
			return json_pack("{s:s, s:s, s:s}", "officer", str(e, "officer"), "name", str(e, "name"),
					 "fingerprint", fp);
	return json_null();
}

int pkgverify_run(const char *path, json_t **report)
{
	pv p = {.failures = json_array(), .info = json_object(), .events = json_object(),
		.verdicts = json_object()};
	int rc = export_bag_load(&p.bag, path);
	if (rc && rc != ERR_NOTFOUND) {
		failure(&p, path, "%s", error_last());
		rc = 0;
	}
	if (rc == 0 && p.bag.n == 0 && json_array_size(p.failures) == 0)
		failure(&p, path, "%s", _("empty: no files"));
	if (rc == 0 && p.bag.n)
		for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
			checks[i](&p);
	if (rc == 0) {
		size_t photos = 0;
		for (size_t i = 0; i < p.bag.n; i++)
			photos += starts(p.bag.files[i].path, "data/photos/");
		*report = json_pack("{s:b, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:b, s:o, s:O}", "ok",
				    json_array_size(p.failures) == 0, "package", path, "case", p.case_id ? p.case_id : "",
				    "unit", p.unit ? p.unit : "", "redacted", p.redacted, "files", (json_int_t)p.bag.n,
				    "events", (json_int_t)json_object_size(p.events), "photos", (json_int_t)photos,
				    "signatures", (json_int_t)p.signatures, "signatures_checkable", !p.redacted,
				    "root", p.roster ? root_of(&p) : json_null(), "failures", p.failures);
	}
	verify_roster_free(p.roster);
	export_bag_free(&p.bag);
	json_decref(p.failures);
	json_decref(p.info);
	json_decref(p.events);
	json_decref(p.verdicts);
	return rc;
}
