/*
 * worker: one background thread that runs a function on jobs in the order
 * they are queued; the caller takes them back, finished, in that order.
 * Used to fold cases (JSON work) while the indexer does the SQLite part.
 */
#ifndef FB_WORKER_H
#define FB_WORKER_H

typedef struct worker worker;
typedef void (*worker_fn)(void *job);

int worker_start(worker **out, worker_fn fn);
/* Queue a job.  Returns the oldest job if it is finished, or waits for it
 * when the queue is full; NULL otherwise (take it later). */
void *worker_put(worker *w, void *job);
/* The oldest job, waiting until it is finished; NULL when none is queued. */
void *worker_take(worker *w);
/* Stop the thread after the job it runs; jobs not taken go to `drop`. */
void worker_free(worker *w, void (*drop)(void *job));

#endif
