/*
 * export: evidence packages (BagIt 1.0).  See export.h.
 */
/* openssl/types.h names a type ERR_STATE, which error.h's codes also use:
 * libcrypto's, unused here, is renamed. */
#define ERR_STATE openssl_ERR_STATE
#include <openssl/evp.h>
#undef ERR_STATE

#include "export.h"
#include "case.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "index.h"
#include "ledger.h"
#include "report.h"
#include "util.h"
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* --- the bag in memory ------------------------------------------------------------------ */

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const export_file *)a)->path, ((const export_file *)b)->path);
}

const export_file *export_bag_find(const export_bag *b, const char *path)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->files[i].path, path) == 0)
			return &b->files[i];
	return NULL;
}

int export_bag_take(export_bag *b, const char *path, void *data, size_t len)
{
	if (export_bag_find(b, path)) {
		free(data);
		return error_set(ERR_EXISTS, _("%s: the package already holds this file"), path);
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 32;
		export_file *f = realloc(b->files, cap * sizeof *f);
		if (!f) {
			free(data);
			return error_set(ERR_NOMEM, "out of memory");
		}
		b->files = f;
		b->cap = cap;
	}
	char *p = strdup(path);
	if (!p) {
		free(data);
		return error_set(ERR_NOMEM, "out of memory");
	}
	b->files[b->n++] = (export_file){.path = p, .data = data, .len = len};
	return 0;
}

int export_bag_map(export_bag *b, const char *path, int fd, size_t len)
{
	if (len == 0)
		return export_bag_add(b, path, "", 0);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return error_set(ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	int rc = export_bag_take(b, path, NULL, len);
	if (rc) {
		munmap(m, len);
		return rc;
	}
	b->files[b->n - 1].data = m;
	b->files[b->n - 1].mapped = true;
	return 0;
}

int export_bag_add(export_bag *b, const char *path, const void *data, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	if (!copy)
		return error_set(ERR_NOMEM, "out of memory");
	memcpy(copy, data, len);
	return export_bag_take(b, path, copy, len);
}

void export_bag_free(export_bag *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->files[i].path);
		if (b->files[i].mapped)
			munmap(b->files[i].data, b->files[i].len);
		else
			free(b->files[i].data);
	}
	free(b->files);
	*b = (export_bag){0};
}

bool export_path_valid(const char *path)
{
	if (!*path || strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") !=
			      strlen(path))
		return false;
	for (const char *c = path; c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = c[n] ? c + n + 1 : NULL;
	}
	return true;
}

/* "a/b" into out, or ERR_INVALID when it does not fit. */
static int join_path(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s%s%s", a, *a && *b ? "/" : "", b);
	if (n < 0 || (size_t)n >= size)
		return error_set(ERR_INVALID, _("path too long: %s/%s"), a, b);
	return 0;
}

/* --- hashes ----------------------------------------------------------------------------- */

/* OpenSSL's libcrypto: it uses the CPU's SHA extensions where libsodium's
 * portable code ran at a sixth of the speed, and hashing every byte twice
 * (sha256 and sha512) was most of a large package's time. */
static const struct {
	const char *name;
	const EVP_MD *(*md)(void);
} algs[] = {
	{"sha256", EVP_sha256},
	{"sha512", EVP_sha512},
};
_Static_assert(sizeof algs / sizeof *algs == EXPORT_ALGS, "export.h: EXPORT_ALGS");

size_t export_alg_count(void) { return EXPORT_ALGS; }
const char *export_alg_name(size_t i) { return algs[i].name; }

void export_hash_hex(size_t alg, const void *data, size_t len, char out[EXPORT_HEX_MAX])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_Digest(data, len, h, &n, algs[alg].md(), NULL))
		sodium_bin2hex(out, EXPORT_HEX_MAX, h, n);
	else
		out[0] = 0;
}

/* --- the bag's digests and first files, in two threads ------------------------------------ */

/* One digest of one file, or one file written into the package directory.
 * The files' bytes and paths never move once in the bag (only the array
 * of files grows), so a job keeps them and the file's index. */
enum job_kind { JOB_HASH, JOB_WRITE };

typedef struct {
	enum job_kind kind;
	const unsigned char *data;
	const char *path; /* JOB_WRITE: the file's path in the bag */
	size_t len, file, alg;
	char hex[EXPORT_HEX_MAX];
	int rc;        /* JOB_WRITE: its result, and its message (errors are per thread) */
	char msg[512];
} hash_job;

typedef struct {
	hash_job *jobs;
	size_t n;
	atomic_size_t next;
	const char *dir; /* where write jobs write ("": none) */
	pthread_t thread;
	bool threaded;
} hasher;

static int write_one(const char *dir, const char *rel, const void *data, size_t len);

static void run_job(hasher *h, hash_job *j)
{
	if (j->kind == JOB_HASH) {
		export_hash_hex(j->alg, j->data, j->len, j->hex);
		return;
	}
	if ((j->rc = write_one(h->dir, j->path, j->data, j->len)))
		snprintf(j->msg, sizeof j->msg, "%s", error_last());
}

static void hasher_run(hasher *h)
{
	for (size_t i; (i = atomic_fetch_add(&h->next, 1)) < h->n;)
		run_job(h, &h->jobs[i]);
}

static void *hasher_thread(void *h)
{
	hasher_run(h);
	return NULL;
}

/* Largest first, so that the two threads end together. */
static int cmp_job(const void *a, const void *b)
{
	const hash_job *x = a, *y = b;
	return x->len != y->len ? (x->len < y->len ? 1 : -1) : (x->alg < y->alg) - (x->alg > y->alg);
}

/* Start computing the digests of the files not hashed yet in a second
 * thread, while this one goes on (rendering the report); when dir is
 * given, the same thread then writes those files into it, so that the
 * writing is done by the time the report is.  The bag may grow meanwhile;
 * hasher_finish must be called before it is freed. */
static int hasher_start(hasher *h, const export_bag *b, const char *dir)
{
	*h = (hasher){0};
	atomic_init(&h->next, 0);
	h->dir = dir ? dir : "";
	h->jobs = malloc((b->n ? b->n : 1) * (EXPORT_ALGS + 1) * sizeof *h->jobs);
	if (!h->jobs)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < b->n; i++)
		for (size_t a = 0; a < EXPORT_ALGS && !b->files[i].hashed; a++)
			h->jobs[h->n++] = (hash_job){JOB_HASH, b->files[i].data, NULL, b->files[i].len, i, a,
						     "", 0, ""};
	qsort(h->jobs, h->n, sizeof *h->jobs, cmp_job);
	for (size_t i = 0; dir && i < b->n; i++)
		if (!b->files[i].written)
			h->jobs[h->n++] = (hash_job){JOB_WRITE, b->files[i].data, b->files[i].path,
						     b->files[i].len, i, 0, "", 0, ""};
	h->threaded = h->n > 1 && pthread_create(&h->thread, NULL, hasher_thread, h) == 0;
	return 0;
}

/* Help with what is left, wait for the other thread and keep the results
 * in the files. */
static int hasher_finish(hasher *h, export_bag *b)
{
	int rc = 0;
	hasher_run(h);
	if (h->threaded)
		pthread_join(h->thread, NULL);
	for (size_t i = 0; i < h->n; i++) {
		hash_job *j = &h->jobs[i];
		export_file *f = &b->files[j->file];
		if (j->kind == JOB_WRITE) {
			if (j->rc && !rc)
				rc = error_set(j->rc, "%s", j->msg);
			f->written = j->rc == 0;
			continue;
		}
		if (!j->hex[0])
			rc = error_set(ERR_NOMEM, "out of memory");
		memcpy(f->hex[j->alg], j->hex, EXPORT_HEX_MAX);
		f->hashed = true;
	}
	free(h->jobs);
	h->jobs = NULL;
	return rc;
}

static int bag_hash(export_bag *b)
{
	hasher h;
	int rc = hasher_start(&h, b, NULL);
	return rc ? rc : hasher_finish(&h, b);
}

/* --- gathering one case ------------------------------------------------------------------ */

typedef struct {
	workspace *ws;
	const char *case_id;
	bool redact;
	json_t *state, *rows; /* from the index */
	json_t *shown;        /* rows as the report shows them (redacted copies) */
	form *form;
	export_bag bag;
	json_t *roster_items; /* [{event, text, sig}] of the excerpt */
	verify_roster *roster;
} gather;

static void gather_free(gather *g)
{
	json_decref(g->state);
	json_decref(g->rows);
	json_decref(g->shown);
	json_decref(g->roster_items);
	form_free(g->form);
	verify_roster_free(g->roster);
	export_bag_free(&g->bag);
}

/* Add a ledger file to the bag at `to` (already there: nothing to do). */
static int add_ledger_file(gather *g, const char *from, const char *to, bool optional)
{
	char *data;
	size_t len;
	if (export_bag_find(&g->bag, to))
		return 0;
	if (!export_path_valid(to))
		return error_set(ERR_INVALID, _("%s: not a safe file name for a package "
						 "(only A-Z a-z 0-9 . _ / - are allowed)"), to);
	int rc = ledger_read(g->ws->ledger, from, &data, &len);
	if (rc == ERR_NOTFOUND && optional) {
		error_clear();
		return 0;
	}
	if (rc)
		return error_prefix(rc, _("reading %s from the ledger"), from);
	return export_bag_take(&g->bag, to, data, len);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int add_event(gather *g, const json_t *row)
{
	const json_t *ev = json_object_get(row, "event");
	const char *path = str(row, "path"), *id = str(ev, "id");
	char to[256], sig[600];
	if (!g->redact) {
		snprintf(to, sizeof to, "data/events/%s.json", id);
		snprintf(sig, sizeof sig, "%s.sig", path);
		int rc = add_ledger_file(g, path, to, false);
		strcat(to, ".sig");
		return rc ? rc : add_ledger_file(g, sig, to, true);
	}
	snprintf(to, sizeof to, "data/redacted/%s.json", id);
	if (!export_path_valid(to))
		return error_set(ERR_INVALID, _("%s: not a safe file name for a package "
						 "(only A-Z a-z 0-9 . _ / - are allowed)"), to);
	char *text = event_dump(ev);
	if (!text)
		return error_set(ERR_NOMEM, "out of memory");
	return export_bag_take(&g->bag, to, text, strlen(text));
}

static bool sha_valid(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int add_photo(gather *g, const json_t *ev)
{
	const char *sha = str(ev, "sha256");
	char dir[200], from[400], to[200];
	if (!sha_valid(sha))
		return error_set(ERR_INVALID, _("event %s: photo hash \"%s\" is not a sha256"),
				 str(ev, "id"), sha);
	int rc = case_dir(g->case_id, dir, sizeof dir);
	if (rc)
		return rc;
	snprintf(from, sizeof from, "%s/photos/%s.jpg", dir, sha);
	snprintf(to, sizeof to, "data/photos/%s.jpg", sha);
	return add_ledger_file(g, from, to, false);
}

static int add_form(gather *g, const json_t *ev)
{
	const json_t *f = json_object_get(ev, "form");
	if (!json_is_object(f))
		return 0;
	char from[300], to[320];
	snprintf(from, sizeof from, "forms/%s/%lld.yaml", str(f, "id"),
		 (long long)json_integer_value(json_object_get(f, "version")));
	snprintf(to, sizeof to, "data/%s", from);
	return add_ledger_file(g, from, to, false);
}

/* Events, their signatures, photos and forms. */
static int gather_events(gather *g)
{
	size_t i;
	json_t *row;
	int rc = 0;
	json_array_foreach(g->shown, i, row) {
		const json_t *ev = json_object_get(row, "event");
		if ((rc = add_event(g, row)) || (rc = add_form(g, ev)))
			return rc;
		if (strcmp(str(ev, "type"), EV_PHOTO) == 0 && (rc = add_photo(g, ev)))
			return rc;
	}
	return 0;
}

/* --- roster excerpt --------------------------------------------------------------------- */

/* Every roster change in the ledger: [{event, text, sig, id}]. */
static int roster_all(gather *g, json_t **out)
{
	git_object *obj = NULL;
	*out = json_array();
	if (git_revparse_single(&obj, ledger_repository(g->ws->ledger), LEDGER_REF ":roster") != 0)
		return 0; /* no roster yet */
	git_tree *t = (git_tree *)obj;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < git_tree_entrycount(t); i++) {
		const char *name = git_tree_entry_name(git_tree_entry_byindex(t, i));
		size_t n = strlen(name);
		if (n < 6 || strcmp(name + n - 5, ".json") != 0)
			continue;
		char path[300], *text, *sig = NULL;
		size_t len, slen;
		snprintf(path, sizeof path, "roster/%s", name);
		if ((rc = ledger_read(g->ws->ledger, path, &text, &len)))
			break;
		strcat(path, ".sig");
		if (ledger_read(g->ws->ledger, path, &sig, &slen) != 0)
			error_clear();
		json_t *ev = json_loadb(text, len, 0, NULL);
		if (ev)
			json_array_append_new(*out, json_pack("{s:o, s:s%, s:s?, s:s%}", "event", ev, "text",
							      text, len, "sig", sig, "id", name, n - 5));
		free(text);
		free(sig);
	}
	git_object_free(obj);
	return rc;
}

/* The roster changes about the case's signers, then about the admins who
 * signed those, until no new signer appears (the chain ends at the
 * self-signed trust root). */
static json_t *roster_closure(const json_t *all, json_t *need)
{
	json_t *picked = json_object();
	bool more = true;
	while (more) {
		more = false;
		size_t i;
		json_t *it;
		json_array_foreach(all, i, it) {
			const json_t *ev = json_object_get(it, "event");
			if (!json_object_get(need, str(ev, "member")) || json_object_get(picked, str(it, "id")))
				continue;
			json_object_set(picked, str(it, "id"), it);
			if (!json_object_get(need, str(ev, "officer"))) {
				json_object_set_new(need, str(ev, "officer"), json_true());
				more = true;
			}
		}
	}
	return picked;
}

static int gather_roster(gather *g)
{
	json_t *all, *need = json_object();
	size_t i;
	json_t *row;
	json_array_foreach(g->rows, i, row)
		json_object_set_new(need, str(json_object_get(row, "event"), "officer"), json_true());
	int rc = roster_all(g, &all);
	json_t *picked = rc ? NULL : roster_closure(all, need);
	g->roster_items = json_array();
	const char *id;
	json_t *it;
	json_object_foreach(picked, id, it) {
		char from[200], to[220];
		snprintf(from, sizeof from, "roster/%s.json", id);
		snprintf(to, sizeof to, "data/%s", from);
		if ((rc = add_ledger_file(g, from, to, false)))
			break;
		strcat(from, ".sig"), strcat(to, ".sig");
		if ((rc = add_ledger_file(g, from, to, true)))
			break;
		json_array_append(g->roster_items, it);
	}
	json_decref(all);
	json_decref(need);
	json_decref(picked);
	if (rc == 0)
		rc = verify_roster_build(&g->roster, g->roster_items, NULL);
	return rc;
}

static int gather_allowed_signers(gather *g)
{
	char *text = verify_allowed_signers(g->roster, NULL);
	if (!text)
		return error_set(ERR_NOMEM, "out of memory");
	return export_bag_take(&g->bag, "data/allowed_signers", text, strlen(text));
}

/* --- audit log ---------------------------------------------------------------------------- */

/* A TSV field: tabs and line breaks become spaces. */
static void tsv_field(FILE *f, const char *s, char end)
{
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
	fputc(end, f);
}

static int gather_audit(gather *g)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return error_set(ERR_NOMEM, "out of memory");
	fputs("commit\ttime\tofficer\tevent\ttype\tsignature\n", f);
	size_t i;
	json_t *row;
	json_array_foreach(g->rows, i, row) {
		const json_t *ev = json_object_get(row, "event");
		tsv_field(f, str(row, "commit"), '\t');
		tsv_field(f, str(ev, "at"), '\t');
		tsv_field(f, str(ev, "officer"), '\t');
		tsv_field(f, str(ev, "id"), '\t');
		tsv_field(f, str(ev, "type"), '\t');
		tsv_field(f, str(row, "verdict"), '\n');
	}
	fclose(f);
	return export_bag_take(&g->bag, "data/audit.tsv", buf, size);
}

/* --- redaction ------------------------------------------------------------------------------ */

static int redact_items(json_t *obj, const form *f)
{
	int n = 0;
	const char *k;
	json_t *v;
	if (!f || !json_is_object(obj))
		return 0;
	json_object_foreach(obj, k, v) {
		const form_item *it = form_item_find(f, k);
		if (it && form_item_personal(it)) {
			json_object_set_new(obj, k, json_string(EXPORT_REDACTED));
			n++;
		}
	}
	return n;
}

static int redact_in(json_t *o, const form *f)
{
	int n = redact_items(json_object_get(o, "answers"), f) + redact_items(json_object_get(o, "notes"), f);
	json_t *party = json_object_get(o, "party");
	if (json_is_object(party) && json_object_get(party, "contact")) {
		json_object_set_new(party, "contact", json_string(EXPORT_REDACTED));
		n++;
	}
	return n;
}

int export_redact_event(json_t *ev, const form *f)
{
	json_t *changes = json_object_get(ev, "changes");
	return redact_in(ev, f) + (json_is_object(changes) ? redact_in(changes, f) : 0);
}

/* The rows the package and the report show: copies with redacted events,
 * and the state folded again from them. */
static int gather_shown(gather *g)
{
	if (!g->redact) {
		g->shown = json_incref(g->rows);
		return 0;
	}
	g->shown = json_deep_copy(g->rows);
	json_t *events = json_array(), *st = NULL;
	size_t i;
	json_t *row;
	json_array_foreach(g->shown, i, row) {
		export_redact_event(json_object_get(row, "event"), g->form);
		json_array_append(events, json_object_get(row, "event"));
	}
	int rc = case_fold(events, &st);
	json_decref(events);
	if (rc == 0) {
		json_decref(g->state);
		g->state = st;
	}
	return rc;
}

static int gather_case(gather *g, workspace *ws, const char *case_id, bool redact)
{
	*g = (gather){.ws = ws, .case_id = case_id, .redact = redact};
	int rc;
	if (!case_id_valid(case_id))
		return error_set(ERR_INVALID, _("not a case id: %s"), case_id);
	if ((rc = index_case_get(ws->index, case_id, &g->state)) ||
	    (rc = index_case_events(ws->index, case_id, &g->rows)))
		return rc;
	if (workspace_form_of_case(ws, g->state, &g->form) != 0) {
		if (redact) /* personal fields cannot be found without the form */
			return error_prefix(error_code(), _("redacting case %s"), case_id);
		g->form = NULL;
		error_clear();
	}
	if ((rc = gather_shown(g)) || (rc = gather_events(g)) || (rc = gather_roster(g)) ||
	    (rc = gather_allowed_signers(g)) || (rc = gather_audit(g)))
		return rc;
	return 0;
}

/* --- report files ------------------------------------------------------------------------- */

static int photo_from_bag(const char *sha256, const unsigned char **data, size_t *len, void *payload)
{
	char path[128];
	snprintf(path, sizeof path, "data/photos/%s.jpg", sha256);
	const export_file *f = export_bag_find(payload, path);
	if (!f)
		return ERR_NOTFOUND;
	*data = f->data;
	*len = f->len;
	return 0;
}

static report_input report_of(gather *g, const char *agent, bool inline_photos)
{
	return (report_input){.state = g->state, .rows = g->shown, .form = g->form,
			      .roster = verify_roster_entries(g->roster), .unit = str(g->state, "unit"),
			      .agent = agent, .redacted = g->redact, .inline_photos = inline_photos,
			      .photo = photo_from_bag, .payload = &g->bag};
}

/* The file the PDF report is drawn into: data/report.pdf in the package
 * directory being written (dir), or, for a zip, a temporary file beside
 * it, unlinked at once.  *name gets the path errors name. */
static FILE *open_pdf(const char *dir, const char *out, char name[4096])
{
	if (dir) {
		if (join_path(name, 4096, dir, "data") || util_mkdirs(name, 0755) ||
		    join_path(name, 4096, dir, "data/report.pdf"))
			return NULL;
		FILE *f = fopen(name, "w+xe");
		if (!f)
			error_set(ERR_IO, _("cannot write %s: %s"), name, strerror(errno));
		return f;
	}
	snprintf(name, 4096, "%s.report-XXXXXX", out);
	int fd = mkostemp(name, O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w+");
	if (!f) {
		error_set(ERR_IO, _("cannot write %s: %s"), name, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (fd >= 0)
		unlink(name);
	return f;
}

/* The PDF is written as it is drawn and mapped back into the bag for the
 * digests (and the zip): it carries every photo, and growing it in memory
 * had cost a copy of them and their pages' clearing, most of the export of a
 * case with many photos. */
static int gather_pdf(gather *g, const report_input *in, const char *dir, const char *out)
{
	char name[4096];
	FILE *f = open_pdf(dir, out, name);
	if (!f)
		return ERR_IO;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	int rc = report_pdf(in, f);
	int e = errno;
	if (fflush(f) != 0 || ferror(f))
		rc = error_set(ERR_IO, _("cannot write %s: %s"), name, strerror(ferror(f) && e ? e : errno));
	off_t size = ftello(f);
	if (rc == 0 && dir)
		util_start_writeback(fileno(f), (size_t)size);
	if (rc == 0)
		rc = export_bag_map(&g->bag, "data/report.pdf", fileno(f), (size_t)size);
	if (rc == 0 && dir)
		g->bag.files[g->bag.n - 1].written = true;
	fclose(f);
	return rc;
}

static int gather_reports(gather *g, const char *agent, const char *dir, const char *out)
{
	report_input in = report_of(g, agent, false);
	char *html;
	size_t hlen;
	int rc = report_html(&in, &html, &hlen);
	if (rc || (rc = export_bag_take(&g->bag, "data/report.html", html, hlen)))
		return rc;
	return gather_pdf(g, &in, dir, out);
}

/* --- tag files ------------------------------------------------------------------------------ */

static int add_text(export_bag *b, const char *path, char *buf, size_t size)
{
	return export_bag_take(b, path, buf, size);
}

/* "<hex>  <path>\n" for every file whose path starts with data/ (payload)
 * or not (tag manifests). */
static int add_manifest(export_bag *b, size_t alg, bool payload, const char *name)
{
	char *buf = NULL;
	size_t size = 0;
	int rc = bag_hash(b);
	if (rc)
		return rc;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return error_set(ERR_NOMEM, "out of memory");
	qsort(b->files, b->n, sizeof *b->files, cmp_path);
	for (size_t i = 0; i < b->n; i++) {
		const char *path = b->files[i].path;
		if ((strncmp(path, "data/", 5) == 0) != payload || strncmp(path, "tagmanifest-", 12) == 0)
			continue;
		fprintf(f, "%s  %s\n", b->files[i].hex[alg], b->files[i].path);
	}
	fclose(f);
	return add_text(b, name, buf, size);
}

static int add_manifests(export_bag *b, bool payload)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < export_alg_count(); i++) {
		char name[64];
		snprintf(name, sizeof name, "%smanifest-%s.txt", payload ? "" : "tag", algs[i].name);
		rc = add_manifest(b, i, payload, name);
	}
	return rc;
}

static int add_bag_info(gather *g, const char *agent)
{
	uint64_t octets = 0, count = 0;
	for (size_t i = 0; i < g->bag.n; i++)
		if (strncmp(g->bag.files[i].path, "data/", 5) == 0)
			octets += g->bag.files[i].len, count++;
	char date[11], *buf = NULL;
	size_t size = 0;
	util_time_local_date(util_now(), date);
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return error_set(ERR_NOMEM, "out of memory");
	const char *unit = str(g->state, "unit");
	fprintf(f, "Source-Organization: %s\nExternal-Identifier: %s\n"
		"External-Description: Evidence package of case %s: events with their SSHSIG "
		"signatures, photos, forms, roster excerpt, audit log and report\n"
		"Bagging-Date: %s\nPayload-Oxum: %llu.%llu\nBag-Software-Agent: %s\n",
		unit, g->case_id, g->case_id, date, (unsigned long long)octets,
		(unsigned long long)count, agent ? agent : "fieldbook");
	if (g->redact)
		fprintf(f, "Fieldbook-Redaction: redacted for publication; signatures apply to the "
			"unredacted originals held by %s\n", unit);
	fclose(f);
	return add_text(&g->bag, "bag-info.txt", buf, size);
}

static int finish_bag(gather *g, const char *agent)
{
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	int rc;
	for (size_t i = 0; i < g->bag.n; i++)
		if (!export_path_valid(g->bag.files[i].path))
			return error_set(ERR_INVALID, _("%s: not a safe file name for a package "
							 "(only A-Z a-z 0-9 . _ / - are allowed)"),
					 g->bag.files[i].path);
	if ((rc = add_manifests(&g->bag, true)) || (rc = add_bag_info(g, agent)) ||
	    (rc = export_bag_add(&g->bag, "bagit.txt", bagit, strlen(bagit))))
		return rc;
	return add_manifests(&g->bag, false);
}

/* --- writing ------------------------------------------------------------------------------- */

typedef struct {
	const export_opts *o;
	size_t files_total;
	uint64_t bytes_total;
} progress;

static progress progress_of(const export_bag *b, const export_opts *o)
{
	progress p = {.o = o, .files_total = b->n};
	for (size_t i = 0; i < b->n; i++)
		p.bytes_total += b->files[i].len;
	return p;
}

static void report_progress(const progress *p, size_t files, uint64_t bytes)
{
	if (p->o->progress)
		p->o->progress(files, p->files_total, bytes, p->bytes_total, p->o->payload);
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* One file of the package under dir (its directories made as needed). */
static int write_one(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[4096];
	if (join_path(path, sizeof path, dir, rel))
		return ERR_INVALID;
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int rc = util_mkdirs(path, 0755);
	*slash = '/';
	/* the directory is new and renamed into place once complete: one
	 * flush for all its files (util_sync_tree) instead of one each */
	return rc ? rc : util_write_new(path, data, len, 0644);
}

static int write_files(const export_bag *b, const char *dir, const progress *p)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < b->n; i++) {
		int rc = b->files[i].written ? 0 : write_one(dir, b->files[i].path, b->files[i].data,
							    b->files[i].len);
		if (rc)
			return rc;
		bytes += b->files[i].len;
		report_progress(p, i + 1, bytes);
	}
	return 0;
}

/* A package directory is written into a new directory beside `out`, then
 * renamed into place, so an interrupted export never leaves a package that
 * looks complete.  tmp gets the new directory's name. */
static int begin_dir(const char *out, char tmp[4096])
{
	struct stat st;
	tmp[0] = '\0';
	if (lstat(out, &st) == 0 && !(S_ISDIR(st.st_mode) && dir_empty(out)))
		return error_set(ERR_EXISTS, _("%s exists and is not an empty directory"), out);
	snprintf(tmp, 4096, "%s.partial-XXXXXX", out);
	if (!mkdtemp(tmp)) {
		int e = errno;
		tmp[0] = '\0';
		return error_set(ERR_IO, _("cannot create a directory beside %s: %s"), out, strerror(e));
	}
	return 0;
}

/* The files not written yet, one flush, the rename; tmp is removed on failure. */
static int finish_dir(const export_bag *b, const char *tmp, const char *out, const progress *p)
{
	int rc = write_files(b, tmp, p);
	if (rc == 0)
		rc = util_sync_tree(tmp);
	if (rc == 0 && rename(tmp, out) != 0)
		rc = error_set(ERR_IO, _("cannot rename %s to %s: %s"), tmp, out, strerror(errno));
	if (rc == 0)
		rc = util_sync_parent(out); /* the rename itself */
	if (rc == 0)
		chmod(out, 0755);
	else
		util_remove_tree(tmp);
	return rc;
}

static void zip_progress(zip_t *z, double done, void *ud)
{
	const progress *p = ud;
	report_progress(p, (size_t)(done * (double)p->files_total), (uint64_t)(done * (double)p->bytes_total));
}

static int zip_fail(zip_t *z, const char *out)
{
	int rc = error_set(ERR_IO, _("cannot write %s: %s"), out, zip_strerror(z));
	zip_discard(z);
	return rc;
}

/* A zip archive with one top directory named after the case. */
static int write_zip(const export_bag *b, const char *out, const char *top, const progress *p)
{
	int err;
	zip_t *z = zip_open(out, ZIP_CREATE | ZIP_EXCL, &err);
	if (!z) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, err);
		int rc = error_set(err == ZIP_ER_EXISTS ? ERR_EXISTS : ERR_IO, _("cannot create %s: %s"), out,
				   zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return rc;
	}
	for (size_t i = 0; i < b->n; i++) {
		char name[4096];
		if (join_path(name, sizeof name, top, b->files[i].path)) {
			zip_discard(z);
			return ERR_INVALID;
		}
		zip_source_t *s = zip_source_buffer(z, b->files[i].data, b->files[i].len, 0);
		if (!s || zip_file_add(z, name, s, ZIP_FL_ENC_UTF_8) < 0) {
			zip_source_free(s);
			return zip_fail(z, out);
		}
	}
	zip_register_progress_callback_with_state(z, 0.01, zip_progress, NULL, (void *)p);
	if (zip_close(z) != 0)
		return zip_fail(z, out);
	return 0;
}

/* --- reading a bag --------------------------------------------------------------------------- */

#define LOAD_MAX_FILE ((uint64_t)1 << 30)

static int load_dir(export_bag *b, const char *root, const char *rel)
{
	char path[4096];
	if (join_path(path, sizeof path, root, rel))
		return ERR_INVALID;
	DIR *d = opendir(path);
	if (!d)
		return error_set(ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[4096], full[4096];
		struct stat st;
		if ((rc = join_path(sub, sizeof sub, rel, e->d_name)) || (rc = join_path(full, sizeof full, root, sub)))
			break;
		if (lstat(full, &st) != 0)
			rc = error_set(ERR_IO, _("cannot read %s: %s"), full, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = load_dir(b, root, sub);
		else if (!S_ISREG(st.st_mode))
			rc = error_set(ERR_INVALID, _("%s: not a regular file (links and devices are refused)"), sub);
		else {
			char *data;
			size_t len;
			if ((rc = util_read_file(full, &data, &len)) == 0)
				rc = export_bag_take(b, sub, data, len);
		}
	}
	closedir(d);
	return rc;
}

static int load_zip_entry(export_bag *b, zip_t *z, zip_uint64_t i, const char *zip_path)
{
	zip_stat_t st;
	if (zip_stat_index(z, i, 0, &st) != 0)
		return error_set(ERR_IO, "%s: %s", zip_path, zip_strerror(z));
	size_t n = strlen(st.name);
	if (n && st.name[n - 1] == '/')
		return 0;
	if (st.size > LOAD_MAX_FILE)
		return error_set(ERR_INVALID, _("%s: %s is too large"), zip_path, st.name);
	unsigned char *buf = malloc(st.size ? st.size : 1);
	zip_file_t *f = zip_fopen_index(z, i, 0);
	zip_int64_t got = f && buf ? zip_fread(f, buf, st.size) : -1;
	if (f)
		zip_fclose(f);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(buf);
		return error_set(ERR_IO, _("%s: cannot read %s: %s"), zip_path, st.name, zip_strerror(z));
	}
	return export_bag_take(b, st.name, buf, st.size);
}

static int load_zip(export_bag *b, const char *path)
{
	int err;
	zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
	if (!z) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, err);
		int rc = error_set(ERR_IO, _("cannot open %s: %s"), path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return rc;
	}
	int rc = 0;
	zip_int64_t n = zip_get_num_entries(z, 0);
	for (zip_int64_t i = 0; rc == 0 && i < n; i++)
		rc = load_zip_entry(b, z, (zip_uint64_t)i, path);
	zip_discard(z);
	return rc;
}

/* A zip holds the bag under one top directory: strip it. */
static void strip_top(export_bag *b)
{
	if (b->n == 0 || export_bag_find(b, "bagit.txt"))
		return;
	const char *first = b->files[0].path, *slash = strchr(first, '/');
	if (!slash)
		return;
	size_t n = (size_t)(slash - first) + 1;
	for (size_t i = 0; i < b->n; i++)
		if (strncmp(b->files[i].path, first, n) != 0)
			return;
	for (size_t i = 0; i < b->n; i++)
		memmove(b->files[i].path, b->files[i].path + n, strlen(b->files[i].path + n) + 1);
}

int export_bag_load(export_bag *b, const char *path)
{
	*b = (export_bag){0};
	int rc = util_is_dir(path) ? load_dir(b, path, "")
		 : util_is_file(path) ? load_zip(b, path)
				      : error_set(ERR_NOTFOUND, _("%s: no such package"), path);
	if (rc) {
		export_bag_free(b);
		return rc;
	}
	strip_top(b);
	return 0;
}

/* --- entry points ---------------------------------------------------------------------------- */

/* Each photo's sha256, computed for the manifest, must be its name: the
 * check that lets the ledger be read without libgit2's own hash check. */
static int check_photos(const export_bag *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const export_file *f = &b->files[i];
		char sha[65];
		int n = 0;
		if (sscanf(f->path, "data/photos/%64[0-9a-f].jpg%n", sha, &n) == 1 && !f->path[n] &&
		    strcmp(sha, f->hex[0]) != 0)
			return error_set(ERR_INVALID, _("the ledger's photo %s.jpg has the sha256 %s: "
							"the ledger is damaged (check it with git fsck)"),
					 sha, f->hex[0]);
	}
	return 0;
}

int export_case(workspace *ws, const char *case_id, const export_opts *o)
{
	gather g;
	hasher h;
	char tmp[4096] = "";
	ledger_trust_reads(true);
	int rc = gather_case(&g, ws, case_id, o->redact);
	ledger_trust_reads(false);
	if (rc == 0 && !o->zip)
		rc = begin_dir(o->out, tmp);
	/* the files gathered so far are hashed, and written, while the report is rendered */
	if (rc == 0 && (rc = hasher_start(&h, &g.bag, tmp[0] ? tmp : NULL)) == 0) {
		rc = gather_reports(&g, o->agent, tmp[0] ? tmp : NULL, o->out);
		int hr = hasher_finish(&h, &g.bag);
		rc = rc ? rc : hr;
	}
	if (rc == 0)
		rc = check_photos(&g.bag);
	if (rc == 0)
		rc = finish_bag(&g, o->agent);
	if (rc == 0) {
		progress p = progress_of(&g.bag, o);
		char top[160];
		snprintf(top, sizeof top, "%s%s", case_id, o->redact ? "-redacted" : "");
		rc = o->zip ? write_zip(&g.bag, o->out, top, &p) : finish_dir(&g.bag, tmp, o->out, &p);
	} else if (tmp[0]) {
		util_remove_tree(tmp);
	}
	gather_free(&g);
	return rc;
}

int export_report(workspace *ws, const char *case_id, const char *out, bool redact, const char *agent)
{
	bool pdf = util_ends_with(out, ".pdf");
	if (!pdf && !util_ends_with(out, ".html") && !util_ends_with(out, ".htm"))
		return error_set(ERR_INVALID, _("%s: the report's name must end in .pdf or .html"), out);
	gather g;
	char *buf = NULL;
	size_t len = 0;
	int rc = gather_case(&g, ws, case_id, redact);
	if (rc == 0) {
		report_input in = report_of(&g, agent, true);
		if (!pdf) {
			rc = report_html(&in, &buf, &len);
		} else {
			FILE *f = open_memstream(&buf, &len);
			rc = f ? report_pdf(&in, f) : error_set(ERR_NOMEM, "out of memory");
			if (f && fclose(f) != 0 && rc == 0)
				rc = error_set(ERR_NOMEM, "out of memory");
		}
	}
	if (rc == 0)
		rc = util_write_file(out, buf, len, 0644);
	free(buf);
	gather_free(&g);
	return rc;
}
