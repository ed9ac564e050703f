/*
 * packcopy: move the objects of a branch between two repositories on this
 * machine (a path hub and a device) without repacking them.
 *
 * libgit2's transfer between local repositories builds a new pack
 * (delta search, deflate of every object) and indexes it again on the
 * other side (inflate and hash every object).  When the receiver lacks
 * most of the history, the sender's pack files are taken as they are:
 *
 *   - only a pack whose every object is reachable from the tip is taken
 *     (no unreferenced object leaves the sender), and only when the
 *     receiver lacks at least half of its objects;
 *   - trusted sender (our own ledger pushing to a hub): the .pack and its
 *     .idx are hard-linked (copied across file systems);
 *   - untrusted sender (a hub we fetch from): the .pack bytes are fed to
 *     the receiver's indexer, which hashes every object itself, as git's
 *     index-pack does;
 *   - whatever reachable object the receiver still lacks afterwards (loose
 *     objects, packs not taken) is sent through libgit2's packbuilder.
 *
 * Nothing here validates history: the caller validates the commits after
 * the objects arrived and before any branch moves.  Reads go through
 * libgit2 with strict hash verification (its default), so an object read
 * for validation is always the object its id names.
 */
#ifndef FB_PACKCOPY_H
#define FB_PACKCOPY_H

#include <git2.h>
#include <stdbool.h>

typedef struct {
	/* Progress: objects done of total (may be NULL). */
	void (*progress)(size_t done, size_t total, size_t bytes, void *payload);
	void *payload;
	bool trusted; /* the sender is our own ledger: its .idx may be linked */
} packcopy_options;

/* Is the pack route worth it: does dst hold less than half as many
 * packed objects as src?  (Cheap: reads the pack indexes' headers.) */
bool packcopy_worth_it(git_repository *src, git_repository *dst);

/* Make every object reachable from tip in src present in dst. */
int packcopy_run(git_repository *src, git_repository *dst, const git_oid *tip,
		 const packcopy_options *o);

/* Write the objects of a packbuilder into dst's object database (a pack
 * indexed by dst's indexer); cb (may be NULL) gets the indexer's progress. */
int packcopy_send(git_packbuilder *pb, git_repository *dst, git_indexer_progress_cb cb,
		  void *payload);

#endif
