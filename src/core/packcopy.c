/*
 * packcopy: objects between local repositories without repacking.  See
 * packcopy.h.
 */
#include "packcopy.h"
#include "error.h"
#include "i18n.h"
#include "ledger.h"
#include "loose.h"
#include "packhint.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* Staging directories in the receiver's objects/ (see stage_sweep). */
#define STAGE_PREFIX "incoming-fieldbook-"
static void stage_sweep(git_repository *dst);

/* --- a set of object ids (open addressing; the zero id marks a free slot) --- */

typedef struct {
	git_oid *slots;
	size_t cap, n; /* cap: a power of two */
} oidset;

static size_t slot_of(const oidset *s, const git_oid *id)
{
	uint64_t h;
	memcpy(&h, id->id, sizeof h); /* ids are uniformly distributed */
	size_t i = (size_t)h & (s->cap - 1);
	while (!git_oid_is_zero(&s->slots[i]) && !git_oid_equal(&s->slots[i], id))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int oidset_grow(oidset *s)
{
	oidset bigger = {calloc(s->cap ? s->cap * 2 : 4096, sizeof(git_oid)),
			 s->cap ? s->cap * 2 : 4096, s->n};
	if (!bigger.slots)
		return error_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (!git_oid_is_zero(&s->slots[i]))
			bigger.slots[slot_of(&bigger, &s->slots[i])] = s->slots[i];
	free(s->slots);
	*s = bigger;
	return 0;
}

/* 1: added, 0: already there, <0: error. */
static int oidset_add(oidset *s, const git_oid *id)
{
	if ((s->n + 1) * 2 > s->cap && oidset_grow(s) < 0)
		return ERR_NOMEM;
	size_t i = slot_of(s, id);
	if (!git_oid_is_zero(&s->slots[i]))
		return 0;
	s->slots[i] = *id;
	s->n++;
	return 1;
}

static bool oidset_has(const oidset *s, const git_oid *id)
{
	return s->cap && !git_oid_is_zero(&s->slots[slot_of(s, id)]);
}

/* --- what dst lacks, in an order safe to write ------------------------------------ */

/* The objects reachable from the tip that dst does not hold, each after
 * everything it refers to (blobs and subtrees before their tree, a commit
 * after its tree and its parents).  Written in this order, dst never holds
 * an object without what lies below it, so "dst has it" can stop the walk:
 * a commit dst holds stands for its whole history, a tree for everything
 * under it.  A pack lands whole (its .idx last), before any loose object. */
typedef struct {
	oidset set;      /* the objects of list */
	git_oid *list;   /* post-order */
	size_t n, cap;
} missing;

static int missing_add(missing *m, const git_oid *id)
{
	int rc = oidset_add(&m->set, id);
	if (rc <= 0)
		return rc;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		git_oid *l = realloc(m->list, cap * sizeof *l);
		if (!l)
			return error_set(ERR_NOMEM, "out of memory");
		m->list = l;
		m->cap = cap;
	}
	m->list[m->n++] = *id;
	return 1;
}

/* dst NULL: dst holds nothing of src's history (packcopy_options.first). */
static bool dst_holds(git_odb *dst, const git_oid *id)
{
	return dst && git_odb_exists_ext(dst, id, GIT_ODB_LOOKUP_NO_REFRESH);
}

/* The entry of `base` (NULL: none) named as `e`. */
static const git_tree_entry *base_entry(const git_tree *base, const git_tree_entry *e)
{
	return base ? git_tree_entry_byname(base, git_tree_entry_name(e)) : NULL;
}

/* One listing of what dst lacks. */
typedef struct {
	git_repository *src, *dst_repo;
	git_odb *src_odb, *dst; /* dst NULL: not asked (a first fetch) */
	bool big_dst; /* dst's pack indexes are large: small blobs are not asked about */
	missing *m;
} lister;

/* When dst's pack indexes are large (BIG_DST_IDX), a blob of src under
 * SMALL_BLOB bytes (an event, its signature, a form) is listed without
 * asking dst: it is new but for rare cases (the same form text on two
 * devices), where the copy costs little, and a lookup that finds nothing
 * searches a large pack index.  Photos are asked about.  With small
 * indexes (a new device, an empty hub) asking is cheaper than reading
 * each blob's header. */
#define BIG_DST_IDX (4L << 20)
#define SMALL_BLOB (64 * 1024)
static bool small_blob(git_odb *src, const git_oid *id)
{
	size_t len = 0;
	git_object_t type;
	bool small = git_odb_read_header(&len, &type, src, id) == 0 && len < SMALL_BLOB;
	git_error_clear();
	return small;
}

/* Tree `id` and what lies below it, against `base`, the same directory in
 * the commit's first parent (NULL: none), which dst holds or `m` lists
 * already, and `mine`, the same directory at dst's head (NULL: none),
 * which dst holds whole: what is the same as either costs no lookup in
 * dst.  Each lookup is a search of dst's pack index (108 MB at 100k
 * cases), whose pages the process maps; a day's commit changes a few
 * entries of a day directory that may hold hundreds.  A tree that differs
 * from both is not looked up: it is new but for rare cases (a directory
 * dst had once), where listing it costs a copy dst skips; so is a small
 * blob (small_blob).  Photos are still looked up. */
static int missing_tree(lister *x, const git_oid *id, const git_tree *base, const git_tree *mine)
{
	missing *m = x->m;
	git_tree *t = NULL;
	if (oidset_has(&m->set, id) || (mine && git_oid_equal(git_tree_id(mine), id)))
		return 0;
	if (git_tree_lookup(&t, x->src, id) < 0)
		return git_fail(_("reading a tree"));
	int rc = 0;
	for (size_t i = 0, n = git_tree_entrycount(t); rc >= 0 && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const git_tree_entry *b = base_entry(base, e), *d = base_entry(mine, e);
		const git_oid *eid = git_tree_entry_id(e);
		if ((b && git_oid_equal(git_tree_entry_id(b), eid)) ||
		    (d && git_oid_equal(git_tree_entry_id(d), eid)))
			continue;
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			const char *name = git_tree_entry_name(e);
			git_tree *sub = ledger_subtree(x->src, base, name);
			git_tree *msub = ledger_subtree(x->dst_repo, mine, name);
			rc = missing_tree(x, eid, sub, msub);
			git_tree_free(sub);
			git_tree_free(msub);
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && !oidset_has(&m->set, eid) &&
			   ((x->big_dst && small_blob(x->src_odb, eid)) || !dst_holds(x->dst, eid))) {
			rc = missing_add(m, eid);
		}
	}
	git_tree_free(t);
	if (rc >= 0)
		rc = missing_add(m, id);
	return rc < 0 ? rc : 0;
}

/* The tree of c's first parent, which dst holds or `m` lists (the walk
 * goes parents first); NULL for a root commit. */
static git_tree *first_parent_tree(git_commit *c)
{
	git_commit *p = NULL;
	git_tree *t = NULL;
	if (git_commit_parentcount(c) > 0 && git_commit_parent(&p, c, 0) == 0 &&
	    git_commit_tree(&t, p) < 0)
		t = NULL;
	git_commit_free(p);
	git_error_clear();
	return t;
}

/* revwalk hide callback: a commit dst holds ends the walk there. */
static int dst_has_commit(const git_oid *id, void *payload)
{
	return git_odb_exists_ext(payload, id, GIT_ODB_LOOKUP_NO_REFRESH);
}

static void pack_dir(git_repository *repo, char *out, size_t size);

/* Whether the pack indexes of repo add up to BIG_DST_IDX or more. */
static bool big_indexes(git_repository *repo)
{
	char dir[4096], path[4400];
	pack_dir(repo, dir, sizeof dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	long total = 0;
	while (d && (e = readdir(d))) {
		struct stat st;
		size_t n = strlen(e->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".idx") == 0 && stat(path, &st) == 0)
			total += (long)st.st_size;
	}
	if (d)
		closedir(d);
	return total >= BIG_DST_IDX;
}

/* The tree at repo's head (NULL: none). */
static git_tree *head_tree_of(git_repository *repo)
{
	git_oid id;
	git_commit *c = NULL;
	git_tree *t = NULL;
	if (git_reference_name_to_id(&id, repo, LEDGER_REF) == 0 && git_commit_lookup(&c, repo, &id) == 0 &&
	    git_commit_tree(&t, c) < 0)
		t = NULL;
	git_commit_free(c);
	git_error_clear();
	return t;
}

/* first: dst holds nothing of src's history (packcopy_options.first), and
 * is not asked about any object: every question would find nothing (two
 * per commit and file on a new device's first fetch, each a failed
 * access() of a loose path).  An object dst has all the same (the
 * format marker of its bare start) is copied again, as dst skips it. */
static int collect_missing(git_repository *src, git_repository *dst_repo, git_odb *dst,
			   const git_oid *tip, bool first, missing *m)
{
	git_revwalk *w = NULL;
	git_oid id;
	lister x = {src, dst_repo, NULL, first ? NULL : dst, !first && big_indexes(dst_repo), m};
	if (git_repository_odb(&x.src_odb, src) < 0)
		return git_fail(_("opening objects"));
	int rc = 0;
	git_tree *mine = first ? NULL : head_tree_of(dst_repo);
	if (git_revwalk_new(&w, src) < 0 ||
	    (!first && git_revwalk_add_hide_cb(w, dst_has_commit, dst) < 0) ||
	    git_revwalk_push(w, tip) < 0) {
		git_revwalk_free(w);
		git_tree_free(mine);
		git_odb_free(x.src_odb);
		return git_fail(_("walking the history"));
	}
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	while (rc == 0 && git_revwalk_next(&id, w) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, src, &id) < 0)
			rc = git_fail(_("reading a commit"));
		else {
			git_tree *base = first_parent_tree(c);
			/* only a merge brings what dst may hold at its head (its own
			 * events, through the second parent); reading the head's
			 * directories for a commit of one device would search dst's
			 * pack index for the old ones */
			const git_tree *cmp = git_commit_parentcount(c) > 1 ? mine : NULL;
			if ((rc = missing_tree(&x, git_commit_tree_id(c), base, cmp)) == 0 &&
			    (rc = missing_add(m, &id)) > 0)
				rc = 0;
			git_tree_free(base);
		}
		git_commit_free(c);
	}
	git_revwalk_free(w);
	git_tree_free(mine);
	git_odb_free(x.src_odb);
	return rc;
}

/* --- pack indexes ------------------------------------------------------------ */

#define IDX_HEAD PACKHINT_INDEX_HEAD /* magic, version, counts by first byte */

typedef struct {
	char *data; /* the whole .idx (version 2) */
	size_t len;
	uint32_t counts[256]; /* ids whose first byte is at most i */
	uint32_t count;
} pack_index;

static int idx_read(const char *path, pack_index *out)
{
	memset(out, 0, sizeof *out);
	int rc = util_read_file(path, &out->data, &out->len);
	if (rc)
		return rc;
	if (!packhint_index_counts((unsigned char *)out->data, out->len, out->counts) ||
	    out->len < IDX_HEAD + (size_t)(out->count = out->counts[255]) * GIT_OID_RAWSZ) {
		free(out->data);
		out->data = NULL;
		return error_set(ERR_INVALID, _("%s is not a pack index we can read"), path);
	}
	return 0;
}

/* The object count of a pack index, from its header alone. */
static bool idx_peek_count(const char *path, uint32_t *count)
{
	unsigned char head[IDX_HEAD];
	uint32_t counts[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, head, sizeof head) == (ssize_t)sizeof head &&
		  packhint_index_counts(head, sizeof head, counts);
	*count = ok ? counts[255] : 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static const unsigned char *idx_oid(const pack_index *x, uint32_t i)
{
	return (const unsigned char *)x->data + IDX_HEAD + (size_t)i * GIT_OID_RAWSZ;
}

static void pack_dir(git_repository *repo, char *out, size_t size)
{
	snprintf(out, size, "%sobjects/pack", git_repository_path(repo));
}

/* --- taking one pack --------------------------------------------------------------- */

typedef struct {
	git_repository *src, *dst;
	git_odb *dst_odb;
	const packcopy_options *o;
	missing m;
	oidset taken; /* objects of the packs taken */
	size_t done, bytes;
	char stage[4200]; /* untrusted loose objects are checked here ("" until made) */
	struct early *early; /* a first fetch's packs, indexed ahead (NULL: none) */
	int seen_rc;         /* the first failure to list what meanwhile's walk saw */
} copy_ctx;

static void progress(copy_ctx *c)
{
	if (c->o && c->o->progress)
		c->o->progress(c->done, c->m.n, c->bytes, c->o->payload);
}

/* A pack is taken when dst lacks at least half of its objects and holds
 * or lacks-and-needs every one of them: nothing unreferenced leaves the
 * sender, and taking a pack dst mostly holds would only waste space. */
static bool pack_wanted(copy_ctx *c, const pack_index *x)
{
	uint32_t needed = 0;
	for (uint32_t i = 0; i < x->count; i++) {
		git_oid id;
		git_oid_fromraw(&id, idx_oid(x, i));
		if (oidset_has(&c->m.set, &id))
			needed++;
		else if (!git_odb_exists_ext(c->dst_odb, &id, GIT_ODB_LOOKUP_NO_REFRESH))
			return false;
	}
	return needed > 0 && (size_t)needed * 2 >= x->count;
}

/* Copy a file's bytes to `to` (created, mode 0444); the caller flushes. */
static int copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	ssize_t n = 0;
	if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444)) < 0)
		rc = error_set(ERR_IO, _("cannot write %s: %s"), in < 0 ? from : to, strerror(errno));
	while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = error_set(ERR_IO, _("cannot write %s: %s"), to, strerror(errno));
	if (rc == 0 && n < 0)
		rc = error_set(ERR_IO, _("cannot read %s: %s"), from, strerror(errno));
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = error_set(ERR_IO, _("cannot write %s: %s"), to, strerror(errno));
	if (in >= 0)
		close(in);
	if (rc && out >= 0)
		unlink(to);
	return rc;
}

/* A trusted file at its final name: a hard link, or a copy under a
 * temporary name renamed into place (another file system). */
static int link_or_copy(const char *from, const char *to)
{
	if (link(from, to) == 0 || errno == EEXIST)
		return 0; /* the same name holds the same content */
	char tmp[4416];
	util_temp_beside(to, tmp, sizeof tmp);
	int rc = copy_file(from, tmp);
	if (rc == 0 && rename(tmp, to) != 0) {
		rc = error_set(ERR_IO, _("cannot write %s: %s"), to, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/* The pack `base` of from_dir into dst's pack directory, the .pack, then
 * its .idx (which makes it visible): moved (a pack we indexed), or linked or
 * copied (a trusted sender's). */
static int place_pack(copy_ctx *c, const char *from_dir, const char *base, bool move)
{
	char dir[4096], from[4400], to[4400];
	pack_dir(c->dst, dir, sizeof dir);
	if (util_mkdirs(dir, 0777))
		return ERR_IO;
	const char *ext[] = {".pack", ".idx"};
	for (int i = 0; i < 2; i++) {
		snprintf(from, sizeof from, "%s/%s%s", from_dir, base, ext[i]);
		snprintf(to, sizeof to, "%s/%s%s", dir, base, ext[i]);
		if (!move) {
			int rc = link_or_copy(from, to);
			if (rc)
				return rc;
		} else if (rename(from, to) != 0) {
			return error_set(ERR_IO, _("cannot write %s: %s"), to, strerror(errno));
		}
	}
	return 0;
}

static int on_index(const git_indexer_progress *st, void *payload)
{
	copy_ctx *c = payload;
	c->bytes = st->received_bytes;
	progress(c);
	return 0;
}

/* Untrusted sender: its pack bytes through our own indexer. */
static int take_indexed(copy_ctx *c, const char *src_dir, const char *base)
{
	char path[4400], buf[1 << 16];
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	size_t n;
	int rc = 0;
	snprintf(path, sizeof path, "%s/%s.pack", src_dir, base);
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_set(ERR_IO, "%s: %s", path, strerror(errno));
	if (git_odb_write_pack(&wp, c->dst_odb, on_index, c) < 0)
		rc = git_fail(_("receiving objects"));
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		if (wp->append(wp, buf, n, &st) < 0)
			rc = git_fail(path);
	if (rc == 0 && (ferror(f) || wp->commit(wp, &st) < 0))
		rc = ferror(f) ? error_set(ERR_IO, "%s: %s", path, strerror(errno)) : git_fail(path);
	if (wp)
		wp->free(wp);
	fclose(f);
	return rc;
}

/* --- a first fetch: the sender's packs indexed ahead ------------------------------- */

/* A new device's first fetch takes the hub's packs whole, and indexing them
 * (inflate and hash every object) is the longest step, on one core.  So a
 * second thread indexes every pack of the sender into a staging directory
 * while this one walks the sender's history to find what we lack; a pack
 * then found wanted (pack_wanted) is moved into place, the others are
 * dropped with the directory. */
typedef struct {
	char idx_name[256]; /* the sender's .idx */
	char name[128];     /* "pack-<hash>", indexed in the staging directory; "" failed */
} early_pack;

struct early {
	char src_dir[4096];
	char dir[4200]; /* staging directory */
	early_pack *packs;
	size_t n;
	const packcopy_options *o;
	pthread_t thread;
	bool running;
	atomic_bool stop; /* the walk failed: the indexing is not wanted */
};

static int on_early_index(const git_indexer_progress *st, void *payload)
{
	const packcopy_options *o = payload;
	if (o->progress)
		o->progress(st->indexed_objects, st->total_objects, st->received_bytes, o->payload);
	return 0;
}

/* Index one pack of the sender into the staging directory; its name, or ""
 * when it cannot be indexed (take_indexed then says why). */
static void early_index(struct early *e, early_pack *p)
{
	char path[4400], buf[1 << 16];
	git_indexer *ix = NULL;
	git_indexer_progress st = {0};
	git_indexer_options opts;
	size_t n;
	snprintf(path, sizeof path, "%s/%.*s.pack", e->src_dir, (int)(strlen(p->idx_name) - 4),
		 p->idx_name);
	FILE *f = fopen(path, "rbe");
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	opts.progress_cb = on_early_index;
	opts.progress_cb_payload = (void *)e->o;
	bool ok = f && git_indexer_new(&ix, e->dir, 0, NULL, &opts) == 0;
	while (ok && !atomic_load(&e->stop) && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = git_indexer_append(ix, buf, n, &st) == 0;
	ok = ok && !atomic_load(&e->stop);
	ok = ok && !ferror(f) && git_indexer_commit(ix, &st) == 0;
	if (ok)
		snprintf(p->name, sizeof p->name, "pack-%s", git_indexer_name(ix));
	git_indexer_free(ix);
	if (f)
		fclose(f);
}

static void *early_run(void *payload)
{
	struct early *e = payload;
	for (size_t i = 0; i < e->n; i++)
		early_index(e, &e->packs[i]);
	return NULL;
}

static void early_free(struct early *e)
{
	if (!e)
		return;
	atomic_store(&e->stop, true);
	if (e->running)
		pthread_join(e->thread, NULL);
	if (e->dir[0])
		util_remove_tree(e->dir);
	free(e->packs);
	free(e);
}

/* Start indexing every pack of src (NULL when there is none, or on any
 * trouble: the usual path then runs). */
static struct early *early_start(git_repository *src, git_repository *dst, const packcopy_options *o)
{
	struct early *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->o = o;
	atomic_init(&e->stop, false);
	stage_sweep(dst);
	pack_dir(src, e->src_dir, sizeof e->src_dir);
	DIR *d = opendir(e->src_dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n <= 4 || n >= sizeof e->packs->idx_name || strcmp(de->d_name + n - 4, ".idx") != 0)
			continue;
		early_pack *p = realloc(e->packs, (e->n + 1) * sizeof *p);
		if (!p)
			break;
		e->packs = p;
		e->packs[e->n++] = (early_pack){0};
		memcpy(e->packs[e->n - 1].idx_name, de->d_name, n + 1);
	}
	if (d)
		closedir(d);
	snprintf(e->dir, sizeof e->dir, "%sobjects/" STAGE_PREFIX "XXXXXX", git_repository_path(dst));
	if (e->n == 0 || !mkdtemp(e->dir)) {
		e->dir[0] = '\0';
		early_free(e);
		return NULL;
	}
	e->running = pthread_create(&e->thread, NULL, early_run, e) == 0;
	if (!e->running) {
		early_free(e);
		return NULL;
	}
	return e;
}

static void early_wait(struct early *e)
{
	if (e && e->running) {
		pthread_join(e->thread, NULL);
		e->running = false;
	}
}

/* Whether id is in the pack index x (its ids sorted, a fan-out table by
 * first byte before them). */
static bool idx_has(const pack_index *x, const git_oid *id)
{
	uint32_t lo = id->id[0] ? x->counts[id->id[0] - 1] : 0, hi = x->counts[id->id[0]];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(idx_oid(x, mid), id->id, GIT_OID_RAWSZ);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

#define MEANWHILE_PACKS 8 /* more packs than this: not worth the lookups */

/* Whether every object dst lacks is in one of the sender's packs. */
static bool all_packed(copy_ctx *c)
{
	struct early *e = c->early;
	pack_index x[MEANWHILE_PACKS];
	size_t n = 0;
	bool all = e->n <= MEANWHILE_PACKS;
	for (size_t i = 0; all && i < e->n; i++) {
		char path[4400];
		snprintf(path, sizeof path, "%s/%s", e->src_dir, e->packs[i].idx_name);
		if (idx_read(path, &x[n]) == 0)
			n++;
		else
			error_clear(), all = false;
	}
	for (size_t k = 0; all && k < c->m.n; k++) {
		bool found = false;
		for (size_t i = 0; !found && i < n; i++)
			found = idx_has(&x[i], &c->m.list[k]);
		all = found;
	}
	for (size_t i = 0; i < n; i++)
		free(x[i].data);
	return all;
}

/* The sender's pack idx_name, indexed ahead, moved into place; 1 when it
 * was not indexed ahead. */
static int take_early(copy_ctx *c, const char *idx_name)
{
	struct early *e = c->early;
	for (size_t i = 0; e && i < e->n; i++)
		if (strcmp(e->packs[i].idx_name, idx_name) == 0 && e->packs[i].name[0])
			return place_pack(c, e->dir, e->packs[i].name, true);
	return 1;
}

static int take_pack(copy_ctx *c, const char *src_dir, const char *idx_name)
{
	char path[4400], base[256];
	pack_index x;
	snprintf(path, sizeof path, "%s/%s", src_dir, idx_name);
	snprintf(base, sizeof base, "%.*s", (int)(strlen(idx_name) - 4), idx_name);
	/* a pack is wanted only when at least half of it is missing (pack_wanted):
	 * a day's push to a hub whose pack holds the year is decided here, without
	 * reading the year's index (108 MB at 100k cases) */
	uint32_t count;
	if (idx_peek_count(path, &count) && (uint64_t)c->m.n * 2 < count)
		return 0;
	if (idx_read(path, &x) != 0) {
		error_clear(); /* not readable here: its objects are sent one by one */
		return 0;
	}
	int rc = 0;
	if (pack_wanted(c, &x)) {
		if (c->o->trusted)
			rc = place_pack(c, src_dir, base, false);
		else if ((rc = take_early(c, idx_name)) == 1)
			rc = take_indexed(c, src_dir, base);
		for (uint32_t i = 0; rc == 0 && i < x.count; i++) {
			git_oid id;
			git_oid_fromraw(&id, idx_oid(&x, i));
			if (oidset_has(&c->m.set, &id) && oidset_add(&c->taken, &id) < 0)
				rc = ERR_NOMEM;
			else
				c->done++;
		}
		progress(c);
	}
	free(x.data);
	return rc;
}

static int take_packs(copy_ctx *c)
{
	char dir[4096];
	int rc = 0;
	pack_dir(c->src, dir, sizeof dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (rc == 0 && d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 4 && n < 250 && strcmp(e->d_name + n - 4, ".idx") == 0)
			rc = take_pack(c, dir, e->d_name);
	}
	if (d)
		closedir(d);
	return rc;
}

/* --- loose objects, as files --------------------------------------------------------- */

static void loose_path(git_repository *repo, const char *root, const git_oid *id, char *out,
		       size_t size)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof hex, id);
	if (root)
		snprintf(out, size, "%s/%.2s/%s", root, hex, hex + 2);
	else
		snprintf(out, size, "%sobjects/%.2s/%s", git_repository_path(repo), hex, hex + 2);
}

static int make_parent(const char *path)
{
	char dir[4400];
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return error_set(ERR_IO, _("cannot create directory %s: %s"), dir, strerror(errno));
	return 0;
}

#define STAGE_STALE_S 3600 /* a live copy touches its directory far more often */

/* Staging directories left by a copy that was killed: unchanged for an
 * hour (a copy in progress adds files all the time). */
static void stage_sweep(git_repository *dst)
{
	char dir[4096], path[4400];
	snprintf(dir, sizeof dir, "%sobjects", git_repository_path(dst));
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);
	while (d && (e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > STAGE_STALE_S)
			util_remove_tree(path);
	}
	if (d)
		closedir(d);
}

/* The staging directory for an untrusted sender's loose objects: each is
 * copied there and read back (take_loose_checked) before it is moved into
 * place. */
static int stage_open(copy_ctx *c)
{
	stage_sweep(c->dst);
	snprintf(c->stage, sizeof c->stage, "%sobjects/" STAGE_PREFIX "XXXXXX",
		 git_repository_path(c->dst));
	if (!mkdtemp(c->stage)) {
		int rc = error_set(ERR_IO, _("cannot create directory %s: %s"), c->stage, strerror(errno));
		c->stage[0] = '\0'; /* nothing to remove */
		return rc;
	}
	return 0;
}

static void stage_close(copy_ctx *c)
{
	if (c->stage[0])
		util_remove_tree(c->stage);
	c->stage[0] = '\0';
}

/* Copy into the stage, read it back (whole, and hashing to its name), move
 * it into place.  Read with zlib here (loose.h): libgit2 1.5 would never
 * return from an object cut short. */
static int take_loose_checked(copy_ctx *c, const git_oid *id, const char *from, const char *to)
{
	char staged[4400], hex[GIT_OID_HEXSZ + 1], type[8];
	char *data = NULL;
	size_t len = 0;
	git_oid got;
	int rc = c->stage[0] ? 0 : stage_open(c);
	if (rc)
		return rc;
	git_oid_tostr(hex, sizeof hex, id);
	loose_path(c->dst, c->stage, id, staged, sizeof staged);
	if ((rc = make_parent(staged)) || (rc = copy_file(from, staged)))
		return rc;
	if ((rc = loose_read(staged, true, &data, &len, type)) != 0) {
		char why[1024];
		snprintf(why, sizeof why, "%s",
			 rc == ERR_CONFLICT ? _("it is not a whole git object (cut short, or not zlib data)")
			 : rc == 1	    ? strerror(ENOENT)
					    : error_last());
		return error_set(ERR_CONFLICT, _("object %s from %s cannot be taken: %s"), hex, from, why);
	}
	bool same = git_odb_hash(&got, data, len, git_object_string2type(type)) == 0 &&
		    git_oid_equal(&got, id);
	free(data);
	if (!same)
		return error_set(ERR_CONFLICT, _("object %s from %s cannot be taken: %s"), hex, from,
				 _("its content hashes to another object (hash mismatch)"));
	if (rename(staged, to) != 0)
		return error_set(ERR_IO, _("cannot write %s: %s"), to, strerror(errno));
	return 0;
}

/* Loose objects of src that dst lacks travel as the files they are: no
 * inflate, no delta search, no deflate (a photo is stored as it is, see
 * ledger.c). */
static int take_loose(copy_ctx *c, const git_oid *id, const char *from)
{
	char to[4400];
	loose_path(c->dst, NULL, id, to, sizeof to);
	int rc = make_parent(to);
	if (rc == 0)
		rc = c->o->trusted ? link_or_copy(from, to) : take_loose_checked(c, id, from, to);
	return rc;
}

/* --- the rest through the packbuilder ------------------------------------------------ */

static int pack_append(void *buf, size_t size, void *payload)
{
	void **p = payload;
	git_odb_writepack *wp = p[0];
	return wp->append(wp, buf, size, p[1]);
}

static int send_pack(git_packbuilder *pb, copy_ctx *c)
{
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	void *p[2] = {NULL, &st};
	int rc = 0;
	if (git_odb_write_pack(&wp, c->dst_odb, on_index, c) < 0)
		rc = git_fail(_("writing objects"));
	p[0] = wp;
	if (rc == 0 && (git_packbuilder_foreach(pb, pack_append, p) < 0 || wp->commit(wp, &st) < 0))
		rc = git_fail(_("writing objects"));
	if (wp)
		wp->free(wp);
	return rc;
}

typedef struct {
	size_t i, size; /* index in the missing list, file size */
} loose_file;

/* What no pack brought: packed objects of src in one new pack first (it
 * lands whole), then the loose ones (each stat'ed once, here) in the safe
 * order. */
static int send_rest(copy_ctx *c)
{
	git_packbuilder *pb = NULL;
	loose_file *loose = malloc((c->m.n ? c->m.n : 1) * sizeof *loose);
	size_t nloose = 0;
	char from[4400];
	int rc = 0;
	if (!loose)
		return error_set(ERR_NOMEM, "out of memory");
	if (git_odb_refresh(c->dst_odb) < 0 || git_packbuilder_new(&pb, c->src) < 0)
		rc = git_fail(_("packing objects"));
	for (size_t i = 0; rc == 0 && i < c->m.n; i++) {
		const git_oid *id = &c->m.list[i];
		struct stat st;
		if (oidset_has(&c->taken, id))
			continue;
		loose_path(c->src, NULL, id, from, sizeof from);
		if (stat(from, &st) == 0)
			loose[nloose++] = (loose_file){i, (size_t)st.st_size};
		else if (git_packbuilder_insert(pb, id, NULL) < 0)
			rc = git_fail(_("packing objects"));
	}
	if (rc == 0 && git_packbuilder_object_count(pb) > 0) {
		git_packbuilder_set_threads(pb, 0); /* delta search on every core */
		rc = send_pack(pb, c);
		c->done += git_packbuilder_object_count(pb);
	}
	git_packbuilder_free(pb);
	for (size_t k = 0; rc == 0 && k < nloose; k++) {
		const git_oid *id = &c->m.list[loose[k].i];
		loose_path(c->src, NULL, id, from, sizeof from);
		c->bytes += loose[k].size;
		if ((rc = take_loose(c, id, from)) == 0 && ++c->done % 256 == 0)
			progress(c);
	}
	free(loose);
	stage_close(c);
	return rc;
}

/* Whether meanwhile's walk may read repo's objects with libgit2: 1 when
 * there are no alternates (whose objects libgit2 would read too) and
 * every loose object is a whole zlib stream (loose.h: libgit2 1.5 never
 * returns from reading one cut short), 0 with alternates.  A hub that
 * devices have pushed to since its last repack holds loose objects;
 * checking them costs one read each (inflating a stored photo is a
 * copy), where the usual path walks the history once more (a first fetch
 * of 1k cases with 1,000 loose objects on the hub took 2.1 s against
 * 1.2 s for a packed hub).  A loose object that is not whole is
 * ERR_CONFLICT naming it: the usual path, whose walk reads the sender's
 * trees and commits with libgit2 too, would hang on a tree cut short. */
static int walk_safe(git_repository *repo)
{
	char path[4400];
	snprintf(path, sizeof path, "%sobjects/info/alternates", git_repository_path(repo));
	if (access(path, F_OK) == 0)
		return 0;
	int rc = 1;
	for (int i = 0; rc == 1 && i < 256; i++) {
		snprintf(path, sizeof path, "%sobjects/%02x", git_repository_path(repo), i);
		DIR *d = opendir(path);
		struct dirent *e;
		while (rc == 1 && d && (e = readdir(d))) {
			char file[4700], type[8], *data = NULL;
			size_t len = 0;
			if (strlen(e->d_name) != GIT_OID_HEXSZ - 2)
				continue; /* ".", "..", a writer's temporary file */
			snprintf(file, sizeof file, "%s/%s", path, e->d_name);
			int r = loose_read(file, true, &data, &len, type);
			free(data);
			if (r == 0 || r == 1) /* 1: gone meanwhile (a repack) */
				continue;
			char hex[GIT_OID_HEXSZ + 1];
			snprintf(hex, sizeof hex, "%02x%.38s", i, e->d_name);
			rc = error_set(ERR_CONFLICT, _("object %s from %s cannot be taken: %s"), hex, file,
				       _("it is not a whole git object (cut short, or not zlib data)"));
		}
		if (d)
			closedir(d);
	}
	return rc;
}

/* packcopy_seen_cb: meanwhile's walk lists what the receiver lacks. */
static void on_seen(const git_oid *id, void *payload)
{
	copy_ctx *c = payload;
	int rc = c->seen_rc ? 0 : missing_add(&c->m, id);
	if (rc < 0)
		c->seen_rc = rc;
}

int packcopy_run(git_repository *src, git_repository *dst, const git_oid *tip,
		 const packcopy_options *o)
{
	copy_ctx c = {.src = src, .dst = dst, .o = o};
	int rc = git_repository_odb(&c.dst_odb, dst) < 0 ? git_fail(_("opening objects")) : 0;
	if (rc == 0 && o->first && !o->trusted)
		c.early = early_start(src, dst, o);
	/* a first fetch from a sender whose objects libgit2 may read
	 * (walk_safe): the caller's validation walks the history and lists
	 * it as it goes */
	bool listed = false;
	int safe = rc == 0 && c.early && o->meanwhile ? walk_safe(src) : 0;
	if (safe < 0)
		rc = safe;
	if (safe == 1) {
		rc = o->meanwhile(o->meanwhile_payload, on_seen, &c);
		rc = rc ? rc : c.seen_rc;
		listed = c.m.n > 0;
	}
	/* what src holds is only read here to know what to send: every object
	 * that arrives is hashed on its way in (indexer or staged read) */
	ledger_trust_reads(true);
	if (rc == 0 && !listed)
		rc = collect_missing(src, dst, c.dst_odb, tip, o->first, &c.m);
	ledger_trust_reads(false);
	if (rc == 0 && !listed && c.early && o->meanwhile && c.m.n > 0 && all_packed(&c))
		rc = o->meanwhile(o->meanwhile_payload, NULL, NULL);
	if (rc == 0)
		early_wait(c.early);
	if (rc == 0 && c.m.n > 0)
		rc = take_packs(&c);
	early_free(c.early);
	if (rc == 0 && c.m.n > 0)
		rc = send_rest(&c);
	stage_close(&c);
	/* durable before the caller moves a branch onto these objects */
	if (rc == 0 && c.m.n > 0)
		rc = util_sync_tree(git_repository_path(dst));
	c.done = c.m.n;
	progress(&c);
	free(c.m.set.slots);
	free(c.m.list);
	free(c.taken.slots);
	git_odb_free(c.dst_odb);
	return rc;
}
