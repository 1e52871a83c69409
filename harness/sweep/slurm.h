/* slurm.h: sweeps on a Slurm cluster: one job array whose tasks each run a
 * batch of cells through the same scheduler and workers as `embsweep run`, each
 * into its own SQLite shard, then merged into the results database.
 *
 * A submission is a directory WORKDIR/NNN (001, 002, ...) on a filesystem every
 * node sees:
 *   plan.tsv       the sweep file, working directory, database, jobs x threads
 *                  and, per cell, its array task, run key and resolved config
 *   task.sbatch    the job array: task I runs `embsweep task DIR --index I`
 *   merge.sbatch   `embsweep merge WORKDIR`, submitted afterany the array
 *   shards/task-I.db   written by task I only (never one database from many
 *                  nodes: SQLite's locks do not work over a network filesystem)
 *   logs/          Slurm's output of each task and of the merge
 * slurm.c writes and reads these and calls sbatch and squeue; merge.c folds
 * the shards into the database and counts what is not merged yet.
 */
#ifndef EMBSWEEP_SLURM_H
#define EMBSWEEP_SLURM_H

#include <stdio.h>

#include "config.h"
#include "db.h"

/* Full path of program `prog` found in $PATH into path; 0, or -1 when absent. */
int slurm_which(const char *prog, char *path, size_t n);

/* A submission being prepared: the cells to run (indexes into sw->cells), their
 * batching into tasks, and where everything goes. */
typedef struct slurm_sub {
    const cfg_sweep *sw;
    const cfg_slurm *sl;        /* the file's slurm: section with the flags applied */
    const int *todo;            /* (n_todo) cell indexes, in expansion order */
    int        n_todo, tasks;   /* tasks = ceil(n_todo / cells_per_task) */
    int        jobs, threads;   /* workers at once in a task, engine threads each */
    char       dir[1024];       /* WORKDIR/NNN, absolute */
    char       workdir[1024];   /* WORKDIR, absolute */
    char       bin[1024];       /* this embsweep, absolute */
    char       cwd[1024];       /* where tasks run (relative paths of the sweep file) */
    char       file[1024];      /* the sweep file, absolute */
    char       db[1024];        /* the results database, absolute */
} slurm_sub;

/* The next free submission directory of workdir (WORKDIR/NNN) into s->dir; no
 * directory is created. */
hx_status slurm_next_dir(slurm_sub *s, char *err, size_t errlen);

/* The array's and the merge job's scripts. */
void slurm_script_task(FILE *f, const slurm_sub *s);
void slurm_script_merge(FILE *f, const slurm_sub *s);

/* Create s->dir with plan.tsv, task.sbatch, merge.sbatch, logs/ and shards/;
 * on failure nothing is left behind. */
hx_status slurm_write(const slurm_sub *s, char *err, size_t errlen);
/* Remove what slurm_write created (a submission sbatch refused). */
void slurm_remove(const slurm_sub *s);

/* `sbatch --parsable [--dependency=DEP] SCRIPT`: the job id into id. */
hx_status slurm_sbatch(const char *script, const char *dependency, char *id, size_t n, char *err, size_t errlen);

/* squeue's view of job ids `jobs` (comma-separated): tasks pending and running.
 * -1 when squeue is absent or failed. */
int slurm_squeue(const char *jobs, int *pending, int *running);

/* One array task's share of a plan (slurm_task_read). */
typedef struct slurm_task {
    char  file[1024], cwd[1024], db[1024];
    int   jobs, threads, tasks;
    int   n;                    /* cells of this task */
    char (*keys)[CFG_KEY_LEN];  /* (n) */
    char **json;                /* (n) resolved configs, owned */
} slurm_task;

/* Read DIR/plan.tsv, keeping the cells of task `index`. */
hx_status slurm_task_read(const char *dir, int index, slurm_task *t, char *err, size_t errlen);
void      slurm_task_free(slurm_task *t);

/* The cells of t in sw: a copy of *sw whose cells are t's (in its order), each
 * checked against the plan's config. The copy shares sw's datasets and texts:
 * free only sub->cells (hx_free), never cfg_free it. HX_ERR_PARAM when a key is
 * no longer in the sweep file or its config changed. */
hx_status slurm_task_sweep(const cfg_sweep *sw, const slurm_task *t, cfg_sweep *sub, char *err, size_t errlen);

/* ---- merge.c ---- */

typedef struct merge_counts {
    int shards, unreadable;     /* shard files seen, and those that could not be read */
    int ok, other;              /* runs taken into the database: ok, any other final status */
    int unfinished;             /* shard rows still pending or running (a task cut off) */
    int same;                   /* shard rows the database already holds or keeps */
    int n_sweeps;               /* the sweeps runs were taken for (their verdicts are stale) */
    char sweeps[8][64];
} merge_counts;

/* Fold every shard under dir (a submission, or a work directory of them) into
 * d, one transaction per shard. A shard row is taken when the database has no
 * final result for its key (absent, pending, running, interrupted), or holds a
 * failed one (failed, timeout, oom, crashed, diverged) or an interruption from
 * an earlier attempt than the shard's (as `run --retry-failed` would replace
 * it); an ok or skipped run is never replaced. So a run is never duplicated,
 * merging twice changes nothing, and a merge killed at any point leaves every
 * shard either folded in whole or not at all. */
hx_status merge_dir(db *d, const char *dir, merge_counts *c, char *err, size_t errlen);

/* What the shards of submission dir hold that is not in the database of h yet
 * (read through a connection of its own):
 * per shard status, counts into f as " ok=N interrupted=M"; returns the total,
 * and the unfinished rows through *unfinished. */
int merge_pending(struct sqlite3 *h, const char *dir, FILE *f, int *unfinished);

#endif
