/* pool.h: a fixed-size worker pool for the training engine's data-parallel loops.
 *
 * hx_pool_run(p, fn, arg) calls fn(arg, t, n) once for every t in 0..n-1, where n
 * is the pool's thread count; the caller runs t = 0 itself and returns when all
 * n calls have returned. Task t always gets the same share of the work (split
 * with hx_split), and callers only hand out pieces that write disjoint memory, so
 * results never depend on scheduling: the same seed and thread count give the
 * same bits (and, where a loop's per-element arithmetic does not depend on the
 * split, the same bits at any thread count).
 *
 * The engine's phases use hx_pool_for below instead: fixed pieces, claimed
 * dynamically, so a thread slowed by the machine does less of the work.
 *
 * A pool of 1 (or a NULL pool) starts no thread and runs fn(arg, 0, 1) inline.
 * Idle workers spin briefly for the next job (the engine hands out a few dozen
 * jobs a step), then sleep on a condition variable.
 *
 * OpenBLAS runs single-threaded under a pool: every GEMM is split by the caller
 * (mlp.c), so BLAS's own threads never compete with the pool's.
 */
#ifndef EMBSWEEP_POOL_H
#define EMBSWEEP_POOL_H

#include <stdint.h>

#include "util.h"

typedef struct hx_pool hx_pool;
typedef void (*hx_task_fn)(void *arg, int task, int n_tasks);

#define HX_POOL_MAX 64

/* hx_pool_create: threads in 1..HX_POOL_MAX. Fails (NULL, err set) when a thread
 * cannot be started. */
hx_pool *hx_pool_create(int threads, char *err, size_t errlen);
void     hx_pool_free(hx_pool *p);           /* joins the workers; NULL is a no-op */
int      hx_pool_threads(const hx_pool *p);  /* 1 for NULL */
void     hx_pool_run(hx_pool *p, hx_task_fn fn, void *arg);

/* Dynamic chunks: 0..n-1 is cut into `chunks` contiguous pieces (hx_split), and
 * the pool's threads claim pieces in order from a shared counter until none is
 * left; fn(arg, lo, hi, t) runs once per non-empty piece, t being the thread that
 * claimed it (0 = the caller; for per-thread scratch only). The pieces depend only
 * on n and chunks, never on which thread runs them, so a piece's results must not
 * depend on t: then the bits stay the same from run to run, while a thread that
 * the machine slows down simply claims fewer pieces. */
typedef void (*hx_range_fn)(void *arg, int64_t lo, int64_t hi, int t);
void hx_pool_for(hx_pool *p, int64_t n, int chunks, hx_range_fn fn, void *arg);

/* How many pieces to cut n items into: 1 (one call, as a serial loop) for a
 * pool of 1, else HX_POOL_CHUNKS per thread, each of at least `grain` items. */
#define HX_POOL_CHUNKS 4
int hx_pool_chunks(const hx_pool *p, int64_t n, int64_t grain);

/* The contiguous share [*lo, *hi) of 0..n-1 that part i of parts gets (the first
 * n % parts parts get one more). */
static inline void hx_split(int64_t n, int parts, int i, int64_t *lo, int64_t *hi) {
    int64_t q = n / parts, r = n % parts;
    *lo = (int64_t)i * q + (i < r ? i : r);
    *hi = *lo + q + (i < r ? 1 : 0);
}

#endif
