/* baseline.h: helpers shared by the baseline methods (qr, md, tt, robe, pq, int8,
 * int4): byte accounting of single emb_tables, and the common plumbing of the
 * post-training quantizers (train `full`, compress in finalize()).
 */
#ifndef EMBSWEEP_BASELINE_H
#define EMBSWEEP_BASELINE_H

#include "table.h"

/* Gradient-slot capacity of a table with `rows` rows: min(batch, rows). */
int64_t bl_cap(const emb_spec *spec, int64_t rows);

/* The bytes of emb_table_init(rows, width, bl_cap(spec, rows), spec->opt.kind),
 * added into out (parameters count for inference and training). */
void bl_table_predict_add(const emb_spec *spec, int64_t rows, int32_t width, emb_bytes *out);

/* bl_full_table: an uncompressed N x D table for a field left full, with DLRM's
 * init U(+-sqrt(1/N)) (as emb_fields) and cap bl_cap(spec, N). */
hx_status bl_full_table(emb_table *t, const emb_spec *spec, int64_t n, hx_rng *rng, char *err, size_t errlen);

/* bl_bisect_factor: planners that compress the big fields by a common factor s
 * (per-field knobs chosen so field f fits N_f D / s floats). bytes_at(spec, s,
 * layout) fills layout for s and returns its inference bytes; the ratio must
 * not fall as s grows. Bisects x in [x_lo, 60], s = 2^x, 80 steps, keeps the s
 * whose ratio is closest to spec->ratio, leaves layout at it and returns its
 * bytes. */
typedef double (*bl_bytes_at)(const emb_spec *spec, double s, void *layout);
double bl_bisect_factor(const emb_spec *spec, double x_lo, bl_bytes_at bytes_at, void *layout);

/* A dense parameter tensor of n floats trained with spec->dense_opt (projections):
 * parameters, gradient and optimizer state. */
typedef struct bl_dense {
    size_t n;
    float *w, *g, *state;
} bl_dense;
hx_status bl_dense_init(bl_dense *p, size_t n, const opt_cfg *c, char *err, size_t errlen);
void      bl_dense_free(bl_dense *p);
/* Bytes of bl_dense_init(n) with optimizer c, added into out. */
void      bl_dense_predict_add(size_t n, const opt_cfg *c, emb_bytes *out);

/* ---- post-training methods (EMB_CAP_POST_TRAIN) ----
 * Training is exactly `full` (methods/full.c: one emb_fields, DLRM init); the
 * compressed form is built by the method's finalize() and read by its forward()
 * once done = 1. bytes(): train_* are full's, infer_* the compressed form's. */
typedef struct bl_post {
    emb_fields fs;
    int        done;   /* 1 after finalize */
    emb_bytes  infer;  /* the compressed form's infer_params / infer_index / desc,
                        * from the method's inference accounting (as its plan()) */
    emb_spec   spec;   /* kept from create (emb_spec_keep) for bl_post_account */
    void      *q;      /* the method's compressed form */
} bl_post;
EMB_FIELDS_FIRST(bl_post); /* step, tensors and grad are emb_fields_state_* */

/* Allocates a bl_post with its full tables initialised from spec->seed. */
hx_status bl_post_create(const emb_spec *spec, bl_post **out, char *err, size_t errlen);
void      bl_post_free(bl_post *s);  /* frees fs and s (not q) */
/* The accounting of a post-training method: the training bytes of full plus the
 * given inference bytes. plan() passes its spec, bytes() the kept one. */
void      bl_post_account(const emb_spec *spec, const emb_bytes *infer, emb_bytes *out);

void bl_post_backward(void *state, const int64_t *idx, int64_t B, const float *dout);
void bl_post_backward_step(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t);
void bl_post_bytes(const void *state, emb_bytes *out);

#endif
