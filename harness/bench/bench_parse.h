/* bench_parse.h: the dataset parse benchmark inside `embsweep bench`
 * (harness/bench/bench_parse.c) and the bench table writer it shares with bench.c. */
#ifndef EMBSWEEP_BENCH_PARSE_H
#define EMBSWEEP_BENCH_PARSE_H

#include <sqlite3.h>
#include <stdint.h>

#include "harness/core/util.h"

/* One row of the bench table; ratio and vs_1 (vs_1_thread) <= 0 are stored as
 * NULL. 0 or -1. */
int bench_db_store(sqlite3 *db, const char *name, int threads, double rate, double ratio, double vs_1,
                   double cpu_rate, const char *host);
/* Write about mb MB of Criteo-format text (spread sets the vocabulary size,
 * see bench_parse.c), plain or gzip level 1, from seed. 0 or -1. */
int bench_gen_criteo(const char *path, double mb, double spread, uint64_t seed, int gzip);
/* Generate, build and time the parse cases, print them and store them in db.
 * 0 or -1 (message on stderr). */
int bench_parse(sqlite3 *db, const char *host, double mb, uint64_t seed);

#endif
