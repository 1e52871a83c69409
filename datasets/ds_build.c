/* ds_build.c: the shared pipeline of the real-data loaders and the binary cache.
 *
 * Build (once per recipe and source):
 *   1. stream the text once: each good row is parsed, its categorical keys get
 *      provisional per-field ids (first-seen order; with max_ind_range R a key
 *      is first reduced modulo R, as DLRM's preprocessing), and (label, dense, ids) are
 *      appended to a raw temp file; bad rows are counted per kind, the first few
 *      reported with file:line, and skipped; the raw text is never held in RAM;
 *   2. assign rows to splits (sequential: the last test_frac rows are test, the
 *      val_frac before them validation, as DLRM's day split; or random from a
 *      seed) and down-sample train negatives (neg_rate, neg_seed);
 *   3. count values on the train rows only and build the vocabularies: ids by
 *      train count desc, then key; below min_count -> the field's OOV id (last);
 *   4. write the cache in split order with the remapped ids, to a temp file that
 *      is renamed into place (never read half-built).
 * Memory: the vocabularies (40-96 bytes per distinct value) and one byte per
 * row; a 45.8M-row Criteo file (33.8M values) needs about 2-2.5 GB
 * (extrapolated from a measured 3M-row build, datasets/README.md).
 *
 * The cache file's format and its checks are in ds_cache.c. Concurrent
 * builders serialise on flock(<cache>.lock); readers map only complete files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds_text.h"

#define MAX_REPORT 5

const char *const ds_bad_names[DS_BAD_KINDS] = {"wrong column count", "non-numeric integer", "bad hex",
                                                "bad label", "bad value", "over-long line",
                                                "truncated gzip"};


/* ---- the build ---- */

typedef struct build {
    const ds_source *src;
    int32_t  F, Dd;
    size_t   rec;        /* bytes of one raw record */
    ds_vocab *voc;       /* (F) */
    uint64_t  range;     /* max_ind_range: raw keys are reduced modulo it; 0 = off */
    int64_t  n, n_lines, n_bad, bad[DS_BAD_KINDS];
    char     first_bad[300];
} build;

static void note_bad(build *b, int kind, int64_t line, const char *why) {
    b->n_bad++;
    b->bad[kind]++;
    if (!b->first_bad[0]) snprintf(b->first_bad, sizeof b->first_bad, "%s:%lld: %s", b->src->path, (long long)line, why);
    if (b->n_bad <= MAX_REPORT)
        fprintf(stderr, "embsweep: %s:%lld: %s (%s); row skipped\n", b->src->path, (long long)line, why,
                ds_bad_names[kind]);
}

/* Give the m parsed rows of a batch (records rec, keys (m, F)) their
 * provisional ids, field by field (each field's ids stay in row order), and
 * append them to the raw file. */
static hx_status commit_rows(build *b, FILE *raw, char *rec, const uint64_t *keys, size_t m, char *err,
                             size_t errlen) {
    uint32_t *ids = (uint32_t *)(void *)(rec + 4 + (size_t)b->Dd * 4);
    for (int32_t f = 0; f < b->F; f++)
        if (ds_vocab_ids(&b->voc[f], keys + f, (size_t)b->F, m, ids + f, b->rec / 4) != HX_OK)
            return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory: vocabulary of field %d", f);
    if (m && (hx_io_fails() || fwrite(rec, b->rec, m, raw) != m))
        return hx_error(HX_ERR_IO, err, errlen, "cannot write the raw temp file: %s", strerror(errno));
    b->n += (int64_t)m;
    return HX_OK;
}

/* Pass over the text: good rows into the raw file, in batches of BATCH rows
 * whose vocabulary lookups run field by field [R] (ds_vocab_ids). */
#define BATCH 256
static hx_status stream_rows(build *b, FILE *raw, int64_t limit, char *err, size_t errlen) {
    const ds_source *src = b->src;
    ds_reader r;
    hx_status st = ds_reader_open(&r, src->path, src->what, err, errlen);
    if (st != HX_OK) return st;
    char *rec = hx_malloc(BATCH * b->rec);
    uint64_t *keys = hx_malloc((size_t)BATCH * (size_t)b->F * sizeof(uint64_t));
    size_t m = 0; /* rows parsed into the batch */
    if (!rec || !keys) {
        st = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory reading '%s'", src->path);
        goto out;
    }
    char *line, why[256];
    size_t len;
    int rc;
    for (int i = 0; i < src->skip_lines; i++)
        if (ds_reader_next(&r, &line, &len) != DS_LINE_OK) {
            st = hx_error(HX_ERR_FORMAT, err, errlen, "'%s': missing header line (expected %s)", src->path, src->what);
            goto out;
        }
    while ((limit == 0 || b->n + (int64_t)m < limit) && (rc = ds_reader_next(&r, &line, &len)) != DS_LINE_EOF) {
        b->n_lines++;
        if (rc == DS_LINE_LONG) {
            note_bad(b, DS_BAD_LONG, r.line_no, "line longer than 65536 bytes");
            continue;
        }
        if (rc == DS_LINE_TRUNC) { /* never "less data": a broken stream fails the build */
            st = hx_error(HX_ERR_FORMAT, err, errlen,
                          "%s:%lld: %s (%s): the file is truncated or corrupt; nothing was cached", src->path,
                          (long long)r.line_no, r.gzip ? "the compressed stream is broken" : "the read failed",
                          r.why);
            goto out;
        }
        why[0] = 0;
        float *label = (float *)(void *)(rec + m * b->rec), *dense = label + 1;
        uint64_t *k = keys + m * (size_t)b->F;
        int kind = src->parse(src->ctx, line, len, label, dense, k, why, sizeof why);
        if (kind >= 0) {
            note_bad(b, kind, r.line_no, why);
            continue;
        }
        if (b->range)
            for (int32_t f = 0; f < b->F; f++) k[f] %= b->range;
        if (++m == BATCH) {
            if ((st = commit_rows(b, raw, rec, keys, m, err, errlen)) != HX_OK) goto out;
            m = 0;
        }
    }
    st = commit_rows(b, raw, rec, keys, m, err, errlen);
out:
    hx_free(rec);
    hx_free(keys);
    ds_reader_close(&r);
    return st;
}

static double unit_hash(uint64_t seed, int64_t i) {
    return (double)(hx_splitmix64(hx_splitmix64(seed) ^ (uint64_t)i) >> 11) * 0x1.0p-53;
}

/* Split codes per row: 0 train, 1 validation, 2 test, 3 dropped. */
static void assign_rows(const ds_spec *s, const ds_kind *k, const float *labels, size_t rec, int64_t n,
                        uint8_t *as, int64_t cnt[4]) {
    double vf = ds_get_f64(s, k, "val_frac"), tf = ds_get_f64(s, k, "test_frac");
    double neg = ds_get_f64(s, k, "neg_rate");
    uint64_t sseed = (uint64_t)ds_get_int(s, k, "split_seed"), nseed = (uint64_t)ds_get_int(s, k, "neg_seed");
    int random = !strcmp(ds_get_str(s, k, "split"), "random");
    int64_t nt = llround((double)n * tf), nv = llround((double)n * vf);
    if (nv > n - nt) nv = n - nt;
    for (int i = 0; i < 4; i++) cnt[i] = 0;
    for (int64_t i = 0; i < n; i++) {
        uint8_t a;
        if (random) {
            double u = unit_hash(sseed, i);
            a = u < tf ? 2 : (u < tf + vf ? 1 : 0);
        } else {
            a = i >= n - nt ? 2 : (i >= n - nt - nv ? 1 : 0);
        }
        float y = *(const float *)(const void *)((const char *)labels + (size_t)i * rec);
        if (a == 0 && neg < 1 && y < 0.5f && unit_hash(nseed, i) >= neg) a = 3;
        as[i] = a;
        cnt[a]++;
    }
}

/* Field f's provisional id in raw record i. */
static inline uint32_t raw_id(const char *raw, size_t rec, size_t ids_off, int64_t i, int32_t f) {
    const uint32_t *ids = (const uint32_t *)(const void *)(raw + (size_t)i * rec + ids_off);
    return ids[f];
}

/* out (m, F) = the final ids of the raw records pick[0..m), field by field,
 * prefetching DS_VOCAB_AHEAD records ahead (as ds_vocab_ids). */
static void remap_rows(const char *raw, size_t rec, size_t ids_off, const int64_t *pick, int m,
                       uint32_t *const *map, int32_t F, uint32_t *out) {
    for (int32_t f = 0; f < F; f++) {
        const uint32_t *mf = map[f];
        for (int j = 0; j < m && j < DS_VOCAB_AHEAD; j++) __builtin_prefetch(&mf[raw_id(raw, rec, ids_off, pick[j], f)]);
        for (int j = 0; j < m; j++) {
            if (j + DS_VOCAB_AHEAD < m) __builtin_prefetch(&mf[raw_id(raw, rec, ids_off, pick[j + DS_VOCAB_AHEAD], f)]);
            out[(size_t)j * (size_t)F + (size_t)f] = mf[raw_id(raw, rec, ids_off, pick[j], f)];
        }
    }
}

static hx_status write_cache(const char *tmp, const ds_data *d, const build *b, const char *raw,
                             const uint8_t *as, uint32_t *const *map, uint64_t stamp, char *err,
                             size_t errlen) {
    ds_cache_hdr h;
    ds_cwriter w;
    const int32_t F = b->F, Dd = b->Dd;
    hx_status st = ds_cw_begin(&w, &h, tmp, F, d->card, b->src->field_names, d->recipe, err, errlen);
    if (st != HX_OK) return st;
    /* three sections, each in split order */
    uint32_t *row = hx_malloc((size_t)BATCH * (size_t)F * sizeof *row);
    int64_t *pick = hx_malloc(BATCH * sizeof *pick);
    if (!row || !pick) {
        hx_free(row), hx_free(pick);
        fclose(w.f);
        unlink(tmp);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory writing the cache");
    }
    for (int sec = 0; sec < 3; sec++) {
        if (sec == 0) h.off_dense = w.off;
        if (sec == 1) h.off_cat = w.off;
        if (sec == 2) h.off_label = w.off;
        for (uint8_t sp = 0; sp < 3; sp++)
            for (int64_t i = 0; i < b->n;) {
                int m = 0; /* the next BATCH rows of split sp */
                for (; i < b->n && m < BATCH; i++)
                    if (as[i] == sp) pick[m++] = i;
                if (sec == 1) {
                    remap_rows(raw, b->rec, 4 + (size_t)Dd * 4, pick, m, map, F, row);
                    ds_cw_put(&w, row, (size_t)m * (size_t)F * 4);
                }
                for (int j = 0; sec != 1 && j < m; j++) {
                    const char *r = raw + (size_t)pick[j] * b->rec;
                    if (sec == 0) ds_cw_put(&w, r + 4, (size_t)Dd * 4);
                    else ds_cw_put(&w, r, 4);
                }
            }
        ds_cw_pad(&w);
    }
    hx_free(row);
    hx_free(pick);
    h.recipe_hash = d->recipe_hash;
    h.source_stamp = stamp;
    h.n_rows = d->n_train + d->n_val + d->n_test;
    h.n_train = d->n_train, h.n_val = d->n_val, h.n_test = d->n_test;
    h.n_dense = Dd, h.n_fields = F;
    h.n_lines = b->n_lines, h.n_bad = b->n_bad;
    memcpy(h.bad, b->bad, sizeof h.bad);
    return ds_cw_end(&w, &h, tmp, err, errlen);
}

/* Step 1's verdict: bad rows are reported; none good, or more than max_bad_frac
 * of the lines bad, fails the build with the count of each kind. */
static hx_status check_bad_rows(const build *b, double max_bad_frac, char *err, size_t errlen) {
    const ds_source *src = b->src;
    if (b->n_bad)
        fprintf(stderr, "embsweep: %s: %lld bad row(s) of %lld skipped\n", src->path, (long long)b->n_bad,
                (long long)b->n_lines);
    if (b->n > 0 && (double)b->n_bad <= max_bad_frac * (double)b->n_lines) return HX_OK;
    char kinds[400] = "";
    for (int i = 0; i < DS_BAD_KINDS; i++)
        if (b->bad[i]) {
            size_t l = strlen(kinds);
            snprintf(kinds + l, sizeof kinds - l, "%s%lld %s", l ? ", " : "", (long long)b->bad[i], ds_bad_names[i]);
        }
    return hx_error(HX_ERR_FORMAT, err, errlen,
                    "'%s': %lld of %lld rows are bad (%s; max_bad_frac %g); first: %s. Expected %s", src->path,
                    (long long)b->n_bad, (long long)b->n_lines, kinds[0] ? kinds : "no rows", max_bad_frac,
                    b->first_bad[0] ? b->first_bad : "the file is empty", src->what);
}

/* The raw temp file rf, flushed and mapped read-only: *raw (*raw_len bytes). */
static hx_status map_raw(const build *b, FILE *rf, char **raw, size_t *raw_len, char *err, size_t errlen) {
    if (fflush(rf)) return hx_error(HX_ERR_IO, err, errlen, "cannot write the raw temp file: %s", strerror(errno));
    *raw_len = (size_t)b->n * b->rec;
    *raw = mmap(NULL, *raw_len, PROT_READ, MAP_PRIVATE, fileno(rf), 0);
    if (*raw == MAP_FAILED)
        return hx_error(HX_ERR_IO, err, errlen, "cannot map the raw temp file: %s", strerror(errno));
    return HX_OK;
}

/* Step 3: count each field's values on the train rows (as[i] == 0), then the
 * final vocabularies: map[f] from provisional to final ids, card[f]. The counts
 * and provisional vocabularies are freed as each field is done. 0, or -1 when
 * out of memory. */
static int build_vocabs(build *b, int64_t min_count, const char *raw, const uint8_t *as, uint32_t **cnt,
                        uint32_t **map, int64_t *card) {
    for (int32_t f = 0; f < b->F; f++) {
        cnt[f] = hx_big_calloc(b->voc[f].n ? b->voc[f].n : 1, sizeof **cnt); /* read at random: huge pages */
        map[f] = hx_big_calloc(b->voc[f].n ? b->voc[f].n : 1, sizeof **map);
        if (!cnt[f] || !map[f]) return -1;
    }
    const size_t ids_off = 4 + (size_t)b->Dd * 4;
    for (int64_t i0 = 0; i0 < b->n; i0 += BATCH) /* field by field in batches, as commit_rows */
        for (int32_t f = 0; f < b->F; f++) {
            const int64_t i1 = i0 + BATCH < b->n ? i0 + BATCH : b->n;
            uint32_t *c = cnt[f];
            for (int64_t i = i0; i < i1 && i < i0 + DS_VOCAB_AHEAD; i++)
                __builtin_prefetch(&c[raw_id(raw, b->rec, ids_off, i, f)], 1);
            for (int64_t i = i0; i < i1; i++) {
                if (i + DS_VOCAB_AHEAD < i1) __builtin_prefetch(&c[raw_id(raw, b->rec, ids_off, i + DS_VOCAB_AHEAD, f)], 1);
                uint32_t *x = &c[raw_id(raw, b->rec, ids_off, i, f)];
                if (as[i] == 0 && *x < UINT32_MAX) ++*x;
            }
        }
    for (int32_t f = 0; f < b->F; f++) {
        if (ds_vocab_finalize(&b->voc[f], cnt[f], min_count, map[f], &card[f]) != HX_OK) return -1;
        hx_big_free(cnt[f]);
        cnt[f] = NULL;
        ds_vocab_free(&b->voc[f]);
    }
    return 0;
}

/* Steps 1-4 of the file comment for one source into the cache file at path. */
static hx_status build_cache(const ds_spec *s, const ds_kind *k, const ds_source *src, const char *path,
                             uint64_t stamp, ds_data *d, char *err, size_t errlen) {
    build b;
    memset(&b, 0, sizeof b);
    b.src = src;
    b.F = src->n_fields, b.Dd = src->n_dense;
    b.rec = 4 + (size_t)b.Dd * 4 + (size_t)b.F * 4;
    b.range = (uint64_t)ds_get_int(s, k, "max_ind_range");
    char rawp[640], tmp[640];
    snprintf(rawp, sizeof rawp, "%s.raw.%d", path, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    hx_status st = HX_OK;
    char *raw = MAP_FAILED;
    size_t raw_len = 0;
    uint8_t *as = NULL;
    uint32_t **cnt = NULL, **map = NULL;
    int64_t *card = NULL, n_as[4];
    b.voc = hx_calloc((size_t)b.F, sizeof *b.voc);
    cnt = hx_calloc((size_t)b.F, sizeof *cnt);
    map = hx_calloc((size_t)b.F, sizeof *map);
    card = hx_calloc((size_t)b.F, sizeof *card);
    FILE *rf = fopen(rawp, "w+b");
    if (!rf) {
        st = hx_error(HX_ERR_IO, err, errlen, "cannot create '%s': %s", rawp, strerror(errno));
        goto out;
    }
    unlink(rawp); /* anonymous from here on: vanishes with the process */
    if (!b.voc || !cnt || !map || !card) goto nomem;
    setvbuf(rf, NULL, _IOFBF, 1 << 20);
    if ((st = stream_rows(&b, rf, ds_get_int(s, k, "rows"), err, errlen)) != HX_OK ||
        (st = check_bad_rows(&b, ds_get_f64(s, k, "max_bad_frac"), err, errlen)) != HX_OK ||
        (st = map_raw(&b, rf, &raw, &raw_len, err, errlen)) != HX_OK)
        goto out;
    if (!(as = hx_malloc((size_t)b.n))) goto nomem;
    assign_rows(s, k, (const float *)(const void *)raw, b.rec, b.n, as, n_as);
    d->n_train = n_as[0], d->n_val = n_as[1], d->n_test = n_as[2];
    d->n_rows = n_as[0] + n_as[1] + n_as[2];
    if (build_vocabs(&b, ds_get_int(s, k, "min_count"), raw, as, cnt, map, card)) goto nomem;
    d->card = card;
    st = write_cache(tmp, d, &b, raw, as, map, stamp, err, errlen);
    d->card = NULL;
    if (st == HX_OK && (hx_io_fails() || rename(tmp, path))) {
        st = hx_error(HX_ERR_IO, err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
    goto out;
nomem:
    st = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory building the cache of '%s'", src->path);
out:
    if (raw != MAP_FAILED && raw_len) munmap(raw, raw_len);
    if (rf) fclose(rf);
    for (int32_t f = 0; f < b.F; f++) {
        if (b.voc) ds_vocab_free(&b.voc[f]);
        if (cnt) hx_big_free(cnt[f]);
        if (map) hx_big_free(map[f]);
    }
    hx_free(b.voc);
    hx_free(cnt);
    hx_free(map);
    hx_free(card);
    hx_free(as);
    return st;
}

/* Hash of each source file's size and mtime; an error names a missing file. */
static hx_status source_stamp(const ds_source *src, uint64_t *stamp, char *err, size_t errlen) {
    uint64_t h = 0;
    for (int i = -1; i < 4; i++) {
        const char *p = i < 0 ? src->path : src->extra[i];
        if (!p) break;
        struct stat st;
        if (stat(p, &st))
            return hx_error(HX_ERR_IO, err, errlen, "cannot open '%s': %s (expected %s)", p, strerror(errno),
                            src->what);
        int64_t v[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
        h = hx_fnv1a(v, sizeof v, h);
    }
    *stamp = h;
    return HX_OK;
}

/* Remove what builders killed mid-build left in dir (<name>.bin.tmp.<pid>,
 * <name>.bin.raw.<pid>). The caller holds own_lock, the lock of the cache it is
 * about to build, so that cache's leftovers are stale; another cache's are
 * stale only when its lock can be taken at once (no builder of it is alive). */
static void remove_stale(const char *dir, const char *own_path) {
    DIR *dh = opendir(dir);
    if (!dh) return;
    const char *own = strrchr(own_path, '/') + 1;
    for (struct dirent *e; (e = readdir(dh));) {
        const char *m = strstr(e->d_name, ".bin.tmp.");
        if (!m) m = strstr(e->d_name, ".bin.raw.");
        if (!m || !m[9] || strspn(m + 9, "0123456789") != strlen(m + 9)) continue;
        char file[1100], lock[1100];
        const int stem = (int)(m - e->d_name) + 4; /* through ".bin" */
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        if (!strncmp(e->d_name, own, (size_t)stem) && own[stem] == 0) {
            unlink(file);
            continue;
        }
        snprintf(lock, sizeof lock, "%s/%.*s.lock", dir, stem, e->d_name);
        int fd = open(lock, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) unlink(file);
        if (fd >= 0) close(fd);
    }
    closedir(dh);
}

hx_status ds_cached(const char *cache_dir, uint64_t stamp, const char *what, ds_fill_fn fill, void *ctx,
                    ds_data *d, char *err, size_t errlen) {
    char dir[512], path[600], lock[640], why[120];
    int private_dir = !cache_dir;
    hx_status st = HX_OK;
    if (private_dir) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/embsweep-ds-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) return hx_error(HX_ERR_IO, err, errlen, "cannot create a temp dir: %s", strerror(errno));
    } else {
        snprintf(dir, sizeof dir, "%s", cache_dir);
        char mkerr[320];
        const hx_status mk = hx_mkdir_p(dir, mkerr, sizeof mkerr);
        if (mk != HX_OK) return hx_error(mk, err, errlen, "the dataset cache folder: %s", mkerr);
    }
    snprintf(path, sizeof path, "%s/%s_%016llx.bin", dir, d->kind, (unsigned long long)d->recipe_hash);
    snprintf(lock, sizeof lock, "%s.lock", path);
    why[0] = 0;
    int fd = -1;
    if (!private_dir) { /* a private dir is this call's alone: no lock, nothing to reuse */
        if (ds_cache_map(path, d->recipe_hash, stamp, d, why, sizeof why) == 0) return HX_OK;
        fd = open(lock, O_RDWR | O_CREAT, 0666);
        if (fd < 0 || flock(fd, LOCK_EX)) {
            st = hx_error(HX_ERR_IO, err, errlen, "cannot lock '%s': %s", lock, strerror(errno));
            goto out;
        }
        /* Someone may have built it while we waited for the lock. */
        if (ds_cache_map(path, d->recipe_hash, stamp, d, why, sizeof why) == 0) goto out;
        remove_stale(dir, path);
        if (why[0]) fprintf(stderr, "embsweep: dataset cache %s is %s; rebuilding\n", path, why);
        fprintf(stderr, "embsweep: building dataset cache %s from %s\n", path, what);
    }
    if ((st = fill(ctx, path, stamp, d, err, errlen)) != HX_OK) goto out;
    if (ds_cache_map(path, d->recipe_hash, stamp, d, why, sizeof why) != 0)
        st = hx_error(HX_ERR_IO, err, errlen, "cache '%s' unreadable right after writing: %s", path, why);
out:
    if (fd >= 0) close(fd); /* releases the lock */
    if (private_dir) {
        unlink(path);
        rmdir(dir);
    }
    return st;
}

typedef struct text_fill {
    const ds_spec   *s;
    const ds_kind   *k;
    const ds_source *src;
} text_fill;

static hx_status fill_text(void *ctx, const char *path, uint64_t stamp, ds_data *d, char *err, size_t errlen) {
    const text_fill *t = ctx;
    return build_cache(t->s, t->k, t->src, path, stamp, d, err, errlen);
}

hx_status ds_build(const ds_spec *s, const ds_kind *k, const ds_source *src, const char *cache_dir,
                   ds_data *d, char *err, size_t errlen) {
    uint64_t stamp = 0;
    hx_status st = source_stamp(src, &stamp, err, errlen);
    if (st != HX_OK) return st;
    text_fill t = {s, k, src};
    return ds_cached(cache_dir, stamp, src->path, fill_text, &t, d, err, errlen);
}
