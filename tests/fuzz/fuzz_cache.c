/* fuzz_cache.c: the dataset cache reader (ds_cache_map and layout_bad in
 * datasets/ds_cache.c) on crafted cache files. Once per process a valid cache
 * of 12 Criteo rows is built; each input edits a copy of its bytes:
 *   byte 0     flags: 1 keep the header checksum, 2 keep the payload checksum
 *              (as edited, else both are recomputed after the edits, so the
 *              reader's deeper checks are reached), 4 resize the file to the
 *              length in bytes 1-2 (u16 little-endian, modulo size + 256;
 *              growing pads with zeros);
 *   then       records [offset u16 LE][len u8][len bytes]: the bytes overwrite
 *              the file at offset (modulo its size; len modulo 9; cut at the end).
 * The header's fields sit at their offsets in ds_cache_hdr (datasets/ds_text.h,
 * e.g. n_rows 32, n_train 40, n_val 48, n_test 56; payload_sum 208, header_sum
 * 216; version 8, and off_prob 224, read in version 2 only). The edited file
 * replaces the cache; ds_load then maps it, and the mapped data must hold
 * fz_check_data, or refuses it and rebuilds from the rows. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/ds_text.h"
#include "fuzz.h"

enum { KEEP_HDR_SUM = 1, KEEP_PAYLOAD_SUM = 2, RESIZE = 4 };

static char g_src[FZ_PATH], g_cache[FZ_PATH], g_file[FZ_PATH];
static uint8_t *g_good; /* the valid cache's bytes */
static size_t g_good_len;

static hx_status load(ds_data **d) {
    char pathkv[FZ_PATH + 8], err[2048];
    char *kv[] = {pathkv};
    snprintf(pathkv, sizeof pathkv, "path=%s", g_src);
    ds_spec s;
    hx_status st = ds_spec_from_args(&s, "criteo", "criteo", 1, kv, err, sizeof err);
    return st != HX_OK ? st : ds_load(&s, g_cache, d, err, sizeof err);
}

static void die(const char *what) {
    fprintf(stderr, "fuzz_cache: %s\n", what);
    abort();
}

static void init(void) {
    char text[12 * 200];
    size_t used = 0;
    for (int r = 0; r < 12; r++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "%d", r % 3 == 0);
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%d", r + j);
        for (int j = 0; j < 26; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%x", (r + j) % 5);
        text[used++] = '\n';
    }
    if (fz_write("c.tsv", text, used, 0, 0, g_src)) die("cannot write the rows");
    snprintf(g_cache, sizeof g_cache, "%s/cache", fz_dir());
    ds_data *d = NULL;
    if (load(&d) != HX_OK) die("cannot build the cache");
    ds_free(d);
    char pat[FZ_PATH + 16];
    snprintf(pat, sizeof pat, "%s/criteo_*.bin", g_cache);
    glob_t g;
    if (glob(pat, 0, NULL, &g) || g.gl_pathc != 1) die("no cache file");
    snprintf(g_file, sizeof g_file, "%s", g.gl_pathv[0]);
    globfree(&g);
    FILE *f = fopen(g_file, "rb");
    if (!f || fseek(f, 0, SEEK_END)) die("cannot read the cache");
    g_good_len = (size_t)ftell(f);
    rewind(f);
    g_good = malloc(g_good_len);
    if (!g_good || fread(g_good, 1, g_good_len, f) != g_good_len) die("cannot read the cache");
    fclose(f);
}

int fuzz_cache(const uint8_t *data, size_t size) {
    if (!g_good) init();
    unsigned flags = size ? data[0] : 0;
    size_t at = 1, len = g_good_len;
    if ((flags & RESIZE) && size >= 3) len = (size_t)(data[1] | data[2] << 8) % (g_good_len + 256), at = 3;
    uint8_t *b = calloc(1, len > g_good_len ? len : g_good_len);
    if (!b) return 0;
    memcpy(b, g_good, len < g_good_len ? len : g_good_len);
    while (len && at + 3 <= size) {
        size_t off = (size_t)(data[at] | data[at + 1] << 8) % len, n = data[at + 2] % 9u;
        at += 3;
        if (n > size - at) n = size - at;
        if (n > len - off) n = len - off;
        memcpy(b + off, data + at, n);
        at += n;
    }
    ds_cache_hdr h;
    if (len >= sizeof h) {
        memcpy(&h, b, sizeof h);
        if (!(flags & KEEP_PAYLOAD_SUM) && len >= HDR_BYTES && len % 4 == 0)
            h.payload_sum = ds_cache_payload_sum(b, len);
        if (!(flags & KEEP_HDR_SUM)) h.header_sum = ds_cache_header_sum(&h);
        memcpy(b, &h, sizeof h);
    }
    FILE *f = fopen(g_file, "wb");
    if (!f) die("cannot write the cache");
    if (len && fwrite(b, 1, len, f) != len) die("cannot write the cache");
    fclose(f);
    free(b);
    ds_data *d = NULL;
    if (load(&d) != HX_OK) die("the cache was neither mapped nor rebuilt");
    fz_check_data(d, 0);
    ds_free(d);
    return 0;
}
