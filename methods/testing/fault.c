/* fault.c: test-only fault-injection methods for the sweep harness (never listed,
 * caps EMB_CAP_TEST_ONLY). Each behaves like a small hashed table (ids modulo
 * m_f = max(1, round(N_f / ratio)) rows per field) so plan/create/train work, and
 * injects its fault only when the environment has EMBSWEEP_FAULTS=1, so they are
 * inert anywhere else (the conformance suite, a stray YAML line):
 *   fault_segv   the first forward() raises SIGSEGV (default action: the worker dies)
 *   fault_hang   the first forward() never returns (exercises the timeout)
 *   fault_alloc  create() allocates and touches 16 MiB blocks without bound and
 *                returns HX_ERR_NOMEM when an allocation fails (exercises the
 *                memory limit: RLIMIT_DATA, or the parent's RSS check)
 *   fault_nan    forward() outputs NaN (the loss diverges)
 * Like lzbench's "buggy codecs" list, they exist to prove that one bad run never
 * takes the sweep down with it.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "methods/common/table.h"

typedef enum { FAULT_SEGV, FAULT_HANG, FAULT_ALLOC, FAULT_NAN } fault_kind;

typedef struct fault_state {
    emb_fields fs;
    int64_t   *m;      /* (F) rows per field */
    int        armed;  /* EMBSWEEP_FAULTS=1 was set at create() */
    fault_kind kind;
    emb_spec   spec;   /* kept for fault_account */
} fault_state;
EMB_FIELDS_FIRST(fault_state);

static const emb_param_desc fault_params[] = {{.name = NULL}};

static int faults_enabled(void) {
    const char *e = getenv("EMBSWEEP_FAULTS");
    return e && e[0] == '1' && e[1] == 0;
}

static void fault_rows(const emb_spec *spec, int64_t *m) {
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t x = (int64_t)llround((double)spec->card[f] / spec->ratio);
        m[f] = x < 1 ? 1 : (x > spec->card[f] ? spec->card[f] : x);
    }
}

/* The accounting of plan() and bytes(): one m_f x D table per field. */
static void fault_account(const emb_spec *spec, const int64_t *m, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_fields_predict_add(spec, m, out);
}

static hx_status fault_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t *m = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    if (!m) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    fault_rows(spec, m);
    fault_account(spec, m, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "test-only fault method");
    hx_free(m);
    return HX_OK;
}

static void fault_destroy(void *state) {
    fault_state *s = state;
    if (!s) return;
    emb_fields_free(&s->fs);
    hx_free(s->m);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

/* Allocate and touch memory until an allocation fails; then free it all. */
static hx_status alloc_forever(char *err, size_t errlen) {
    void **blocks = NULL;
    size_t n = 0, cap = 0;
    const size_t blk = 16u << 20;
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            void **nb = hx_realloc(blocks, nc * sizeof *nb);
            if (!nb) break;
            blocks = nb, cap = nc;
        }
        void *p = hx_malloc(blk);
        if (!p) break;
        memset(p, 0xA5, blk);
        blocks[n++] = p;
    }
    for (size_t i = 0; i < n; i++) hx_free(blocks[i]);
    hx_free(blocks);
    return hx_error(HX_ERR_NOMEM, err, errlen, "fault_alloc: allocation failed after %zu MiB", n * 16);
}

static hx_status fault_create_kind(const emb_spec *spec, void **state, char *err, size_t errlen, fault_kind k) {
    fault_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    s->kind = k;
    s->armed = faults_enabled();
    hx_status rc;
    if (s->armed && k == FAULT_ALLOC) {
        rc = alloc_forever(err, errlen);
        goto fail;
    }
    s->m = hx_calloc((size_t)spec->n_fields, sizeof(int64_t));
    if (!s->m) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto fail;
    }
    fault_rows(spec, s->m);
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc == HX_OK) rc = emb_fields_init(&s->fs, spec, s->m, &rng, err, errlen);
    if (rc != HX_OK) goto fail;
    *state = s;
    return HX_OK;
fail:
    fault_destroy(s);
    return rc;
}

static void fault_map(fault_state *s, const int64_t *idx, int64_t B) {
    const int32_t F = s->fs.F;
    for (int64_t k = 0; k < B * F; k++) s->fs.rows[k] = idx[k] % s->m[k % F];
}

static void fault_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    fault_state *s = state;
    if (s->armed && s->kind == FAULT_SEGV) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (s->armed && s->kind == FAULT_HANG)
        for (;;) sleep(1);
    fault_map(s, idx, B);
    emb_fields_forward(&s->fs, s->fs.rows, B, out);
    if (s->armed && s->kind == FAULT_NAN)
        for (int64_t i = 0; i < B * s->fs.F * s->fs.D; i++) out[i] = NAN;
}

static void fault_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    fault_state *s = state;
    fault_map(s, idx, B);
    emb_fields_backward(&s->fs, s->fs.rows, B, dout);
}

static void fault_bytes(const void *state, emb_bytes *out) {
    const fault_state *s = state;
    fault_account(&s->spec, s->m, out);
}

#define FAULT_METHOD(NAME, KIND, DESC)                                                              \
    static hx_status NAME##_create(const emb_spec *spec, void **state, char *err, size_t errlen) { \
        return fault_create_kind(spec, state, err, errlen, KIND);                                   \
    }                                                                                               \
    const emb_method emb_method_##NAME = {                                                          \
        .api_version = EMB_API_VERSION,                                                             \
        .name = #NAME,                                                                              \
        .desc = DESC,                                                                               \
        .cite = "test-only (fault injection, EMBSWEEP_FAULTS=1)",                                   \
        .params = fault_params,                                                                     \
        .caps = EMB_CAP_TRAINABLE | EMB_CAP_TEST_ONLY,                                              \
        .plan = fault_plan,                                                                         \
        .create = NAME##_create,                                                                    \
        .destroy = fault_destroy,                                                                   \
        .forward = fault_forward,                                                                   \
        .backward = fault_backward,                                                                 \
        .step = emb_fields_state_step,                                                              \
        .bytes = fault_bytes,                                                                       \
    };

FAULT_METHOD(fault_segv, FAULT_SEGV, "test-only: SIGSEGV in the first forward")
FAULT_METHOD(fault_hang, FAULT_HANG, "test-only: the first forward never returns")
FAULT_METHOD(fault_alloc, FAULT_ALLOC, "test-only: create allocates without bound")
FAULT_METHOD(fault_nan, FAULT_NAN, "test-only: forward outputs NaN")
