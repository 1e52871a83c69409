/* fixtures.h: helpers for the dataset and CLI tests: temp dirs, tiny fixture
 * files written from the test code (plain and gzip), loading a spec from
 * "key=value" strings, running the built binary. Not a test file itself. */
#ifndef EMBSWEEP_TEST_FIXTURES_H
#define EMBSWEEP_TEST_FIXTURES_H

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zlib.h>

#include "datasets/dataset.h"

#define FX_UNUSED __attribute__((unused))

FX_UNUSED static void fx_tmpdir(char dir[64]) {
    snprintf(dir, 64, "/tmp/embsweep-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

FX_UNUSED static void fx_rmdir(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A generated dataset's ids and labels against a digest recorded with its
 * recipe hash. A cache is found by the recipe, and the recipe names the
 * generator's version, not its code: output that changes under the same recipe
 * is a generator changed without a new version, which would let a cache of the
 * old rows stand in for the new. The dense values are left out: they go through
 * libm, whose last bits may differ between CPUs; ids and labels hang on them
 * only at exact boundaries. */
FX_UNUSED static void fx_expect_pinned(const ds_data *d, uint64_t recipe_hash, uint64_t digest) {
    uint64_t h = hx_fnv1a(d->cat, (size_t)d->n_rows * (size_t)d->n_fields * sizeof *d->cat, 0);
    h = hx_fnv1a(d->label, (size_t)d->n_rows * sizeof *d->label, h);
    cr_expect_eq(d->recipe_hash, recipe_hash,
                 "the recipe changed (a new generator version, or a default): record its hash 0x%016llx and digest "
                 "0x%016llx in the test; the recipe: %s",
                 (unsigned long long)d->recipe_hash, (unsigned long long)h, d->recipe);
    if (d->recipe_hash == recipe_hash)
        cr_expect_eq(h, digest,
                     "the same recipe now gives other ids or labels (digest 0x%016llx): the generator changed, so "
                     "raise its version (SYN_GEN_VERSION, CS_GEN_VERSION) and record the new hash and digest",
                     (unsigned long long)h);
}

/* Run `$EMBSWEEP_BIN ARGS 2>&1` (the binary `make test` names); returns the exit
 * status, the output (truncated to n - 1 bytes) in out. */
FX_UNUSED static int fx_run_cli(const char *args, char *out, size_t n) {
    const char *bin = getenv("EMBSWEEP_BIN");
    cr_assert_not_null(bin, "EMBSWEEP_BIN is not set (run through make test)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t used = fread(out, 1, n - 1, p);
    out[used] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* One integer from a query on a read-only handle of db, -1 when no row. */
FX_UNUSED static long long fx_q_int(const char *db, const char *sql) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", db);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Run SQL statements on the SQLite file db (created if absent). */
FX_UNUSED static void fx_exec_sql(const char *db, const char *sql) {
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* n Criteo Kaggle rows into text (NUL-terminated): row r has label r % 2,
 * dense I_j = r + j and C_j = (r + j) % mod in hex. */
FX_UNUSED static void fx_criteo_text(char *text, size_t cap, int n, int mod) {
    size_t u = 0;
    for (int r = 0; r < n; r++) {
        u += (size_t)snprintf(text + u, cap - u, "%d", r % 2);
        for (int j = 0; j < 13; j++) u += (size_t)snprintf(text + u, cap - u, "\t%d", r + j);
        for (int j = 0; j < 26; j++) u += (size_t)snprintf(text + u, cap - u, "\t%x", (r + j) % mod);
        cr_assert_lt(u + 1, cap, "fixture text too long");
        text[u++] = '\n';
    }
    text[u] = 0;
}

FX_UNUSED static void fx_write_bytes(const char *dir, const char *name, const void *b, size_t n, char out[128]) {
    snprintf(out, 128, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

FX_UNUSED static void fx_write(const char *dir, const char *name, const char *text, char out[128]) {
    fx_write_bytes(dir, name, text, strlen(text), out);
}

FX_UNUSED static void fx_write_gz(const char *dir, const char *name, const void *b, size_t n, char out[128]) {
    snprintf(out, 128, "%s/%s", dir, name);
    gzFile g = gzopen(out, "wb9");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, b, (unsigned)n), (int)n);
    gzclose(g);
}

FX_UNUSED static char *fx_read(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*n + 1);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    b[*n] = 0;
    fclose(f);
    return b;
}

/* kv: a NULL-terminated list after a leading "" (see the macros). */
FX_UNUSED static hx_status fx_try_(const char *kind, const char *path, const char *cache, char *err, size_t n,
                                   ds_data **out, const char **kv) {
    char pathkv[300];
    char *args[DS_MAX_KEYS];
    int na = 0;
    if (path) {
        snprintf(pathkv, sizeof pathkv, "path=%s", path);
        args[na++] = pathkv;
    }
    for (const char **p = kv + 1; *p && na < DS_MAX_KEYS; p++) args[na++] = (char *)*p;
    ds_spec s;
    hx_status st = ds_spec_from_args(&s, kind, kind, na, args, err, n);
    if (st != HX_OK) return st;
    return ds_load(&s, cache, out, err, n);
}

FX_UNUSED static ds_data *fx_load_(const char *kind, const char *path, const char *cache, const char **kv) {
    char err[2048] = "";
    ds_data *d = NULL;
    hx_status st = fx_try_(kind, path, cache, err, sizeof err, &d, kv);
    cr_assert_eq(st, HX_OK, "loading %s '%s': %s", kind, path ? path : "", err);
    return d;
}

#define fx_try(kind, path, cache, err, n, out, ...) \
    fx_try_((kind), (path), (cache), (err), (n), (out), (const char *[]){"", ##__VA_ARGS__, NULL})
#define fx_load(kind, path, cache, ...) fx_load_((kind), (path), (cache), (const char *[]){"", ##__VA_ARGS__, NULL})

#endif
