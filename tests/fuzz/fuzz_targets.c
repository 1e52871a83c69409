/* fuzz_targets.c: the fuzz targets by name (the replay in tests/ walks this
 * table over tests/fuzz/regress/<name>/). */
#include "fuzz.h"

const fz_entry fz_targets[] = {
    {"config", fuzz_config}, {"criteo", fuzz_criteo}, {"avazu", fuzz_avazu}, {"movielens", fuzz_movielens},
    {"libfm", fuzz_libfm},   {"cache", fuzz_cache},   {"db", fuzz_db},       {NULL, NULL},
};
