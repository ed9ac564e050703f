/*
 * bundle: write and read gitformat-bundle files.  See bundle.h.
 */
#include "bundle.h"
#include "error.h"
#include "event.h"
#include "i18n.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CHUNK 65536

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

typedef struct {
	git_oid *ids;
	size_t n, cap;
} oid_list;

static void oid_list_free(oid_list *l)
{
	free(l->ids);
	l->ids = NULL;
	l->n = l->cap = 0;
}

static int oid_list_add(oid_list *l, const git_oid *id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		git_oid *ids = realloc(l->ids, cap * sizeof *ids);
		if (!ids)
			return error_set(ERR_NOMEM, "out of memory");
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = *id;
	return 0;
}

static int oid_cmp(const void *a, const void *b) { return git_oid_cmp(a, b); }

static bool oid_list_has(const oid_list *l, const git_oid *id, bool sorted)
{
	if (sorted)
		return l->n && bsearch(id, l->ids, l->n, sizeof *l->ids, oid_cmp) != NULL;
	for (size_t i = 0; i < l->n; i++)
		if (git_oid_equal(&l->ids[i], id))
			return true;
	return false;
}

static void report(const sync_options *o, size_t done, size_t total, size_t bytes)
{
	if (o && o->progress) {
		sync_progress p = {"bundle", done, total, bytes};
		o->progress(&p, o->payload);
	}
}

/* --- prerequisites ------------------------------------------------------- */

static int parse_date(const char *s, time_t *out)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
	*out = mktime(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* Commits made from `since` on; their parents outside the set are the
 * prerequisites. */
static int since_date(git_repository *repo, const git_oid *head, time_t since, oid_list *pre)
{
	git_revwalk *w = NULL;
	oid_list in = {0};
	git_oid oid;
	int rc = 0;
	if (git_revwalk_new(&w, repo) < 0 || git_revwalk_push(w, head) < 0)
		return git_fail(_("walking the ledger"));
	while (rc == 0 && git_revwalk_next(&oid, w) == 0) {
		git_commit *c;
		if (git_commit_lookup(&c, repo, &oid) < 0)
			rc = git_fail(_("walking the ledger"));
		else if (git_commit_time(c) >= since)
			rc = oid_list_add(&in, &oid);
		git_commit_free(c);
	}
	git_revwalk_free(w);
	if (rc == 0 && in.n == 0)
		rc = error_set(ERR_NOTFOUND, _("nothing was recorded in this ledger since that date"));
	if (in.n)
		qsort(in.ids, in.n, sizeof *in.ids, oid_cmp);
	for (size_t i = 0; rc == 0 && i < in.n; i++) {
		git_commit *c;
		if (git_commit_lookup(&c, repo, &in.ids[i]) < 0) {
			rc = git_fail(_("walking the ledger"));
			break;
		}
		for (unsigned p = 0; rc == 0 && p < git_commit_parentcount(c); p++) {
			const git_oid *pid = git_commit_parent_id(c, p);
			if (!oid_list_has(&in, pid, true) && !oid_list_has(pre, pid, false))
				rc = oid_list_add(pre, pid);
		}
		git_commit_free(c);
	}
	oid_list_free(&in);
	return rc;
}

static int since_ref(git_repository *repo, const git_oid *head, const char *spec, oid_list *pre)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc = 0;
	if (git_revparse_single(&obj, repo, spec) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = error_set(ERR_NOTFOUND, _("--since %s: neither a date (YYYY-MM-DD) nor a commit "
					       "of this ledger"), spec);
	} else if (git_oid_equal(git_object_id(peeled), head)) {
		rc = error_set(ERR_NOTFOUND, _("nothing was recorded in this ledger after %s"), spec);
	} else if (git_graph_descendant_of(repo, head, git_object_id(peeled)) != 1) {
		rc = error_set(ERR_INVALID, _("--since %s: not in this ledger's history"), spec);
	} else {
		rc = oid_list_add(pre, git_object_id(peeled));
	}
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

static int prerequisites(git_repository *repo, const git_oid *head, const char *since,
			 oid_list *pre)
{
	time_t t;
	if (!since || !*since)
		return 0;
	if (parse_date(since, &t) == 0)
		return since_date(repo, head, t, pre);
	return since_ref(repo, head, since, pre);
}

/* --- counting ------------------------------------------------------------- */

static int count_event_delta(const git_diff_delta *d, float progress, void *p)
{
	char c[96], e[96];
	if (d->status == GIT_DELTA_ADDED && event_path_parse(d->new_file.path, c, e))
		(*(int *)p)++;
	return 0;
}

/* The objects a bundle's range adds, listed by the ledger's walk. */
struct listing {
	int events;
	oid_list objects;
	int rc;
};

static int ignore_merge_file(const char *path, const char *blob, void *payload)
{
	return 0;
}

/* ledger_want_cb: an event file is counted, no file is read. */
static bool count_event_file(const char *path, void *payload)
{
	char c[96], e[96];
	if (event_path_parse(path, c, e))
		((struct listing *)payload)->events++;
	return false;
}

static int no_file(const char *commit, time_t when, const char *path, const char *data,
		   size_t len, void *payload)
{
	return 0;
}

/* ledger_walk_more.seen: what the bundle's pack holds. */
static void take_object(const git_oid *id, void *payload)
{
	struct listing *x = payload;
	if (x->rc == 0 && oid_list_add(&x->objects, id) < 0)
		x->rc = ERR_NOMEM;
}

/* ledger_walk_more.merge: a merge's own trees (those its first parent's
 * tree lacks) are listed; what it joins is in the bundle or below its
 * prerequisite. */
static int take_merge(ledger *l, git_commit *c, ledger_walk_more *more)
{
	char hex[41];
	git_oid_tostr(hex, sizeof hex, git_commit_id(c));
	return ledger_merge_added(l, hex, 0, ignore_merge_file, NULL, more);
}

/* Commits in the bundle and the event files they add; with one
 * prerequisite or none (`--since REF`, or everything), the objects for its
 * pack into *objects too, each after those below it.  That is the
 * ledger's walk, which descends only where the trees differ and reads no
 * file.  libgit2's tree-to-tree diff and its packbuilder's walk each read
 * the prerequisite's whole tree: a bundle of 20 commits took 8.3 s and
 * 500 MB at 100k cases. */
static int count_bundle(ledger *l, const git_oid *head, const oid_list *pre, bundle_info *info,
			oid_list *objects)
{
	git_repository *repo = ledger_repository(l);
	if (pre->n <= 1) {
		char from[41] = "", to[41];
		struct listing x = {0};
		ledger_walk_more more = {.merge = take_merge, .seen = take_object, .payload = &x};
		if (pre->n)
			git_oid_tostr(from, sizeof from, &pre->ids[0]);
		git_oid_tostr(to, sizeof to, head);
		int rc = ledger_walk_added_more(l, from, to, LEDGER_WALK_TRUSTED, count_event_file,
						no_file, &x, &more);
		rc = rc ? rc : x.rc;
		info->commits = more.commits;
		info->events = x.events;
		*objects = x.objects;
		if (rc)
			oid_list_free(objects);
		return rc;
	}
	git_revwalk *w = NULL;
	git_oid oid;
	int rc = 0;
	if (git_revwalk_new(&w, repo) < 0 || git_revwalk_push(w, head) < 0)
		return git_fail(_("walking the ledger"));
	for (size_t i = 0; i < pre->n; i++)
		git_revwalk_hide(w, &pre->ids[i]);
	while (rc == 0 && git_revwalk_next(&oid, w) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *a = NULL, *b = NULL;
		git_diff *diff = NULL;
		info->commits++;
		if (git_commit_lookup(&c, repo, &oid) < 0 || git_commit_parentcount(c) > 1)
			goto next;
		if ((git_commit_parentcount(c) == 1 &&
		     (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&a, parent) < 0)) ||
		    git_commit_tree(&b, c) < 0 || git_diff_tree_to_tree(&diff, repo, a, b, NULL) < 0 ||
		    git_diff_foreach(diff, count_event_delta, NULL, NULL, NULL, &info->events) < 0)
			rc = git_fail(_("walking the ledger"));
	next:
		git_diff_free(diff);
		git_tree_free(a);
		git_tree_free(b);
		git_commit_free(parent);
		git_commit_free(c);
	}
	git_revwalk_free(w);
	return rc;
}

/* --- writing ---------------------------------------------------------------- */

typedef struct {
	FILE *f;
	size_t bytes;
	const sync_options *o;
	size_t objects;
} writer;

static int write_chunk(void *buf, size_t size, void *payload)
{
	writer *w = payload;
	if (fwrite(buf, 1, size, w->f) != size)
		return -1;
	w->bytes += size;
	report(w->o, w->objects, w->objects, w->bytes);
	return 0;
}

static int on_pack(int stage, uint32_t current, uint32_t total, void *payload)
{
	writer *w = payload;
	report(w->o, current, total, w->bytes);
	return 0;
}

static int write_header(FILE *f, git_repository *repo, const git_oid *head, const oid_list *pre)
{
	char hex[41];
	fputs("# v2 git bundle\n", f);
	for (size_t i = 0; i < pre->n; i++) {
		git_commit *c = NULL;
		const char *subject = "";
		if (git_commit_lookup(&c, repo, &pre->ids[i]) == 0 && git_commit_summary(c))
			subject = git_commit_summary(c);
		git_oid_tostr(hex, sizeof hex, &pre->ids[i]);
		fprintf(f, "-%s %s\n", hex, subject);
		git_commit_free(c);
	}
	git_oid_tostr(hex, sizeof hex, head);
	fprintf(f, "%s %s\n\n", hex, LEDGER_REF);
	return ferror(f) ? -1 : 0;
}

/* objects: listed by count_bundle (n 0: libgit2's walk from head, hiding
 * the prerequisites). */
static int write_pack(git_repository *repo, const git_oid *head, const oid_list *pre,
		      const oid_list *objects, writer *w)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	int rc = 0;
	if (git_packbuilder_new(&pb, repo) < 0 ||
	    (!objects->n && (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, head) < 0))) {
		rc = git_fail(_("packing the ledger"));
		goto done;
	}
	for (size_t i = 0; walk && i < pre->n && rc == 0; i++)
		if (git_revwalk_hide(walk, &pre->ids[i]) < 0)
			rc = git_fail(_("packing the ledger"));
	git_packbuilder_set_threads(pb, 0); /* delta search on every core */
	git_packbuilder_set_callbacks(pb, on_pack, w);
	for (size_t i = 0; rc == 0 && i < objects->n; i++)
		if (git_packbuilder_insert(pb, &objects->ids[i], NULL) < 0)
			rc = git_fail(_("packing the ledger"));
	if (rc == 0 && walk && git_packbuilder_insert_walk(pb, walk) < 0)
		rc = git_fail(_("packing the ledger"));
	w->objects = rc == 0 ? git_packbuilder_object_count(pb) : 0;
	if (rc == 0 && git_packbuilder_foreach(pb, write_chunk, w) < 0)
		rc = error_set(ERR_IO, _("writing the bundle: %s"), strerror(errno));
done:
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	return rc;
}

static int open_temp(const char *path, char *tmp, size_t size, FILE **f)
{
	snprintf(tmp, size, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !(*f = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return error_set(ERR_IO, _("cannot write %s: %s"), tmp, strerror(errno));
	}
	return 0;
}

static int finish_file(FILE *f, const char *tmp, const char *path)
{
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return error_set(ERR_IO, _("cannot write %s: %s"), path, strerror(e));
	}
	return 0;
}

int bundle_create(ledger *l, const char *path, const char *since, const sync_options *opts,
		  bundle_info *info)
{
	git_repository *repo = ledger_repository(l);
	oid_list pre = {0}, objects = {0};
	git_oid head;
	char tmp[4200];
	FILE *f = NULL;
	int rc;
	memset(info, 0, sizeof *info);
	if ((rc = ledger_pack_settings(l)))
		return rc;
	if (git_reference_name_to_id(&head, repo, LEDGER_REF) < 0)
		return git_fail(_("reading the ledger head"));
	git_oid_tostr(info->head, sizeof info->head, &head);
	if ((rc = prerequisites(repo, &head, since, &pre)) ||
	    (rc = count_bundle(l, &head, &pre, info, &objects)))
		goto done;
	if ((rc = open_temp(path, tmp, sizeof tmp, &f)))
		goto done;
	writer w = {.f = f, .o = opts};
	if (write_header(f, repo, &head, &pre) != 0)
		rc = error_set(ERR_IO, _("cannot write %s: %s"), tmp, strerror(errno));
	if (rc == 0)
		rc = write_pack(repo, &head, &pre, &objects, &w);
	if (rc) {
		fclose(f);
		unlink(tmp);
		goto done;
	}
	if ((rc = finish_file(f, tmp, path)))
		goto done;
	info->prerequisites = (int)pre.n;
	info->objects = w.objects;
	struct stat st;
	info->bytes = stat(path, &st) == 0 ? (size_t)st.st_size : w.bytes;
done:
	oid_list_free(&pre);
	oid_list_free(&objects);
	return rc;
}

/* --- reading ------------------------------------------------------------------ */

typedef struct {
	oid_list pre;
	git_oid tip;
	int tip_rank; /* 3 refs/heads/main, 2 HEAD, 1 another ref, 0 none */
	char tip_ref[256];
} bundle_header;

static int header_line(bundle_header *h, char *line, bool v3, const char *path)
{
	git_oid id;
	size_t n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (line[0] == '@') {
		if (v3 && strcmp(line, "@object-format=sha1") == 0)
			return 0;
		return error_set(ERR_INVALID, _("%s: bundle capability %s is not supported"), path, line);
	}
	bool prereq = line[0] == '-';
	const char *hex = line + prereq;
	if (strlen(hex) < 40 || git_oid_fromstrn(&id, hex, 40) < 0 ||
	    (hex[40] != '\0' && hex[40] != ' '))
		return error_set(ERR_INVALID, _("%s: not a bundle header line: %s"), path, line);
	if (prereq)
		return oid_list_add(&h->pre, &id);
	const char *ref = hex[40] ? hex + 41 : "";
	int rank = strcmp(ref, LEDGER_REF) == 0 ? 3 : strcmp(ref, "HEAD") == 0 ? 2 : 1;
	if (rank > h->tip_rank) {
		h->tip = id;
		h->tip_rank = rank;
		snprintf(h->tip_ref, sizeof h->tip_ref, "%s", ref);
	}
	return 0;
}

static int read_header(FILE *f, const char *path, bundle_header *h)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	if (getline(&line, &cap, f) < 0 ||
	    (strcmp(line, "# v2 git bundle\n") != 0 && strcmp(line, "# v3 git bundle\n") != 0)) {
		free(line);
		return error_set(ERR_INVALID, _("%s is not a git bundle (v2 or v3)"), path);
	}
	bool v3 = line[3] == '3';
	for (;;) {
		if (getline(&line, &cap, f) < 0) {
			rc = error_set(ERR_INVALID, _("%s: the bundle header is cut short"), path);
			break;
		}
		if (strcmp(line, "\n") == 0)
			break;
		if ((rc = header_line(h, line, v3, path)))
			break;
	}
	free(line);
	if (rc == 0 && h->tip_rank == 0)
		rc = error_set(ERR_INVALID, _("%s: the bundle carries no branch"), path);
	return rc;
}

static int check_prerequisites(git_repository *repo, const bundle_header *h, const char *path)
{
	char hex[41];
	for (size_t i = 0; i < h->pre.n; i++) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &h->pre.ids[i]) == 0) {
			git_commit_free(c);
			continue;
		}
		git_oid_tostr(hex, sizeof hex, &h->pre.ids[i]);
		return error_set(ERR_NOTFOUND,
				 _("%s needs commit %s, which this ledger does not have: import the "
				   "earlier bundle first, or ask for one made with an earlier --since"),
				 path, hex);
	}
	return 0;
}

static int on_index(const git_indexer_progress *st, void *payload)
{
	report(payload, st->indexed_objects, st->total_objects, st->received_bytes);
	return 0;
}

static int import_pack(git_repository *repo, FILE *f, const char *path, const sync_options *o)
{
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	char *buf = malloc(CHUNK);
	int rc = 0;
	size_t n;
	if (!buf)
		return error_set(ERR_NOMEM, "out of memory");
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_odb_write_pack(&wp, odb, on_index, (void *)o) < 0) {
		rc = git_fail(path);
		goto done;
	}
	while (rc == 0 && (n = fread(buf, 1, CHUNK, f)) > 0)
		if (wp->append(wp, buf, n, &st) < 0)
			rc = git_fail(path);
	if (rc == 0 && ferror(f))
		rc = error_set(ERR_IO, _("reading %s: %s"), path, strerror(errno));
	if (rc == 0 && wp->commit(wp, &st) < 0)
		rc = git_fail(path);
done:
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	free(buf);
	return rc;
}

static int import_file(workspace *ws, FILE *f, const char *path, const sync_options *o,
		       sync_summary *s)
{
	git_repository *repo = ledger_repository(ws->ledger);
	bundle_header h = {0};
	git_commit *tip = NULL;
	char hex[41], label[1100];
	int rc;
	if ((rc = read_header(f, path, &h)) || (rc = check_prerequisites(repo, &h, path)) ||
	    (rc = import_pack(repo, f, path, o)))
		goto done;
	git_oid_tostr(hex, sizeof hex, &h.tip);
	if (git_commit_lookup(&tip, repo, &h.tip) < 0) {
		rc = error_set(ERR_INVALID, _("%s: its %s (%s) is not in its pack"), path, h.tip_ref, hex);
		goto done;
	}
	snprintf(label, sizeof label, "bundle %s", path);
	snprintf(s->hub_head, sizeof s->hub_head, "%s", hex);
	if ((rc = sync_integrate(ws, hex, label, s)) && error_code() == ERR_CONFLICT) {
		s->refused = true;
		snprintf(s->reason, sizeof s->reason, "%s", error_last());
	}
done:
	git_commit_free(tip);
	oid_list_free(&h.pre);
	return rc;
}

int bundle_import(workspace *ws, const char *path, const sync_options *opts, sync_summary *s)
{
	if (!s->cases)
		s->cases = json_object();
	snprintf(s->url, sizeof s->url, "%s", path);
	ledger_head(ws->ledger, s->old_head);
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_set(ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	int rc = import_file(ws, f, path, opts, s);
	fclose(f);
	ledger_head(ws->ledger, s->new_head);
	return rc;
}
