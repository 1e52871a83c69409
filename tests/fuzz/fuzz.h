/* fuzz.h: the fuzz targets and what they share (tests/fuzz/README.md).
 *
 * Each target is a plain function of the input bytes, returning 0. libFuzzer
 * calls it through libfuzzer.c (built once per target); the regression replay
 * of `make test` (tests/test_fuzz_regress.c) calls the same function on every
 * file of tests/fuzz/regress/<target>/. A target must never crash, leak or
 * trip a sanitizer on any input: bad input is an error status, not a bug.
 */
#ifndef EMBSWEEP_FUZZ_H
#define EMBSWEEP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"

typedef int (*fz_target)(const uint8_t *data, size_t size);

int fuzz_config(const uint8_t *data, size_t size);    /* cfg_load on a YAML file */
int fuzz_criteo(const uint8_t *data, size_t size);    /* ds_load, kind criteo */
int fuzz_avazu(const uint8_t *data, size_t size);     /* ds_load, kind avazu */
int fuzz_movielens(const uint8_t *data, size_t size); /* ds_load, kind movielens (three files) */
int fuzz_libfm(const uint8_t *data, size_t size);     /* ds_load, kind libfm */
int fuzz_cache(const uint8_t *data, size_t size);     /* ds_load over a patched cache file */
int fuzz_db(const uint8_t *data, size_t size);        /* db_open and the status queries */

/* The targets by name, for the replay; NULL-terminated. */
typedef struct fz_entry { const char *name; fz_target fn; } fz_entry;
extern const fz_entry fz_targets[];

/* ---- fuzz_util.c ---- */
#define FZ_PATH 512

/* This process's private temp dir (on /dev/shm when present, as the loaders
 * fsync what they write), created on first use and removed at exit; TMPDIR
 * points into it, so the loaders' own temp dirs land there too. */
const char *fz_dir(void);
/* Remove it now (the replay's children leave with _exit, skipping atexit). */
void fz_dir_remove(void);

/* Write b[0..n) to <dir>/name into path, gzip-compressed when gz; cut keeps
 * only the first half of the written file (a truncated stream). 0 on success. */
int fz_write(const char *name, const void *b, size_t n, int gz, int cut, char path[FZ_PATH]);

/* The loaders' leading flag byte: bit 0 gzip, 1 lenient (max_bad_frac 1),
 * 2 random split with negative down-sampling, 3 cut the gzip stream in half,
 * 4 min_count 2, 5 read at most 3 rows; bits 6-7 are the target's own. */
enum { FZ_GZIP = 1, FZ_LENIENT = 2, FZ_RANDOM = 4, FZ_CUT = 8, FZ_MINCOUNT = 16, FZ_ROWS = 32 };

/* Load a dataset of `kind` from path with the recipe keys the flags ask for
 * plus extra "key=value" strings (NULL-terminated, may be NULL), check what a
 * successful load returned (fz_check_data, values too), free it. A load of a
 * cut gzip stream (FZ_GZIP | FZ_CUT, all rows read) must fail: never less data. */
hx_status fz_load(const char *kind, const char *path, const char *cache_dir, unsigned flags,
                  const char *const *extra);

/* Abort (a finding) unless the splits add up, every id is below its field's
 * cardinality, every field name ends within its 32 bytes and every array can
 * be read whole; with values, also labels in
 * {0, 1} and finite dense values (what a loader writes, not a forged cache). */
void fz_check_data(const ds_data *d, int values);

#endif
