/* fuzz_avazu.c: the Avazu loader (datasets/avazu.c: the header, then rows
 * through ds_build.c). Input: a flag byte (fuzz.h), then the CSV's bytes. */
#include "fuzz.h"

int fuzz_avazu(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    char path[FZ_PATH];
    if (fz_write("train.csv", data + !!size, size - !!size, flags & FZ_GZIP, flags & FZ_CUT, path)) return 0;
    fz_load("avazu", path, NULL, flags, NULL);
    return 0;
}
