/* jobq.h - run blocking work (fsync, password hashing) off the event loop.
 *
 * A small pool of threads runs work(); when it returns, done() is called
 * on the submitting event_base's thread.  The loop never blocks.
 * evthread_use_pthreads() must have been called before any event_base.
 */
#ifndef JAGA_UTIL_JOBQ_H
#define JAGA_UTIL_JOBQ_H

struct event_base;

/* JOBQ_SHARED: short local work (password hashes, the store, fsync);
 * JOBQ_DNS: work that waits on DNS (SPF, DKIM, DMARC), kept apart so a
 * slow resolver never starves AUTH and limit checks. */
enum jobq_pool_id { JOBQ_SHARED, JOBQ_DNS, JOBQ_NPOOLS };

typedef void jobq_work_fn(void *arg);	/* runs in a pool thread */
typedef void jobq_done_fn(void *arg);	/* runs in the loop's thread */

/* Start the shared pool with n threads (once, before submitting). */
int jobq_start(unsigned nthreads);
/* Start pool with n threads (1..64; once, before submitting to it). */
int jobq_start_pool(enum jobq_pool_id pool, unsigned nthreads);
/* Stop every started pool after its queued jobs ran. */
void jobq_stop(void);
/* Queue work; done runs on base's thread afterwards.  Returns 0 or -1. */
int jobq_submit(struct event_base *base, jobq_work_fn *work,
    jobq_done_fn *done, void *arg);
/* The same on JOBQ_DNS (-1 when that pool was not started). */
int jobq_submit_dns(struct event_base *base, jobq_work_fn *work,
    jobq_done_fn *done, void *arg);
/* The same on any pool. */
int jobq_submit_pool(enum jobq_pool_id pool, struct event_base *base,
    jobq_work_fn *work, jobq_done_fn *done, void *arg);

#endif
