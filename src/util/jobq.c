/* jobq.c - a small pthread pool whose completions return to an event loop.
 *
 * Each job carries an event created on the submitting base; when work()
 * returns in a pool thread, the job's event is activated (thread-safe once
 * evthread_use_pthreads() ran), and done() runs from that base's loop.
 * Activating a pre-made event cannot fail, so no completion is ever lost.
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

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jobq_job *head, *tail;
	pthread_t threads[JOBQ_THREADS_MAX];
	unsigned nthreads;
	int stopping;
} jobq = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Take the next job, or NULL when stopping and the queue is empty. */
static struct jobq_job *
jobq_take(void)
{
	struct jobq_job *j;

	pthread_mutex_lock(&jobq.mu);
	while (jobq.head == NULL && !jobq.stopping)
		pthread_cond_wait(&jobq.cv, &jobq.mu);
	j = jobq.head;
	if (j != NULL) {
		jobq.head = j->next;
		if (jobq.head == NULL)
			jobq.tail = NULL;
	}
	pthread_mutex_unlock(&jobq.mu);
	return j;
}

static void *
jobq_thread(void *unused)
{
	struct jobq_job *j;

	(void)unused;
	while ((j = jobq_take()) != NULL) {
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
jobq_spawn(pthread_t *t)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, jobq_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

int
jobq_start(unsigned nthreads)
{
	int rc = 0;

	if (nthreads == 0 || nthreads > JOBQ_THREADS_MAX)
		return -1;
	pthread_mutex_lock(&jobq.mu);
	if (jobq.nthreads == 0) {
		jobq.stopping = 0;
		while (jobq.nthreads < nthreads &&
		    jobq_spawn(&jobq.threads[jobq.nthreads]) == 0)
			jobq.nthreads++;
		rc = jobq.nthreads > 0 ? 0 : -1;
	}
	pthread_mutex_unlock(&jobq.mu);
	return rc;
}

void
jobq_stop(void)
{
	unsigned i, n;

	pthread_mutex_lock(&jobq.mu);
	jobq.stopping = 1;
	n = jobq.nthreads;
	pthread_cond_broadcast(&jobq.cv);
	pthread_mutex_unlock(&jobq.mu);
	for (i = 0; i < n; i++)
		pthread_join(jobq.threads[i], NULL);
	pthread_mutex_lock(&jobq.mu);
	jobq.nthreads = 0;
	pthread_mutex_unlock(&jobq.mu);
}

int
jobq_submit(struct event_base *base, jobq_work_fn *work, jobq_done_fn *done,
    void *arg)
{
	struct jobq_job *j = calloc(1, sizeof *j);

	assert(work != NULL && done != NULL);
	if (j == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	j->ev = event_new(base, -1, 0, jobq_deliver, j);
	if (j->ev == NULL || event_add(j->ev, &jobq_keepalive) < 0)
		goto fail;
	pthread_mutex_lock(&jobq.mu);
	if (jobq.nthreads == 0 || jobq.stopping) {
		pthread_mutex_unlock(&jobq.mu);
		goto fail;
	}
	if (jobq.tail != NULL)
		jobq.tail->next = j;
	else
		jobq.head = j;
	jobq.tail = j;
	pthread_cond_signal(&jobq.cv);
	pthread_mutex_unlock(&jobq.mu);
	return 0;
fail:
	if (j->ev != NULL)
		event_free(j->ev);
	free(j);
	return -1;
}
