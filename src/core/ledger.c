/*
 * ledger: libgit2 write path and history walk.  See ledger.h.
 */
#include "ledger.h"
#include "error.h"
#include "i18n.h"
#include "loose.h"
#include "packhint.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CAS_RETRIES 50

struct ledger {
	git_repository *repo;
	int lock_fd;    /* flock on <gitdir>/fieldbook.lock while writing, else -1 */
	int lock_depth;
	ledger_sign_cb sign;
	void *sign_payload;
	int advice;     /* ADVICE_*: how far its packs' maps were told reads are random */
	int advice_tries;
	packhint *hints; /* its pack indexes, for point reads; NULL: none */
};

void ledger_set_signer(ledger *l, ledger_sign_cb cb, void *payload)
{
	l->sign = cb;
	l->sign_payload = payload;
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();
	return error_set(ERR_GIT, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static void lib_init(void)
{
	static int done;
	if (!done) {
		git_libgit2_init();
		/* Durability is handled per commit with two syncfs() calls (see
		 * flush_disk) instead of libgit2's fsync of every object file. */
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
		done = 1;
	}
}

static const char marker[] =
	"fieldbook ledger\n"
	"format 1\n"
	"layout cases/<yyyy>/<mm>/<dd>/<case-id>/events/<event-id>.json\n"
	"docs docs/FORMAT.md\n";

int ledger_create(const char *path)
{
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_oid blob, tree_id, commit;
	int rc = 0;
	lib_init();
	git_repository_init_options opts;
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		     GIT_REPOSITORY_INIT_NO_REINIT;
	opts.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
	opts.initial_head = "main";
	if (git_repository_init_ext(&repo, path, &opts) < 0)
		return git_fail(path);
	if (git_blob_create_from_buffer(&blob, repo, marker, sizeof marker - 1) < 0 ||
	    git_treebuilder_new(&tb, repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, "FIELDBOOK", &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    git_signature_new(&sig, "fieldbook", "fieldbook@localhost", (git_time_t)util_now(), 0) < 0 ||
	    git_commit_create(&commit, repo, LEDGER_REF, sig, sig, "UTF-8",
			      "ledger: start (fieldbook format 1)\n", tree, 0, NULL) < 0)
		rc = git_fail(path);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	return rc;
}

/* Before it writes an object, libgit2 asks every backend whether it has it
 * already (git_odb_write's "freshen"), and when none has, refreshes the
 * packs and asks again.  For the packs each question is a binary search of
 * their index that finds nothing: at 100k cases, out of the page cache,
 * some six random page reads for each of the ten objects a note writes,
 * two thirds of what that note read from the index.  What an append
 * writes is new by construction (an event names itself; the trees and the
 * commit hold it), so while this thread appends, the packs answer "not
 * here" without looking (the refresh in between stays: a read that
 * misses needs it, to find a pack that arrived since the database was
 * opened).  Should an append write a file the packs hold already (the
 * same event appended again), the loose copy is a duplicate that git
 * accepts, and prune-packed removes.  Photos ask on their own
 * (write_loose_stored). */
static _Thread_local bool appending;

/* A libgit2 backend with some of its members replaced (packs_, loose_):
 * the others are libgit2's own, given the backend they belong to. */
struct wrapped_backend {
	git_odb_backend parent;
	git_odb_backend *inner;
	char dir[4096]; /* the objects directory */
};

/* b's libgit2 backend, as if added to b's database itself. */
static git_odb_backend *inner_of(git_odb_backend *b)
{
	git_odb_backend *in = ((struct wrapped_backend *)b)->inner;
	in->odb = b->odb;
	return in;
}

static void wrapped_free(git_odb_backend *b)
{
	git_odb_backend *in = ((struct wrapped_backend *)b)->inner;
	in->free(in);
	free(b);
}

/* A wrapper around inner (which it then owns) with dir, or NULL. */
static struct wrapped_backend *wrap(git_odb_backend *inner, const char *dir)
{
	struct wrapped_backend *w = calloc(1, sizeof *w);
	if (!w) {
		inner->free(inner);
		return NULL;
	}
	w->inner = inner;
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	w->parent.version = inner->version;
	w->parent.free = wrapped_free;
	return w;
}

#define FORWARD(prefix, ret, name, params, args)                                  \
	static ret prefix##_##name params                                          \
	{                                                                          \
		git_odb_backend *in = inner_of(b);                                 \
		return in->name args;                                              \
	}

static int packs_freshen(git_odb_backend *b, const git_oid *id)
{
	git_odb_backend *in = inner_of(b);
	return appending ? GIT_ENOTFOUND : in->freshen(in, id);
}

FORWARD(packs, int, read, (void **d, size_t *n, git_object_t *t, git_odb_backend *b, const git_oid *id),
	(d, n, t, in, id))
FORWARD(packs, int, read_prefix,
	(git_oid *o, void **d, size_t *n, git_object_t *t, git_odb_backend *b, const git_oid *id,
	 size_t len),
	(o, d, n, t, in, id, len))
FORWARD(packs, int, read_header, (size_t *n, git_object_t *t, git_odb_backend *b, const git_oid *id),
	(n, t, in, id))
FORWARD(packs, int, exists, (git_odb_backend *b, const git_oid *id), (in, id))
FORWARD(packs, int, exists_prefix, (git_oid *o, git_odb_backend *b, const git_oid *id, size_t len),
	(o, in, id, len))
FORWARD(packs, int, foreach, (git_odb_backend *b, git_odb_foreach_cb cb, void *payload),
	(in, cb, payload))
FORWARD(packs, int, writepack,
	(git_odb_writepack **w, git_odb_backend *b, git_odb *odb, git_indexer_progress_cb cb,
	 void *payload),
	(w, in, odb, cb, payload))
FORWARD(packs, int, writemidx, (git_odb_backend *b), (in))
FORWARD(packs, int, refresh, (git_odb_backend *b), (in))

/* libgit2's pack backend for dir, its freshen steered by `appending`. */
static int packs_backend_new(git_odb_backend **out, const char *dir)
{
	git_odb_backend *packs = NULL;
	struct wrapped_backend *w = NULL;
	if (git_odb_backend_pack(&packs, dir) < 0 || !(w = wrap(packs, dir)))
		return -1;
#define SET(name) w->parent.name = packs->name ? packs_##name : NULL
	SET(read), SET(read_prefix), SET(read_header), SET(exists), SET(exists_prefix);
	SET(foreach), SET(writepack), SET(writemidx), SET(freshen), SET(refresh);
#undef SET
	*out = &w->parent;
	return 0;
}

/* libgit2 1.5 never returns from reading a loose object whose zlib stream
 * is cut short (loose.h): a hub on a USB stick pulled out mid-copy, a
 * damaged disk.  Every object database the ledger sets up (its own, a path
 * hub's) therefore reads loose objects through loose.c, which says which
 * file is damaged instead; libgit2's loose backend keeps the rest (writes,
 * existence, listing). */
static void object_file(const git_odb_backend *b, const git_oid *id, char *out, size_t size)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof hex, id);
	snprintf(out, size, "%s/%.2s/%s", ((const struct wrapped_backend *)b)->dir, hex, hex + 2);
}

/* libgit2's answer for what loose.c returned: not found, or an error whose
 * message (loose.c's, naming the file) the caller's git_fail reports. */
static int loose_answer(int rc)
{
	if (rc == 1)
		return GIT_ENOTFOUND;
	git_error_set_str(GIT_ERROR_ODB, error_last());
	return GIT_ERROR;
}

static int loose_read_object(void **d, size_t *n, git_object_t *t, git_odb_backend *b, const git_oid *id)
{
	char file[4200], type[8], *data = NULL;
	size_t len = 0;
	object_file(b, id, file, sizeof file);
	int rc = loose_read(file, true, &data, &len, type);
	if (rc != 0)
		return loose_answer(rc);
	/* libgit2 frees what a backend returns with its own allocator */
	*d = git_odb_backend_data_alloc(b, len + 1);
	if (*d) {
		memcpy(*d, data, len + 1);
		*n = len;
		*t = git_object_string2type(type);
	}
	free(data);
	return *d ? 0 : GIT_ERROR;
}

static int loose_read_prefix(git_oid *o, void **d, size_t *n, git_object_t *t, git_odb_backend *b,
			     const git_oid *id, size_t len)
{
	if (len < GIT_OID_HEXSZ) { /* an abbreviated id: libgit2 finds the file */
		git_odb_backend *in = inner_of(b);
		return in->read_prefix(o, d, n, t, in, id, len);
	}
	git_oid_cpy(o, id);
	return loose_read_object(d, n, t, b, id);
}

static int loose_read_type(size_t *n, git_object_t *t, git_odb_backend *b, const git_oid *id)
{
	char file[4200], type[8];
	object_file(b, id, file, sizeof file);
	int rc = loose_read_header(file, n, type);
	if (rc != 0)
		return loose_answer(rc);
	*t = git_object_string2type(type);
	return 0;
}

FORWARD(loose, int, write,
	(git_odb_backend *b, const git_oid *id, const void *d, size_t n, git_object_t t),
	(in, id, d, n, t))
FORWARD(loose, int, writestream,
	(git_odb_stream **s, git_odb_backend *b, git_object_size_t n, git_object_t t), (s, in, n, t))
FORWARD(loose, int, exists, (git_odb_backend *b, const git_oid *id), (in, id))
FORWARD(loose, int, exists_prefix, (git_oid *o, git_odb_backend *b, const git_oid *id, size_t len),
	(o, in, id, len))
FORWARD(loose, int, foreach, (git_odb_backend *b, git_odb_foreach_cb cb, void *payload),
	(in, cb, payload))
FORWARD(loose, int, freshen, (git_odb_backend *b, const git_oid *id), (in, id))
#undef FORWARD

static int loose_backend_new(git_odb_backend **out, const char *dir)
{
	git_odb_backend *loose = NULL;
	struct wrapped_backend *w = NULL;
	if (git_odb_backend_loose(&loose, dir, -1, 0, 0, 0) < 0 || !(w = wrap(loose, dir)))
		return -1;
	w->parent.read = loose_read_object;
	w->parent.read_prefix = loose->read_prefix ? loose_read_prefix : NULL;
	w->parent.read_header = loose_read_type;
	/* no readstream: libgit2 then streams what read() returns */
#define SET(name) w->parent.name = loose->name ? loose_##name : NULL
	SET(write), SET(writestream), SET(exists), SET(exists_prefix), SET(foreach), SET(freshen);
#undef SET
	*out = &w->parent;
	return 0;
}

/* libgit2 asks the packs for an object before the loose files, and each
 * question is a binary search of a pack index (108 MB at 100k cases),
 * whose pages the process then maps.  What a day's work reads, recent
 * events and what a sync brings, is loose until a repack: looking there
 * first costs one stat() for a packed object and spares those pages.  A
 * walk of the whole history reads mostly packed objects, and there the
 * stat()s are the waste: it asks the packs first (ledger_walk_added). */
/* Add a backend to odb, which then owns it; freed when it cannot. */
static bool add_backend(git_odb *odb, git_odb_backend *b, int priority)
{
	if (git_odb_add_backend(odb, b, priority) == 0)
		return true;
	b->free(b);
	return false;
}

/* A new object database for repo, loose objects or packs asked first. */
static int set_read_order(git_repository *repo, bool loose_first)
{
	char dir[4096], alt[4200];
	struct stat st;
	git_odb *odb = NULL;
	git_odb_backend *b = NULL;
	snprintf(dir, sizeof dir, "%sobjects", git_repository_path(repo));
	snprintf(alt, sizeof alt, "%s/info/alternates", dir);
	if (stat(alt, &st) == 0)
		return 0; /* libgit2's own database reads the alternates */
	int loose = loose_first ? 2 : 1, packs = 3 - loose; /* the higher is asked first */
	bool ok = git_odb_new(&odb) == 0 && loose_backend_new(&b, dir) == 0 &&
		  add_backend(odb, b, loose) && packs_backend_new(&b, dir) == 0 &&
		  add_backend(odb, b, packs) && git_repository_set_odb(repo, odb) == 0;
	git_odb_free(odb);
	return ok ? 0 : git_fail(_("opening objects"));
}

int ledger_read_order(void *repository, bool loose_first)
{
	return set_read_order(repository, loose_first);
}

/* --- read-around ------------------------------------------------------------------ */

/* A page fault on a mapped file makes Linux read the device's read-ahead
 * window around the page ("read-around"): 8 MB on the bench machine's
 * virtual disk, 128 KB by Linux's default.  libgit2 maps a pack and its
 * index whole.  A point read (recording an event, reading a case) touches a
 * few pages scattered over them: at 100k cases, a process's first note
 * with the ledger out of the page cache read 72-103 MB and took 70-125 ms.
 * Point reads therefore tell the kernel that access is random
 * (MADV_RANDOM: the faulting page only; 18 MB and 26-36 ms then), and a
 * walk of the whole history, which reads packs mostly in order, gets the
 * default read-around back while it runs.  libgit2 keeps its maps to
 * itself, so they are found by name in /proc/self/maps (about 0.2 ms a
 * look, twice per ledger handle).  The advice only steers read-ahead: given
 * to a range another thread has just unmapped or reused, it harms nothing.
 * A pack mapped after a handle's first few point reads (a sync's new pack)
 * keeps the default until the next walk ends. */
static atomic_int whole_reads; /* walks of the whole history running */

/* Advise every map of a pack or pack index; returns 1 when an index was
 * seen, 2 when a pack, 3 both. */
static int advise_pack_maps(int advice)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return 3; /* not Linux, or no /proc: the kernel's default, as before */
	char *line = NULL;
	size_t cap = 0;
	int seen = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned long start, end;
		int at = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &at) != 2 || !at)
			continue;
		char *path = line + at;
		path[strcspn(path, "\n")] = '\0';
		if (strstr(path, "/objects/pack/pack-") &&
		    (util_ends_with(path, ".idx") || util_ends_with(path, ".pack")))
			seen |= util_ends_with(path, ".idx") ? 1 : 2, madvise((void *)start, end - start, advice);
	}
	free(line);
	fclose(f);
	return seen;
}

enum {
	ADVICE_NONE,    /* nothing advised yet */
	ADVICE_INDEXES, /* the pack indexes; the packs are not mapped yet */
	ADVICE_DONE,    /* indexes and packs, or there are none */
};
#define ADVICE_TRIES 4 /* point reads after which a pack never read is left alone */

/* advise_pack_maps(advice) unless a whole-history walk runs: then 3, as
 * if every map were seen, since the walk's end advises them all. */
static int advise_unless_walking(int advice)
{
	return atomic_load(&whole_reads) == 0 ? advise_pack_maps(advice) : 3;
}

/* Before the first point read of l: have libgit2 map its packs, each with
 * one fault, then advise the maps.  The lookups go to a database of the
 * packs alone (libgit2 shares an open pack and its maps between
 * databases): looking up an id of zeros maps every pack index and touches
 * only the pages its search visits, asked for beforehand on a descriptor
 * without read-around (packhint_open; reading the first 1/256 of the
 * index so brought a cold first note at 100k cases from 18 MB read and
 * 34 ms to 10 MB and 24 ms); reading the header of the
 * format marker, which every commit's tree holds, maps the pack that holds
 * the history's start (the large one: smaller, later packs fit in one
 * read-around), unless a pack is mapped already. */
static void point_reads_begin(ledger *l)
{
	if (l->advice != ADVICE_NONE)
		return;
	char dir[4096];
	git_odb *packs = NULL;
	git_odb_backend *b = NULL;
	git_oid low = {{0}}, start;
	size_t len;
	git_object_t type;
	int seen = 0;
	snprintf(dir, sizeof dir, "%sobjects", git_repository_path(l->repo));
	if (git_odb_new(&packs) == 0 && git_odb_backend_pack(&b, dir) == 0 &&
	    add_backend(packs, b, 1)) {
		if (!l->hints)
			l->hints = packhint_open(dir);
		low.id[GIT_OID_RAWSZ - 1] = 1; /* libgit2 answers the zero id itself */
		git_odb_exists(packs, &low);
		seen = advise_unless_walking(MADV_RANDOM);
		if (seen == 1 && git_odb_hash(&start, marker, sizeof marker - 1, GIT_OBJECT_BLOB) == 0 &&
		    (packhint_object(l->hints, &start), git_odb_read_header(&len, &type, packs, &start) == 0))
			seen = advise_unless_walking(MADV_RANDOM);
	}
	git_odb_free(packs);
	git_error_clear();
	/* no index: no packs; an index without its pack mapped yet: after reads */
	l->advice = seen == 1 ? ADVICE_INDEXES : ADVICE_DONE;
}

/* After a point read: a pack is mapped on the first read of one of its
 * objects, which may have been this one. */
static void point_reads_end(ledger *l)
{
	if (l->advice == ADVICE_INDEXES &&
	    ((advise_unless_walking(MADV_RANDOM) & 2) || ++l->advice_tries == ADVICE_TRIES))
		l->advice = ADVICE_DONE;
}

struct ledger_whole_read {
	git_odb *saved; /* the database to put back, or NULL: kept as it was */
};

/* Before libgit2 looks up id for a point read: unless it is loose, the
 * pages of the pack indexes its search will touch are asked for at once
 * (packhint.h).  A stat() when the ledger has a large pack. */
static void hint(ledger *l, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1], path[4200];
	struct stat st;
	if (!l->hints)
		return;
	git_oid_tostr(hex, sizeof hex, id);
	snprintf(path, sizeof path, "%sobjects/%.2s/%s", git_repository_path(l->repo), hex, hex + 2);
	if (stat(path, &st) != 0)
		packhint_lookup(l->hints, id);
}

static int lookup_tree(ledger *l, const git_oid *id, git_tree **out)
{
	hint(l, id);
	return git_tree_lookup(out, l->repo, id);
}

/* The commit `id` and its tree, each hinted before it is looked up. */
static int lookup_commit_tree(ledger *l, const git_oid *id, git_commit **c, git_tree **t)
{
	hint(l, id);
	if (git_commit_lookup(c, l->repo, id) < 0)
		return -1;
	hint(l, git_commit_tree_id(*c));
	return git_commit_tree(t, *c) < 0 ? -1 : 0;
}

/* git_tree_entry_bypath, each tree on the way hinted before it is looked
 * up: 0 and *out (caller frees), or negative (absent, or unreadable). */
static int entry_bypath(ledger *l, const git_tree *root, const char *path, git_tree_entry **out)
{
	const git_tree *at = root;
	git_tree *owned = NULL;
	int rc = GIT_ENOTFOUND;
	for (const char *p = path;;) {
		size_t len = strcspn(p, "/");
		char name[256];
		if (len == 0 || len >= sizeof name)
			break;
		memcpy(name, p, len);
		name[len] = '\0';
		const git_tree_entry *e = git_tree_entry_byname(at, name);
		bool tree = e && git_tree_entry_type(e) == GIT_OBJECT_TREE;
		if (e && (p[len] == '\0' || (tree && !strcmp(p + len, "/")))) {
			rc = git_tree_entry_dup(out, e);
			break;
		}
		git_tree *sub = NULL;
		if (!tree || (rc = lookup_tree(l, git_tree_entry_id(e), &sub)) < 0)
			break;
		rc = GIT_ENOTFOUND;
		git_tree_free(owned);
		owned = sub;
		at = sub;
		p += len + 1;
	}
	git_tree_free(owned);
	return rc;
}

void *ledger_packs_first(void *repository)
{
	struct ledger_whole_read *w = calloc(1, sizeof *w);
	if (!w)
		return NULL; /* the order and read-around as they are: slower, as right */
	if (atomic_fetch_add(&whole_reads, 1) == 0)
		advise_pack_maps(MADV_NORMAL);
	if (git_repository_odb(&w->saved, repository) < 0) {
		git_error_clear();
		return w;
	}
	/* Only the database of one loose and one pack backend is ours to
	 * replace: more (a hub hook's quarantine, alternates) stay as they are. */
	if (git_odb_num_backends(w->saved) != 2 || set_read_order(repository, false) != 0) {
		error_clear(); /* the order as it was: slower, as right */
		git_odb_free(w->saved);
		w->saved = NULL;
	}
	return w;
}

void ledger_read_restore(void *repository, void *saved)
{
	struct ledger_whole_read *w = saved;
	if (!w)
		return;
	if (w->saved) {
		git_repository_set_odb(repository, w->saved);
		git_odb_free(w->saved);
	}
	free(w);
	if (atomic_fetch_sub(&whole_reads, 1) == 1)
		advise_pack_maps(MADV_RANDOM);
}

void *ledger_subtree(void *repository, const git_tree *t, const char *name)
{
	const git_tree_entry *e = t ? git_tree_entry_byname(t, name) : NULL;
	git_tree *sub = NULL;
	if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&sub, repository, git_tree_entry_id(e)) < 0)
		git_error_clear(), sub = NULL;
	return sub;
}

int ledger_open(ledger **out, const char *path)
{
	lib_init();
	ledger *l = calloc(1, sizeof *l);
	if (!l)
		return error_set(ERR_NOMEM, "out of memory");
	l->lock_fd = -1;
	if (git_repository_open_bare(&l->repo, path) < 0) {
		free(l);
		return git_fail(path);
	}
	int rc = ledger_read_order(l->repo, true);
	if (rc) {
		ledger_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void ledger_free(ledger *l)
{
	if (!l)
		return;
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	git_repository_free(l->repo);
	packhint_free(l->hints);
	free(l);
}

void *ledger_repository(ledger *l) { return l->repo; }

int ledger_head(ledger *l, char out[41])
{
	git_oid oid;
	out[0] = '\0';
	int rc = git_reference_name_to_id(&oid, l->repo, LEDGER_REF);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return git_fail(_("reading the ledger head"));
	git_oid_tostr(out, 41, &oid);
	return 0;
}

static int head_tree(ledger *l, git_commit **commit, git_tree **tree)
{
	git_oid oid;
	point_reads_begin(l);
	*commit = NULL;
	*tree = NULL;
	int rc = git_reference_name_to_id(&oid, l->repo, LEDGER_REF);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0 || lookup_commit_tree(l, &oid, commit, tree) < 0)
		return git_fail(_("reading the ledger head"));
	return 0;
}

static int commit_tree_at(ledger *l, const char *commit, git_commit **c, git_tree **t)
{
	git_oid oid;
	*c = NULL;
	*t = NULL;
	if (!commit)
		return head_tree(l, c, t);
	point_reads_begin(l);
	if (git_oid_fromstr(&oid, commit) < 0 || lookup_commit_tree(l, &oid, c, t) < 0)
		return git_fail(commit);
	return 0;
}

int ledger_read(ledger *l, const char *path, char **data, size_t *len)
{
	return ledger_read_at(l, NULL, path, data, len);
}

static bool reads_trusted;

void ledger_trust_reads(bool on)
{
	lib_init();
	reads_trusted = on;
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on ? 0 : 1);
}

/* A loose blob read here (loose.h): mapped and inflated once into the
 * caller's buffer, its SHA-1 checked unless reads are trusted (for a
 * trusted read, zlib's adler32 is skipped too: the caller checks the
 * content).  1 when the blob is not loose: libgit2 reads it. */
static int read_loose_blob(ledger *l, const git_oid *id, bool trusted, char **data, size_t *len)
{
	char hex[GIT_OID_HEXSZ + 1], path[4200], type[8];
	git_oid got;
	git_oid_tostr(hex, sizeof hex, id);
	snprintf(path, sizeof path, "%sobjects/%.2s/%s", git_repository_path(l->repo), hex, hex + 2);
	int rc = loose_read(path, !trusted, data, len, type);
	if (rc)
		return rc;
	if (strcmp(type, "blob") == 0 &&
	    (trusted || (git_odb_hash(&got, *data, *len, GIT_OBJECT_BLOB) == 0 && git_oid_equal(&got, id))))
		return 0;
	free(*data);
	*data = NULL;
	return error_set(ERR_CONFLICT, _("%s is damaged: its content is not the object its name "
					 "says; check it with git fsck"), path);
}

/* The id of `path` at `commit` (zero when absent); false when unreadable.
 * Leaves the error message alone: callers only compare. */
static bool entry_id_at(ledger *l, const char *commit, const char *path, git_oid *out)
{
	git_oid id;
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	memset(out, 0, sizeof *out);
	point_reads_begin(l);
	bool ok = git_oid_fromstr(&id, commit) == 0 && lookup_commit_tree(l, &id, &c, &t) == 0;
	if (ok && entry_bypath(l, t, path, &e) == 0)
		git_oid_cpy(out, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return ok;
}

bool ledger_same_at(ledger *l, const char *a, const char *b, const char *path)
{
	git_oid ia, ib;
	return entry_id_at(l, a, path, &ia) && entry_id_at(l, b, path, &ib) && git_oid_equal(&ia, &ib);
}

int ledger_list_at(ledger *l, const char *commit, const char *dir, char ***names, size_t *n)
{
	git_commit *c;
	git_tree *t, *sub = NULL;
	git_tree_entry *e = NULL;
	*names = NULL;
	*n = 0;
	int rc = commit_tree_at(l, commit, &c, &t);
	if (rc)
		return rc;
	if (t && entry_bypath(l, t, dir, &e) == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    lookup_tree(l, git_tree_entry_id(e), &sub) == 0) {
		size_t count = git_tree_entrycount(sub);
		*names = calloc(count ? count : 1, sizeof **names);
		for (size_t i = 0; *names && i < count; i++)
			if (asprintf(&(*names)[(*n)++], "%s/%s", dir,
				     git_tree_entry_name(git_tree_entry_byindex(sub, i))) < 0)
				(*names)[--(*n)] = NULL;
	}
	git_error_clear();
	git_tree_free(sub);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	point_reads_end(l);
	return 0;
}

int ledger_read_at(ledger *l, const char *commit, const char *path, char **data, size_t *len)
{
	git_commit *c;
	git_tree *t;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;
	int rc = commit_tree_at(l, commit, &c, &t);
	if (rc)
		return rc;
	if (!t || entry_bypath(l, t, path, &e) < 0) {
		rc = error_set(ERR_NOTFOUND, _("not in the ledger: %s"), path);
		goto done;
	}
	/* loose blobs are read here: libgit2 1.5 never returns from a loose
	 * object cut short (loose.h) */
	size_t n = 0;
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    (rc = read_loose_blob(l, git_tree_entry_id(e), reads_trusted, data, &n)) <= 0) {
		if (rc == 0 && len)
			*len = n;
		goto done;
	}
	rc = 0;
	if (git_blob_lookup(&b, l->repo, git_tree_entry_id(e)) < 0) {
		rc = git_fail(path);
		goto done;
	}
	n = (size_t)git_blob_rawsize(b);
	*data = malloc(n + 1);
	if (!*data) {
		rc = error_set(ERR_NOMEM, "out of memory");
		goto done;
	}
	memcpy(*data, git_blob_rawcontent(b), n);
	(*data)[n] = '\0';
	if (len)
		*len = n;
done:
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	point_reads_end(l);
	return rc;
}

bool ledger_exists(ledger *l, const char *path)
{
	git_commit *c;
	git_tree *t;
	git_tree_entry *e = NULL;
	if (head_tree(l, &c, &t) || !t)
		return false;
	bool found = entry_bypath(l, t, path, &e) == 0;
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	point_reads_end(l);
	return found;
}

/* Build the update list for the files not yet in `base`; refuse changes. */
static int plan_updates(ledger *l, git_tree *base, const ledger_file *files,
			const git_oid *blobs, size_t n, git_tree_update *ups,
			size_t *nups)
{
	*nups = 0;
	for (size_t i = 0; i < n; i++) {
		git_tree_entry *e = NULL;
		if (base && entry_bypath(l, base, files[i].path, &e) == 0) {
			int same = git_oid_equal(git_tree_entry_id(e), &blobs[i]);
			git_tree_entry_free(e);
			if (same)
				continue;
			return error_set(ERR_CONFLICT,
					 _("%s is already in the ledger with other content; "
					   "the ledger is append-only"), files[i].path);
		}
		ups[*nups] = (git_tree_update){
			.action = GIT_TREE_UPDATE_UPSERT,
			.id = blobs[i],
			.filemode = GIT_FILEMODE_BLOB,
			.path = files[i].path,
		};
		(*nups)++;
	}
	return 0;
}

int ledger_committer(git_signature **out, const git_signature *author,
		     const git_commit *const *parents, size_t n)
{
	git_time_t when = author->when.time;
	for (size_t i = 0; i < n; i++)
		if (git_commit_time(parents[i]) >= when)
			when = git_commit_time(parents[i]) + 1;
	if (git_signature_new(out, author->name, author->email, when, author->when.offset) < 0)
		return git_fail(_("officer name or id not usable in a commit"));
	return 0;
}

/* Write the commit object, signed when a signer is set. */
static int write_commit(ledger *l, const git_signature *sig, const char *message,
			const git_tree *tree, const git_commit *parent, git_oid *out)
{
	const git_commit *parents[1] = {parent};
	size_t np = parent ? 1 : 0;
	git_signature *committer = NULL;
	int rc = ledger_committer(&committer, sig, parents, np);
	if (rc)
		return rc;
	if (!l->sign) {
		if (git_commit_create(out, l->repo, NULL, sig, committer, NULL, message, tree, np,
				      parents) < 0)
			rc = git_fail(_("writing the ledger commit"));
		git_signature_free(committer);
		return rc;
	}
	git_buf buf = {0};
	char *signature = NULL;
	if (git_commit_create_buffer(&buf, l->repo, sig, committer, NULL, message, tree, np,
				     parents) < 0)
		rc = git_fail(_("writing the ledger commit"));
	else if ((rc = l->sign(buf.ptr, buf.size, &signature, l->sign_payload)) == 0 &&
		 git_commit_create_with_signature(out, l->repo, buf.ptr, signature, "gpgsig") < 0)
		rc = git_fail(_("writing the signed ledger commit"));
	free(signature);
	git_buf_dispose(&buf);
	git_signature_free(committer);
	return rc;
}

/* Make everything written so far durable: one syncfs() of the file system
 * holding the repository (objects before the ref moves, then the ref),
 * instead of an fsync per object file and directory. */
static int flush_disk(ledger *l)
{
	int fd = open(git_repository_path(l->repo), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return error_set(ERR_IO, _("cannot flush the ledger to disk: %s"), strerror(e));
	}
	close(fd);
	return 0;
}

/* One attempt: commit on the current head and move the ref if it has not
 * moved meanwhile.  Returns GIT_EMODIFIED-like 1 when another writer won. */
static int append_once(ledger *l, const ledger_file *files, const git_oid *blobs,
		       size_t n, const git_signature *sig, const char *message,
		       git_oid *out)
{
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_tree_update *ups = calloc(n ? n : 1, sizeof *ups);
	git_reference *ref = NULL;
	git_oid tree_id;
	size_t nups;
	int rc;
	if (!ups)
		return error_set(ERR_NOMEM, "out of memory");
	if ((rc = head_tree(l, &parent, &base)) != 0)
		goto done;
	if ((rc = plan_updates(l, base, files, blobs, n, ups, &nups)) != 0)
		goto done;
	if (nups == 0 && parent) { /* everything already there: idempotent */
		git_oid_cpy(out, git_commit_id(parent));
		goto done;
	}
	if (git_tree_create_updated(&tree_id, l->repo, base, nups, ups) < 0 ||
	    git_tree_lookup(&tree, l->repo, &tree_id) < 0) {
		rc = git_fail(_("writing the ledger tree"));
		goto done;
	}
	if ((rc = write_commit(l, sig, message, tree, parent, out)))
		goto done;
	if ((rc = flush_disk(l)))
		goto done;
	int r;
	if (parent)
		r = git_reference_create_matching(&ref, l->repo, LEDGER_REF, out, 1,
						  git_commit_id(parent), message);
	else
		r = git_reference_create(&ref, l->repo, LEDGER_REF, out, 0, message);
	if (r == GIT_EMODIFIED || r == GIT_ELOCKED || r == GIT_EEXISTS)
		rc = 1;
	else if (r < 0)
		rc = git_fail(_("moving the ledger branch"));
done:
	git_reference_free(ref);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	free(ups);
	return rc;
}

/* --- blobs ------------------------------------------------------------------------ */

/* Photos are JPEG, already compressed: zlib gains under 1% on them at about
 * 30 MB/s, paid again by every push through a packbuilder, and each read
 * inflates them.  So a photo is written as a loose object whose zlib stream
 * stores its bytes as they are (level 0), which is what git itself writes
 * with core.looseCompression=0; every git and libgit2 reads it.  libgit2's
 * own loose writer cannot: level 0 there means no zlib stream at all. */
static bool stored_as_is(const ledger_file *f)
{
	size_t n = strlen(f->path);
	return n > 4 && strcmp(f->path + n - 4, ".jpg") == 0;
}

static int deflate_stored(const char *head, size_t hlen, const void *data, size_t len,
			  unsigned char **out, size_t *outlen)
{
	z_stream z = {0};
	if (deflateInit(&z, Z_NO_COMPRESSION) != Z_OK)
		return error_set(ERR_NOMEM, "out of memory");
	/* stored blocks: at most 5 bytes per 16 KiB block, the header, the trailer */
	size_t bound = hlen + len + 5 * ((hlen + len) / 16000 + 2) + 32;
	unsigned char *buf = malloc(bound);
	const unsigned char *in[2] = {(const unsigned char *)head, data};
	size_t left[2] = {hlen, len};
	int zr = buf ? Z_OK : Z_MEM_ERROR;
	z.next_out = buf;
	for (int part = 0; part < 2 && zr == Z_OK; part++) {
		while (zr == Z_OK && left[part] > 0) {
			uInt step = left[part] > (1u << 30) ? (1u << 30) : (uInt)left[part];
			z.next_in = (Bytef *)in[part];
			z.avail_in = step;
			z.avail_out = (uInt)(bound - z.total_out > (1u << 31) ? (1u << 31) : bound - z.total_out);
			zr = deflate(&z, Z_NO_FLUSH);
			in[part] += step - z.avail_in;
			left[part] -= step - z.avail_in;
		}
	}
	while (zr == Z_OK) {
		z.avail_out = (uInt)(bound - z.total_out > (1u << 31) ? (1u << 31) : bound - z.total_out);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_OK && z.avail_out > 0)
			zr = Z_BUF_ERROR; /* cannot happen: the bound holds stored blocks */
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return error_set(ERR_NOMEM, "out of memory");
	}
	*out = buf;
	return 0;
}

/* objects/<xx>/<38 hex>, written to a temporary name and renamed into
 * place (the ledger's flush before the branch moves makes it durable). */
static int write_loose_stored(ledger *l, const void *data, size_t len, git_oid *id)
{
	git_odb *odb = NULL;
	if (git_odb_hash(id, data, len, GIT_OBJECT_BLOB) < 0 || git_repository_odb(&odb, l->repo) < 0)
		return git_fail(_("writing a photo to the ledger"));
	bool have = git_odb_exists(odb, id);
	git_odb_free(odb);
	if (have)
		return 0;
	char hex[GIT_OID_HEXSZ + 1], head[32], dir[4096], path[4200], tmp[4200];
	git_oid_tostr(hex, sizeof hex, id);
	int hlen = snprintf(head, sizeof head, "blob %zu", len) + 1; /* with its NUL */
	snprintf(dir, sizeof dir, "%sobjects/%.2s", git_repository_path(l->repo), hex);
	snprintf(path, sizeof path, "%s/%s", dir, hex + 2);
	util_temp_beside(path, tmp, sizeof tmp);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return error_set(ERR_IO, _("cannot create directory %s: %s"), dir, strerror(errno));
	unsigned char *z = NULL;
	size_t zlen = 0;
	int rc = deflate_stored(head, (size_t)hlen, data, len, &z, &zlen);
	if (rc)
		return rc;
	unlink(tmp); /* left by a killed writer that had this pid */
	rc = util_write_new(tmp, z, zlen, 0444);
	free(z);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = error_set(ERR_IO, _("cannot write %s: %s"), path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

static int write_blob(ledger *l, const ledger_file *f, git_oid *id)
{
	if (stored_as_is(f))
		return write_loose_stored(l, f->data, f->len, id);
	if (git_blob_create_from_buffer(id, l->repo, f->data, f->len) < 0)
		return git_fail(f->path);
	return 0;
}

/* libgit2 1.5's packbuilder (a push over ssh, git:// or https, a bundle)
 * delta-searches every object up to a size it reads, by a slip in its
 * pack-objects.c, from pack.deltaCacheSize (pack.bigFileThreshold is never
 * read).  Photos gain nothing from deltas against each other, and the
 * search between every two photos in its window was 70% of a push of 12
 * phone photos (18 s of 19).  1 MiB: events and trees, far smaller, are
 * still deltified.  pack.bigFileThreshold too, should the slip be fixed. */
#define PACK_DELTA_MAX "1048576"

static int set_if_missing(git_config *cfg, const char *key, const char *value)
{
	git_config_entry *e = NULL;
	int r = git_config_get_entry(&e, cfg, key);
	git_config_entry_free(e);
	if (r == GIT_ENOTFOUND)
		r = git_config_set_string(cfg, key, value);
	return r < 0 ? git_fail(_("writing the ledger's settings")) : 0;
}

int ledger_pack_settings(ledger *l)
{
	git_config *cfg = NULL;
	if (git_repository_config(&cfg, l->repo) < 0)
		return git_fail(_("writing the ledger's settings"));
	int rc = set_if_missing(cfg, "pack.deltaCacheSize", PACK_DELTA_MAX);
	if (rc == 0)
		rc = set_if_missing(cfg, "pack.bigFileThreshold", PACK_DELTA_MAX);
	git_config_free(cfg);
	return rc;
}

int ledger_append(ledger *l, const ledger_file *files, size_t n,
		  const ledger_author *author, const char *message,
		  char out_commit[41])
{
	git_signature *sig = NULL;
	git_oid *blobs = calloc(n ? n : 1, sizeof *blobs);
	git_oid commit;
	int rc = 0;
	if (!blobs)
		return error_set(ERR_NOMEM, "out of memory");
	point_reads_begin(l); /* writing a blob first asks whether the ledger has it */
	appending = true;     /* only of the loose objects (see packs_freshen) */
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = write_blob(l, &files[i], &blobs[i]);
	if (rc == 0 && git_signature_new(&sig, author->name, author->email,
					 (git_time_t)author->when, author->tz_minutes) < 0)
		rc = git_fail(_("officer name or id not usable in a commit"));
	if (rc == 0)
		rc = ledger_lock(l);
	bool locked = rc == 0;
	for (int attempt = 0; rc == 0; attempt++) {
		rc = append_once(l, files, blobs, n, sig, message, &commit);
		if (rc != 1)
			break;
		if (attempt == CAS_RETRIES) {
			rc = error_set(ERR_CONFLICT, _("the ledger kept changing under us; "
						       "nothing was written, try again"));
			break;
		}
		rc = 0; /* another writer moved the branch: rebuild on its head */
	}
	if (rc == 0)
		rc = flush_disk(l); /* the moved ref */
	if (locked)
		ledger_unlock(l);
	appending = false;
	point_reads_end(l);
	if (rc == 0 && out_commit)
		git_oid_tostr(out_commit, 41, &commit);
	git_signature_free(sig);
	free(blobs);
	return rc;
}

/* --- writer lock ------------------------------------------------------------------ */

/* Writers on one device serialise on an flock, which the kernel releases
 * when a process dies.  Holding it, any git lock file left on the branch
 * can only come from a writer killed mid-write, so it is removed. */
int ledger_lock(ledger *l)
{
	if (l->lock_depth++ > 0)
		return 0;
	char path[4200];
	snprintf(path, sizeof path, "%s/fieldbook.lock", git_repository_path(l->repo));
	l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0 || flock(l->lock_fd, LOCK_EX) != 0) {
		int e = errno;
		if (l->lock_fd >= 0)
			close(l->lock_fd);
		l->lock_fd = -1;
		l->lock_depth = 0;
		return error_set(ERR_IO, _("cannot lock the ledger (%s): %s"), path, strerror(e));
	}
	snprintf(path, sizeof path, "%s/" LEDGER_REF ".lock", git_repository_path(l->repo));
	unlink(path);
	return 0;
}

void ledger_unlock(ledger *l)
{
	if (l->lock_depth == 0 || --l->lock_depth > 0)
		return;
	close(l->lock_fd); /* releases the flock */
	l->lock_fd = -1;
}

/* --- history walk --------------------------------------------------- */

/* The trees a commit touched, kept for the next one: in a linear history
 * the next commit's old side is this commit's new side, so those trees are
 * taken from here instead of read from the pack again. */
#define MEMO_MAX 64
struct tree_memo {
	git_oid commit; /* whose trees these are */
	git_tree *trees[MEMO_MAX];
	size_t n;
};

struct walk_ctx {
	ledger *l;
	ledger_want_cb want;
	ledger_added_cb cb;
	void *payload;
	const char *commit_hex;
	time_t commit_time;
	int rc;
	struct tree_memo memo[2]; /* [prev]: the last commit's, [!prev]: this one's */
	int prev;
	bool trusted; /* LEDGER_WALK_TRUSTED */
	/* ledger_merge_added: added files go to merge_cb (path, id), unread */
	ledger_merge_added_cb merge_cb;
	ledger_walk_more *more; /* may be NULL */
	/* objects/<xx> directories: 0 not looked at yet, 1 absent, 2 present.
	 * A packed ledger has none: no open() per blob to find that out. */
	unsigned char loose_dir[256];
};

static void memo_clear(struct tree_memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		git_tree_free(m->trees[i]);
	m->n = 0;
}

/* Keep a reference to `t` (a tree this commit read) for the next commit. */
static void memo_keep(struct walk_ctx *w, git_tree *t)
{
	struct tree_memo *m = &w->memo[!w->prev];
	git_object *dup;
	if (m->n < MEMO_MAX && git_object_dup(&dup, (git_object *)t) == 0)
		m->trees[m->n++] = (git_tree *)dup;
}

/* A tree of the old side: from the last commit's trees when it read it. */
static int old_tree_lookup(struct walk_ctx *w, git_tree **out, const git_oid *id)
{
	const struct tree_memo *m = &w->memo[w->prev];
	for (size_t i = 0; i < m->n; i++)
		if (git_oid_equal(git_tree_id(m->trees[i]), id))
			return git_object_dup((git_object **)out, (git_object *)m->trees[i]);
	return git_tree_lookup(out, w->l->repo, id);
}

/* An object read and found good (ledger_walk_more.seen). */
static void seen(struct walk_ctx *w, const git_oid *id)
{
	if (w->more && w->more->seen)
		w->more->seen(id, w->more->payload);
}

static int refuse_change(struct walk_ctx *w, const char *path, bool deleted)
{
	const char *msg;
	if (w->merge_cb)
		msg = deleted ? _("merge commit %s deletes %s: the ledger is append-only")
			      : _("merge commit %s modifies %s: the ledger is append-only");
	else
		msg = deleted ? _("commit %s deletes %s: the ledger is append-only")
			      : _("commit %s modifies %s: the ledger is append-only");
	return w->rc = error_set(ERR_CONFLICT, msg, w->commit_hex, path);
}

static int report_blob(struct walk_ctx *w, const char *path, const git_oid *id)
{
	git_blob *b = NULL;
	char *data;
	size_t len;
	if (w->merge_cb) {
		char hex[41];
		git_oid_tostr(hex, sizeof hex, id);
		return w->rc = w->merge_cb(path, hex, w->payload);
	}
	if (w->want && !w->want(path, w->payload))
		return 0; /* listed (compare_entry), not read */
	/* a loose blob cut short would hang libgit2 (loose.h): read it here */
	unsigned char *dir = &w->loose_dir[id->id[0]];
	if (!*dir) {
		char path[4200];
		snprintf(path, sizeof path, "%sobjects/%02x", git_repository_path(w->l->repo), id->id[0]);
		*dir = util_is_dir(path) ? 2 : 1;
	}
	int rc = *dir == 2 ? read_loose_blob(w->l, id, w->trusted, &data, &len) : 1;
	if (rc <= 0) {
		if (rc == 0)
			rc = w->cb(w->commit_hex, w->commit_time, path, data, len, w->payload);
		else
			error_prefix(rc, _("commit %s adds %s"), w->commit_hex, path);
		free(data);
		return w->rc = rc;
	}
	if (git_blob_lookup(&b, w->l->repo, id) < 0)
		return w->rc = git_fail(path);
	w->rc = w->cb(w->commit_hex, w->commit_time, path, git_blob_rawcontent(b),
		      (size_t)git_blob_rawsize(b), w->payload);
	git_blob_free(b);
	return w->rc;
}

static int compare_trees(struct walk_ctx *w, const git_tree *old, const git_tree *new,
			 const char *prefix);

/* An entry `e` of the new tree against `o`, the old tree's entry of the same
 * name (NULL: none): added (a whole subtree), unchanged, or changed. */
static int compare_entry(struct walk_ctx *w, const git_tree_entry *o, const git_tree_entry *e,
			 const char *prefix)
{
	bool same_mode = o && git_tree_entry_filemode(o) == git_tree_entry_filemode(e);
	if (same_mode && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)))
		return 0; /* same subtree or blob: nothing new below */
	char path[1024];
	snprintf(path, sizeof path, "%s%s", prefix, git_tree_entry_name(e));
	bool is_tree = git_tree_entry_type(e) == GIT_OBJECT_TREE;
	if (o && (!is_tree || !same_mode))
		return refuse_change(w, path, false);
	if (!is_tree) {
		/* a merge's files are its parents': listed on their side */
		int r = report_blob(w, path, git_tree_entry_id(e));
		if (r == 0 && !w->merge_cb)
			seen(w, git_tree_entry_id(e));
		return r;
	}
	git_tree *sub_new = NULL, *sub_old = NULL;
	int rc = git_tree_lookup(&sub_new, w->l->repo, git_tree_entry_id(e));
	if (rc == 0)
		memo_keep(w, sub_new);
	if (rc == 0 && o)
		rc = old_tree_lookup(w, &sub_old, git_tree_entry_id(o));
	char sub_prefix[1040];
	snprintf(sub_prefix, sizeof sub_prefix, "%s/", path);
	rc = rc < 0 ? (w->rc = git_fail(path)) : compare_trees(w, sub_old, sub_new, sub_prefix);
	if (rc == 0)
		seen(w, git_tree_entry_id(e));
	git_tree_free(sub_new);
	git_tree_free(sub_old);
	return rc;
}

/* An entry of the old tree missing from the new one: refused. */
static int find_deleted(struct walk_ctx *w, const git_tree *old, const git_tree *new,
			const char *prefix)
{
	size_t m = old ? git_tree_entrycount(old) : 0;
	for (size_t i = 0; i < m; i++) {
		const git_tree_entry *o = git_tree_entry_byindex(old, i);
		if (!git_tree_entry_byname(new, git_tree_entry_name(o))) {
			char path[1024];
			snprintf(path, sizeof path, "%s%s", prefix, git_tree_entry_name(o));
			return refuse_change(w, path, true);
		}
	}
	return 0;
}

/* Walk two trees, descending only where the ids differ: the cost of one
 * commit depends on the paths it touches, not on the size of the ledger.
 * Both trees are sorted the same way and an append-only commit only adds
 * names, so old entries are matched in one pass; a name out of that order
 * is looked up, and when some old entry was not matched in order, every
 * old name is looked up in the new tree (deletions are refused). */
static int compare_trees(struct walk_ctx *w, const git_tree *old, const git_tree *new,
			 const char *prefix)
{
	size_t n = git_tree_entrycount(new), m = old ? git_tree_entrycount(old) : 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(new, i);
		const git_tree_entry *o = j < m ? git_tree_entry_byindex(old, j) : NULL;
		if (o && strcmp(git_tree_entry_name(o), git_tree_entry_name(e)) == 0)
			j++;
		else
			o = old ? git_tree_entry_byname(old, git_tree_entry_name(e)) : NULL;
		int rc = compare_entry(w, o, e, prefix);
		if (rc)
			return rc;
	}
	return j == m ? 0 : find_deleted(w, old, new, prefix);
}

/* The parent's root tree: the last commit's when it is the parent. */
static int parent_tree(struct walk_ctx *w, git_commit *c, git_tree **out)
{
	const struct tree_memo *m = &w->memo[w->prev];
	if (m->n && git_oid_equal(&m->commit, git_commit_parent_id(c, 0)))
		return git_object_dup((git_object **)out, (git_object *)m->trees[0]);
	git_commit *parent = NULL;
	int rc = git_commit_parent(&parent, c, 0);
	if (rc == 0)
		rc = git_commit_tree(out, parent);
	git_commit_free(parent);
	return rc;
}

static int walk_commit(struct walk_ctx *w, git_commit *c)
{
	git_tree *old = NULL, *new = NULL;
	char hex[41];
	int rc = 0;
	if (git_commit_parentcount(c) > 1) /* union merges add nothing of their own */
		return w->more && w->more->merge ? w->more->merge(w->l, c, w->more) : 0;
	git_oid_tostr(hex, sizeof hex, git_commit_id(c));
	w->commit_hex = hex;
	w->commit_time = (time_t)git_commit_time(c);
	w->rc = 0;
	struct tree_memo *next = &w->memo[!w->prev];
	memo_clear(next);
	git_oid_cpy(&next->commit, git_commit_id(c));
	if ((git_commit_parentcount(c) == 1 && parent_tree(w, c, &old) < 0) ||
	    git_commit_tree(&new, c) < 0) {
		rc = git_fail(hex);
	} else {
		memo_keep(w, new); /* trees[0]: the root */
		if ((rc = compare_trees(w, old, new, "")) == 0)
			seen(w, git_tree_id(new));
	}
	git_tree_free(old);
	git_tree_free(new);
	w->prev = !w->prev;
	return rc;
}

int ledger_merge_added(ledger *l, const char *merge, unsigned parent, ledger_merge_added_cb cb,
		       void *payload, ledger_walk_more *more)
{
	struct walk_ctx w = {.l = l, .merge_cb = cb, .payload = payload, .commit_hex = merge,
			     .more = more};
	git_oid id;
	git_commit *c = NULL, *p = NULL;
	git_tree *old = NULL, *new = NULL;
	int rc = git_oid_fromstr(&id, merge) < 0 || git_commit_lookup(&c, l->repo, &id) < 0 ||
			 git_commit_parent(&p, c, parent) < 0 || git_commit_tree(&old, p) < 0 ||
			 git_commit_tree(&new, c) < 0
		     ? git_fail(merge)
		     : compare_trees(&w, old, new, "");
	if (rc == 0)
		seen(&w, git_tree_id(new));
	memo_clear(&w.memo[0]);
	memo_clear(&w.memo[1]);
	git_tree_free(old);
	git_tree_free(new);
	git_commit_free(p);
	git_commit_free(c);
	return rc;
}

/* One commit down a line: 1 moved to the parent, 0 at a root, -1 at a
 * merge or a commit that cannot be read. */
static int step_down(git_repository *repo, git_oid *at)
{
	git_commit *c = NULL;
	if (git_commit_lookup(&c, repo, at) < 0) {
		git_error_clear();
		return -1;
	}
	unsigned parents = git_commit_parentcount(c);
	if (parents == 1)
		*at = *git_commit_parent_id(c, 0);
	git_commit_free(c);
	return parents == 1 ? 1 : parents == 0 ? 0 : -1;
}

static long index_of(const git_oid *ids, size_t n, const git_oid *id)
{
	for (size_t i = 0; i < n; i++)
		if (git_oid_equal(&ids[i], id))
			return (long)i;
	return -1;
}

/* The commits reachable from `to` and not from `from`, oldest first, when
 * both lie on lines of at most CHAIN_MAX single-parent commits above the
 * commit where the lines meet (*n = 0 when to == from); false otherwise.
 * Usually `from` is on `to`'s line a few commits down: `from`'s own line
 * is walked only when `to`'s has gone CHAIN_ALONE commits without
 * meeting it, as when a sync's range runs from our head to a hub's head
 * that forked from it (two days of events each side).  libgit2's revwalk,
 * which a hidden commit makes stop by commit time, read the whole history
 * when a device's clock was behind its ledger's newest commit (2.5 s and
 * 260 MB per event at 100k cases), and a line walked past the fork reads
 * old commits, each a search of the pack index. */
#define CHAIN_MAX 256
#define CHAIN_ALONE 16
static bool chain_range(git_repository *repo, const git_oid *from, const git_oid *to,
			git_oid chain[CHAIN_MAX], size_t *n, git_oid *meet)
{
	git_oid side[CHAIN_MAX], at = *to, sat = *from;
	size_t ns = 0;
	bool to_open = true, from_open = true;
	*n = 0;
	for (;;) {
		if (to_open && (git_oid_equal(&at, from) || index_of(side, ns, &at) >= 0)) {
			*meet = at;
			break; /* met: the range is chain[0..n) */
		}
		if (to_open) {
			if (*n == CHAIN_MAX)
				return false;
			chain[(*n)++] = at;
			int r = step_down(repo, &at);
			if (r < 0)
				return false;
			to_open = r > 0;
		}
		size_t steps = !to_open ? 1 : *n < CHAIN_ALONE ? 0 : *n == CHAIN_ALONE ? CHAIN_ALONE : 1;
		for (size_t k = 0; k < steps && from_open; k++) {
			long i = index_of(chain, *n, &sat);
			if (i >= 0) { /* met on `to`'s line: what is below is `from`'s */
				*n = (size_t)i;
				*meet = sat;
				goto done;
			}
			if (ns == CHAIN_MAX)
				return false;
			side[ns++] = sat;
			int r = step_down(repo, &sat);
			if (r < 0)
				return false;
			from_open = r > 0;
		}
		if (!to_open && !from_open) {
			memset(meet, 0, sizeof *meet);
			break; /* two lines from different roots: all of `to`'s */
		}
	}
done:
	for (size_t i = 0; i < *n / 2; i++) { /* oldest first */
		git_oid t = chain[i];
		chain[i] = chain[*n - 1 - i];
		chain[*n - 1 - i] = t;
	}
	return true;
}

/* chain_range, or, when `to` is a merge of two commits one of which is
 * `from` (a day's sync joins our head and the hub's), the other's line
 * above where it meets ours (chain_range) and then the merge.  libgit2's
 * revwalk went on past commits of equal commit time, which a clock ahead
 * used to give every later commit (ledger_committer): on such a ledger a
 * day's sync with a merge read the whole history (9 s, 564 MB at 100k
 * cases) to count and index the day's commits. */
static bool range_of(git_repository *repo, const git_oid *from, const git_oid *to,
		     git_oid chain[CHAIN_MAX], size_t *n)
{
	git_oid meet;
	if (chain_range(repo, from, to, chain, n, &meet))
		return true;
	git_commit *c = NULL;
	if (git_commit_lookup(&c, repo, to) < 0) {
		git_error_clear();
		return false;
	}
	bool ok = false;
	for (unsigned i = 0; git_commit_parentcount(c) == 2 && i < 2 && !ok; i++) {
		if (!git_oid_equal(git_commit_parent_id(c, i), from))
			continue;
		git_oid other = *git_commit_parent_id(c, !i);
		ok = chain_range(repo, from, &other, chain, n, &meet) && *n < CHAIN_MAX;
		if (ok)
			chain[(*n)++] = *to;
	}
	git_commit_free(c);
	return ok;
}

int ledger_count_range(ledger *l, const git_oid *from, const git_oid *to)
{
	git_oid chain[CHAIN_MAX];
	size_t n = 0;
	if (from && range_of(l->repo, from, to, chain, &n))
		return (int)n;
	git_revwalk *w = NULL;
	git_oid oid;
	int count = 0;
	if (git_revwalk_new(&w, l->repo) == 0 && git_revwalk_push(w, to) == 0 &&
	    (!from || git_revwalk_hide(w, from) == 0))
		while (git_revwalk_next(&oid, w) == 0)
			count++;
	git_revwalk_free(w);
	git_error_clear();
	return count;
}

static int walk_oid(struct walk_ctx *w, const git_oid *id)
{
	git_commit *c;
	if (git_commit_lookup(&c, w->l->repo, id) < 0)
		return git_fail("commit");
	if (w->more)
		w->more->commits++;
	int rc = walk_commit(w, c);
	if (rc == 0)
		seen(w, id);
	git_commit_free(c);
	return rc;
}

static int walk_range(ledger *l, const char *from, const char *to, bool trusted, ledger_want_cb want,
		      ledger_added_cb cb, void *payload, ledger_walk_more *more)
{
	git_revwalk *walk = NULL;
	git_oid oid, from_id, chain[CHAIN_MAX];
	size_t n = 0;
	int rc = 0;
	struct walk_ctx w = {.l = l, .want = want, .cb = cb, .payload = payload, .trusted = trusted,
			     .more = more};
	if (more)
		more->commits = 0;
	if (from && *from && git_oid_fromstr(&from_id, from) == 0 && git_oid_fromstr(&oid, to) == 0 &&
	    range_of(l->repo, &from_id, &oid, chain, &n)) {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = walk_oid(&w, &chain[i]);
		goto done;
	}
	if (git_revwalk_new(&walk, l->repo) < 0)
		return git_fail("revwalk");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (git_oid_fromstr(&oid, to) < 0 || git_revwalk_push(walk, &oid) < 0) {
		rc = git_fail(to);
		goto done;
	}
	if (from && *from &&
	    (git_oid_fromstr(&oid, from) < 0 || git_revwalk_hide(walk, &oid) < 0)) {
		rc = git_fail(from);
		goto done;
	}
	while (rc == 0 && git_revwalk_next(&oid, walk) == 0)
		rc = walk_oid(&w, &oid);
done:
	memo_clear(&w.memo[0]);
	memo_clear(&w.memo[1]);
	git_revwalk_free(walk);
	return rc;
}

int ledger_walk_added(ledger *l, const char *from, const char *to, enum ledger_walk_flags flags,
		      ledger_want_cb want, ledger_added_cb cb, void *payload)
{
	return ledger_walk_added_more(l, from, to, flags, want, cb, payload, NULL);
}

int ledger_walk_added_more(ledger *l, const char *from, const char *to,
			   enum ledger_walk_flags flags, ledger_want_cb want, ledger_added_cb cb,
			   void *payload, ledger_walk_more *more)
{
	/* libgit2's object cache would keep every commit and tree the walk
	 * reads; past its 256 MB limit its evictions made each lookup slower
	 * as the ledger grew (a commit cost 6x more at 100k cases than at
	 * 10k).  A walk reads each object once, but for the trees the memo
	 * keeps, so the cache is off meanwhile.  These options are global:
	 * no other thread uses libgit2 during a walk (feed.h). */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	if (flags & LEDGER_WALK_TRUSTED)
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* The whole history: packs first (see set_read_order), then the
	 * object database as it was. */
	void *saved = !from || !*from ? ledger_packs_first(l->repo) : NULL;
	int rc = walk_range(l, from, to, flags & LEDGER_WALK_TRUSTED, want, cb, payload, more);
	ledger_read_restore(l->repo, saved);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
	return rc;
}

/* Whether `a` is among the first NEAR_STEPS commits behind `d` (breadth
 * first), without regard to commit times. */
#define NEAR_STEPS 256
static bool near_ancestor(git_repository *repo, const git_oid *a, const git_oid *d)
{
	git_oid *queue = malloc(NEAR_STEPS * sizeof *queue);
	size_t head = 0, tail = 0;
	bool found = false;
	if (!queue)
		return false;
	queue[tail++] = *d;
	while (!found && head < tail) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &queue[head++]) < 0)
			break;
		for (unsigned i = 0; i < git_commit_parentcount(c) && !found; i++) {
			const git_oid *p = git_commit_parent_id(c, i);
			found = git_oid_equal(p, a);
			if (tail < NEAR_STEPS)
				queue[tail++] = *p;
		}
		git_commit_free(c);
	}
	git_error_clear();
	free(queue);
	return found;
}

/* libgit2's merge-base walk stops by commit time: a device whose clock is
 * behind the ledger's newest commit (or a hub commit from a clock ahead)
 * made it read the whole history for every event (6 s, 500 MB at 100k
 * cases).  The usual questions (is the index's head just behind the new
 * head? is the hub's head behind ours, a few syncs' events back?) are
 * answered by the nearest parents first. */
bool ledger_is_ancestor(ledger *l, const char *ancestor, const char *descendant)
{
	git_oid a, d;
	if (git_oid_fromstr(&a, ancestor) < 0 || git_oid_fromstr(&d, descendant) < 0)
		return false;
	if (git_oid_equal(&a, &d))
		return true;
	/* two lines of single-parent commits answer either way: `a` is on
	 * `d`'s, or they meet below it (two days' syncs each side of a fork) */
	git_oid chain[CHAIN_MAX], meet;
	size_t n;
	if (chain_range(l->repo, &a, &d, chain, &n, &meet))
		return git_oid_equal(&meet, &a);
	return near_ancestor(l->repo, &a, &d) || git_graph_descendant_of(l->repo, &d, &a) == 1;
}

bool ledger_fork_point(ledger *l, const char *a, const char *b, char out[41])
{
	git_oid ia, ib, meet, chain[CHAIN_MAX];
	size_t n;
	bool ok = git_oid_fromstr(&ia, a) == 0 && git_oid_fromstr(&ib, b) == 0 &&
		  chain_range(l->repo, &ia, &ib, chain, &n, &meet) && !git_oid_is_zero(&meet);
	if (ok)
		git_oid_tostr(out, 41, &meet);
	return ok;
}

/* The id of FIELDBOOK in the tree of commit `hex`, and that tree's size. */
static bool marker_of(ledger *l, const char *hex, git_oid *marker, size_t *entries, bool *root)
{
	git_oid id;
	git_commit *c = NULL;
	git_tree *t = NULL;
	bool ok = git_oid_fromstr(&id, hex) == 0 && git_commit_lookup(&c, l->repo, &id) == 0 &&
		  git_commit_tree(&t, c) == 0;
	const git_tree_entry *e = ok ? git_tree_entry_byname(t, "FIELDBOOK") : NULL;
	if (e) {
		git_oid_cpy(marker, git_tree_entry_id(e));
		*entries = git_tree_entrycount(t);
		*root = git_commit_parentcount(c) == 0;
	}
	git_tree_free(t);
	git_commit_free(c);
	git_error_clear();
	return e != NULL;
}

bool ledger_is_bare_start(ledger *l, const char *commit, const char *other)
{
	git_oid a, b;
	size_t n, m;
	bool root, other_root;
	return marker_of(l, commit, &a, &n, &root) && root && n == 1 &&
	       marker_of(l, other, &b, &m, &other_root) && git_oid_equal(&a, &b);
}

bool ledger_at_start(ledger *l)
{
	char head[41];
	git_oid marker;
	size_t n;
	bool root;
	return ledger_head(l, head) == 0 && head[0] && marker_of(l, head, &marker, &n, &root) && root &&
	       n == 1;
}

static int visit_commit_signature(ledger *l, const git_oid *oid, ledger_commit_cb cb, void *payload)
{
	git_commit *c;
	git_buf sig = {0}, data = {0};
	char hex[41];
	if (git_commit_lookup(&c, l->repo, oid) < 0)
		return git_fail("commit");
	git_oid_tostr(hex, sizeof hex, oid);
	int has = git_commit_extract_signature(&sig, &data, l->repo, (git_oid *)oid, "gpgsig") == 0;
	if (!has)
		git_error_clear();
	const git_signature *a = git_commit_author(c);
	int rc = cb(hex, a->email, (time_t)a->when.time, (int)git_commit_parentcount(c),
		    has ? sig.ptr : NULL, has ? data.ptr : NULL, has ? data.size : 0, payload);
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_commit_free(c);
	return rc;
}

int ledger_walk_commits(ledger *l, ledger_commit_cb cb, void *payload)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	int rc = 0;
	if (git_revwalk_new(&walk, l->repo) < 0 || git_revwalk_push_ref(walk, LEDGER_REF) < 0) {
		git_revwalk_free(walk);
		return git_fail(_("reading the ledger history"));
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	while (rc == 0 && git_revwalk_next(&oid, walk) == 0)
		rc = visit_commit_signature(l, &oid, cb, payload);
	git_revwalk_free(walk);
	return rc;
}
