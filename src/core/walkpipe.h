/*
 * walkpipe: ledger_walk_added with the reading in a second thread.
 *
 * A validation walk (sync's checks, the hub's) spends about a third of its
 * time in libgit2 (finding and inflating the files a commit adds) and the
 * rest in the checks (JSON, sha256 of photos, Ed25519).  Here a thread
 * walks and reads while the calling thread runs the callback on each file,
 * in the walk's order, as ledger_walk_added would.  The callback must not
 * use libgit2 (the walker owns it meanwhile, as in feed.h).  The files
 * read ahead are bounded in number and in bytes.
 */
#ifndef FB_WALKPIPE_H
#define FB_WALKPIPE_H

#include "ledger.h"

/* As ledger_walk_added_more (`more` may be NULL; its merge callback runs on
 * the walking thread); the first error (walk or callback) is returned and
 * stops both threads. */
int walkpipe_run(ledger *l, const char *from, const char *to, enum ledger_walk_flags flags,
		 ledger_want_cb want, ledger_added_cb cb, void *payload, ledger_walk_more *more);

#endif
