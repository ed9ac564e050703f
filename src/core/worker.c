/*
 * worker: a background thread over an ordered queue of jobs.  See worker.h.
 */
#include "worker.h"
#include "error.h"
#include "i18n.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define WORKER_MAX 64

struct worker {
	worker_fn fn;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
	void *ring[WORKER_MAX];
	size_t first, count, done; /* queued jobs; the first `done` are finished */
	bool stop;
};

static void *run(void *arg)
{
	worker *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->done == w->count && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->stop)
			break;
		void *job = w->ring[(w->first + w->done) % WORKER_MAX];
		pthread_mutex_unlock(&w->mu);
		w->fn(job);
		pthread_mutex_lock(&w->mu);
		w->done++;
		pthread_cond_signal(&w->finished);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void destroy(worker *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->finished);
	free(w);
}

int worker_start(worker **out, worker_fn fn)
{
	worker *w = calloc(1, sizeof *w);
	if (!w)
		return error_set(ERR_NOMEM, "out of memory");
	w->fn = fn;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->finished, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		destroy(w);
		return error_set(ERR_GENERIC, "%s", _("cannot start the indexing thread"));
	}
	*out = w;
	return 0;
}

/* With the lock held: remove the oldest job, waiting until it is finished. */
static void *pop_finished(worker *w)
{
	while (w->done == 0)
		pthread_cond_wait(&w->finished, &w->mu);
	void *job = w->ring[w->first];
	w->first = (w->first + 1) % WORKER_MAX;
	w->count--;
	w->done--;
	return job;
}

void *worker_put(worker *w, void *job)
{
	void *out = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->count == WORKER_MAX || w->done > 0)
		out = pop_finished(w);
	w->ring[(w->first + w->count) % WORKER_MAX] = job;
	w->count++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return out;
}

void *worker_take(worker *w)
{
	pthread_mutex_lock(&w->mu);
	void *job = w->count ? pop_finished(w) : NULL;
	pthread_mutex_unlock(&w->mu);
	return job;
}

void worker_free(worker *w, void (*drop)(void *job))
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (; w->count; w->count--, w->first = (w->first + 1) % WORKER_MAX)
		drop(w->ring[w->first]);
	destroy(w);
}
