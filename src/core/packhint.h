/*
 * packhint: tell the kernel, ahead of libgit2, which pages of a ledger's
 * pack indexes a lookup will touch.
 *
 * libgit2 finds an object in a pack by a binary search of the pack index's
 * sorted ids (git's pack index, version 2: a header, 256 counts by first
 * byte, the ids, their checksums, their offsets).  At 100k cases the index
 * is 108 MB and one search touches some seven pages, one after the other;
 * out of the page cache each is a read from disk (70-80 us each on the
 * bench machine's disk), and the next cannot start before it ends.  Ids
 * are SHA-1s, spread evenly, so where an id sits in its 1/256 of the index
 * can be told from the id itself within a few pages, and so can every
 * page the search will visit on its way there.  packhint_lookup asks for
 * all of them at once (POSIX_FADV_WILLNEED: the kernel reads them in
 * parallel, and does not wait), with the page of the offset table that
 * follows; libgit2's search then finds them read or arriving.
 *
 * Hints only: a wrong guess costs the reads it would have made anyway, and
 * an index that is not of this format, or changes, is left alone.  Nothing
 * here decides what is read; libgit2 does.
 */
#ifndef FB_PACKHINT_H
#define FB_PACKHINT_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct packhint packhint;

/* git's pack index, version 2, starts with a magic, the version and 256
 * counts of its ids by first byte (counts[i]: those whose first byte is at
 * most i).  Those counts from its first PACKHINT_INDEX_HEAD bytes (len);
 * false when they are not such a header. */
#define PACKHINT_INDEX_HEAD (8 + 256 * 4)
bool packhint_index_counts(const unsigned char *head, size_t len, uint32_t counts[256]);

/* The pack indexes in <objects_dir>/pack, each opened with read-ahead off
 * on our own descriptor; the pages libgit2's first lookup (an id of zeros)
 * will touch are asked for.  NULL when there is none or on any error (no
 * hints then). */
packhint *packhint_open(const char *objects_dir);
/* Ask for the pages a lookup of id in each pack index touches. */
void packhint_lookup(const packhint *h, const git_oid *id);
/* The same, then find id in the indexes (waiting for those pages) and ask
 * for the page of its pack where it starts: for the read that maps a pack,
 * whose fault would otherwise read megabytes around that page before the
 * map can be advised (ledger.c). */
void packhint_object(const packhint *h, const git_oid *id);
void packhint_free(packhint *h);

#endif
