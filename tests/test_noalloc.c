/* test_noalloc.c: embsweep's training loop makes no heap allocation. Every
 * listed method is trained inside the whole model of every arch (dlrm: bottom
 * MLP, dot interaction, top MLP; dcn at full and low rank, stacked and
 * parallel; deepfm; wdl; BCE) at 1 and 2 engine threads: after 3 warm-up steps (OpenBLAS and
 * the methods set up their buffers lazily), 40 more steps of forward, backward,
 * step and on_step must call malloc, calloc, realloc and posix_memalign zero
 * times from embsweep's code.
 *
 * Attribution: the test binary interposes those four (forwarding to glibc's
 * own) and looks at each call's return address. A call made from inside the
 * BLAS library (found once by dl_iterate_phdr: every loaded object whose name
 * contains "blas") is counted apart and only reported, since which BLAS kernel
 * runs, and whether it allocates, depends on the CPU (OpenBLAS 0.3.21's AVX-512
 * small-matrix NN kernel mallocs on every call; embsweep avoids that path, so
 * the figure is normally 0 too). Every other call counts against the test.
 * Under ASan, which owns malloc, the test is skipped.
 *
 * The run is planned as 100 epochs of 1000 steps, so the 43 steps are steady
 * state: the two methods with scheduled events allocate scratch there, which
 * this test does not count (CQR's clustering, once an epoch: about 400
 * allocations for these 4 fields; FIITED's prune/grow rounds, at most 20 a run
 * at the auto interval: about 8 each, realloc of the compacted pool). */
#define _GNU_SOURCE
#include <cblas.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness/train/model.h"
#include "harness/core/pool.h"
#include "methods/method.h"
#include "test_core.h"

#if defined(__SANITIZE_ADDRESS__)
#define NOALLOC_SKIP 1
#else
#define NOALLOC_SKIP 0
enum { MAX_RANGES = 16 };
static atomic_int counting;
static atomic_long n_ours, n_blas;
static uintptr_t blas_lo[MAX_RANGES], blas_hi[MAX_RANGES];
static int n_ranges;
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

/* The executable segments of every loaded BLAS object. */
static int find_blas(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size, (void)arg;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "blas")) return 0;
    for (int i = 0; i < info->dlpi_phnum && n_ranges < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        blas_lo[n_ranges] = info->dlpi_addr + ph->p_vaddr;
        blas_hi[n_ranges++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    return 0;
}

static int in_blas(uintptr_t pc) {
    for (int i = 0; i < n_ranges; i++)
        if (pc >= blas_lo[i] && pc < blas_hi[i]) return 1;
    return 0;
}

static void note(void *caller) {
    if (!atomic_load_explicit(&counting, memory_order_relaxed)) return;
    atomic_fetch_add(in_blas((uintptr_t)caller) ? &n_blas : &n_ours, 1);
}
void *malloc(size_t n) {
    note(__builtin_return_address(0));
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    note(__builtin_return_address(0));
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    note(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t align, size_t n) {
    note(__builtin_return_address(0));
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
#endif

enum { NF = 4, ND = 3, NB = 64 };

/* Allocations by embsweep's code during 40 steps after 3 warm-up ones, or -1 if
 * nothing planned; *blas gets those made inside the BLAS. */
static long steps_allocs(const emb_method *m, const model_cfg *mc, hx_pool *pool, long *blas) {
    static const int64_t card[NF] = {10, 300, 5000, 30000};
    char err[256];
    emb_spec spec = {.n_fields = NF, .card = card, .dim = 8, .seed = 3, .batch = NB, .steps_per_epoch = 1000,
                     .total_steps = 100000, .opt = opt_default(OPT_ROWWISE_ADAGRAD, 0.05f),
                     .dense_opt = opt_default(OPT_ADAGRAD, 0.05f), .pool = pool};
    if (!test_plan_some_ratio(m, &spec)) return -1;
    model md;
    cr_assert_eq(model_create(&md, mc, ND, m, &spec, spec.dense_opt, 3, err, sizeof err), HX_OK, "%s: %s",
                 m->name, err);
    static float dense[NB * ND], label[NB];
    static int64_t idx[NB * NF];
    hx_rng r;
    hx_rng_seed(&r, 9);
    for (int i = 0; i < NB * ND; i++) dense[i] = (float)hx_rng_normal(&r);
    for (int i = 0; i < NB; i++) label[i] = (float)(hx_rng_below(&r, 2));
    long got = 0;
    *blas = 0;
    for (int64_t t = 1; t <= 43; t++) {
        for (int b = 0; b < NB; b++)
            for (int f = 0; f < NF; f++) idx[b * NF + f] = (int64_t)hx_rng_below(&r, (uint64_t)card[f]);
#if !NOALLOC_SKIP
        if (t == 4) atomic_store(&n_ours, 0), atomic_store(&n_blas, 0), atomic_store(&counting, 1);
#endif
        model_forward(&md, dense, idx, NB);
        hx_status rc = model_train_step(&md, label, NB, t, err, sizeof err);
#if !NOALLOC_SKIP
        if (t == 43) atomic_store(&counting, 0), got = atomic_load(&n_ours), *blas = atomic_load(&n_blas);
#endif
        cr_assert_eq(rc, HX_OK, "%s: %s", m->name, err);
    }
    model_free(&md);
    return got;
}

Test(noalloc, training_steps_allocate_nothing) {
    if (NOALLOC_SKIP) cr_skip_test("ASan owns malloc; the release build runs this test");
#if !NOALLOC_SKIP
    dl_iterate_phdr(find_blas, NULL);
    cr_assert_gt(n_ranges, 0, "the BLAS library is not among the loaded objects");
#endif
    openblas_set_num_threads(1); /* as run_execute does: the pool splits the work */
    char err[128];
    hx_pool *p2 = hx_pool_create(2, err, sizeof err);
    cr_assert_not_null(p2, "%s", err);
    static const struct { const char *name; model_cfg mc; } archs[] = {
        {"dlrm", {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .interaction = INTERACT_DOT}},
        {"dcn", {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .arch = ARCH_DCN, .cross_layers = 2}},
        {"dcn parallel rank 4", {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .arch = ARCH_DCN,
                                 .cross_layers = 2, .structure = DCN_PARALLEL, .cross_rank = 4}},
        {"deepfm", {.bottom = {8}, .n_bottom = 1, .top = {16}, .n_top = 1, .arch = ARCH_DEEPFM}},
        {"wdl", {.top = {16}, .n_top = 1, .arch = ARCH_WDL}},
    };
    int tried = 0;
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++)
        for (size_t i = 0; i < emb_method_count(); i++) {
            const emb_method *m = emb_method_at(i);
            if (m->caps & EMB_CAP_TEST_ONLY) continue;
            for (int th = 1; th <= 2; th++) {
                long blas, n = steps_allocs(m, &archs[a].mc, th == 1 ? NULL : p2, &blas);
                if (n < 0) continue;
                tried++;
                cr_expect_eq(n, 0, "%s under %s at %d thread(s): %ld heap allocations by embsweep in 40 training steps",
                             m->name, archs[a].name, th, n);
                if (blas)
                    cr_log_info("%s under %s at %d thread(s): %ld allocations inside the BLAS (%s), not counted",
                                m->name, archs[a].name, th, blas, openblas_get_corename());
            }
        }
    cr_expect_geq(tried, 5 * 2 * 12, "most methods plan at some ratio (%d runs)", tried);
    hx_pool_free(p2);
}
