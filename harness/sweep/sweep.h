/* sweep.h: run the cells of a sweep in worker processes, at most `jobs` at once,
 * the parent being the only database writer; and `embsweep status` (status.c). */
#ifndef EMBSWEEP_SWEEP_H
#define EMBSWEEP_SWEEP_H

#include <stdio.h>

#include "config.h"
#include "db.h"

typedef struct sweep_opts {
    int jobs;          /* workers at once (>= 1) */
    int threads;       /* engine threads per worker (>= 1) */
    int force;         /* rerun runs that are already ok */
    int retry_failed;  /* rerun failed, timeout, oom, crashed, diverged runs */
    int tty;           /* live progress line instead of one line per run */
} sweep_opts;

typedef struct sweep_counts {
    int total;         /* runs scheduled in this invocation */
    int done, ok, failed, skipped_done, skipped_unreachable, kept_failed;
    int interrupted;   /* 1 if stopped by SIGINT/SIGTERM */
} sweep_counts;

/* Which runs to schedule: 1 if a run whose stored status is `status` ("" when
 * absent) should run under these options. */
int sweep_should_run(const char *status, const sweep_opts *o);

/* Run every scheduled cell; returns HX_OK unless the database failed. */
hx_status sweep_execute(const cfg_sweep *sw, db *d, int64_t invocation, const sweep_opts *o,
                        sweep_counts *out, char *err, size_t errlen);

/* `embsweep status`: per sweep of the database at db_path (opened read-only),
 * the runs in each status, the stored verdicts against full by kind, and the last
 * invocation, printed to f. */
hx_status sweep_status(const char *db_path, FILE *f, char *err, size_t errlen);

#endif
