/* method.h: the interface every embedding-compression method implements.
 *
 * One method instance owns the embedding side of the model for ALL categorical
 * fields at once, because several methods share state across fields (ROBE's one
 * array, mixed-dimension's per-table widths, FIITED's global budget).
 *
 * Shape legend: B batch rows, F categorical fields, D output embedding width,
 * N_f rows (cardinality) of field f.
 *
 * Lifecycle, driven by harness/train/train.c:
 *   plan(spec)                 resolve knobs from spec->ratio (no allocation)
 *   create(spec) -> state
 *   repeat: forward(idx) ; backward(idx, dout) ; step(t) ; on_step(t)   (training;
 *           backward_step(idx, dout, t) in place of the middle two where present)
 *   finalize()                 train-to-inference conversion (optional)
 *   forward(idx)               evaluation, pure
 *   bytes()                    accounting, valid at any time
 *   destroy(state)
 *
 * Rules: methods hold no globals and no static mutable state, never
 * print to stdout, never exit. Expected failures return hx_status with a message;
 * programmer bugs hit HX_ASSERT.
 *
 * Adding a method = one file defining `const emb_method emb_method_<name>` plus one
 * line in methods/methods.def (the registry refers to it strongly: a misspelt line
 * fails to link). tests/test_methods.c then runs the conformance suite (gradient
 * check, determinism, bytes vs. plan, finalize) against it.
 */
#ifndef EMBSWEEP_METHOD_H
#define EMBSWEEP_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "harness/core/optim.h"
#include "harness/core/util.h"

#define EMB_API_VERSION 1
#define EMB_MAX_PARAMS 16

typedef enum { EMB_P_INT, EMB_P_FLOAT, EMB_P_ENUM, EMB_P_BOOL } emb_param_type;

/* A method parameter, as data (squash options, Redis config table). Values travel
 * as doubles: ENUM values are the index into choices, BOOL is 0 or 1. A parameter
 * whose default is "auto" has auto_ok = 1 and the value EMB_AUTO; plan() replaces
 * it (for example the hash rows derived from the ratio). */
typedef struct emb_param_desc {
    const char         *name;     /* YAML key under params.<method> */
    emb_param_type      type;
    double              min, max; /* inclusive range (ENUM: ignored) */
    double              def;      /* default value, or EMB_AUTO when auto_ok */
    int                 auto_ok;  /* 1: "auto" (EMB_AUTO) is allowed and planned */
    const char *const  *choices;  /* ENUM: NULL-terminated names; else NULL */
    const char         *help;     /* one line, shown by `embsweep methods` */
} emb_param_desc;                 /* arrays end with { .name = NULL } */

/* A method writes its parameter table by designated index from an enum that ends
 * in a count, so the enum and the array cannot drift apart:
 *     enum { P_ROWS, P_SEED, P_COUNT };
 *     static const emb_param_desc x_params[] = {[P_ROWS] = {...}, [P_SEED] = {...},
 *                                               [P_COUNT] = {.name = NULL}};
 *     EMB_PARAMS_CHECK(x_params, P_COUNT);
 * and sets .n_params = P_COUNT in its descriptor. The static check pins the size
 * (one entry per index, then the terminator); that no index was left out (a
 * nameless hole ends the table early) is checked through n_params by the registry
 * and the conformance suite. Choice (ENUM) values get named constants too. */
#define EMB_PARAMS_CHECK(table, count)                                                          \
    _Static_assert(sizeof(table) / sizeof((table)[0]) == (size_t)(count) + 1 &&                 \
                       (count) <= EMB_MAX_PARAMS,                                               \
                   #table ": one entry per parameter index, then the terminator")

#define EMB_AUTO (-1.0e300)

/* Everything a method needs to plan and create itself. */
typedef struct emb_spec {
    int32_t        n_fields;       /* F */
    const int64_t *card;           /* (F) rows per field, each >= 1 */
    int32_t        dim;            /* D, output width of every field */
    double         ratio;          /* requested compression ratio, >= 1 */
    uint64_t       seed;           /* drives init and hashing */
    int32_t        batch;          /* max B passed to forward/backward */
    int64_t        steps_per_epoch;
    int64_t        total_steps;
    opt_cfg        opt;            /* optimizer for sparse (row) parameters */
    opt_cfg        dense_opt;      /* optimizer for dense parameters inside a method */
    double         pv[EMB_MAX_PARAMS]; /* parameter values in params-table order */
    struct hx_pool *pool;          /* optional worker pool (harness/core/pool.h), not owned;
                                    * a method may split forward/backward/step across
                                    * it where the pieces write disjoint memory */
} emb_spec;

/* Byte accounting. inference = infer_params + infer_index;
 * training = train_params + train_optim + train_other (peak during training). */
typedef struct emb_bytes {
    uint64_t infer_params;  /* parameters (any precision) needed to produce embeddings */
    uint64_t infer_index;   /* stored index state: pointers, codes, hash tables */
    uint64_t train_params;  /* parameters held during training (peak) */
    uint64_t train_optim;   /* optimizer state (peak) */
    uint64_t train_other;   /* gradient buffers, utility counters, scratch (peak) */
    char     index_desc[48];/* how index state is stored, e.g. "pointers uint16" */
} emb_bytes;

static inline uint64_t emb_bytes_infer(const emb_bytes *b) { return b->infer_params + b->infer_index; }
static inline uint64_t emb_bytes_train(const emb_bytes *b) {
    return b->train_params + b->train_optim + b->train_other;
}

/* What plan() predicts; create()+bytes() must agree with it (a conformance test). */
typedef struct emb_plan {
    emb_bytes bytes;        /* predicted bytes: training phase and after finalize */
    double    ratio;        /* achieved ratio = sum_f 4*N_f*D / inference bytes */
    char      knobs[160];   /* human summary of the chosen knobs, e.g. "rows=1024/field" */
} emb_plan;

/* A trainable tensor, for gradient checks and determinism tests. */
typedef struct emb_tensor {
    const char *name;
    float      *data;
    size_t      n;
} emb_tensor;

enum {
    EMB_CAP_TRAINABLE = 1u << 0,  /* backward/step train the compressed form itself */
    EMB_CAP_POST_TRAIN = 1u << 1, /* trains an uncompressed table; finalize compresses */
    EMB_CAP_DYNAMIC = 1u << 2,    /* on_step may change structure (clustering, pruning) */
    EMB_CAP_TEST_ONLY = 1u << 3   /* fault-injection methods: hidden from listings */
};

typedef struct emb_method {
    int                   api_version;   /* == EMB_API_VERSION */
    const char           *name;          /* YAML/CLI/SQLite key */
    const char           *alias;         /* (optional) second accepted name, e.g. "cce" */
    const char           *desc;          /* one line */
    const char           *cite;          /* paper reference, one line */
    const emb_param_desc *params;        /* terminated by {.name = NULL} */
    int                   n_params;      /* entries before the terminator, all named */
    unsigned              caps;

    /* plan: fill spec->pv entries that are EMB_AUTO from spec->ratio, check that the
     * ratio is reachable within 5%, and predict bytes. On failure, err names the
     * reachable range, e.g. "ratio 16 unreachable for int8 at dim 16: range [2.67, 2.67]".
     * Must not allocate more than O(F). */
    hx_status (*plan)(emb_spec *spec, emb_plan *out, char *err, size_t errlen);

    /* create: allocate and initialise from a planned spec. Owns all it allocates. */
    hx_status (*create)(const emb_spec *spec, void **state, char *err, size_t errlen);
    void      (*destroy)(void *state);    /* destroy(NULL) is a no-op */

    /* forward: idx (B, F) with idx[b*F+f] in [0, N_f); out (B, F, D). */
    void (*forward)(void *state, const int64_t *idx, int64_t B, float *out);
    /* backward: called after forward with the same idx; dout (B, F, D). Accumulates
     * gradients (duplicates coalesced); step() applies and clears them. */
    void (*backward)(void *state, const int64_t *idx, int64_t B, const float *dout);
    /* step: apply the optimizer to every parameter touched since the last step.
     * t is the 1-based global step. */
    void (*step)(void *state, int64_t t);

    /* (optional) backward_step: backward, then step(t), with the same results,
     * where doing both in one pass is faster (each table updated while its rows
     * are in cache). Training calls it in place of the two when present; tests
     * that read grad() between them call the two. */
    void (*backward_step)(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t);

    /* (optional) on_step: after step(t); clustering, prune/grow. */
    hx_status (*on_step)(void *state, int64_t t, char *err, size_t errlen);
    /* (optional) finalize: convert to the inference representation. */
    hx_status (*finalize)(void *state, char *err, size_t errlen);

    /* bytes: current accounting (training peaks so far; inference after finalize). */
    void (*bytes)(const void *state, emb_bytes *out);

    /* (optional, test use only; both or neither) tensors: list up to max trainable
     * tensors; returns the count. grad: write the gradient accumulated since the
     * last step for tensor i into dense (tensor-sized, overwritten). The
     * conformance suite's gradient check skips a method without them, saying so.
     * methods/common/table.h implements both for table-backed methods. */
    int  (*tensors)(void *state, emb_tensor *out, int max);
    void (*grad)(void *state, int i, float *dense);
} emb_method;

/* ---- registry (methods/registry.c) ---- */
size_t            emb_method_count(void);       /* includes test-only methods */
const emb_method *emb_method_at(size_t i);
const emb_method *emb_method_find(const char *name); /* name or alias; NULL if unknown */
/* Index of parameter `name` in m->params, or -1. */
int               emb_param_index(const emb_method *m, const char *name);
/* Fill spec->pv with every parameter's default (EMB_AUTO where auto). */
void              emb_params_default(const emb_method *m, double *pv);
/* Check spec->pv against the table's ranges; err names the parameter and range. */
hx_status         emb_params_check(const emb_method *m, const double *pv, char *err, size_t errlen);
/* Uncompressed bytes: sum_f 4 * N_f * D. */
double            emb_full_bytes(const emb_spec *spec);
/* Format "name=value ..." for the resolved parameters. */
void              emb_params_format(const emb_method *m, const double *pv, char *buf, size_t n);

#endif
