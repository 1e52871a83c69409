/* fuzz_util.c: what the fuzz targets share: the per-process temp dir, input
 * bytes written to files (plain, gzip, cut gzip), a dataset load with recipe
 * keys from the flag byte, and the invariants a loaded dataset must hold. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"

static char g_dir[256];

/* rm -r of a tree of plain files and folders. */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[FZ_PATH + 256];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void fz_dir_remove(void) {
    if (g_dir[0]) remove_tree(g_dir);
    g_dir[0] = 0;
}

const char *fz_dir(void) {
    if (g_dir[0]) return g_dir;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/embsweep-fuzz-XXXXXX", base);
    if (!mkdtemp(g_dir)) {
        perror("embsweep fuzz: mkdtemp");
        abort();
    }
    setenv("TMPDIR", g_dir, 1);
    static int registered;
    if (!registered) atexit(fz_dir_remove), registered = 1;
    return g_dir;
}

int fz_write(const char *name, const void *b, size_t n, int gz, int cut, char path[FZ_PATH]) {
    snprintf(path, FZ_PATH, "%s/%s", fz_dir(), name);
    if (!gz) {
        FILE *f = fopen(path, "wb");
        if (!f) return -1;
        int bad = n && fwrite(b, 1, n, f) != n;
        return fclose(f) || bad ? -1 : 0;
    }
    gzFile g = gzopen(path, "wb1");
    if (!g) return -1;
    int bad = n && gzwrite(g, b, (unsigned)n) != (int)n;
    if (gzclose(g) != Z_OK || bad) return -1;
    if (cut) {
        struct stat st;
        if (stat(path, &st) || truncate(path, st.st_size / 2)) return -1;
    }
    return 0;
}

void fz_check_data(const ds_data *d, int values) {
    if (d->n_rows < 0 || d->n_train < 0 || d->n_val < 0 || d->n_test < 0 ||
        d->n_train + d->n_val + d->n_test != d->n_rows || d->n_fields < 1 || d->n_dense < 0) {
        fprintf(stderr, "fuzz: bad counts: rows %lld = %lld + %lld + %lld, fields %d, dense %d\n",
                (long long)d->n_rows, (long long)d->n_train, (long long)d->n_val, (long long)d->n_test,
                d->n_fields, d->n_dense);
        abort();
    }
    const size_t N = (size_t)d->n_rows, F = (size_t)d->n_fields, Dd = (size_t)d->n_dense;
    volatile float sink = 0; /* every value is read: ASan sees an array shorter than its count */
    for (size_t f = 0; f < F; f++) {
        if (d->card[f] < 1) {
            fprintf(stderr, "fuzz: field %zu has cardinality %lld\n", f, (long long)d->card[f]);
            abort();
        }
        if (d->field_names && !memchr(d->field_names[f], 0, 32)) {
            fprintf(stderr, "fuzz: field %zu: the name is not NUL-terminated\n", f);
            abort();
        }
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t f = 0; f < F; f++)
            if ((int64_t)d->cat[i * F + f] >= d->card[f]) {
                fprintf(stderr, "fuzz: row %zu field %zu: id %u of cardinality %lld\n", i, f,
                        d->cat[i * F + f], (long long)d->card[f]);
                abort();
            }
        float y = d->label[i];
        sink += y;
        if (values && y != 0.0f && y != 1.0f) {
            fprintf(stderr, "fuzz: row %zu: label %g\n", i, (double)y);
            abort();
        }
        for (size_t j = 0; j < Dd; j++) {
            float x = d->dense[i * Dd + j];
            sink += x;
            if (values && !isfinite(x)) {
                fprintf(stderr, "fuzz: row %zu dense %zu: %g\n", i, j, (double)x);
                abort();
            }
        }
    }
    (void)sink;
}

hx_status fz_load(const char *kind, const char *path, const char *cache_dir, unsigned flags,
                  const char *const *extra) {
    char pathkv[FZ_PATH + 8];
    char *kv[DS_MAX_KEYS];
    int n = 0;
    snprintf(pathkv, sizeof pathkv, "path=%s", path);
    kv[n++] = pathkv;
    if (flags & FZ_LENIENT) kv[n++] = "max_bad_frac=1";
    if (flags & FZ_RANDOM) kv[n++] = "split=random", kv[n++] = "neg_rate=0.5";
    if (flags & FZ_MINCOUNT) kv[n++] = "min_count=2";
    if (flags & FZ_ROWS) kv[n++] = "rows=3";
    for (int i = 0; extra && extra[i] && n < DS_MAX_KEYS; i++) kv[n++] = (char *)extra[i];
    ds_spec s;
    char err[2048];
    hx_status st = ds_spec_from_args(&s, kind, kind, n, kv, err, sizeof err);
    if (st != HX_OK) return st;
    ds_data *d = NULL;
    st = ds_load(&s, cache_dir, &d, err, sizeof err);
    if (st == HX_OK && (flags & FZ_GZIP) && (flags & FZ_CUT) && !(flags & FZ_ROWS)) {
        fprintf(stderr, "fuzz: a cut gzip stream was loaded (%lld rows): it must fail\n", (long long)d->n_rows);
        abort();
    }
    if (st == HX_OK) fz_check_data(d, 1);
    else if (d) {
        fprintf(stderr, "fuzz: ds_load failed (%s) but returned a dataset\n", err);
        abort();
    }
    ds_free(d);
    return st;
}
