/* test_pool.c: harness/core/pool.c. Every task runs exactly once per job with the
 * pool's thread count, jobs see each other's writes in order, hx_split tiles
 * 0..n-1 exactly, and a pool can be created and freed repeatedly. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "harness/core/pool.h"

typedef struct job {
    atomic_int calls[HX_POOL_MAX];
    int        n_seen[HX_POOL_MAX];
    int64_t   *data; /* each task increments its own share */
    int64_t    n;
} job;

static void task(void *arg, int t, int nt) {
    job *j = arg;
    atomic_fetch_add(&j->calls[t], 1);
    j->n_seen[t] = nt;
    int64_t lo, hi;
    hx_split(j->n, nt, t, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) j->data[i]++;
}

Test(pool, every_task_once_per_job) {
    static const int threads[] = {1, 2, 3, 5};
    for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
        char err[128];
        hx_pool *p = hx_pool_create(threads[k], err, sizeof err);
        cr_assert_not_null(p, "%s", err);
        cr_expect_eq(hx_pool_threads(p), threads[k]);
        job j;
        memset(&j, 0, sizeof j);
        j.n = 1001;
        j.data = calloc((size_t)j.n, sizeof(int64_t));
        const int jobs = 2000;
        for (int r = 0; r < jobs; r++) hx_pool_run(p, task, &j);
        for (int t = 0; t < threads[k]; t++) {
            cr_expect_eq(atomic_load(&j.calls[t]), jobs, "threads %d task %d", threads[k], t);
            cr_expect_eq(j.n_seen[t], threads[k]);
        }
        for (int t = threads[k]; t < HX_POOL_MAX; t++) cr_expect_eq(atomic_load(&j.calls[t]), 0);
        int ok = 1;
        for (int64_t i = 0; i < j.n; i++) ok &= j.data[i] == jobs;
        cr_expect(ok, "threads %d: some element not updated exactly once per job", threads[k]);
        free(j.data);
        hx_pool_free(p);
    }
}

Test(pool, null_pool_runs_inline) {
    job j;
    memset(&j, 0, sizeof j);
    int64_t d[7] = {0};
    j.n = 7;
    j.data = d;
    cr_expect_eq(hx_pool_threads(NULL), 1);
    hx_pool_run(NULL, task, &j);
    cr_expect_eq(atomic_load(&j.calls[0]), 1);
    cr_expect_eq(j.n_seen[0], 1);
    cr_expect_eq(d[6], 1);
}

Test(pool, split_tiles_the_range) {
    for (int64_t n = 0; n < 40; n++)
        for (int parts = 1; parts <= 9; parts++) {
            int64_t next = 0, lo, hi, small = n, big = 0;
            for (int i = 0; i < parts; i++) {
                hx_split(n, parts, i, &lo, &hi);
                cr_assert_eq(lo, next, "n %lld parts %d", (long long)n, parts);
                cr_assert_geq(hi, lo);
                if (hi - lo < small) small = hi - lo;
                if (hi - lo > big) big = hi - lo;
                next = hi;
            }
            cr_expect_eq(next, n);
            cr_expect_leq(big - small, 1, "balanced");
        }
}

Test(pool, bad_sizes_and_churn) {
    char err[128] = "";
    cr_expect_null(hx_pool_create(0, err, sizeof err));
    cr_expect(strstr(err, "out of range") != NULL, "%s", err);
    cr_expect_null(hx_pool_create(HX_POOL_MAX + 1, err, sizeof err));
    for (int r = 0; r < 50; r++) {
        hx_pool *p = hx_pool_create(2 + r % 3, err, sizeof err);
        cr_assert_not_null(p);
        if (r % 2) {
            job j;
            memset(&j, 0, sizeof j);
            int64_t d[4] = {0};
            j.n = 4;
            j.data = d;
            hx_pool_run(p, task, &j);
            cr_expect_eq(d[3], 1);
        }
        hx_pool_free(p);
    }
    hx_pool_free(NULL);
}

/* hx_pool_for: every index in exactly one piece, pieces are hx_split's, and t is
 * a real thread of the pool. */
typedef struct for_job {
    int64_t   *hits;
    atomic_int pieces;
    atomic_int bad;
    int64_t    n;
    int        chunks, nt;
} for_job;

static void for_fn(void *arg, int64_t lo, int64_t hi, int t) {
    for_job *j = arg;
    atomic_fetch_add(&j->pieces, 1);
    int64_t plo = -1, phi = -1;
    for (int c = 0; c < j->chunks && plo != lo; c++) hx_split(j->n, j->chunks, c, &plo, &phi);
    if (plo != lo || phi != hi || t < 0 || t >= j->nt || hi <= lo) atomic_fetch_add(&j->bad, 1);
    for (int64_t i = lo; i < hi; i++) j->hits[i]++;
}

Test(pool, for_covers_each_index_once) {
    static const int threads[] = {1, 2, 3};
    char err[128];
    for (size_t k = 0; k < 3; k++) {
        hx_pool *p = hx_pool_create(threads[k], err, sizeof err);
        cr_assert_not_null(p, "%s", err);
        for (int64_t n = 0; n < 70; n += 7)
            for (int chunks = 1; chunks <= 12; chunks++) {
                for_job j = {.n = n, .chunks = chunks, .nt = threads[k]};
                j.hits = calloc((size_t)n + 1, sizeof(int64_t));
                for (int r = 0; r < 20; r++) hx_pool_for(p, n, chunks, for_fn, &j);
                int ok = 1;
                for (int64_t i = 0; i < n; i++) ok &= j.hits[i] == 20;
                cr_expect(ok, "threads %d n %lld chunks %d: an index not hit once a job", threads[k], (long long)n,
                          chunks);
                cr_expect_eq(atomic_load(&j.bad), 0, "a piece that is not hx_split's, or a bad t");
                int nonempty = (int)(n < chunks ? n : chunks);
                cr_expect_eq(atomic_load(&j.pieces), 20 * nonempty, "empty pieces are skipped");
                free(j.hits);
            }
        hx_pool_free(p);
    }
}

Test(pool, chunks_one_per_thread_count) {
    char err[128];
    hx_pool *p = hx_pool_create(2, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    cr_expect_eq(hx_pool_chunks(NULL, 1024, 32), 1, "no pool: one call");
    cr_expect_eq(hx_pool_chunks(p, 1024, 32), 2 * HX_POOL_CHUNKS);
    cr_expect_eq(hx_pool_chunks(p, 100, 32), 3, "grain caps the count");
    cr_expect_eq(hx_pool_chunks(p, 10, 32), 1);
    cr_expect_eq(hx_pool_chunks(p, 0, 32), 1);
    hx_pool_free(p);
}
