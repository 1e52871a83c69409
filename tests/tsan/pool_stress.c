/* pool_stress.c: harness/core/pool.c under ThreadSanitizer (`make tsan`; Criterion's
 * runner does not work under TSan, so this is a plain program). Thousands of
 * hx_pool_run and hx_pool_for jobs at 2 and 3 threads, with pieces writing
 * their own elements and later jobs reading every element that earlier jobs
 * wrote on other threads. Any race report fails it (TSAN_OPTIONS exitcode), as
 * does a wrong count. */
#include <stdio.h>
#include <stdlib.h>

#include "harness/core/pool.h"

typedef struct job {
    int64_t *x, *y;  /* (n) */
    int64_t  n;
} job;

static void add_piece(void *arg, int64_t lo, int64_t hi, int t) {
    job *j = arg;
    (void)t;
    for (int64_t i = lo; i < hi; i++) j->x[i] += 1;
}

/* reads all of x (written by any thread in earlier jobs), writes its own y */
static void sum_piece(void *arg, int64_t lo, int64_t hi, int t) {
    job *j = arg;
    (void)t;
    int64_t s = 0;
    for (int64_t i = 0; i < j->n; i++) s += j->x[i];
    for (int64_t i = lo; i < hi; i++) j->y[i] = s;
}

static void add_task(void *arg, int t, int nt) {
    job *j = arg;
    int64_t lo, hi;
    hx_split(j->n, nt, t, &lo, &hi);
    add_piece(arg, lo, hi, t);
}

int main(void) {
    int bad = 0;
    for (int threads = 2; threads <= 3; threads++) {
        char err[128];
        hx_pool *p = hx_pool_create(threads, err, sizeof err);
        if (!p) {
            fprintf(stderr, "pool_stress: %s\n", err);
            return 1;
        }
        job j = {calloc(5000, sizeof(int64_t)), calloc(5000, sizeof(int64_t)), 5000};
        const int jobs = 3000;
        for (int r = 0; r < jobs; r++) {
            if (r % 2) hx_pool_for(p, j.n, 1 + r % 13, add_piece, &j);
            else hx_pool_run(p, add_task, &j);
            if (r % 50 == 0) {
                hx_pool_for(p, j.n, 7, sum_piece, &j);
                for (int64_t i = 0; i < j.n; i++) bad += j.y[i] != (int64_t)(r + 1) * j.n;
            }
        }
        for (int64_t i = 0; i < j.n; i++) bad += j.x[i] != jobs;
        free(j.x);
        free(j.y);
        hx_pool_free(p);
    }
    printf("pool_stress: %s\n", bad ? "WRONG COUNTS" : "ok");
    return bad != 0;
}
