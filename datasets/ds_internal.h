/* ds_internal.h: what the dataset kinds share inside datasets/ (not a public
 * contract): the parameter tables (Redis-style config rows as data), typed
 * accessors over a ds_spec, ds_data allocation and the exact AUC used for the
 * Bayes ceiling. */
#ifndef EMBSWEEP_DS_INTERNAL_H
#define EMBSWEEP_DS_INTERNAL_H

#include <stdint.h>

#include "dataset.h"

typedef enum {
    DSP_INT,      /* decimal integer in [lo, hi] */
    DSP_INT_OFF,  /* an integer like DSP_INT whose default means "off": the canonical
                   * recipe names it only away from its default, so adding such a
                   * key to a kind keeps the ids of every dataset that leaves it off */
    DSP_FLOAT,    /* finite number in [lo, hi] */
    DSP_STRING,   /* any text (paths) */
    DSP_ENUM,     /* one of choices "a|b|c" */
    DSP_INT_LIST, /* "a,b,c" of integers in [lo, hi] (may be empty) */
    DSP_STR_LIST  /* "a,b,c" of texts (may be empty) */
} dsp_type;

typedef struct ds_param {
    const char *name;
    dsp_type    type;
    double      lo, hi;     /* range for INT/FLOAT/INT_LIST */
    const char *def;        /* default as text */
    const char *choices;    /* "a|b|c" for ENUM */
    const char *help;
} ds_param;                 /* arrays end with {.name = NULL} */

typedef struct ds_kind ds_kind;
struct ds_kind {
    const char     *name;
    const char     *help;
    const ds_param *params;
    const char     *note;   /* fixed recipe facts appended to the canonical text */
    /* canon: optional; writes the canonical text of a validated spec. NULL: the
     * generic "kind=K;key=value;..." over the table with defaults filled. */
    hx_status (*canon)(const ds_spec *s, const ds_kind *k, char *buf, size_t n);
    /* check: optional cross-key checks after the per-key ones (e.g. list length
     * vs fields); message without the position prefix. */
    hx_status (*check)(const ds_spec *s, const ds_kind *k, char *err, size_t errlen);
    /* build: fill a freshly allocated ds_data from a validated spec. */
    hx_status (*build)(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d,
                       char *err, size_t errlen);
};

const ds_kind *ds_kind_find(const char *name);

/* Typed values of a validated spec, defaults filled from the kind's table. */
const char *ds_get_str(const ds_spec *s, const ds_kind *k, const char *key);
int64_t     ds_get_int(const ds_spec *s, const ds_kind *k, const char *key);
double      ds_get_f64(const ds_spec *s, const ds_kind *k, const char *key);
int         ds_has_key(const ds_spec *s, const char *key);
/* Integer list: writes up to cap values, returns how many the list holds. */
int         ds_get_int_list(const ds_spec *s, const ds_kind *k, const char *key, int64_t *out,
                            int cap);

/* Generic canonical text: "kind=K" then ";key=value" for every table row. */
hx_status ds_canon_generic(const ds_spec *s, const ds_kind *k, char *buf, size_t n);

/* Allocate the arrays of d in one owned block: dense (N, Dd), cat (N, F),
 * label (N), prob (N) if with_prob, card (F), field_names (F). */
hx_status ds_data_alloc(ds_data *d, int64_t n, int32_t n_dense, int32_t n_fields, int with_prob);

/* Split sizes from fractions: test = round(N*test_frac), val = round(N*val_frac). */
void ds_split_sizes(ds_data *d, double val_frac, double test_frac);

/* Exact ROC AUC of scores against 0/1 labels, ties counted 1/2 (average ranks).
 * NAN when one class is absent or on allocation failure. */
double ds_auc(const float *score, const float *label, int64_t n);
/* Mean binary cross-entropy of probabilities p (clamped to [1e-7, 1-1e-7]). */
double ds_logloss(const float *p, const float *label, int64_t n);
/* Fill pos_rate_train/test, and bayes_auc/logloss on the test split from prob (or
 * NAN); HX_ERR_NOMEM when the AUC's scratch could not be had. */
hx_status ds_fill_stats(ds_data *d);

/* The dataset cache (ds_build.c, its file format in ds_cache.c). ds_cached maps
 * <cache_dir>/<kind>_<recipe hash>.bin into d when that file holds d's recipe
 * and source stamp; else, holding the file's lock, has fill write it at path
 * (to a temp file renamed into place) and maps it. cache_dir NULL: a private
 * temp dir, the file unlinked once mapped. what names the source in the
 * "building" message. */
typedef hx_status (*ds_fill_fn)(void *ctx, const char *path, uint64_t stamp, ds_data *d, char *err,
                                size_t errlen);
hx_status ds_cached(const char *cache_dir, uint64_t stamp, const char *what, ds_fill_fn fill, void *ctx,
                    ds_data *d, char *err, size_t errlen);
/* Writes the in-memory dataset g (its probabilities too when it has them) as
 * the cache file path for recipe g->recipe and stamp: through path.tmp.<pid>,
 * synced, then renamed. */
hx_status ds_cache_write(const char *path, const ds_data *g, uint64_t stamp, char *err, size_t errlen);

/* The kinds' entry points (one file each). */
hx_status ds_synthetic_canon(const ds_spec *s, const ds_kind *k, char *buf, size_t n);
hx_status ds_synthetic_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen);
hx_status ds_synthetic_build(const ds_spec *s, const ds_kind *k, const char *cache_dir,
                             ds_data *d, char *err, size_t errlen);
extern const ds_param ds_synthetic_params[];
#define DS_KIND_FNS(name)                                                                          \
    hx_status ds_##name##_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen);   \
    hx_status ds_##name##_build(const ds_spec *s, const ds_kind *k, const char *cache_dir,       \
                                ds_data *d, char *err, size_t errlen);                           \
    extern const ds_param ds_##name##_params[]
DS_KIND_FNS(criteo);
DS_KIND_FNS(criteo_synth);
hx_status ds_criteo_synth_canon(const ds_spec *s, const ds_kind *k, char *buf, size_t n);
DS_KIND_FNS(avazu);
DS_KIND_FNS(movielens);
DS_KIND_FNS(libfm);

#endif
