/* bench.h: `embsweep bench`, the training, big-table and parse benchmarks
 * (bench.c, bench_big.c, bench_parse.c). harness/cli/bench_cli.c parses the
 * command line into a bench_opts and calls bench_run; results go to stdout and
 * to the `bench` table of the database. */
#ifndef EMBSWEEP_BENCH_H
#define EMBSWEEP_BENCH_H

#include <stdint.h>

#include "harness/core/util.h"

#define BENCH_MAX_ROUNDS 9

typedef struct bench_opts {
    const char *db;               /* results database (created if missing) */
    int64_t     rows;             /* rows of the synthetic Criteo-shaped data */
    int         batch, warm;      /* batch size; untimed steps before each measurement */
    int         steps;            /* timed steps; 0: the model's own default */
    int         torch, train;     /* 1: run the PyTorch side; 1: run the training benchmark */
    int         rounds;           /* 1..BENCH_MAX_ROUNDS; medians over them are reported */
    double      parse_mb, spread; /* parse benchmark text per case (0: skip); --gen vocabulary */
    const char *gen;              /* --gen FILE: only write generated Criteo text (bench_cli.c) */
    const char *model;            /* only this MLP shape, "default" or "dlrm_kaggle" (NULL: all) */
    int         big;              /* 1: the big-table benchmark (bench_big.c) */
    double      big_scale;        /* its big table: Criteo Kaggle's cardinalities times this */
    double      cold;             /* > 0: the cold case at the cardinalities times this */
    int         plain;            /* 1: huge pages and prefetch off (hx_big_set(0)) for the whole run */
} bench_opts;

/* The defaults of every option (`embsweep bench` without flags). */
void bench_opts_default(bench_opts *o);

/* Runs the training benchmark (o->train) over the MLP shapes, the big tables
 * (o->big, o->cold; bench_big.c), then the parse benchmark (o->parse_mb > 0),
 * printing to stdout and storing rows in o->db.
 * HX_OK, or a status with err set (the parse benchmark prints its own message
 * on stderr first). */
hx_status bench_run(const bench_opts *o, char *err, size_t errlen);

#endif
