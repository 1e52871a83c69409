/* syn_gen.h: the planted-model generator that synthetic.c implements and the
 * kinds built on it share (synthetic, criteo_synth). Not a public contract.
 *
 * A syn_cfg is a fully resolved recipe: every field's cardinality and Zipf
 * exponent, the dense model, the planted model's knobs and the seed. */
#ifndef EMBSWEEP_SYN_GEN_H
#define EMBSWEEP_SYN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "ds_internal.h"

#define SYN_MAX_FIELDS 256
#define SYN_MAX_CARD 2147483647 /* INT32_MAX: ids are uint32 and draws use 32-bit indices */

/* A dense feature drawn like a Criteo count and stored as the loader stores it,
 * log1p(max(count, 0)): missing (share `miss`) or <= 0 (share `zero` of the
 * present ones) gives 0; else count = max(1, round(exp(mu + sigma * e))), e ~ N(0,1). */
typedef struct syn_dense {
    double miss, zero, mu, sigma;
} syn_dense;

typedef struct syn_cfg {
    int64_t rows;
    int32_t F, Dd, rank;
    int64_t card[SYN_MAX_FIELDS];
    double  zipf[SYN_MAX_FIELDS];  /* per field */
    const syn_dense *dense_model;  /* (Dd) or NULL: x_j ~ N(0,1) */
    double  scale, intercept, bias_share, dense_share, tail, noise, val_frac, test_frac;
    uint64_t seed;
    const char *name_prefix; /* field f is named <prefix><f + 1>; NULL: f<f> */
} syn_cfg;

/* Bytes the generator holds at its peak for c: the rows (dense, ids, label,
 * probability and two per-row components), the per-id tables of every field
 * (alias threshold and alias, bias, rank floats) and the alias build's scratch
 * for the largest field. Saturates at SIZE_MAX instead of overflowing. */
size_t syn_mem_bytes(const syn_cfg *c);

/* Generate the rows of c into a freshly allocated d (fields named f0, f1, ...,
 * or <name_prefix>1, 2, ...).
 * HX_ERR_NOMEM with a message when syn_mem_bytes exceeds the machine's physical
 * memory or an allocation fails; `name` is for messages. */
hx_status syn_generate(const syn_cfg *c, const char *name, ds_data *d, char *err, size_t errlen);

/* From this many rows, a generated dataset loaded with a cache directory goes
 * through the dataset cache: generated and written once, then mapped by every
 * later load (a sweep's workers share its pages instead of each generating
 * and holding its own rows). Below it, generating is about as fast as mapping. */
#define SYN_CACHE_ROWS 1000000

/* d from c: through the cache under cache_dir from SYN_CACHE_ROWS rows (d's
 * recipe and kind name the file), else syn_generate. */
hx_status syn_load(const syn_cfg *c, const char *name, const char *cache_dir, ds_data *d, char *err,
                   size_t errlen);

#endif
