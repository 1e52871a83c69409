/* test_cache.c: the dataset cache: built once and memory-mapped after; rebuilt
 * when the source changes or the file is corrupt or truncated; concurrent
 * loaders build it once and never read a half-built file. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <glob.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "datasets/ds_text.h"
#include "fixtures.h"

/* n Criteo rows; row r has label r % 2 and C1 = r % 7. */
static void write_rows(const char *dir, int n, char path[128]) {
    static char text[400000];
    fx_criteo_text(text, sizeof text, n, 7);
    fx_write(dir, "c.tsv", text, path);
}

/* The one cache file of kind in cache. */
static void kind_file(const char *cache, const char *kind, char out[256]) {
    char pat[160];
    snprintf(pat, sizeof pat, "%s/%s_*.bin", cache, kind);
    glob_t g;
    cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no cache file in %s", cache);
    cr_assert_eq(g.gl_pathc, 1u);
    snprintf(out, 256, "%s", g.gl_pathv[0]);
    globfree(&g);
}

static void cache_file(const char *cache, char out[256]) { kind_file(cache, "criteo", out); }

static ino_t inode(const char *p) {
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    return st.st_ino;
}

Test(cache, built_once_then_mapped_and_rebuilt_when_stale_or_corrupt) {
    char dir[64], cache[128], path[128], file[256];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/results/cache", dir);
    write_rows(dir, 100, path);
    ds_data *a = fx_load("criteo", path, cache);
    cr_assert_not_null(a->map, "loaded from the mapped cache");
    cache_file(cache, file);
    ino_t ino = inode(file);
    ds_data *b = fx_load("criteo", path, cache);
    cr_assert_eq(inode(file), ino, "reused, not rebuilt");
    cr_assert_eq(b->n_rows, 100);
    cr_assert(!memcmp(a->cat, b->cat, 100 * 26 * 4));
    cr_assert(!memcmp(a->dense, b->dense, 100 * 13 * 4));
    cr_assert(!memcmp(a->label, b->label, 100 * 4));
    cr_assert_str_eq(a->field_names[3], "C4");
    cr_assert_eq(a->card[0], b->card[0]);
    ds_free(b);

    /* corrupt one payload byte: detected by the checksum, rebuilt */
    size_t n;
    char *bytes = fx_read(file, &n);
    bytes[n - 100] ^= 0x40;
    FILE *f = fopen(file, "r+b");
    cr_assert_not_null(f);
    fseek(f, (long)(n - 100), SEEK_SET);
    fputc(bytes[n - 100], f);
    fclose(f);
    free(bytes);
    b = fx_load("criteo", path, cache);
    cr_assert_neq(inode(file), ino, "corrupt cache rebuilt");
    cr_assert(!memcmp(a->cat, b->cat, 100 * 26 * 4));
    ds_free(b);

    /* truncated: rebuilt */
    ino = inode(file);
    cr_assert_eq(truncate(file, (off_t)(n - 64)), 0);
    b = fx_load("criteo", path, cache);
    cr_assert_neq(inode(file), ino, "truncated cache rebuilt");
    cr_assert_eq(b->n_rows, 100);
    ds_free(b);

    /* the source changes: rebuilt with the new rows (same recipe, same id) */
    sleep(0); /* the stamp uses nanosecond mtimes and the size */
    write_rows(dir, 120, path);
    b = fx_load("criteo", path, cache);
    cr_assert_eq(b->n_rows, 120);
    cr_assert_str_eq(a->id, b->id);
    ds_free(b);

    /* another recipe: another file beside it */
    b = fx_load("criteo", path, cache, "min_count=2");
    cr_assert_str_neq(a->id, b->id);
    ds_free(b);
    ds_free(a);
    fx_rmdir(dir);
}

/* Forged caches: header counts, offsets or ids changed with both checksums
 * recomputed, as a hostile file would be. Each is refused and rebuilt, never
 * mapped (a forged n_test once sent the label mean past the mapping). */
enum { FORGE_ROWS, FORGE_TEST, FORGE_FIELDS, FORGE_OFF_LABEL, FORGE_OFF_CAT, FORGE_ID, FORGE_CARD, N_FORGE };

static void forge(char *b, size_t n, int how) {
    ds_cache_hdr *h = (ds_cache_hdr *)(void *)b;
    switch (how) {
    case FORGE_ROWS: h->n_rows *= 1000, h->n_train = h->n_rows - h->n_val - h->n_test; break;
    case FORGE_TEST: h->n_test += 1 << 30, h->n_train -= 1 << 30; break;
    case FORGE_FIELDS: h->n_fields = 0; break;
    case FORGE_OFF_LABEL: h->off_label = (uint64_t)n - 8; break;
    case FORGE_OFF_CAT: h->off_cat = UINT64_MAX - 3; break;
    case FORGE_ID: ((uint32_t *)(void *)(b + h->off_cat))[5] = 1u << 30; break;
    case FORGE_CARD: ((int64_t *)(void *)(b + h->off_card))[2] = 0; break;
    }
    h->payload_sum = ds_cache_payload_sum(b, h->file_size);
    h->header_sum = ds_cache_header_sum(h);
}

Test(cache, forged_headers_are_refused_and_rebuilt) {
    char dir[64], cache[128], path[128], file[256];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    write_rows(dir, 100, path);
    ds_free(fx_load("criteo", path, cache));
    cache_file(cache, file);
    size_t n;
    char *good = fx_read(file, &n);
    for (int how = 0; how < N_FORGE; how++) {
        char *b = malloc(n);
        cr_assert_not_null(b);
        memcpy(b, good, n);
        forge(b, n, how);
        char again[128];
        fx_write_bytes(cache, strrchr(file, '/') + 1, b, n, again);
        free(b);
        ino_t ino = inode(file);
        ds_data *d = fx_load("criteo", path, cache);
        cr_expect_neq(inode(file), ino, "forgery %d: rebuilt", how);
        cr_expect_eq(d->n_rows, 100, "forgery %d", how);
        ds_free(d);
    }
    free(good);
    fx_rmdir(dir);
}

Test(cache, concurrent_loaders_build_once) {
    char dir[64], cache[128], path[128], log[160];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    write_rows(dir, 2000, path);
    fflush(NULL);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            FILE *lf = freopen(log, "a", stderr);
            setvbuf(lf, NULL, _IONBF, 0);
            char err[1024];
            ds_data *d = NULL;
            const char *kv[] = {"", NULL};
            int ok = fx_try_("criteo", path, cache, err, sizeof err, &d, kv) == HX_OK && d->n_rows == 2000 &&
                     d->map != NULL;
            if (!ok) fprintf(stderr, "loader failed: %s %lld\n", err, d ? (long long)d->n_rows : -1LL);
            ds_free(d);
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status = 0;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "loader %d failed: %s", i, fx_read(log, &(size_t){0}));
    }
    size_t n;
    char *text = fx_read(log, &n);
    int builds = 0;
    for (char *p = text; (p = strstr(p, "building dataset cache")); p++) builds++;
    cr_assert_eq(builds, 1, "built %d times; log:\n%s", builds, text);
    free(text);
    fx_rmdir(dir);
}

/* A builder killed with -9 leaves <cache>.tmp.<pid>, as large as the cache.
 * The next build removes it; another cache's leftovers go too, unless a
 * builder of that cache is alive (holds its lock). */
Test(cache, stale_temp_files_removed_safely) {
    char dir[64], cache[128], path[128], file[256], p[400];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    write_rows(dir, 50, path);
    ds_free(fx_load("criteo", path, cache));
    cache_file(cache, file);
    unlink(file);
    const char *names[] = {"", ".tmp.999991", ".raw.999992"};
    for (int i = 1; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", file, names[i]);
        fx_write_bytes(cache, strrchr(p, '/') + 1, "x", 1, p);
    }
    /* another recipe's leftovers: one builder dead, one alive */
    char dead[400], alive[400], alive_lock[400];
    fx_write_bytes(cache, "criteo_00000000000000aa.bin.lock", "", 0, p);
    fx_write_bytes(cache, "criteo_00000000000000aa.bin.tmp.999993", "x", 1, dead);
    fx_write_bytes(cache, "criteo_00000000000000bb.bin.lock", "", 0, alive_lock);
    fx_write_bytes(cache, "criteo_00000000000000bb.bin.tmp.999994", "x", 1, alive);
    int fd = open(alive_lock, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    ds_data *d = fx_load("criteo", path, cache);
    cr_expect_eq(d->n_rows, 50);
    ds_free(d);
    for (int i = 1; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", file, names[i]);
        cr_expect_neq(access(p, F_OK), 0, "%s removed", p);
    }
    cr_expect_neq(access(dead, F_OK), 0, "a dead builder's file is removed");
    cr_expect_eq(access(alive, F_OK), 0, "a live builder's file is kept");
    close(fd);
    fx_rmdir(dir);
}

/* From a million rows a generated dataset loaded with a cache directory is
 * written once and mapped after (version 2: with its planted probabilities),
 * the same bytes as generating it in memory; below that it is not cached. A
 * corrupt or forged file is rebuilt, as a loader's is. */
#define GEN_KV "rows=1000000", "fields=2", "dense=1", "card_max=50"

static void expect_same_rows(const ds_data *a, const ds_data *b, const char *what) {
    const size_t N = (size_t)a->n_rows;
    cr_assert_eq(b->n_rows, a->n_rows, "%s", what);
    cr_expect_eq(b->n_test, a->n_test, "%s", what);
    cr_expect(!memcmp(a->card, b->card, 2 * sizeof(int64_t)), "%s: cardinalities", what);
    cr_expect(!memcmp(a->cat, b->cat, N * 2 * 4), "%s: ids", what);
    cr_expect(!memcmp(a->dense, b->dense, N * 4), "%s: dense", what);
    cr_expect(!memcmp(a->label, b->label, N * 4), "%s: labels", what);
    cr_assert(a->prob && b->prob, "%s: probabilities", what);
    cr_expect(!memcmp(a->prob, b->prob, N * 4), "%s: probabilities", what);
    cr_expect_eq(a->bayes_auc, b->bayes_auc, "%s", what);
    cr_expect_str_eq(a->field_names[1], b->field_names[1], "%s", what);
}

Test(cache, generated_rows_cached_from_a_million_rows, .timeout = 60) {
    char dir[64], cache[128], file[256];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    ds_data *mem = fx_load("synthetic", NULL, NULL, GEN_KV);
    cr_assert_null(mem->map, "no cache directory: generated in memory");
    ds_data *a = fx_load("synthetic", NULL, cache, GEN_KV);
    cr_assert_not_null(a->map, "mapped from the cache it wrote");
    expect_same_rows(mem, a, "first load");
    kind_file(cache, "synthetic", file);
    ino_t ino = inode(file);
    size_t n;
    char *good = fx_read(file, &n);
    const ds_cache_hdr *h = (const ds_cache_hdr *)(const void *)good;
    cr_expect_eq(h->version, (uint32_t)CACHE_VERSION_PROB);
    ds_data *b = fx_load("synthetic", NULL, cache, GEN_KV);
    cr_expect_eq(inode(file), ino, "reused, not regenerated");
    expect_same_rows(mem, b, "second load");
    ds_free(b);
    ds_free(a);

    /* a flipped probability, then an off_prob forged past the file: rebuilt */
    for (int how = 0; how < 2; how++) {
        char *c = malloc(n);
        cr_assert_not_null(c);
        memcpy(c, good, n);
        ds_cache_hdr *ch = (ds_cache_hdr *)(void *)c;
        if (how == 0) c[ch->off_prob + 4 * 1000] ^= 1;
        else {
            ch->off_prob = n - 64;
            ch->payload_sum = ds_cache_payload_sum(c, ch->file_size);
            ch->header_sum = ds_cache_header_sum(ch);
        }
        char again[128];
        fx_write_bytes(cache, strrchr(file, '/') + 1, c, n, again);
        free(c);
        ino = inode(file);
        ds_data *d = fx_load("synthetic", NULL, cache, GEN_KV);
        cr_expect_neq(inode(file), ino, "damage %d: rebuilt", how);
        expect_same_rows(mem, d, how ? "after a forged offset" : "after a flipped byte");
        ds_free(d);
    }
    free(good);
    ds_free(mem);

    /* below a million rows: generated each time, nothing written */
    ds_data *small = fx_load("synthetic", NULL, cache, "rows=999999", "fields=2", "dense=1", "card_max=50");
    cr_expect_null(small->map);
    ds_free(small);
    kind_file(cache, "synthetic", file); /* still only the million-row file */
    fx_rmdir(dir);
}

Test(cache, a_loaders_file_stays_version_1) {
    char dir[64], cache[128], path[128], file[256];
    fx_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    write_rows(dir, 20, path);
    ds_data *d = fx_load("criteo", path, cache);
    cr_expect_null(d->prob);
    ds_free(d);
    cache_file(cache, file);
    size_t n;
    char *b = fx_read(file, &n);
    const ds_cache_hdr *h = (const ds_cache_hdr *)(const void *)b;
    cr_expect_eq(h->version, (uint32_t)CACHE_VERSION, "readable by builds before version 2");
    cr_expect_eq(h->off_prob, 0u);
    ds_cache_hdr c = *h;
    c.header_sum = 0;
    cr_expect_eq(h->header_sum, hx_fnv1a(&c, offsetof(ds_cache_hdr, off_prob), 0),
                 "the checksum covers version 1's header only");
    free(b);
    fx_rmdir(dir);
}
