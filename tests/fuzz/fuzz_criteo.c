/* fuzz_criteo.c: the Criteo loader (datasets/criteo.c and the shared pipeline
 * in ds_build.c, ds_text.c). Input: a flag byte (fuzz.h: gzip, cut stream,
 * recipe keys), then the file's bytes. Plain mode writes the bytes as they
 * are, so an input may also be a gzip stream of its own (the reader goes by
 * the magic bytes). */
#include "fuzz.h"

int fuzz_criteo(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    char path[FZ_PATH];
    if (fz_write("train.txt", data + !!size, size - !!size, flags & FZ_GZIP, flags & FZ_CUT, path)) return 0;
    fz_load("criteo", path, NULL, flags, NULL);
    return 0;
}
