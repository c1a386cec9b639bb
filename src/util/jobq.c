/* jobq.c - a small pthread pool whose completions return to an event loop.
 *
 * Each job carries an event created on the submitting base; when work()
 * returns in a pool thread, the job's event is activated (thread-safe once
 * evthread_use_pthreads() ran), and done() runs from that base's loop.
 * Activating a pre-made event cannot fail, so no completion is ever lost.
 *
 * Two pools of the same kind: JOBQ_SHARED for short local work (Argon2,
 * the store, fsync), JOBQ_DNS for checks that wait on DNS (SPF, DKIM,
 * DMARC), so that a slow resolver never holds up AUTH or a limit check.
 */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <event2/event.h>

#include "util/jobq.h"

#define JOBQ_THREADS_MAX 64

struct jobq_job {
	jobq_work_fn *work;
	jobq_done_fn *done;
	void *arg;
	struct event *ev;
	struct jobq_job *next;
};

struct jobq_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jobq_job *head, *tail;
	pthread_t threads[JOBQ_THREADS_MAX];
	unsigned nthreads;
	int stopping;
};

#define JOBQ_POOL_INIT \
	{ .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER }

static struct jobq_pool jobq_pools[JOBQ_NPOOLS] = {
	JOBQ_POOL_INIT, JOBQ_POOL_INIT,
};

/* Take the next job, or NULL when stopping and the queue is empty. */
static struct jobq_job *
jobq_take(struct jobq_pool *q)
{
	struct jobq_job *j;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->stopping)
		pthread_cond_wait(&q->cv, &q->mu);
	j = q->head;
	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return j;
}

static void *
jobq_thread(void *arg)
{
	struct jobq_pool *q = arg;
	struct jobq_job *j;

	while ((j = jobq_take(q)) != NULL) {
		j->work(j->arg);
		/* After this the job belongs to the loop thread again. */
		event_active(j->ev, EV_READ, 1);
	}
	return NULL;
}

/* A pending timer keeps the submitting loop running while the job is in a
 * pool thread (an event that is merely created would let the loop exit);
 * completion comes with event_active(EV_READ), never by the timer. */
static const struct timeval jobq_keepalive = { 86400, 0 };

/* Runs on the submitting base's thread. */
static void
jobq_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct jobq_job *j = arg;

	(void)fd;
	if (!(what & EV_READ)) {
		/* The keep-alive timer ran out before the work did. */
		event_add(j->ev, &jobq_keepalive);
		return;
	}
	event_free(j->ev);
	j->done(j->arg);
	free(j);
}

/* Pool threads take no signals: they belong to the loop's thread. */
static int
jobq_spawn(struct jobq_pool *q, pthread_t *t)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, jobq_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

int
jobq_start_pool(enum jobq_pool_id pool, unsigned nthreads)
{
	struct jobq_pool *q = &jobq_pools[pool];
	int rc = 0;

	assert(pool < JOBQ_NPOOLS);
	if (nthreads == 0 || nthreads > JOBQ_THREADS_MAX)
		return -1;
	pthread_mutex_lock(&q->mu);
	if (q->nthreads == 0) {
		q->stopping = 0;
		while (q->nthreads < nthreads &&
		    jobq_spawn(q, &q->threads[q->nthreads]) == 0)
			q->nthreads++;
		rc = q->nthreads > 0 ? 0 : -1;
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int
jobq_start(unsigned nthreads)
{
	return jobq_start_pool(JOBQ_SHARED, nthreads);
}

static void
jobq_stop_pool(struct jobq_pool *q)
{
	unsigned i, n;

	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	n = q->nthreads;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < n; i++)
		pthread_join(q->threads[i], NULL);
	pthread_mutex_lock(&q->mu);
	q->nthreads = 0;
	pthread_mutex_unlock(&q->mu);
}

void
jobq_stop(void)
{
	for (int i = 0; i < JOBQ_NPOOLS; i++)
		jobq_stop_pool(&jobq_pools[i]);
}

/* Queue j on q; -1 when q has no threads or is stopping. */
static int
jobq_enqueue(struct jobq_pool *q, struct jobq_job *j)
{
	pthread_mutex_lock(&q->mu);
	if (q->nthreads == 0 || q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int
jobq_submit_pool(enum jobq_pool_id pool, struct event_base *base,
    jobq_work_fn *work, jobq_done_fn *done, void *arg)
{
	struct jobq_job *j = calloc(1, sizeof *j);

	assert(work != NULL && done != NULL && pool < JOBQ_NPOOLS);
	if (j == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	j->ev = event_new(base, -1, 0, jobq_deliver, j);
	if (j->ev == NULL || event_add(j->ev, &jobq_keepalive) < 0 ||
	    jobq_enqueue(&jobq_pools[pool], j) < 0) {
		if (j->ev != NULL)
			event_free(j->ev);
		free(j);
		return -1;
	}
	return 0;
}

int
jobq_submit(struct event_base *base, jobq_work_fn *work, jobq_done_fn *done,
    void *arg)
{
	return jobq_submit_pool(JOBQ_SHARED, base, work, done, arg);
}

int
jobq_submit_dns(struct event_base *base, jobq_work_fn *work,
    jobq_done_fn *done, void *arg)
{
	return jobq_submit_pool(JOBQ_DNS, base, work, done, arg);
}
