/* bench_parse.h: the dataset parse benchmark inside `embsweep bench`
 * (harness/bench/bench_parse.c), the big-table benchmark (bench_big.c), and the
 * bench table writer and median they share with bench.c. */
#ifndef EMBSWEEP_BENCH_PARSE_H
#define EMBSWEEP_BENCH_PARSE_H

#include <sqlite3.h>
#include <stdint.h>

#include "harness/core/util.h"

/* One row of the bench table; ratio and vs_1 (vs_1_thread) <= 0 are stored as
 * NULL. 0 or -1. */
int bench_db_store(sqlite3 *db, const char *name, int threads, double rate, double ratio, double vs_1,
                   double cpu_rate, const char *host);
/* Sets ref (the row it is measured against) and vs_ref (the ratio to it) of the
 * row stored last. 0 or -1. */
int bench_db_set_ref(sqlite3 *db, const char *ref, double vs_ref);
/* Median of n values (n <= BENCH_MAX_ROUNDS); -1 when any is -1 (a failed
 * torch run). */
double bench_median(const double *v, int n);
/* The big-table benchmark (bench_big.c): small and big tables side by side and
 * the random-row probe when o->big, the cold case when o->cold > 0; rows stored
 * in db. */
struct bench_opts;
hx_status bench_big(sqlite3 *db, const char *host, const struct bench_opts *o, char *err, size_t errlen);
/* Write about mb MB of Criteo-format text (spread sets the vocabulary size,
 * see bench_parse.c), plain or gzip level 1, from seed. 0 or -1. */
int bench_gen_criteo(const char *path, double mb, double spread, uint64_t seed, int gzip);
/* Generate, build and time the parse cases, print them and store them in db.
 * 0 or -1 (message on stderr). */
int bench_parse(sqlite3 *db, const char *host, double mb, uint64_t seed);

#endif
