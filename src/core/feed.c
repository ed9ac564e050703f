/*
 * feed: ledger walk, parsing and signature checks in a second thread.
 * See feed.h.
 */
#include "feed.h"
#include "error.h"
#include "event.h"
#include "i18n.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Items the walker may run ahead of the indexer (bounds the memory). */
#define QUEUE_MAX 512
/* A waiting thread is woken when this many items (or free places) are
 * ready, not for each one: fewer context switches. */
#define WAKE_BATCH 64

/* An item's parse and check are done by whichever thread gets to it first: the
 * indexer takes the oldest item, the walker, when the queue is full or
 * the walk has ended, checks from the newest end.  The two threads thus
 * share the work however fast each one is. */
enum { TO_CHECK, CHECKING, CHECKED };

struct slot {
	feed_item *it;
	int state;
};

struct feed {
	ledger *l;
	char from[41], to[41];
	const verify_roster *roster;
	pthread_t thread;
	bool has_thread;    /* feed_start's walker; a feed_open feed has none */
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take, checked;
	struct slot ring[QUEUE_MAX];
	size_t first, count;
	bool taker_waits, putter_waits;
	bool done;          /* the walker has ended */
	bool stop;          /* the indexer gave up: the walker ends early */
	int rc;             /* the walk's result */
	char *msg;          /* and its message */
	feed_item *pending; /* walker only: an event waiting for its .sig */
};

void feed_item_free(feed_item *it)
{
	if (!it)
		return;
	free(it->path);
	free(it->text);
	free(it->sig);
	free(it->verdict);
	free(it->problem);
	json_decref(it->ev);
	free(it);
}

static char *copy_bytes(const char *data, size_t len)
{
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, data, len);
		p[len] = '\0';
	}
	return p;
}

static feed_item *item_new(enum feed_kind kind, const char *commit, time_t ctime,
			   const char *path, const char *data, size_t len)
{
	feed_item *it = calloc(1, sizeof *it);
	if (!it)
		return NULL;
	it->kind = kind;
	snprintf(it->commit, sizeof it->commit, "%s", commit);
	it->commit_time = ctime;
	it->len = len;
	if (!(it->path = strdup(path)) || !(it->text = copy_bytes(data, len))) {
		feed_item_free(it);
		return NULL;
	}
	return it;
}

static void to_problem(feed_item *it, const char *why)
{
	it->kind = FEED_PROBLEM;
	it->problem = strdup(why);
	json_decref(it->ev);
	it->ev = NULL;
}

/* What a file added by a commit is, from its path; false for the files the
 * index ignores (forms, photos, the marker). */
static bool kind_of(const char *path, enum feed_kind *kind)
{
	char case_id[96], event_id[96];
	size_t plen = strlen(path);
	if (plen > 9 && strcmp(path + plen - 9, ".json.sig") == 0)
		*kind = FEED_SIG;
	else if (roster_path_parse(path, event_id))
		*kind = FEED_ROSTER;
	else if (event_path_parse(path, case_id, event_id))
		*kind = FEED_EVENT;
	else
		return false;
	return true;
}

/* The walk reads only the files the index uses: never a photo's bytes. */
static bool wanted(const char *path, void *payload)
{
	enum feed_kind kind;
	(void)payload;
	return kind_of(path, &kind);
}

/* An item for a file added by a commit; NULL for files the index ignores
 * and when out of memory (*oom). */
static feed_item *classify(const char *commit, time_t ctime, const char *path,
			   const char *data, size_t len, json_t *ev, bool *oom)
{
	enum feed_kind kind;
	if (!kind_of(path, &kind)) {
		json_decref(ev);
		return NULL;
	}
	feed_item *it = item_new(kind, commit, ctime, path, data, len);
	*oom = !it;
	if (it && kind == FEED_EVENT)
		it->ev = ev, ev = NULL;
	json_decref(ev);
	return it;
}

/* Parse an event or roster change; one that cannot be read or does not
 * match its path becomes a problem. */
static bool parse_item(feed_item *it)
{
	char case_id[96], event_id[96];
	bool roster = it->kind == FEED_ROSTER;
	if (roster ? !roster_path_parse(it->path, event_id)
		   : !event_path_parse(it->path, case_id, event_id))
		return false;
	const char *why = NULL;
	if (!it->ev && event_parse(it->text, it->len, it->path, &it->ev) != 0)
		why = error_last();
	else if (roster && strcmp(event_str(it->ev, "id"), event_id) != 0)
		why = _("roster change id does not match its path");
	else if (!roster && (strcmp(event_str(it->ev, "id"), event_id) != 0 ||
			     strcmp(event_str(it->ev, "case"), case_id) != 0))
		why = _("event id or case does not match its path");
	if (why)
		to_problem(it, why);
	return !why;
}

/* Parse, then check an event as the indexer would with the same roster
 * (the stored text ends at its first NUL, like the index column). */
static void check(struct feed *f, feed_item *it)
{
	if (!parse_item(it) || it->kind != FEED_EVENT)
		return;
	char reason[512] = "ok";
	verify_event(f->roster, it->ev, it->text, strlen(it->text), it->sig,
		     it->sig ? strnlen(it->sig, it->siglen) : 0, reason, sizeof reason);
	it->verdict = strdup(reason); /* NULL (out of memory) is reported by feed_next */
}

/* With the lock held: check a slot outside the lock. */
static void check_slot(struct feed *f, struct slot *s)
{
	s->state = CHECKING;
	pthread_mutex_unlock(&f->mu);
	check(f, s->it);
	pthread_mutex_lock(&f->mu);
	s->state = CHECKED;
	pthread_cond_broadcast(&f->checked);
}

/* With the lock held, walker side: check the newest unchecked item. */
static bool help_check(struct feed *f)
{
	for (size_t k = f->count; k-- > 0;) {
		struct slot *s = &f->ring[(f->first + k) % QUEUE_MAX];
		if (s->state == TO_CHECK) {
			check_slot(f, s);
			return true;
		}
	}
	return false;
}

/* Hand an item to the indexer; while the queue is full, help check. */
static int emit(struct feed *f, feed_item *it)
{
	pthread_mutex_lock(&f->mu);
	while (f->count == QUEUE_MAX && !f->stop) {
		if (help_check(f))
			continue;
		f->putter_waits = true;
		pthread_cond_wait(&f->can_put, &f->mu);
		f->putter_waits = false;
	}
	bool stop = f->stop;
	if (!stop) {
		struct slot *s = &f->ring[(f->first + f->count) % QUEUE_MAX];
		s->it = it;
		s->state = it->kind == FEED_SIG ? CHECKED : TO_CHECK;
		f->count++;
		if (f->taker_waits && f->count >= WAKE_BATCH)
			pthread_cond_signal(&f->can_take);
	}
	pthread_mutex_unlock(&f->mu);
	if (stop) {
		feed_item_free(it);
		return ERR_GENERIC;
	}
	return 0;
}

static int flush_pending(struct feed *f)
{
	feed_item *it = f->pending;
	f->pending = NULL;
	return it ? emit(f, it) : 0;
}

/* Is `path` the signature file of the pending event? */
static bool is_pending_sig(const struct feed *f, const char *path)
{
	const char *base = f->pending ? f->pending->path : NULL;
	size_t n = base ? strlen(base) : 0;
	return base && strncmp(path, base, n) == 0 && strcmp(path + n, ".sig") == 0;
}

/* A file the walk adds; ev: the event its bytes parse to, when the caller
 * has parsed them (taken), else NULL. */
static int add_file(struct feed *f, const char *commit, time_t ctime, const char *path,
		    const char *data, size_t len, json_t *ev)
{
	if (is_pending_sig(f, path)) {
		json_decref(ev);
		if (!(f->pending->sig = copy_bytes(data, len)))
			return error_set(ERR_NOMEM, "out of memory");
		f->pending->siglen = len;
		return flush_pending(f);
	}
	int rc = flush_pending(f);
	if (rc) {
		json_decref(ev);
		return rc;
	}
	bool oom = false;
	feed_item *it = classify(commit, ctime, path, data, len, ev, &oom);
	if (!it)
		return oom ? error_set(ERR_NOMEM, "out of memory") : 0;
	if (it->kind == FEED_EVENT) {
		f->pending = it; /* its .sig, if any, is the next file */
		return 0;
	}
	return emit(f, it);
}

static int on_file(const char *commit, time_t ctime, const char *path, const char *data,
		   size_t len, void *payload)
{
	return add_file(payload, commit, ctime, path, data, len, NULL);
}

/* The walk has ended with rc (the producer's side: walker or feed_end). */
static void end_walk(struct feed *f, int rc)
{
	if (rc == 0)
		rc = flush_pending(f);
	feed_item_free(f->pending);
	f->pending = NULL;
	pthread_mutex_lock(&f->mu);
	f->rc = rc;
	if (rc && !f->stop)
		f->msg = strdup(error_last());
	while (!f->stop && help_check(f))
		;
	f->done = true;
	pthread_cond_signal(&f->can_take);
	pthread_mutex_unlock(&f->mu);
}

static void *walker(void *arg)
{
	struct feed *f = arg;
	end_walk(f, ledger_walk_added(f->l, f->from, f->to, LEDGER_WALK_TRUSTED, wanted, on_file, f));
	return NULL;
}

static void destroy(struct feed *f)
{
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->can_put);
	pthread_cond_destroy(&f->can_take);
	pthread_cond_destroy(&f->checked);
	free(f->msg);
	free(f);
}

static struct feed *feed_new(const verify_roster *r)
{
	struct feed *f = sodium_init() < 0 ? NULL : calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->roster = r;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->can_put, NULL);
	pthread_cond_init(&f->can_take, NULL);
	pthread_cond_init(&f->checked, NULL);
	return f;
}

int feed_start(feed **out, ledger *l, const char *from, const char *to, const verify_roster *r)
{
	struct feed *f = feed_new(r);
	if (!f)
		return error_set(ERR_GENERIC, "%s", _("cannot start the indexing thread"));
	f->l = l;
	snprintf(f->from, sizeof f->from, "%s", from ? from : "");
	snprintf(f->to, sizeof f->to, "%s", to);
	if (pthread_create(&f->thread, NULL, walker, f) != 0) {
		destroy(f);
		return error_set(ERR_GENERIC, "%s", _("cannot start the indexing thread"));
	}
	f->has_thread = true;
	*out = f;
	return 0;
}

int feed_open(feed **out, const verify_roster *r)
{
	if (!(*out = feed_new(r)))
		return error_set(ERR_GENERIC, "%s", _("cannot start the indexing thread"));
	return 0;
}

int feed_put(feed *f, const char *commit, time_t ctime, const char *path, const char *data,
	     size_t len, json_t *ev)
{
	if (!f->done)
		return add_file(f, commit, ctime, path, data, len, ev);
	json_decref(ev);
	return ERR_GENERIC;
}

void feed_end(feed *f, int rc)
{
	if (!f->done) /* done is only ever set on this side */
		end_walk(f, rc);
}

void feed_stop(feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->can_put);
	pthread_mutex_unlock(&f->mu);
}

int feed_next(feed *f, feed_item **out)
{
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&f->mu);
	while (f->count == 0 && !f->done) {
		f->taker_waits = true;
		pthread_cond_wait(&f->can_take, &f->mu);
		f->taker_waits = false;
	}
	struct slot *s = &f->ring[f->first];
	if (f->count && s->state == TO_CHECK)
		check_slot(f, s);
	while (f->count && s->state == CHECKING)
		pthread_cond_wait(&f->checked, &f->mu);
	if (f->count) {
		*out = s->it;
		f->first = (f->first + 1) % QUEUE_MAX;
		f->count--;
		if (f->putter_waits && QUEUE_MAX - f->count >= WAKE_BATCH)
			pthread_cond_signal(&f->can_put);
	} else if (f->rc) {
		rc = error_set(f->rc, "%s", f->msg ? f->msg : "");
	}
	pthread_mutex_unlock(&f->mu);
	feed_item *it = *out;
	if (it && ((it->kind == FEED_EVENT && !it->verdict) ||
		   (it->kind == FEED_PROBLEM && !it->problem))) {
		feed_item_free(*out);
		*out = NULL;
		rc = error_set(ERR_NOMEM, "out of memory");
	}
	return rc;
}

void feed_free(feed *f)
{
	if (!f)
		return;
	feed_stop(f);
	if (f->has_thread)
		pthread_join(f->thread, NULL);
	for (; f->count; f->count--, f->first = (f->first + 1) % QUEUE_MAX)
		feed_item_free(f->ring[f->first].it);
	destroy(f);
}
