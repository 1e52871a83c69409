/* pool.c: see pool.h. One job at a time: the caller publishes (fn, arg), bumps the
 * generation counter under the mutex, runs task 0, then waits for `pending` to
 * reach zero. Workers spin on the generation for a short while, then sleep. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Busy polls before sleeping, with a sched_yield every YIELD_EVERY polls so a
 * spinning thread hands its core back when the machine is oversubscribed. */
enum { SPIN = 1 << 14, YIELD_EVERY = 256 };

static inline int spin_more(int *spins) {
    if (++*spins % YIELD_EVERY == 0) sched_yield();
    return *spins < SPIN;
}

typedef struct worker {
    hx_pool *p;
    int      id;
} worker;

struct hx_pool {
    int              n;          /* threads, the caller included */
    pthread_t        th[HX_POOL_MAX];
    worker           w[HX_POOL_MAX];
    int              started;    /* workers started (for cleanup) */
    pthread_mutex_t  mu;
    pthread_cond_t   cv_start, cv_done;
    atomic_uint_fast64_t gen;    /* bumped once per job */
    atomic_int       pending;    /* workers still running the current job */
    int              sleepers;   /* workers waiting on cv_start (under mu) */
    int              waiting;    /* caller waiting on cv_done (under mu) */
    int              stop;
    hx_task_fn       fn;
    void            *arg;
};

static void *worker_main(void *v) {
    worker *w = v;
    hx_pool *p = w->p;
    uint_fast64_t seen = 0;
    for (;;) {
        uint_fast64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && spin_more(&spins)) {
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
                p->sleepers++;
                pthread_cond_wait(&p->cv_start, &p->mu);
                p->sleepers--;
            }
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (p->stop) return NULL;
        p->fn(p->arg, w->id, p->n);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            if (p->waiting) pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* Publish a job (fn may be NULL when stopping) to every worker. */
static void publish(hx_pool *p, hx_task_fn fn, void *arg, int stop) {
    p->fn = fn;
    p->arg = arg;
    p->stop = stop;
    atomic_store_explicit(&p->pending, p->started, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    if (p->sleepers) pthread_cond_broadcast(&p->cv_start);
    pthread_mutex_unlock(&p->mu);
}

hx_pool *hx_pool_create(int threads, char *err, size_t errlen) {
    if (threads < 1 || threads > HX_POOL_MAX) {
        hx_error(HX_ERR_PARAM, err, errlen, "threads %d out of range 1..%d", threads, HX_POOL_MAX);
        return NULL;
    }
    hx_pool *p = hx_calloc(1, sizeof *p);
    if (!p) {
        hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        return NULL;
    }
    p->n = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_start, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    for (int i = 1; i < threads; i++) {
        p->w[i] = (worker){p, i};
        if (pthread_create(&p->th[i], NULL, worker_main, &p->w[i]) != 0) {
            hx_error(HX_ERR_INTERNAL, err, errlen, "cannot start worker thread %d of %d", i + 1, threads);
            hx_pool_free(p);
            return NULL;
        }
        p->started++;
    }
    return p;
}

void hx_pool_free(hx_pool *p) {
    if (!p) return;
    if (p->started) {
        publish(p, NULL, NULL, 1);
        for (int i = 1; i <= p->started; i++) pthread_join(p->th[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_start);
    pthread_cond_destroy(&p->cv_done);
    hx_free(p);
}

int hx_pool_threads(const hx_pool *p) { return p ? p->n : 1; }

void hx_pool_run(hx_pool *p, hx_task_fn fn, void *arg) {
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    HX_ASSERT(p->started == p->n - 1);
    publish(p, fn, arg, 0);
    fn(arg, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0 && spin_more(&spins)) {
    }
    if (atomic_load_explicit(&p->pending, memory_order_acquire) != 0) {
        pthread_mutex_lock(&p->mu);
        p->waiting = 1;
        while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        p->waiting = 0;
        pthread_mutex_unlock(&p->mu);
    }
}

typedef struct for_job {
    hx_range_fn fn;
    void       *arg;
    int64_t     n;
    int         chunks;
    atomic_int  next;      /* the next unclaimed piece */
} for_job;

static void for_task(void *arg, int t, int nt) {
    for_job *j = arg;
    (void)nt;
    for (;;) {
        int c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (c >= j->chunks) return;
        int64_t lo, hi;
        hx_split(j->n, j->chunks, c, &lo, &hi);
        if (hi > lo) j->fn(j->arg, lo, hi, t);
    }
}

void hx_pool_for(hx_pool *p, int64_t n, int chunks, hx_range_fn fn, void *arg) {
    HX_ASSERT(n >= 0 && chunks >= 1);
    if (n == 0) return;
    if (!p || p->n == 1 || chunks == 1) {
        int64_t lo, hi;
        for (int c = 0; c < chunks; c++) {
            hx_split(n, chunks, c, &lo, &hi);
            if (hi > lo) fn(arg, lo, hi, 0);
        }
        return;
    }
    for_job j = {.fn = fn, .arg = arg, .n = n, .chunks = chunks};
    atomic_init(&j.next, 0);
    hx_pool_run(p, for_task, &j);
}

int hx_pool_chunks(const hx_pool *p, int64_t n, int64_t grain) {
    const int nt = hx_pool_threads(p);
    if (nt == 1 || n <= 0) return 1;
    int64_t c = grain > 0 ? n / grain : n;
    if (c > (int64_t)nt * HX_POOL_CHUNKS) c = (int64_t)nt * HX_POOL_CHUNKS;
    return c < 1 ? 1 : (int)c;
}
