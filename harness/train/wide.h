/* wide.h: per-id scalar weights, the first-order term of DeepFM and the wide
 * (linear) part of Wide & Deep:
 *
 *   idx (B, F) -> out (B) = sum_f s_f[slot_f(idx[b, f])]
 *
 * Storage rule [R], so that bytes and ratios stay honest for every method: one
 * fp32 scalar table per field, of slots_f = ceil(N_f / r) entries for the run's
 * requested ratio r (r <= 1: N_f). A field whose table holds all its ids
 * (slots_f = N_f, which `full` always gets) is indexed by id; any other is
 * indexed by the seeded hash of methods/hash.c (hx_hash_index, a seed per
 * field). So the scalar part is compressed by the same r as the embeddings, its
 * bytes are counted with the method's (wide_account), and the full-model bytes
 * the achieved ratio divides by include 4 * sum_f N_f (wide_full_bytes).
 *
 * The tables start at zero and train with the embedding optimizer, one sparse
 * coalesced update per touched slot (methods/common/table.h). With a pool, the
 * backward splits fields across threads (each field's table is its own).
 */
#ifndef EMBSWEEP_WIDE_H
#define EMBSWEEP_WIDE_H

#include "methods/common/table.h"
#include "methods/method.h"

typedef struct wide {
    int32_t    F;
    int32_t    max_batch;
    emb_table *tabs;   /* (F), width 1 */
    int64_t   *card;   /* (F) ids per field */
    uint64_t  *seed;   /* (F) hash seed per field */
    int64_t   *slot;   /* (max_batch, F) slots of the last forward */
    const float *dout; /* (B) of the running backward */
    int32_t    B;
    opt_cfg    opt;
    hx_pool   *pool;   /* spec->pool (not owned) */
} wide;

/* Slots of field f's table at ratio r (the rule above). */
int64_t   wide_slots(int64_t card, double ratio);
hx_status wide_create(wide *w, const emb_spec *spec, char *err, size_t errlen);
void      wide_free(wide *w); /* safe on a zeroed or freed wide */
/* wide_forward: idx (B, F) -> out (B), OVERWRITTEN. */
void      wide_forward(wide *w, const int64_t *idx, int B, float *out);
/* wide_backward: dout (B) -> each looked-up slot's gradient (ACCUMULATED). */
void      wide_backward(wide *w, const float *dout, int B);
void      wide_step(wide *w, int64_t t);
/* The bytes of the tables wide_create makes for spec, added into out. */
void      wide_account(const emb_spec *spec, emb_bytes *out);
/* 4 * sum_f N_f: the uncompressed scalar tables (the ratio's numerator adds it). */
double    wide_full_bytes(const emb_spec *spec);

#endif
