/*
 * packcopy: move the objects of a branch between two repositories on this
 * machine (a path hub: USB stick, shared folder) without repacking them.
 *
 * libgit2's transfer between local repositories builds a new pack (delta
 * search, deflate of every object) and indexes it again on the other side
 * (inflate and hash every object): for photos, seconds per hundred MB.
 * Here objects travel as the files they are:
 *
 *   - what to send: the objects reachable from the tip that the receiver
 *     lacks, found by walking down from the tip and stopping at whatever
 *     the receiver holds; they are written so that the receiver never
 *     holds an object without everything below it (packcopy.c);
 *   - a sender's pack of which the receiver lacks at least half, and
 *     holds or needs every object, is taken whole: hard-linked (copied
 *     across file systems) from a trusted sender (our own ledger pushing
 *     to a hub), or fed to the receiver's indexer from an untrusted one (a
 *     hub we fetch from), which hashes every object itself, as git's
 *     index-pack does; on a new device's first fetch (`first`) the
 *     sender's packs are indexed in a second thread, into a staging
 *     directory, while the sender's history is walked, and the wanted ones
 *     are then moved into place;
 *   - loose objects (what devices write; photos are stored as they are,
 *     see ledger.c) are linked or copied file by file; from an untrusted
 *     sender each is copied into a staging directory first and read back
 *     (whole, and hashing to its name: loose.h), before it is moved into
 *     place;
 *   - any other packed object goes through libgit2's packbuilder;
 *   - the receiver's file system is flushed once at the end.
 *
 * Nothing here validates history: the caller validates the commits after
 * the objects arrived and before any branch moves.
 */
#ifndef FB_PACKCOPY_H
#define FB_PACKCOPY_H

#include <git2.h>
#include <stdbool.h>

/* An object the caller's walk read (packcopy_options.meanwhile). */
typedef void (*packcopy_seen_cb)(const git_oid *id, void *payload);

typedef struct {
	/* Progress: objects done of total (may be NULL). */
	void (*progress)(size_t done, size_t total, size_t bytes, void *payload);
	void *payload;
	bool trusted; /* the sender is our own ledger: its files may be linked */
	/* The receiver holds nothing of the sender's history yet (a new
	 * device's first fetch): the sender's packs, which it will most
	 * likely take whole, are indexed while we find what it lacks. */
	bool first;
	/* With first: called on this thread while the sender's packs are still
	 * being indexed, when no object it reads can be a loose object cut
	 * short (which would hang libgit2, see loose.h).  Sync validates the
	 * sender's whole history there, from `tip`.  Its non-zero result ends
	 * the copy: nothing is taken.  May be NULL.
	 *   - When every loose object of the sender is whole (each is read
	 *     once to know: a hub devices have pushed to holds many; one
	 *     that is not ends the copy, named, before any walk could hang
	 *     on it) and it has no alternates, it is called
	 *     first, with `seen`: its walk must pass seen(id, seen_payload)
	 *     every object it reads, each after those below it, and that list
	 *     is what the receiver lacks (a walk of its own would read every
	 *     commit and tree a second time: 0.1-0.2 s of 1.1 at 1k cases).
	 *     When it returns 0 having listed nothing (it could not walk), the
	 *     copy walks for itself.
	 *   - Otherwise, with seen NULL, once the copy's own walk has found
	 *     what the receiver lacks and every object of it is in one of the
	 *     sender's packs. */
	int (*meanwhile)(void *payload, packcopy_seen_cb seen, void *seen_payload);
	void *meanwhile_payload;
} packcopy_options;

/* Make every object reachable from tip in src present (and flushed) in dst. */
int packcopy_run(git_repository *src, git_repository *dst, const git_oid *tip,
		 const packcopy_options *o);

#endif
