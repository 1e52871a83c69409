/* test_noalloc.c: the training loop makes no heap allocation (issue 2). Every
 * listed method is trained inside the whole model (bottom MLP, dot interaction,
 * top MLP, BCE) at 1 and 2 engine threads: after 3 warm-up steps (OpenBLAS and
 * the methods set up their buffers lazily), 40 more steps of forward, backward,
 * step and on_step must call malloc, calloc, realloc and posix_memalign zero
 * times. The test binary interposes those four to count them (forwarding to
 * glibc's own); under ASan, which owns malloc, the test is skipped.
 * The run is planned as 100 epochs of 1000 steps, so the 43 steps are steady
 * state: the two methods with scheduled events allocate scratch there, which
 * this test does not count (CQR's clustering, once an epoch: about 400
 * allocations for these 4 fields; FIITED's prune/grow rounds, at most 20 a run
 * at the auto interval: about 8 each, realloc of the compacted pool). */
#include <cblas.h>
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "../harness/model.h"
#include "../harness/pool.h"
#include "../methods/method.h"

#if defined(__SANITIZE_ADDRESS__)
#define NOALLOC_SKIP 1
#else
#define NOALLOC_SKIP 0
static atomic_int counting;
static atomic_long n_allocs;
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
static void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) atomic_fetch_add(&n_allocs, 1);
}
void *malloc(size_t n) {
    note();
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    note();
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    note();
    return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t align, size_t n) {
    note();
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
#endif

enum { NF = 4, ND = 3, NB = 64 };

/* Allocations during 40 steps after 3 warm-up ones, or -1 if nothing planned. */
static long steps_allocs(const emb_method *m, hx_pool *pool) {
    static const int64_t card[NF] = {10, 300, 5000, 30000};
    static const double ratios[] = {1, 2, 4, 8, 16, 8.0 / 3, 16.0 / 3};
    char err[256];
    emb_spec spec;
    emb_plan plan;
    int planned = 0;
    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0] && !planned; i++) {
        spec = (emb_spec){.n_fields = NF, .card = card, .dim = 8, .ratio = ratios[i], .seed = 3, .batch = NB,
                          .steps_per_epoch = 1000, .total_steps = 100000, .opt = opt_default(OPT_ROWWISE_ADAGRAD, 0.05f),
                          .dense_opt = opt_default(OPT_ADAGRAD, 0.05f), .pool = pool};
        emb_params_default(m, spec.pv);
        planned = m->plan(&spec, &plan, err, sizeof err) == HX_OK;
    }
    if (!planned) return -1;
    model_cfg mc = {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .interaction = INTERACT_DOT};
    model md;
    cr_assert_eq(model_create(&md, &mc, ND, m, &spec, spec.dense_opt, 3, err, sizeof err), HX_OK, "%s: %s",
                 m->name, err);
    static float dense[NB * ND], label[NB];
    static int64_t idx[NB * NF];
    hx_rng r;
    hx_rng_seed(&r, 9);
    for (int i = 0; i < NB * ND; i++) dense[i] = (float)hx_rng_normal(&r);
    for (int i = 0; i < NB; i++) label[i] = (float)(hx_rng_below(&r, 2));
    long got = 0;
    for (int64_t t = 1; t <= 43; t++) {
        for (int b = 0; b < NB; b++)
            for (int f = 0; f < NF; f++) idx[b * NF + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
#if !NOALLOC_SKIP
        if (t == 4) atomic_store(&n_allocs, 0), atomic_store(&counting, 1);
#endif
        model_forward(&md, dense, idx, NB);
        model_backward(&md, label, NB);
        hx_status rc = model_step(&md, t, err, sizeof err);
#if !NOALLOC_SKIP
        if (t == 43) atomic_store(&counting, 0), got = atomic_load(&n_allocs);
#endif
        cr_assert_eq(rc, HX_OK, "%s: %s", m->name, err);
    }
    model_free(&md);
    return got;
}

Test(noalloc, training_steps_allocate_nothing) {
    if (NOALLOC_SKIP) cr_skip_test("ASan owns malloc; the release build runs this test");
    openblas_set_num_threads(1); /* as run_execute does: the pool splits the work */
    char err[128];
    hx_pool *p2 = hx_pool_create(2, err, sizeof err);
    cr_assert_not_null(p2, "%s", err);
    int tried = 0;
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (m->caps & EMB_CAP_TEST_ONLY) continue;
        for (int th = 1; th <= 2; th++) {
            long n = steps_allocs(m, th == 1 ? NULL : p2);
            if (n < 0) continue;
            tried++;
            cr_expect_eq(n, 0, "%s at %d thread(s): %ld heap allocations in 40 training steps", m->name, th, n);
        }
    }
    cr_expect_geq(tried, 2 * 12, "most methods plan at some ratio (%d runs)", tried);
    hx_pool_free(p2);
}
