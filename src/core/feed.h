/*
 * feed: the reading half of index_sync, run in a second thread.
 *
 * The walker thread visits the files added between two commits
 * (ledger_walk_added) and joins each event with the .sig file that follows
 * it.  Parsing events and roster changes and checking each event's
 * signature and trust rules against a roster given at the start (the
 * Ed25519 check is the largest single cost of indexing) is shared between
 * the walker and the indexer, which takes the results in walk order with
 * feed_next and does the SQLite part.
 *
 * The ledger is used only by the walker until feed_next has returned the
 * end (or feed_free): libgit2 objects must not be used by two threads at
 * once.  The roster must not change while the feed runs.
 */
#ifndef FB_FEED_H
#define FB_FEED_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "ledger.h"
#include "verify.h"

typedef struct feed feed;

enum feed_kind {
	FEED_EVENT,   /* an event file: ev, text, sig (or NULL), verdict */
	FEED_ROSTER,  /* a roster change: ev, text */
	FEED_SIG,     /* a .sig file not joined to an event: text (the signature) */
	FEED_PROBLEM, /* a file that cannot be read as an event: problem (and sig) */
};

typedef struct {
	enum feed_kind kind;
	char commit[41];
	time_t commit_time;
	char *path;
	char *text;    /* the file's bytes, NUL-terminated */
	size_t len;
	json_t *ev;    /* parsed event (FEED_EVENT, FEED_ROSTER) */
	char *sig;     /* FEED_EVENT, FEED_PROBLEM: the .sig file's bytes when it came right after */
	size_t siglen;
	char *verdict; /* FEED_EVENT: "ok" or why not, under the feed's roster */
	char *problem; /* FEED_PROBLEM */
} feed_item;

/* Start walking (from: hex or "" for everything; to: hex). */
int feed_start(feed **out, ledger *l, const char *from, const char *to, const verify_roster *r);
/* Next item in walk order (caller frees with feed_item_free), NULL at the
 * end; a negative code when the walk failed (message set). */
int feed_next(feed *f, feed_item **out);
void feed_item_free(feed_item *it);
/* Stop the walker if it still runs, wait for it and free everything.  A
 * feed_open feed: once its producer has ended (feed_end, or no more
 * feed_put calls). */
void feed_free(feed *f);

/* A feed whose files come from the caller's own walk instead of a walker
 * thread (sync's validation of a hub's history, index_intake): feed_put
 * for each file the walk adds, in walk order, from one thread, then
 * feed_end with the walk's result.  ev: what the file's bytes parse to
 * (event_parse), when the caller has parsed them, else NULL; taken either
 * way.  feed_put returns non-zero once the indexer has stopped taking
 * (feed_stop) or the feed has ended. */
int feed_open(feed **out, const verify_roster *r);
int feed_put(feed *f, const char *commit, time_t ctime, const char *path, const char *data,
	     size_t len, json_t *ev);
/* Producer side; a second call does nothing. */
void feed_end(feed *f, int rc);
/* Indexer side: take nothing more; a producer waiting for room returns. */
void feed_stop(feed *f);

#endif
