/*
 * walkpipe: a ledger walk read in a second thread.  See walkpipe.h.
 */
#include "walkpipe.h"
#include "error.h"
#include "i18n.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_FILES 256              /* files read ahead, at most */
#define PIPE_BYTES (64u << 20)      /* and their bytes (one larger file may pass alone) */

typedef struct {
	char commit[41];
	time_t when;
	char *path, *data;
	size_t len;
} item;

typedef struct {
	ledger *l;
	const char *from, *to;
	enum ledger_walk_flags flags;
	ledger_want_cb want;
	void *payload;
	ledger_walk_more *more; /* used on the walker's thread until it ends */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take;
	item ring[PIPE_FILES];
	size_t first, count, bytes;
	bool done, stop; /* the walk ended; the consumer gave up */
	int rc;          /* the walk's result and message */
	char *msg;
} pipe_t;

static void item_clear(item *it)
{
	free(it->path);
	free(it->data);
	memset(it, 0, sizeof *it);
}

static bool full(const pipe_t *p, size_t len)
{
	return p->count == PIPE_FILES || (p->count > 0 && p->bytes + len > PIPE_BYTES);
}

/* Walker thread: queue a copy of each file. */
static int put(const char *commit, time_t when, const char *path, const char *data, size_t len,
	       void *payload)
{
	pipe_t *p = payload;
	item it = {.when = when, .len = len, .path = strdup(path), .data = malloc(len + 1)};
	if (!it.path || !it.data) {
		item_clear(&it);
		return error_set(ERR_NOMEM, "out of memory");
	}
	snprintf(it.commit, sizeof it.commit, "%s", commit);
	memcpy(it.data, data, len);
	it.data[len] = '\0';
	pthread_mutex_lock(&p->mu);
	while (full(p, len) && !p->stop)
		pthread_cond_wait(&p->can_put, &p->mu);
	bool stop = p->stop;
	if (!stop) {
		p->ring[(p->first + p->count) % PIPE_FILES] = it;
		p->count++;
		p->bytes += len;
		pthread_cond_signal(&p->can_take);
	}
	pthread_mutex_unlock(&p->mu);
	if (stop) {
		item_clear(&it);
		return ERR_GENERIC; /* the consumer stopped: end the walk */
	}
	return 0;
}

static bool want_of(const char *path, void *payload)
{
	const pipe_t *p = payload;
	return p->want(path, p->payload);
}

static void *walker(void *arg)
{
	pipe_t *p = arg;
	int rc = ledger_walk_added_more(p->l, p->from, p->to, p->flags, p->want ? want_of : NULL, put,
					p, p->more);
	pthread_mutex_lock(&p->mu);
	p->rc = rc;
	if (rc && !p->stop)
		p->msg = strdup(error_last());
	p->done = true;
	pthread_cond_signal(&p->can_take);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Consumer: the next file, false when the walk has ended and all are taken. */
static bool take(pipe_t *p, item *out)
{
	pthread_mutex_lock(&p->mu);
	while (p->count == 0 && !p->done)
		pthread_cond_wait(&p->can_take, &p->mu);
	bool got = p->count > 0;
	if (got) {
		*out = p->ring[p->first];
		p->first = (p->first + 1) % PIPE_FILES;
		p->count--;
		p->bytes -= out->len;
		pthread_cond_signal(&p->can_put);
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}

static void finish(pipe_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->can_put);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (; p->count; p->count--, p->first = (p->first + 1) % PIPE_FILES)
		item_clear(&p->ring[p->first]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->can_put);
	pthread_cond_destroy(&p->can_take);
}

int walkpipe_run(ledger *l, const char *from, const char *to, enum ledger_walk_flags flags,
		 ledger_want_cb want, ledger_added_cb cb, void *payload, ledger_walk_more *more)
{
	pipe_t *p = calloc(1, sizeof *p);
	if (!p)
		return error_set(ERR_NOMEM, "out of memory");
	*p = (pipe_t){.l = l, .from = from, .to = to, .flags = flags, .want = want, .payload = payload,
		      .more = more};
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->can_put, NULL);
	pthread_cond_init(&p->can_take, NULL);
	if (pthread_create(&p->thread, NULL, walker, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->can_put);
		pthread_cond_destroy(&p->can_take);
		free(p);
		return ledger_walk_added_more(l, from, to, flags, want, cb, payload, more);
	}
	int rc = 0;
	item it;
	while (rc == 0 && take(p, &it)) {
		rc = cb(it.commit, it.when, it.path, it.data, it.len, payload);
		item_clear(&it);
	}
	finish(p);
	if (rc == 0 && p->rc)
		rc = error_set(p->rc, "%s", p->msg ? p->msg : _("reading the ledger history"));
	free(p->msg);
	free(p);
	return rc;
}
