/*
 * ledger: the append-only git repository (bare, no work tree, no index
 * file) that is the source of truth.  Written directly with libgit2:
 * blobs, then only the trees on the changed paths (git_tree_create_updated),
 * then one commit; the branch moves by compare-and-swap, so a concurrent
 * writer retries instead of losing an event.  Paths are never modified or
 * deleted once committed.
 */
#ifndef FB_LEDGER_H
#define FB_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct ledger ledger;

#define LEDGER_REF "refs/heads/main"
#define LEDGER_FORMAT 1

typedef struct {
	const char *path;  /* e.g. cases/2026/11/23/<case>/events/<id>.json */
	const void *data;
	size_t len;
} ledger_file;

typedef struct {
	const char *name;  /* officer name */
	const char *email; /* officer id based address */
	time_t when;
	int tz_minutes;    /* local offset */
} ledger_author;

/* Create a bare repository with the FIELDBOOK marker commit. */
int ledger_create(const char *path);
int ledger_open(ledger **out, const char *path);
void ledger_free(ledger *l);

/* Append files in one commit on LEDGER_REF.  A path that already exists
 * with identical content is left as is; with different content it is an
 * error (ERR_CONFLICT): the ledger is append-only.  out_commit may be NULL. */
int ledger_append(ledger *l, const ledger_file *files, size_t n,
		  const ledger_author *author, const char *message,
		  char out_commit[41]);

/* Settings for libgit2's packbuilder in this ledger's config (written
 * once, when missing): photos are not delta-searched.  Called before
 * anything packs the ledger's objects (sync, bundles). */
int ledger_pack_settings(ledger *l);

/* Sign each new commit: cb gets the commit buffer and returns an armored
 * signature (caller frees) stored in the commit's gpgsig header. */
typedef int (*ledger_sign_cb)(const char *buf, size_t len, char **sig, void *payload);
void ledger_set_signer(ledger *l, ledger_sign_cb cb, void *payload);

/* Serialise writers of this device's ledger (flock on <gitdir>/fieldbook.lock;
 * nests; released by the kernel if the process dies).  ledger_append takes
 * it itself; hold it around any other change of the branch (sync). */
int ledger_lock(ledger *l);
void ledger_unlock(ledger *l);

/* Hex id of the branch head, "" when the branch does not exist. */
int ledger_head(ledger *l, char out[41]);
/* The committer of a new commit: the author (whose time is the device's
 * clock, the time its events claim), at that time or, when a parent's
 * commit time is the same or later, one second after the latest parent's.
 * Commit times then always go forward along the history, whatever the
 * devices' clocks say, and libgit2's walks, which stop by commit time and
 * go on past ties, read only the commits they list (ARCHITECTURE.md,
 * "Commit times").  Caller frees *out. */
struct git_signature;
struct git_commit;
int ledger_committer(struct git_signature **out, const struct git_signature *author,
		     const struct git_commit *const *parents, size_t n);
/* Read a file at the head (or at commit when not NULL). Caller frees. */
int ledger_read(ledger *l, const char *path, char **data, size_t *len);
bool ledger_exists(ledger *l, const char *path);
/* Read a file as of a commit (hex).  Caller frees. */
int ledger_read_at(ledger *l, const char *commit, const char *path, char **data, size_t *len);
/* Reads until ledger_trust_reads(false) skip libgit2's hash check of each
 * object (SHA-1, as slow as reading a photo): for callers that check the
 * content another way (export compares each photo's sha256 with its name).
 * Process-wide: no other thread may use libgit2 meanwhile. */
void ledger_trust_reads(bool on);
/* Does `path` (a file or a directory) have the same content at commits a
 * and b (hex), or is it absent from both?  False when either is unreadable. */
bool ledger_same_at(ledger *l, const char *a, const char *b, const char *path);
/* Paths under a directory of a commit's tree (non-recursive), as an array. */
int ledger_list_at(ledger *l, const char *commit, const char *dir, char ***names, size_t *n);

/* Called for each file added by a commit.  Return non-zero to stop. */
typedef int (*ledger_added_cb)(const char *commit, time_t commit_time,
			       const char *path, const char *data, size_t len,
			       void *payload);

enum ledger_walk_flags {
	LEDGER_WALK_CHECKED = 0,
	/* Objects already checked when they reached this repository (written
	 * here, or fetched and validated by sync): libgit2 does not hash each
	 * object again as it reads it, nearly half of a walk's time.  Event
	 * contents are still checked against their signatures by the caller. */
	LEDGER_WALK_TRUSTED = 1,
};

/* Does the walk's caller need the content of this added file?  A file it
 * does not want is neither read nor passed to the callback (a photo costs
 * as much to inflate as the rest of its commit).  NULL: every file. */
typedef bool (*ledger_want_cb)(const char *path, void *payload);

/* Visit the files added by every non-merge commit reachable from `to` (hex)
 * and not from `from` (hex or "" for everything), parents before children.
 * A commit that modifies or deletes a path is reported as ERR_CONFLICT
 * naming the commit and the path, whether the path is wanted or not.  The
 * cost of a commit depends on the paths it adds, not on the size of the
 * ledger. */
int ledger_walk_added(ledger *l, const char *from, const char *to, enum ledger_walk_flags flags,
		      ledger_want_cb want, ledger_added_cb cb, void *payload);

/* What else one walk does for its caller, so that the history is walked
 * once (a validation's merge checks; a new device's first fetch walks
 * 4,870 commits at 1k cases, and a second walk only for the merges cost
 * 35-100 ms). */
struct git_oid;
typedef struct ledger_walk_more ledger_walk_more;
struct ledger_walk_more {
	/* Called on the walking thread for each merge commit, in the walk's
	 * order (parents first); may use libgit2 (ledger_merge_added, given
	 * `more`).  Non-zero ends the walk and is its result. */
	int (*merge)(ledger *l, struct git_commit *merge, ledger_walk_more *more);
	/* Called on the walking thread with the id of every object the walk
	 * read and found good (and of each added file `want` declined, not
	 * read), each after what lies below it: the files, trees and commits
	 * of a walk are the objects its range adds, from the root the whole
	 * history
	 * (a new device's first fetch lists what it lacks so: packcopy.h),
	 * the trees of merge commits included when `merge` reads them with
	 * ledger_merge_added given `more`.  May be NULL. */
	void (*seen)(const struct git_oid *id, void *payload);
	void *payload; /* the caller's, for both */
	int commits;   /* out: the commits walked, merges included */
};

/* ledger_walk_added, with `more` (may be NULL). */
int ledger_walk_added_more(ledger *l, const char *from, const char *to,
			   enum ledger_walk_flags flags, ledger_want_cb want, ledger_added_cb cb,
			   void *payload, ledger_walk_more *more);

/* Called for each file a merge's tree adds to one parent's: its path and
 * blob id (hex), the blob not read.  Return non-zero to stop. */
typedef int (*ledger_merge_added_cb)(const char *path, const char *blob, void *payload);

/* The files merge commit `merge` (hex) adds to the tree of its parent
 * number `parent`, by the walk's comparison (descending only where the ids
 * differ); a path it modifies or deletes is ERR_CONFLICT naming the merge
 * commit and the path.  The trees read go to more->seen (more may be
 * NULL). */
int ledger_merge_added(ledger *l, const char *merge, unsigned parent, ledger_merge_added_cb cb,
		       void *payload, ledger_walk_more *more);

/* The commit where the histories of commits a and b (hex) meet, when both
 * are lines of single-parent commits above it (at most 256 each): the
 * usual shape of a sync between two devices.  False otherwise (a merge on
 * the way, longer lines, different roots). */
bool ledger_fork_point(ledger *l, const char *a, const char *b, char out[41]);
/* The number of commits reachable from `to` and not from `from` (NULL:
 * the whole history).  Lines of single-parent commits, and a merge that
 * joins `from` and such a line, are followed here, without regard to
 * commit times; anything else is libgit2's revwalk. */
int ledger_count_range(ledger *l, const struct git_oid *from, const struct git_oid *to);
/* Is `ancestor` (hex) reachable from `descendant` (hex) or equal to it? */
bool ledger_is_ancestor(ledger *l, const char *ancestor, const char *descendant);
/* Whether `commit` is a ledger's bare start (ledger_create's root commit:
 * only the FIELDBOOK marker) and `other` holds the same marker.  A ledger
 * still at its bare start has recorded nothing: it takes another ledger's
 * history as it is (a new device's first sync) instead of merging it. */
bool ledger_is_bare_start(ledger *l, const char *commit, const char *other);
/* Whether the ledger's head is its bare start: nothing recorded yet. */
bool ledger_at_start(ledger *l);

/* Every commit from the head back, with its gpgsig signature (NULL when
 * unsigned) and the signed content; parents = number of parents. */
typedef int (*ledger_commit_cb)(const char *commit, const char *author_email,
				time_t when, int parents, const char *sig,
				const char *signed_data, size_t signed_len, void *payload);
int ledger_walk_commits(ledger *l, ledger_commit_cb cb, void *payload);

/* Borrowed libgit2 repository (git_repository *) for modules like sync. */
void *ledger_repository(ledger *l);
/* Give a repository (a git_repository *) an object database that reads
 * loose objects through loose.c (libgit2 1.5 hangs on one cut short: a
 * damaged one is an error naming its file) and asks them before the packs
 * when loose_first (see ledger.c); ledger_open does it for its own, loose
 * first.  No change for a repository with alternates. */
int ledger_read_order(void *repository, bool loose_first);
/* For reads of the whole history (a walk from the root, counting what a
 * first fetch brought): packs asked first, as libgit2 does, and the
 * kernel's read-around on mapped packs (point reads have it off, see
 * ledger.c), until ledger_read_restore(repository, what this returned)
 * ends the read.  Restoring NULL does nothing.  No other thread may use
 * the repository meanwhile. */
void *ledger_packs_first(void *repository);
void ledger_read_restore(void *repository, void *saved);
/* The subtree `name` of tree t (a git_tree *, NULL: none) as a new
 * git_tree * from the repository; NULL when there is none or it cannot be
 * read (a comparison then has nothing to compare with). */
struct git_tree;
void *ledger_subtree(void *repository, const struct git_tree *t, const char *name);

#endif
