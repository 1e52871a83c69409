/* fuzz_libfm.c: the libFM loader (datasets/libfm.c) and its field_starts and
 * field_names checks. Input: a flag byte (fuzz.h; bit 6: field names too),
 * a first line that is the field_starts value (e.g. "0,10,100"), then the
 * file's bytes. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

int fuzz_libfm(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    const char *p = (const char *)data + !!size, *end = (const char *)data + size;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t first = nl ? (size_t)(nl - p) : (size_t)(end - p);
    char starts[400], names[400] = "";
    snprintf(starts, sizeof starts, "field_starts=%.*s", (int)(first < 300 ? first : 300), p);
    const char *body = nl ? nl + 1 : end;
    if (flags & 64) { /* as many names as starts: "f0,f1,..." */
        int n = 1;
        for (size_t i = 0; i < first; i++) n += p[i] == ',';
        size_t used = (size_t)snprintf(names, sizeof names, "field_names=f0");
        for (int i = 1; i < n && used + 8 < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, ",f%d", i);
    }
    char path[FZ_PATH];
    if (fz_write("train.libfm", body, (size_t)(end - body), flags & FZ_GZIP, flags & FZ_CUT, path)) return 0;
    const char *extra[] = {starts, names[0] ? names : NULL, NULL};
    fz_load("libfm", path, NULL, flags, extra);
    return 0;
}
