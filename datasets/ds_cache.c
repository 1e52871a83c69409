/* ds_cache.c: the binary dataset cache's file: checksums, the checks a mapped
 * file must pass before it is trusted, and the writer's checksumming output.
 *
 * The file (little-endian): a 4096-byte header (magic "EMBSWDS1", version,
 * recipe hash, source stamp = hash of each source file's size and mtime, counts,
 * section offsets, a checksum of the payload and one of the header), then
 * 64-byte aligned sections: card (F int64), field names (F x 32 bytes), recipe
 * text, dense (N, Dd) f32, cat (N, F) u32, label (N) f32, and in version 2 (a
 * generated dataset's) the planted probabilities (N) f32. A bad magic, version,
 * size, stamp or checksum means rebuild. Concurrent builders serialise on
 * flock(<cache>.lock) (ds_build.c); readers map only complete files. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds_text.h"

static uint64_t sum32(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    HX_ASSERT(n % 4 == 0);
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, b + i, 4);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

uint64_t ds_cache_payload_sum(const void *file, uint64_t file_size) {
    HX_ASSERT(file_size >= HDR_BYTES);
    return sum32(0, (const char *)file + HDR_BYTES, file_size - HDR_BYTES);
}

uint64_t ds_cache_header_sum(const ds_cache_hdr *h) {
    ds_cache_hdr c = *h;
    c.header_sum = 0;
    /* version 1's header ended before off_prob: its files keep their checksums */
    return hx_fnv1a(&c, h->version == CACHE_VERSION ? offsetof(ds_cache_hdr, off_prob) : sizeof c, 0);
}

/* Is [off, off + count * size) inside the payload, on an align boundary? */
static int region_ok(uint64_t off, uint64_t count, uint64_t size, uint64_t align, uint64_t file_size) {
    uint64_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) return 0;
    return off >= HDR_BYTES && off % align == 0 && off <= file_size && bytes <= file_size - off;
}

/* The header's counts and offsets against the file size, and every id against
 * its field's cardinality: a forged header (checksums recomputed) must not
 * send a reader outside the mapping. NULL when all hold, else the reason. */
static const char *layout_bad(const ds_cache_hdr *h, const char *base) {
    const uint64_t fs = h->file_size;
    if (h->n_rows < 0 || h->n_train < 0 || h->n_val < 0 || h->n_test < 0 || h->n_train > h->n_rows ||
        h->n_val > h->n_rows - h->n_train || h->n_test != h->n_rows - h->n_train - h->n_val) /* no overflow */
        return "corrupt (the split sizes do not add up to the rows)";
    if (h->n_fields < 1 || h->n_fields > DS_MAX_FIELDS || h->n_dense < 0 || h->n_dense > DS_MAX_DENSE)
        return "corrupt (field or dense-feature count out of range)";
    const uint64_t N = (uint64_t)h->n_rows, F = (uint64_t)h->n_fields, Dd = (uint64_t)h->n_dense;
    if (!region_ok(h->off_card, F, 8, 8, fs) || !region_ok(h->off_names, F, 32, 4, fs) ||
        !region_ok(h->off_recipe, h->recipe_len, 1, 1, fs) || !region_ok(h->off_dense, N, Dd * 4, 4, fs) ||
        !region_ok(h->off_cat, N, F * 4, 4, fs) || !region_ok(h->off_label, N, 4, 4, fs) ||
        (h->version == CACHE_VERSION_PROB && !region_ok(h->off_prob, N, 4, 4, fs)))
        return "corrupt (an offset or count points outside the file)";
    const int64_t *card = (const int64_t *)(const void *)(base + h->off_card);
    for (uint64_t f = 0; f < F; f++)
        if (card[f] < 1 || card[f] > (int64_t)UINT32_MAX) return "corrupt (a field cardinality out of range)";
    for (uint64_t f = 0; f < F; f++) /* names are printed with %s */
        if (!memchr(base + h->off_names + f * 32, 0, 32)) return "corrupt (a field name without its NUL)";
    const uint32_t *cat = (const uint32_t *)(const void *)(base + h->off_cat);
    for (uint64_t i = 0; i < N; i++)
        for (uint64_t f = 0; f < F; f++)
            if ((int64_t)cat[i * F + f] >= card[f]) return "corrupt (an id beyond its field's cardinality)";
    return NULL;
}

/* ---- mapping a cache ---- */

int ds_cache_map(const char *path, uint64_t recipe_hash, uint64_t stamp, ds_data *d, char *why, size_t n) {
    why[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    struct stat st;
    void *base = MAP_FAILED;
    if (fstat(fd, &st) || st.st_size < HDR_BYTES) {
        snprintf(why, n, "truncated");
        close(fd);
        return -1;
    }
    base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(why, n, "unreadable (%s)", strerror(errno));
        return -1;
    }
    const ds_cache_hdr *h = base;
    const char *bad = NULL;
    if (memcmp(h->magic, "EMBSWDS1", 8) || (h->version != CACHE_VERSION && h->version != CACHE_VERSION_PROB))
        bad = "not a cache of this version";
    else if (h->header_sum != ds_cache_header_sum(h)) bad = "corrupt (header checksum)";
    else if (h->recipe_hash != recipe_hash) bad = "for another recipe";
    else if (h->source_stamp != stamp) bad = "stale (the source file changed)";
    else if (h->file_size != (uint64_t)st.st_size) bad = "truncated";
    else if (h->file_size % 4) bad = "corrupt (the size is not a multiple of 4)"; /* the checksum reads words */
    else if (ds_cache_payload_sum(base, h->file_size) != h->payload_sum)
        bad = "corrupt (payload checksum)";
    else bad = layout_bad(h, base);
    if (bad) {
        snprintf(why, n, "%s", bad);
        munmap(base, (size_t)st.st_size);
        return -1;
    }
    char *b = base;
    d->map = base;
    d->map_len = (size_t)st.st_size;
    d->n_rows = h->n_rows, d->n_train = h->n_train, d->n_val = h->n_val, d->n_test = h->n_test;
    d->n_dense = h->n_dense, d->n_fields = h->n_fields;
    d->card = (int64_t *)(void *)(b + h->off_card);
    d->field_names = (char (*)[32])(void *)(b + h->off_names);
    d->dense = h->n_dense ? (float *)(void *)(b + h->off_dense) : NULL;
    d->cat = (uint32_t *)(void *)(b + h->off_cat);
    d->label = (float *)(void *)(b + h->off_label);
    d->prob = h->version == CACHE_VERSION_PROB ? (float *)(void *)(b + h->off_prob) : NULL;
    return 0;
}

/* ---- writing a cache ---- */

void ds_cw_put(ds_cwriter *w, const void *p, size_t n) {
    if (n && (hx_io_fails() || fwrite(p, 1, n, w->f) != n)) w->err = 1;
    w->sum = sum32(w->sum, p, n);
    w->off += n;
}

void ds_cw_pad(ds_cwriter *w) {
    static const char zero[64];
    if (w->off % 64) ds_cw_put(w, zero, 64 - w->off % 64);
}

hx_status ds_cw_begin(ds_cwriter *w, ds_cache_hdr *h, const char *tmp, int32_t F, const int64_t *card,
                      const char *const *names, const char *recipe, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    *w = (ds_cwriter){0};
    w->f = fopen(tmp, "wb");
    if (!w->f) return hx_error(HX_ERR_IO, err, errlen, "cannot write cache '%s': %s", tmp, strerror(errno));
    setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    static const char zero[HDR_BYTES];
    if (hx_io_fails() || fwrite(zero, 1, HDR_BYTES, w->f) != HDR_BYTES) w->err = 1;
    w->off = HDR_BYTES;
    h->off_card = w->off;
    ds_cw_put(w, card, (size_t)F * sizeof(int64_t));
    ds_cw_pad(w);
    h->off_names = w->off;
    for (int32_t i = 0; i < F; i++) {
        char name[32] = {0};
        snprintf(name, sizeof name, "%s", names[i]);
        ds_cw_put(w, name, 32);
    }
    ds_cw_pad(w);
    h->off_recipe = w->off;
    h->recipe_len = strlen(recipe);
    ds_cw_put(w, recipe, h->recipe_len / 4 * 4);
    char tail[4] = {0};
    memcpy(tail, recipe + h->recipe_len / 4 * 4, h->recipe_len % 4);
    ds_cw_put(w, tail, 4);
    ds_cw_pad(w);
    return HX_OK;
}

hx_status ds_cw_end(ds_cwriter *w, ds_cache_hdr *h, const char *tmp, char *err, size_t errlen) {
    memcpy(h->magic, "EMBSWDS1", 8);
    h->version = h->off_prob ? CACHE_VERSION_PROB : CACHE_VERSION;
    h->hdr_bytes = HDR_BYTES;
    h->file_size = w->off;
    h->payload_sum = w->sum;
    h->header_sum = ds_cache_header_sum(h);
    FILE *f = w->f;
    if (fflush(f) || fseek(f, 0, SEEK_SET) || hx_io_fails() || fwrite(h, sizeof *h, 1, f) != 1 || fflush(f) ||
        hx_io_fails() || fsync(fileno(f)))
        w->err = 1;
    w->f = NULL;
    if (fclose(f) || w->err) {
        unlink(tmp);
        return hx_error(HX_ERR_IO, err, errlen, "cannot write cache '%s': %s", tmp, strerror(errno));
    }
    return HX_OK;
}

hx_status ds_cache_write(const char *path, const ds_data *g, uint64_t stamp, char *err, size_t errlen) {
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    const int32_t F = g->n_fields;
    const char *names[DS_MAX_FIELDS];
    HX_ASSERT(F >= 1 && F <= DS_MAX_FIELDS);
    for (int32_t f = 0; f < F; f++) names[f] = g->field_names ? g->field_names[f] : "";
    ds_cache_hdr h;
    ds_cwriter w;
    hx_status st = ds_cw_begin(&w, &h, tmp, F, g->card, names, g->recipe, err, errlen);
    if (st != HX_OK) return st;
    const size_t N = (size_t)g->n_rows;
    h.off_dense = w.off;
    if (g->n_dense) ds_cw_put(&w, g->dense, N * (size_t)g->n_dense * sizeof(float));
    ds_cw_pad(&w);
    h.off_cat = w.off;
    ds_cw_put(&w, g->cat, N * (size_t)F * sizeof(uint32_t));
    ds_cw_pad(&w);
    h.off_label = w.off;
    ds_cw_put(&w, g->label, N * sizeof(float));
    ds_cw_pad(&w);
    if (g->prob) {
        h.off_prob = w.off;
        ds_cw_put(&w, g->prob, N * sizeof(float));
        ds_cw_pad(&w);
    }
    h.recipe_hash = g->recipe_hash;
    h.source_stamp = stamp;
    h.n_rows = g->n_rows;
    h.n_train = g->n_train, h.n_val = g->n_val, h.n_test = g->n_test;
    h.n_dense = g->n_dense, h.n_fields = F;
    h.n_lines = g->n_rows;
    if ((st = ds_cw_end(&w, &h, tmp, err, errlen)) != HX_OK) return st;
    if (hx_io_fails() || rename(tmp, path)) {
        st = hx_error(HX_ERR_IO, err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
    return st;
}
