/* ds_write.c: write an encoded dataset back out as Criteo Kaggle text, so that a
 * generated dataset (criteo_synth at any scale, up to the full 45.8M rows) can
 * go through the real loader: `embsweep dataset gen FILE criteo_synth ...`.
 *
 * Row format (datasets/criteo.c reads it): label, 13 integer columns, 26 hex
 * columns, tab-separated, in split order (train, validation, test), so a
 * sequential split with the generator's val_frac and test_frac gives back the
 * same rows in each split.
 * - A dense value x = log1p(max(count, 0)) is written as the count
 *   round(expm1(x)); x = 0 (a missing, zero or negative count, which the
 *   loader does not tell apart) as an empty column [R].
 * - Id i of field f is written as 8 hex digits of a bijection of the 32-bit
 *   space salted by f [R]: distinct ids stay distinct, the values look like
 *   Criteo's hashed ones, and no field shares a value with another.
 * Reloading gives the same rows, labels and dense values (to float rounding of
 * expm1/log1p), and ids renumbered by train count (the loader's vocabulary).
 *
 * The text goes to FILE.tmp.<pid> (gzip level 1 when FILE ends in .gz) and is
 * renamed into place when complete: an error or a kill leaves no FILE. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ds_internal.h"

/* lowbias32 (a 32-bit integer hash whose every step is invertible) of id + salt. */
static uint32_t id_hex_value(uint32_t id, int32_t f) {
    uint32_t x = id + (uint32_t)f * 0x9E3779B9u;
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* One row of d as Criteo text into p (ROW_MAX bytes free); returns its end. */
static char *format_row(const ds_data *d, int64_t r, char *p) {
    static const char hex[] = "0123456789abcdef";
    *p++ = d->label[r] > 0.5f ? '1' : '0';
    const float *x = d->dense + r * 13;
    for (int j = 0; j < 13; j++) {
        *p++ = '\t';
        if (x[j] > 0.0f) p = put_u64(p, x[j] < 41.0f ? (uint64_t)llround(expm1((double)x[j])) : UINT64_C(1) << 59);
    }
    const uint32_t *c = d->cat + r * 26;
    for (int32_t f = 0; f < 26; f++) {
        uint32_t v = id_hex_value(c[f], f);
        *p++ = '\t';
        for (int s = 28; s >= 0; s -= 4) *p++ = hex[(v >> s) & 15];
    }
    *p++ = '\n';
    return p;
}

/* The text sink: a plain FILE or a gzip stream (level 1: the files are large). */
typedef struct out_file {
    FILE  *f;
    gzFile gz;
} out_file;

static int out_write(out_file *o, const char *buf, size_t n) {
    if (hx_io_fails()) return -1;
    if (o->gz) return gzwrite(o->gz, buf, (unsigned)n) == (int)n ? 0 : -1;
    return fwrite(buf, 1, n, o->f) == n ? 0 : -1;
}

static int out_close(out_file *o) {
    int bad = 0;
    if (o->gz) bad = gzclose(o->gz) != Z_OK;
    if (o->f) bad |= fclose(o->f) != 0;
    o->gz = NULL, o->f = NULL;
    return bad ? -1 : 0;
}

enum { CHUNK = 1 << 20, ROW_MAX = 512 }; /* a row is at most 1 + 13 * 21 + 26 * 9 + 1 bytes */

hx_status ds_write_criteo(const ds_data *d, const char *path, ds_progress_fn progress, void *arg, char *err,
                          size_t errlen) {
    if (d->n_dense != 13 || d->n_fields != 26 || !d->dense)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "Criteo text needs 13 dense features and 26 fields; this dataset has %d and %d",
                        d->n_dense, d->n_fields);
    size_t plen = strlen(path);
    char tmp[700];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= sizeof tmp)
        return hx_error(HX_ERR_PARAM, err, errlen, "path too long: '%s'", path);
    char *buf = hx_malloc(CHUNK + ROW_MAX);
    if (!buf) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    out_file o = {0};
    if (plen > 3 && !strcmp(path + plen - 3, ".gz")) o.gz = gzopen(tmp, "wb1");
    else if ((o.f = fopen(tmp, "wb"))) setvbuf(o.f, NULL, _IONBF, 0);
    hx_status st = HX_OK;
    if (!o.f && !o.gz) {
        st = hx_error(HX_ERR_IO, err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    size_t used = 0;
    int64_t step = d->n_rows / 20 > 0 ? d->n_rows / 20 : 1;
    for (int64_t r = 0; r < d->n_rows && st == HX_OK; r++) {
        used = (size_t)(format_row(d, r, buf + used) - buf);
        if (used >= CHUNK) {
            if (out_write(&o, buf, used)) st = HX_ERR_IO;
            used = 0;
        }
        if (progress && (r + 1) % step == 0) progress(arg, r + 1, d->n_rows);
    }
    if (st == HX_OK && used && out_write(&o, buf, used)) st = HX_ERR_IO;
    if (out_close(&o)) st = HX_ERR_IO;
    if (st == HX_OK && (hx_io_fails() || rename(tmp, path))) st = HX_ERR_IO;
    if (st != HX_OK) {
        int e = errno;
        unlink(tmp);
        hx_error(st, err, errlen, "cannot write '%s': %s", path, e ? strerror(e) : "write failed");
    }
out:
    hx_free(buf);
    return st;
}
