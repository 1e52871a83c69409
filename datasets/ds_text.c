/* ds_text.c: the shared tokenizer of the real-data loaders: a buffered line
 * reader over zlib (gzread reads plain files unchanged), column splitting with
 * memchr, whole-token integer/hex parsing, categorical keys, and the per-field
 * vocabularies (open addressing; final ids by train frequency, then key). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ds_text.h"


/* The read size for f: a regular file's size within READ_CHUNK_MIN..READ_CHUNK,
 * so a small file needs no megabyte buffers; READ_CHUNK for a pipe. A file
 * that grows meanwhile is still read whole, in chunks of this size. */
static size_t read_chunk(FILE *f) {
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size >= READ_CHUNK) return READ_CHUNK;
    return st.st_size < READ_CHUNK_MIN ? READ_CHUNK_MIN : (size_t)st.st_size;
}

hx_status ds_reader_open(ds_reader *r, const char *path, const char *what, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->f = fopen(path, "rb");
    if (!r->f)
        return hx_error(HX_ERR_IO, err, errlen, "cannot open '%s': %s (expected %s)", path, strerror(errno), what);
    r->chunk = read_chunk(r->f);
    r->cap = DS_MAX_LINE + r->chunk + 1;
    r->buf = hx_malloc(r->cap);
    int c0 = getc(r->f), c1 = getc(r->f);
    r->gzip = c0 == 0x1f && c1 == 0x8b;
    rewind(r->f);
    if (r->gzip) r->in = hx_malloc(r->chunk);
    if (!r->buf || (r->gzip && !r->in)) {
        ds_reader_close(r);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory opening '%s'", path);
    }
    if (r->gzip && inflateInit2(&r->z, 15 + 16) != Z_OK) {
        ds_reader_close(r);
        return hx_error(HX_ERR_NOMEM, err, errlen, "cannot start zlib for '%s'", path);
    }
    return HX_OK;
}

void ds_reader_close(ds_reader *r) {
    if (r->gzip) inflateEnd(&r->z);
    if (r->f) fclose(r->f);
    hx_free(r->buf);
    hx_free(r->in);
    memset(r, 0, sizeof *r);
}

/* Inflate into dst[0..room); returns bytes produced, sets eof/failed. Handles
 * concatenated gzip members; input ending inside a member is a failure. */
static size_t inflate_some(ds_reader *r, char *dst, size_t room) {
    r->z.next_out = (unsigned char *)dst;
    r->z.avail_out = (unsigned)room;
    while (r->z.avail_out > 0) {
        if (r->z.avail_in == 0) {
            size_t got = fread(r->in, 1, r->chunk, r->f);
            if (got == 0) {
                if (r->z.total_in > 0 || ferror(r->f)) { /* inside a member */
                    r->failed = 1;
                    snprintf(r->why, sizeof r->why, "%s", ferror(r->f) ? "read error" : "unexpected end of file");
                }
                r->eof = 1;
                break;
            }
            r->z.next_in = r->in;
            r->z.avail_in = (unsigned)got;
        }
        int zr = inflate(&r->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            inflateReset(&r->z); /* total_in = 0: a clean end between members */
            continue;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            r->failed = 1;
            r->eof = 1;
            snprintf(r->why, sizeof r->why, "%s", r->z.msg ? r->z.msg : "corrupt data");
            break;
        }
    }
    return room - r->z.avail_out;
}

/* Read more text after buf[end); sets eof/failed. */
static void fill(ds_reader *r) {
    if (r->eof) return;
    if (r->beg > 0) {
        memmove(r->buf, r->buf + r->beg, r->end - r->beg);
        r->end -= r->beg;
        r->beg = 0;
    }
    size_t room = r->cap - 1 - r->end;
    if (room > r->chunk) room = r->chunk;
    size_t got;
    if (r->gzip) {
        got = inflate_some(r, r->buf + r->end, room);
    } else {
        got = fread(r->buf + r->end, 1, room, r->f);
        if (got < room) {
            r->eof = 1;
            if (ferror(r->f)) r->failed = 1, snprintf(r->why, sizeof r->why, "read error");
        }
    }
    r->end += got;
}

int ds_reader_next(ds_reader *r, char **line, size_t *len) {
    int skipping = 0;
    for (;;) {
        char *start = r->buf + r->beg;
        char *nl = r->end > r->beg ? memchr(start, '\n', r->end - r->beg) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            r->beg += n + 1;
            r->bytes += n + 1;
            if (skipping) {
                r->line_no++;
                return DS_LINE_LONG;
            }
            if (n > DS_MAX_LINE) {
                r->line_no++;
                return DS_LINE_LONG;
            }
            if (n && start[n - 1] == '\r') n--;
            start[n] = 0;
            *line = start;
            *len = n;
            r->line_no++;
            return DS_LINE_OK;
        }
        if (r->end - r->beg > DS_MAX_LINE) { /* drop the over-long prefix, keep skipping */
            r->bytes += r->end - r->beg;
            r->beg = r->end;
            skipping = 1;
        }
        if (r->eof) {
            size_t n = r->end - r->beg;
            if (r->failed) { /* a partial last line of a broken stream is not a row */
                r->bytes += n;
                r->beg = r->end;
                r->failed = 0; /* report once */
                r->line_no++;
                return DS_LINE_TRUNC;
            }
            if (n == 0 && !skipping) return DS_LINE_EOF;
            r->beg = r->end;
            r->bytes += n;
            r->line_no++;
            if (skipping) return DS_LINE_LONG;
            if (n && start[n - 1] == '\r') n--;
            start[n] = 0; /* cap keeps one spare byte */
            *line = start;
            *len = n;
            return DS_LINE_OK;
        }
        fill(r);
    }
}

int ds_split(char *line, size_t len, char sep, char **col, size_t *clen, int max) {
    int n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *q = memchr(p, sep, (size_t)(end - p));
        char *e = q ? q : end;
        if (n < max) {
            col[n] = p;
            clen[n] = (size_t)(e - p);
            *e = 0;
        }
        n++;
        if (!q) return n;
        p = q + 1;
    }
}

int ds_parse_int(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '-' || s[0] == '+')) neg = s[0] == '-', i = 1;
    if (i == n || n - i > 18) return -1;
    int64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return -1;
        v = v * 10 + (int64_t)d;
    }
    *out = neg ? -v : v;
    return 0;
}

const unsigned char ds_hex_digit[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9,
    ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11,
    ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16}; /* value + 1; 0 = not hex */

int ds_parse_hex(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 16) return -1;
    uint64_t v = 0;
    unsigned ok = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned h = ds_hex_digit[(unsigned char)s[i]];
        ok &= h != 0;
        v = v << 4 | (uint64_t)((h - 1) & 15);
    }
    if (!ok) return -1;
    *out = v;
    return 0;
}

uint64_t ds_key(const char *s, size_t n) {
    uint64_t v = 0;
    if (n <= 7) { /* exact: length in the top byte, then the bytes */
        for (size_t i = 0; i < n; i++) v |= (uint64_t)(unsigned char)s[i] << (8 * i);
        return (uint64_t)n << 56 | v;
    }
    if (n == 8 && ds_parse_hex(s, 8, &v) == 0) { /* exact: tag 1 */
        int lower = 1;
        for (size_t i = 0; i < 8; i++) lower &= !(s[i] >= 'A' && s[i] <= 'F');
        if (lower) return 1ULL << 62 | v;
    }
    return 1ULL << 63 | (hx_fnv1a(s, n, 0) >> 1); /* tag 2: hashed */
}

/* ---- vocabularies ---- */

/* Doubles the slots and re-inserts the keys in id order (keys[] holds them),
 * prefetching DS_VOCAB_AHEAD ids ahead. The old slots are given back first, so
 * the kernel can hand their pages straight back (fresh pages cost more to
 * fault in); after a failure the vocabulary has no slots and the next call
 * sizes them from n again. Big slot arrays get huge pages (hx_big_calloc):
 * every lookup is a random slot, and with 4 KiB pages each would also miss
 * the TLB. */
static hx_status vocab_grow(ds_vocab *v) {
    size_t cap = v->cap ? v->cap * 2 : 64; /* small fields stay small */
    while (cap < 2 * (v->n + 1)) cap *= 2;
    hx_big_free(v->slot);
    v->slot = NULL, v->cap = 0;
    ds_slot *sl = hx_big_calloc(cap, sizeof *sl);
    if (!sl) return HX_ERR_NOMEM;
    for (size_t i = 0; i < cap; i++) sl[i].id = UINT32_MAX;
    for (size_t i = 0; i < v->n; i++) {
        if (i + DS_VOCAB_AHEAD < v->n) __builtin_prefetch(&sl[ds_slot_of(v->keys[i + DS_VOCAB_AHEAD], cap)], 1);
        size_t j = ds_slot_of(v->keys[i], cap);
        while (sl[j].id != UINT32_MAX) j = (j + 1) & (cap - 1);
        sl[j].key = v->keys[i];
        sl[j].id = (uint32_t)i;
    }
    v->slot = sl;
    v->cap = cap;
    return HX_OK;
}

hx_status ds_vocab_id(ds_vocab *v, uint64_t key, uint32_t *id) {
    if (2 * (v->n + 1) > v->cap && vocab_grow(v) != HX_OK) return HX_ERR_NOMEM;
    size_t j = ds_slot_of(key, v->cap);
    while (v->slot[j].id != UINT32_MAX) {
        if (v->slot[j].key == key) {
            *id = v->slot[j].id;
            return HX_OK;
        }
        j = (j + 1) & (v->cap - 1);
    }
    if (v->n >= UINT32_MAX - 1) return HX_ERR_PARAM;
    if (v->n == v->keys_cap) {
        size_t kc = v->keys_cap ? v->keys_cap * 2 : 32;
        uint64_t *k = hx_realloc(v->keys, kc * sizeof *k);
        if (!k) return HX_ERR_NOMEM;
        v->keys = k;
        v->keys_cap = kc;
    }
    v->keys[v->n] = key;
    v->slot[j].key = key;
    v->slot[j].id = (uint32_t)v->n;
    *id = (uint32_t)v->n++;
    return HX_OK;
}

hx_status ds_vocab_ids(ds_vocab *v, const uint64_t *key, size_t key_stride, size_t n, uint32_t *id,
                       size_t id_stride) {
    for (size_t i = 0; i < n && i < DS_VOCAB_AHEAD; i++) DS_VOCAB_PREFETCH(v, key[i * key_stride]);
    for (size_t i = 0; i < n; i++) {
        if (i + DS_VOCAB_AHEAD < n) DS_VOCAB_PREFETCH(v, key[(i + DS_VOCAB_AHEAD) * key_stride]);
        const uint64_t k = key[i * key_stride];
        if (v->cap) { /* a key seen before, the usual case, inline */
            const ds_slot *sl = v->slot;
            size_t j = ds_slot_of(k, v->cap);
            while (sl[j].id != UINT32_MAX && sl[j].key != k) j = (j + 1) & (v->cap - 1);
            if (sl[j].id != UINT32_MAX) {
                id[i * id_stride] = sl[j].id;
                continue;
            }
        }
        hx_status st = ds_vocab_id(v, k, &id[i * id_stride]); /* new: inserted there */
        if (st != HX_OK) return st;
    }
    return HX_OK;
}

typedef struct { uint64_t key; uint32_t count, pid; } vitem;

/* Radix digit d (11 bits) of the sort key (~count, key): digits 0..5 are the
 * key's (least significant first), 6..8 the inverted count's, so ascending
 * order is count desc, then key asc. */
#define RADIX_BITS 11
#define RADIX_DIGITS 9
static inline uint32_t vitem_digit(const vitem *x, int d) {
    uint64_t w = d < 6 ? x->key >> (RADIX_BITS * d) : (uint64_t)(~x->count) >> (RADIX_BITS * (d - 6));
    return (uint32_t)w & ((1u << RADIX_BITS) - 1);
}

/* Fewer items than this are insertion-sorted: the radix passes scan 2048
 * buckets per digit however few the items (a field with a handful of values). */
#define RADIX_MIN_ITEMS 16

static int vitem_before(const vitem *a, const vitem *b) {
    return a->count != b->count ? a->count > b->count : a->key < b->key;
}

static void vitem_insertion_sort(vitem *it, size_t m) {
    for (size_t i = 1; i < m; i++) {
        const vitem x = it[i];
        size_t j = i;
        for (; j > 0 && vitem_before(&x, &it[j - 1]); j--) it[j] = it[j - 1];
        it[j] = x;
    }
}

/* LSD radix sort of it[0..m) by (count desc, key asc), tmp (m) as scratch; a
 * digit every item shares is skipped (e.g. the high bits of 32-bit hex keys,
 * or of counts below 2048), so a typical vocabulary takes 4-5 passes. Returns
 * the buffer that holds the result. Keys are unique within a vocabulary, so
 * the order is total and the same as a comparison sort's (and the insertion
 * sort's, below RADIX_MIN_ITEMS). [R] */
static vitem *vitem_sort(vitem *it, vitem *tmp, size_t m, uint32_t *hist /* (DIGITS << BITS) */) {
    const size_t nb = (size_t)1 << RADIX_BITS;
    if (m < RADIX_MIN_ITEMS) {
        vitem_insertion_sort(it, m);
        return it;
    }
    memset(hist, 0, RADIX_DIGITS * nb * sizeof *hist);
    for (size_t i = 0; i < m; i++)
        for (int d = 0; d < RADIX_DIGITS; d++) hist[(size_t)d * nb + vitem_digit(&it[i], d)]++;
    vitem *src = it, *dst = tmp;
    for (int d = 0; d < RADIX_DIGITS; d++) {
        uint32_t *h = hist + (size_t)d * nb;
        if (h[vitem_digit(&src[0], d)] == m) continue; /* one value: order unchanged */
        uint32_t sum = 0;
        for (size_t b = 0; b < nb; b++) {
            uint32_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) dst[h[vitem_digit(&src[i], d)]++] = src[i];
        vitem *t = src;
        src = dst, dst = t;
    }
    return src;
}

hx_status ds_vocab_finalize(const ds_vocab *v, const uint32_t *count, int64_t min_count, uint32_t *map,
                            int64_t *card) {
    size_t cap = v->n ? v->n : 1;
    vitem *it = hx_malloc(cap * sizeof *it), *tmp = hx_malloc(cap * sizeof *tmp);
    /* the radix histograms (72 KB) only when the radix sort may run */
    const int radix = v->n >= RADIX_MIN_ITEMS;
    uint32_t *hist = radix ? hx_malloc((RADIX_DIGITS << RADIX_BITS) * sizeof *hist) : NULL;
    if (!it || !tmp || (radix && !hist)) {
        hx_free(it), hx_free(tmp), hx_free(hist);
        return HX_ERR_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < v->n; i++)
        if ((int64_t)count[i] >= min_count && count[i] > 0) it[m++] = (vitem){v->keys[i], count[i], (uint32_t)i};
    const vitem *s = vitem_sort(it, tmp, m, hist);
    for (size_t i = 0; i < v->n; i++) map[i] = (uint32_t)m; /* OOV */
    for (size_t i = 0; i < m; i++) map[s[i].pid] = (uint32_t)i;
    *card = (int64_t)m + 1;
    hx_free(it);
    hx_free(tmp);
    hx_free(hist);
    return HX_OK;
}

void ds_vocab_free(ds_vocab *v) {
    hx_big_free(v->slot);
    hx_free(v->keys);
    memset(v, 0, sizeof *v);
}
