/* config.h: a YAML sweep file, validated and expanded into fully resolved cells.
 *
 * cfg_load() reads the file with libyaml, checks every key against tables (as
 * Redis's config.c does), collects EVERY error as "FILE:LINE:COL: key: what was
 * expected" (1-based positions from libyaml marks), plans every cell with its
 * method, and expands the matrix (grid x zip groups, minus exclude, plus
 * include). Nothing here touches the database. The schema reference is in
 * harness/sweep/README.md.
 *
 * A cell's identity is its key: 16 hex digits of a 64-bit FNV-1a hash of its
 * canonical JSON config (dataset recipe from ds_spec_canonical, method, every
 * method parameter incl. defaults, dim, ratio, seed, model, train settings).
 * Engine threads, jobs, timeout, memory limit and keep_scores are not part of the
 * key: they do not change what is computed [R].
 */
#ifndef EMBSWEEP_CONFIG_H
#define EMBSWEEP_CONFIG_H

#include <stdint.h>

#include "harness/train/run.h"
#include "harness/train/run_keys.h"

#define CFG_KEY_LEN 17 /* 16 hex + NUL */

/* What a dataset looked like when it was loaded for planning (-> datasets table). */
typedef struct cfg_dataset {
    ds_spec  spec;
    int      used;            /* referenced by some cell */
    int      loaded;
    char     id[32];
    char    *recipe;          /* canonical recipe text (owned) */
    int64_t  n_train, n_val, n_test;
    int32_t  n_dense, n_fields;
    int64_t *card;            /* (n_fields) */
    double   pos_rate_train, pos_rate_test, bayes_auc, bayes_logloss;
} cfg_dataset;

typedef struct cfg_cell {
    run_config rc;            /* fully resolved (rc.method set, rc.dataset copied) */
    int        dataset;       /* index into cfg_sweep.datasets */
    char       key[CFG_KEY_LEN];
    char      *json;          /* canonical config (owned) */
    char       params[256];   /* "k=v k=v" resolved parameters (auto kept) */
    int        skipped;       /* unreachable with `unreachable: skip` */
    char       reason[640];   /* why skipped */
    double     ratio_planned; /* plan's achieved ratio, 0 when skipped */
    char       knobs[160];
    int        ratio_line, ratio_col; /* YAML position of the cell's ratio (for messages) */
} cfg_cell;

/* The `slurm:` section (config_slurm.c): how `embsweep submit --slurm` asks
 * for its job array; each may be overridden by a flag of the same name. */
#define CFG_SLURM_EXTRA 16
typedef struct cfg_slurm {
    char partition[64], account[64]; /* "" = the cluster's default */
    char time[32];                   /* per task, sbatch --time (e.g. 2:00:00); "" = the partition's */
    char mem[32];                    /* per task, sbatch --mem (e.g. 4G); "" = the partition's */
    int  cpus_per_task;              /* sbatch --cpus-per-task; engine threads follow it */
    int  cells_per_task;             /* cells run by one array task, one after another */
    double minutes_per_task;         /* > 0: instead, as many cells as fit (submit estimates) */
    int  max_running;                /* K of --array=0-N%K; 0 = no throttle */
    int32_t requeue;                 /* sbatch --requeue: a preempted task is requeued */
    int  n_extra;
    char extra[CFG_SLURM_EXTRA][160]; /* more lines, each written `#SBATCH <line>` */
} cfg_slurm;

typedef struct cfg_sweep {
    char        name[64];
    char        file[512];
    char       *yaml;          /* the file's full text (owned) */
    char        cache_dir[256];
    int         jobs;          /* default 1 */
    int         threads;       /* engine threads per worker; 0 = cores / jobs */
    double      timeout;       /* seconds per run; 0 = none */
    uint64_t    memory_limit;  /* bytes per worker; 0 = none */
    int         unreachable_skip;
    int32_t     keep_scores;   /* 1 (default): keep each ok run's test scores (run_scores) */
    cfg_slurm   slurm;         /* the slurm: section, defaults when absent */
    int         n_datasets;
    cfg_dataset *datasets;     /* (n_datasets) */
    int         n_cells;
    cfg_cell   *cells;         /* (n_cells), in expansion order, unique keys */
} cfg_sweep;

/* Flags for cfg_load. */
enum {
    CFG_NO_PLAN = 1u << 0 /* skip dataset loading and planning (tests of parsing) */
};

/* cfg_load: parse, validate, plan and expand FILE. On success *out is the sweep
 * (free with cfg_free) and *errors is NULL. On any problem returns HX_ERR_FORMAT
 * (or HX_ERR_IO) with *errors = every message, one per line (owned; free with
 * hx_free), and *out = NULL. */
hx_status cfg_load(const char *file, unsigned flags, cfg_sweep **out, char **errors);
void      cfg_free(cfg_sweep *s);

/* The row of a top-level key (jobs, timeout, ...), NULL if none: its range and
 * "expected" text (harness/train/run_keys.h), e.g. for `embsweep run --jobs`. */
const key_def *cfg_top_key(const char *name);

/* The row of a `slurm:` key (partition, cells_per_task, ...), NULL if none; its
 * field is in cfg_slurm (`embsweep submit` takes each as a flag). */
const key_def *cfg_slurm_key(const char *name);
extern const key_def cfg_slurm_keys[];
extern const int     cfg_slurm_nkeys;
/* Set cfg_slurm's defaults. */
void cfg_slurm_defaults(cfg_slurm *s);

/* Canonical JSON of a resolved cell config into a new string (owned by caller). */
char *cfg_cell_json(const run_config *rc, const char *recipe);

#endif
