/* table.h: a trainable row table with sparse, coalesced gradients. The building
 * block of most methods (full, hash, QR, MEmCom, CCE codebooks, ...).
 *
 *   w      (rows, width)            parameters
 *   state  (rows, opt_state_floats) optimizer state, allocated for the table's
 *                                   optimizer kind at init
 *   gbuf   (cap, width)             gradients of the rows touched since the last
 *                                   step, one slot per distinct row (coalesced),
 *                                   found through an open-addressing map row->slot
 *
 * Gradients of a row touched twice in a batch are summed into one slot before
 * the optimizer sees them, as DLRM's row-wise Adagrad requires. Step order is
 * first-touch order, so updates are deterministic.
 *
 * Big tables: w and state come from hx_big_calloc (huge pages from 2 MiB on,
 * harness/core/util.h; the state's pages are faulted in at init, as the
 * parameters' are by their initialisation), and the gather and the step prefetch
 * the rows `ahead` positions further in their walk, so the cache misses of a
 * batch overlap instead of queueing; a row's first gradient slot starts
 * fetching the row and its state for the step, and emb_fields_backward_step
 * updates each field's table right after coalescing it, while those lines are
 * still in cache. None of it changes a bit of the results.
 */
#ifndef EMBSWEEP_TABLE_H
#define EMBSWEEP_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/core/pool.h"
#include "methods/method.h"

typedef struct emb_table {
    int64_t  rows;
    int32_t  width;
    float   *w;        /* (rows, width) */
    float   *state;    /* (rows, state_w) or NULL for SGD */
    size_t   state_w;
    opt_kind kind;
    int64_t  cap;      /* max distinct rows between steps */
    int64_t  n_touched;
    int64_t *touched;  /* (cap) row ids, first-touch order */
    float   *gbuf;     /* (cap, width) */
    int64_t *map_key;  /* (map_size) row id or -1 */
    int32_t *map_val;  /* (map_size) slot */
    uint64_t map_mask;
    int32_t  ahead;    /* rows ahead a walk prefetches (hx_prefetch_ahead() at init) */
    char     pad_[64]; /* n_touched of neighbouring tables in an array (emb_fields)
                        * on separate cache lines: threads own different fields */
} emb_table;

/* emb_table_init: zero-initialised parameters; cap = most distinct rows touched
 * between two steps (a safe bound is B for one-hot lookups into this table). */
hx_status emb_table_init(emb_table *t, int64_t rows, int32_t width, int64_t cap,
                         opt_kind kind, char *err, size_t errlen);
void      emb_table_free(emb_table *t);    /* safe on a zeroed or freed table */

void emb_table_fill_uniform(emb_table *t, hx_rng *r, float lo, float hi);

static inline float *emb_table_row(const emb_table *t, int64_t r) {
    return t->w + (size_t)r * (size_t)t->width;
}

/* Prefetch the n floats at p (every 64-byte line they touch, at most 8), for
 * reading (write 0) or for writing (write 1). A hint: no effect on results. */
static inline void emb_prefetch(const float *p, size_t n, int write) {
    const char *c = (const char *)p, *end = (const char *)(p + n);
    for (int k = 0; k < 8 && c < end; k++, c += 64) {
        if (write) __builtin_prefetch(c, 1, 3);
        else __builtin_prefetch(c, 0, 3);
    }
}

/* The gradient slot for row r (zeroed on first touch since the last step). */
float *emb_table_grad_row(emb_table *t, int64_t r);
/* Starts fetching the map entry emb_table_grad_row(t, r) will probe first (a
 * hint, for walks that know their rows ahead). */
void emb_table_grad_prefetch(const emb_table *t, int64_t r);

/* Apply the optimizer to every touched row, then clear the slots. */
void emb_table_step(emb_table *t, const opt_cfg *c, int64_t step);

/* Bytes of the gradient slots and map of a table with capacity cap. */
uint64_t emb_table_predict_grad(int64_t cap, int32_t width);
/* The bytes of emb_table_init(rows, width, cap, kind), added into out: its
 * parameters count for inference and training, then optimizer state and the
 * gradient slots. The one formula plan() and bytes() use for a table. */
void     emb_table_account(int64_t rows, int32_t width, int64_t cap, opt_kind kind, emb_bytes *out);

/* Test use: scatter the pending gradient into dense (rows*width floats). */
void emb_table_grad_dense(const emb_table *t, float *dense);

/* ---- helpers shared by planners ---- */

/* Byte accounting: each method has one function that fills an emb_bytes from the
 * spec and its layout (rows, ranks, widths ...); plan() calls it with the spec it
 * plans, bytes() with what the state kept at create() (the spec, the layout, and
 * for a dynamic method its current sizes), so the two agree unless create()
 * resolved another layout, which the conformance suite checks. emb_spec_keep makes
 * the state's copy of the spec: card copied (emb_spec_kept_free frees it), no pool. */
hx_status emb_spec_keep(emb_spec *dst, const emb_spec *src, char *err, size_t errlen);
void      emb_spec_kept_free(emb_spec *s);

/* Fields with N_f <= threshold stay uncompressed. Returns their bytes (4*N_f*D each)
 * and, through big_rows, the sum of N_f of the other fields. */
double emb_plan_small_fields(const emb_spec *spec, int64_t threshold, int64_t *big_rows);

/* A standard "unreachable" error: "ratio R unreachable for M at dim D: reachable
 * range [lo, hi]". */
hx_status emb_plan_unreachable(const emb_spec *spec, const char *method, double lo, double hi,
                               char *err, size_t errlen);

/* The error when a fixed knob (e.g. rank=4) misses the ratio: "ratio R unreachable
 * for M at dim D with KNOB=V: it gives ratio X (leave KNOB auto to plan it from
 * the ratio)". */
hx_status emb_plan_fixed_unreachable(const emb_spec *spec, const char *method, const char *knob, double value,
                                     double achieved, char *err, size_t errlen);

/* 1 if achieved is within 5% of requested. */
int emb_plan_within(double requested, double achieved);

/* ---- per-field tables: the common case of one emb_table per field ---- */
/* emb_fields: one table per field, rows_f rows each, width D, DLRM init
 * U(-sqrt(1/rows_f), +sqrt(1/rows_f)) (facebookresearch/dlrm create_emb). */
typedef struct emb_fields {
    int32_t    F, D;
    emb_table *tabs;   /* (F) */
    int64_t   *rows;   /* (batch, F) scratch for mapped row ids */
    opt_cfg    opt;
    hx_pool   *pool;   /* spec->pool: fields are split across its threads */
    int32_t   *order;  /* (F) fields by rows, largest first: the order threads claim them */
} emb_fields;

/* rows (B, F) are already mapped to physical rows of each field's table.
 * forward: out (B, F, D) = the rows; backward: accumulate dout (B, F, D) into the
 * rows' gradient slots. */
void emb_fields_forward(emb_fields *fs, const int64_t *rows, int64_t B, float *out);
void emb_fields_backward(emb_fields *fs, const int64_t *rows, int64_t B, const float *dout);

hx_status emb_fields_init(emb_fields *fs, const emb_spec *spec, const int64_t *rows_per_field,
                          hx_rng *rng, char *err, size_t errlen);
void      emb_fields_free(emb_fields *fs);
void      emb_fields_step(emb_fields *fs, int64_t t);
/* emb_fields_backward, then emb_fields_step(fs, t), with the same results: each
 * field's table is updated right after its gradients are coalesced, while its
 * rows and their optimizer state are still in cache (with the big-table path
 * off, hx_big_set(0), the two passes one after the other). */
void      emb_fields_backward_step(emb_fields *fs, const int64_t *rows, int64_t B, const float *dout, int64_t t);
/* The bytes of emb_fields_init with these rows, added into out (parameters count
 * for inference and training). */
void      emb_fields_predict_add(const emb_spec *spec, const int64_t *rows_per_field, emb_bytes *out);

/* ---- tensors() and grad() (optional in method.h, test use) for the common cases ---- */

/* A method whose trainable tensors are all emb_tables names them with one
 * function: at(state, i, &name) is the i-th table (and its name), NULL past the
 * last. Tensor i is that table's parameters; its gradient the pending slots. */
typedef emb_table *(*emb_table_at)(void *state, int i, const char **name);
int  emb_tables_tensors(void *state, emb_table_at at, emb_tensor *out, int max);
void emb_tables_grad(void *state, emb_table_at at, int i, float *dense);
/* Defines the descriptor entries prefix_tensors and prefix_grad from such an at. */
#define EMB_TABLES_TENSORS(prefix, at)                                                          \
    static int prefix##_tensors(void *state, emb_tensor *out, int max) {                        \
        return emb_tables_tensors(state, at, out, max);                                         \
    }                                                                                           \
    static void prefix##_grad(void *state, int i, float *dense) { emb_tables_grad(state, at, i, dense); }

/* Descriptor entries for a method whose state struct begins with its emb_fields
 * (full, hash, the post-training methods while they train): step, and tensors /
 * grad listing one "table" per field. EMB_FIELDS_FIRST(type) checks the layout. */
void emb_fields_state_step(void *state, int64_t t);
/* backward_step of a method whose backward is emb_fields_backward on idx. */
void emb_fields_state_backward_step(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t);
int  emb_fields_state_tensors(void *state, emb_tensor *out, int max);
void emb_fields_state_grad(void *state, int i, float *dense);
#define EMB_FIELDS_FIRST(type) \
    _Static_assert(offsetof(type, fs) == 0, #type ": emb_fields_state_* need the emb_fields first")
#endif
