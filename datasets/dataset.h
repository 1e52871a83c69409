/* dataset.h: the encoded dataset every run trains on, and how it is described.
 *
 * A dataset is described in YAML as a flat map under datasets.<name>, e.g.
 *   syn:    {kind: synthetic, rows: 20000, fields: 8, cardinality: 5000, dense: 4, seed: 7}
 *   criteo: {kind: criteo, path: ../shared/data/criteo_sample.tsv.gz, min_count: 1}
 * The harness copies that map into a ds_spec (keys and scalar values as text,
 * lists joined with commas, with the YAML position of each value). The datasets
 * module validates it against the kind's parameter table, canonicalises it (all
 * defaults filled in) and hashes the canonical text into the dataset id, which
 * goes into every run key.
 *
 * Encoded layout (ds_data), rows already in split order:
 *   rows [0, n_train) train, [n_train, n_train+n_val) validation, then test.
 *   dense (N, Dd) float, cat (N, F) uint32 ids in [0, card[f]), label (N) 0/1.
 * Real datasets are memory-mapped from a cache under results/cache/.
 */
#ifndef EMBSWEEP_DATASET_H
#define EMBSWEEP_DATASET_H

#include <stdint.h>

#include "harness/core/util.h"

#define DS_MAX_KEYS 32

typedef struct ds_spec {
    char name[64];                   /* the YAML name, e.g. "syn" */
    char kind[32];                   /* synthetic | criteo_synth | criteo | avazu | movielens | libfm */
    int  n;                          /* number of keys below (kind excluded) */
    char key[DS_MAX_KEYS][32];
    char val[DS_MAX_KEYS][512];      /* scalar as text; a list as "a,b,c" */
    int  line[DS_MAX_KEYS];          /* 1-based YAML position of val, 0 if unknown */
    int  col[DS_MAX_KEYS];
    int  kind_line, kind_col;
} ds_spec;

typedef struct ds_data {
    char      name[64];
    char      kind[32];
    char      id[32];         /* "<name>_<8 hex of recipe hash>" */
    uint64_t  recipe_hash;
    char     *recipe;         /* canonical recipe text (owned) */
    int64_t   n_rows;         /* N */
    int64_t   n_train, n_val, n_test;
    int32_t   n_dense;        /* Dd, may be 0 */
    int32_t   n_fields;       /* F */
    int64_t  *card;           /* (F) */
    char    (*field_names)[32]; /* (F) or NULL */
    float    *dense;          /* (N, Dd) or NULL */
    uint32_t *cat;            /* (N, F) */
    float    *label;          /* (N) */
    float    *prob;           /* (N) planted true probability (synthetic) or NULL */
    double    bayes_auc;      /* on the test split from prob; NAN when unknown */
    double    bayes_logloss;
    double    pos_rate_train, pos_rate_test;
    void     *map;            /* mmap base when memory-mapped, else NULL */
    size_t    map_len;
    void     *owned;          /* malloc'd block when not mapped */
} ds_data;

/* The 26 per-field cardinalities of Criteo Kaggle's train.txt (45,840,617 rows,
 * no frequency threshold), the shape of the criteo_synth kind and of the bench's
 * big tables. */
#define DS_CRITEO_FIELDS 26
extern const int64_t ds_criteo_kaggle_card[DS_CRITEO_FIELDS];

/* Validate a spec: kind known, keys known for the kind, values typed and in range.
 * Each problem is written as "file:line:col: datasets.<name>.<key>: what was
 * expected" into err; returns the first status. `file` is for messages only. */
hx_status ds_spec_validate(const ds_spec *s, const char *file, char *err, size_t errlen);

/* Canonical recipe text (every parameter, defaults filled, fixed order) and its hash. */
hx_status ds_spec_canonical(const ds_spec *s, char *buf, size_t n);
uint64_t  ds_spec_hash(const ds_spec *s);

/* Load (or build and cache) the dataset. cache_dir may be NULL for no cache. */
hx_status ds_load(const ds_spec *s, const char *cache_dir, ds_data **out, char *err, size_t errlen);
void      ds_free(ds_data *d);

/* Progress of long work: done of total units. */
typedef void (*ds_progress_fn)(void *arg, int64_t done, int64_t total);

/* Write d as Criteo Kaggle text (label, I1-I13, C1-C26) to path, gzip when it
 * ends in .gz, in split order; d needs 13 dense features and 26 fields (the
 * criteo_synth kind). Written to a temp file renamed into place: on failure
 * nothing is left at path. ds_write.c says how values are encoded. */
hx_status ds_write_criteo(const ds_data *d, const char *path, ds_progress_fn progress, void *arg, char *err,
                          size_t errlen);

/* Kinds and their parameters, for `embsweep dataset kinds` and validation hints. */
size_t      ds_kind_count(void);
const char *ds_kind_name(size_t i);

/* A spec from "key=value" strings (command line); kind given separately. */
hx_status ds_spec_from_args(ds_spec *s, const char *name, const char *kind, int argc,
                            char **kv, char *err, size_t errlen);

#endif
