/* ds_text.h: streaming text input for the real-data loaders: a line reader over
 * plain or gzip files (zlib), column splitting, number and key parsing, the
 * per-field vocabularies, and the shared build pipeline (ds_build.c) that turns
 * a ds_source into a cached, memory-mapped ds_data (the cache file: ds_cache.c). */
#ifndef EMBSWEEP_DS_TEXT_H
#define EMBSWEEP_DS_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

#include "ds_internal.h"

#define DS_MAX_LINE 65536 /* longer lines are bad rows ("over-long line") */
#define READ_CHUNK (1u << 20) /* the most read or inflated at once */
#define READ_CHUNK_MIN 4096

/* ---- line reader ---- */
typedef struct ds_reader {
    FILE    *f;
    int      gzip;       /* 1: inflate (gzip magic seen), 0: plain text */
    z_stream z;
    unsigned char *in;   /* (chunk) compressed input; NULL for plain text */
    char    *buf;        /* (cap = DS_MAX_LINE + chunk + 1) */
    size_t   chunk;      /* bytes read or inflated at once: the file's size, within
                            READ_CHUNK_MIN..READ_CHUNK (READ_CHUNK when not a regular file) */
    size_t   cap, beg, end;
    int64_t  line_no;    /* 1-based number of the line last returned */
    uint64_t bytes;      /* text bytes consumed, newlines included */
    int      eof, failed;
    char     why[160];   /* zlib's message when failed */
} ds_reader;

enum { DS_LINE_EOF = 0, DS_LINE_OK = 1, DS_LINE_LONG = -1, DS_LINE_TRUNC = -2 };

hx_status ds_reader_open(ds_reader *r, const char *path, const char *what, char *err, size_t errlen);
/* Next line without its "\n" or "\r\n" (the text may be modified in place; valid
 * until the next call). Returns DS_LINE_OK, DS_LINE_EOF, DS_LINE_LONG (an over-long
 * line was skipped) or DS_LINE_TRUNC (the gzip stream ended early or a read
 * failed; any partial last line is dropped; EOF follows). */
int  ds_reader_next(ds_reader *r, char **line, size_t *len);
void ds_reader_close(ds_reader *r);

/* ---- columns and values ---- */
/* Split line[0..len) at sep into at most max columns (NUL-terminating each);
 * returns the number of columns found, which may exceed max. */
int ds_split(char *line, size_t len, char sep, char **col, size_t *clen, int max);
/* Whole-token parsers: 0 on success, -1 when the text is not such a number. */
int ds_parse_int(const char *s, size_t n, int64_t *out);
int ds_parse_hex(const char *s, size_t n, uint64_t *out); /* 1..16 hex digits */
/* Hex digit value + 1 of a byte (0-9, a-f, A-F); 0 for any other byte. */
extern const unsigned char ds_hex_digit[256];
/* A 64-bit key of a categorical token, exact for texts up to 7 bytes and for
 * 8-digit lower-case hex; a 63-bit hash otherwise [R]. "" is key 0. */
uint64_t ds_key(const char *s, size_t n);

/* ---- per-field vocabularies ---- */
typedef struct ds_slot { uint64_t key; uint32_t id, pad; } ds_slot; /* id UINT32_MAX = empty */

typedef struct ds_vocab {
    ds_slot  *slot;     /* (cap) open addressing, linear probing; one cache line per probe */
    size_t    cap, n;
    uint64_t *keys;     /* (n) provisional id -> key, in first-seen order */
    size_t    keys_cap;
} ds_vocab;

/* Fibonacci hashing: the top bits of key * 2^64/phi; cap is a power of two. */
static inline size_t ds_slot_of(uint64_t key, size_t cap) {
    uint64_t h = (key ^ key >> 29) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & (cap - 1);
}
/* Start loading key's slot into cache. A macro, not an inline function: GCC 12
 * at -O2 deems a function whose only statement is a prefetch free of effects
 * and deletes its calls (local-pure-const), prefetch and all. */
#define DS_VOCAB_PREFETCH(v, key) \
    __builtin_prefetch((v)->cap ? (const void *)&(v)->slot[ds_slot_of((key), (v)->cap)] : (const void *)(v))
/* Provisional id of key (first-seen order), inserting it if new. */
hx_status ds_vocab_id(ds_vocab *v, uint64_t key, uint32_t *id);
/* The same for n keys, key[i * key_stride] -> id[i * id_stride], in order (so
 * the ids are those of n calls of ds_vocab_id), prefetching the slot of the key
 * DS_VOCAB_AHEAD further: one field's lookups of many rows overlap their cache
 * misses in a steady stream, where a row's 26 fields at once overflow the
 * core's outstanding misses. */
enum { DS_VOCAB_AHEAD = 16 };
hx_status ds_vocab_ids(ds_vocab *v, const uint64_t *key, size_t key_stride, size_t n, uint32_t *id,
                       size_t id_stride);
/* Final ids: provisional ids with count >= min_count ordered by count desc, then
 * key asc, get 0..V-1; the rest map to the OOV id V. map (v->n); *card = V + 1. */
hx_status ds_vocab_finalize(const ds_vocab *v, const uint32_t *count, int64_t min_count, uint32_t *map,
                            int64_t *card);
void      ds_vocab_free(ds_vocab *v);

/* ---- the build pipeline ---- */
enum { DS_BAD_COLUMNS, DS_BAD_INT, DS_BAD_HEX, DS_BAD_LABEL, DS_BAD_VALUE, DS_BAD_LONG, DS_BAD_GZIP,
       DS_BAD_KINDS };
extern const char *const ds_bad_names[DS_BAD_KINDS];

/* A text source: one file streamed line by line, each line parsed by `parse`. */
typedef struct ds_source {
    const char *what;       /* the expected format, for messages */
    const char *path;       /* the streamed file */
    const char *extra[4];   /* other files the data depends on (stamped), NULL-ended */
    int         skip_lines; /* header lines */
    int32_t     n_dense, n_fields;
    const char *const *field_names; /* (n_fields) */
    void       *ctx;
    /* parse: fill label (0/1), dense (n_dense), keys (n_fields); return -1 for a
     * good row or a DS_BAD_* kind with a short reason in why. */
    int (*parse)(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys,
                 char *why, size_t n);
} ds_source;

/* The recipe keys every real kind shares (rows of its parameter table). */
#define DS_RECIPE_PARAMS                                                                           \
    {"min_count", DSP_INT, 1, 1e12, "1", NULL, "values seen fewer times in train map to OOV"},     \
    {"split", DSP_ENUM, 0, 0, "sequential", "sequential|random", "sequential: last rows are test"}, \
    {"split_seed", DSP_INT, 0, 9.2e18, "1", NULL, "seed of the random split"},                     \
    {"val_frac", DSP_FLOAT, 0, 0.5, "0.1", NULL, "validation share"},                              \
    {"test_frac", DSP_FLOAT, 0.001, 0.5, "0.1", NULL, "test share"},                               \
    {"neg_rate", DSP_FLOAT, 0.0001, 1, "1", NULL, "keep this share of train negatives (1 = all)"}, \
    {"neg_seed", DSP_INT, 0, 9.2e18, "1", NULL, "seed of the negative down-sampling"},             \
    {"rows", DSP_INT, 0, 1e12, "0", NULL, "read at most this many good rows (0 = all)"},            \
    {"max_bad_frac", DSP_FLOAT, 0, 1, "0.01", NULL, "fail when a larger share of rows is bad"},    \
    {"max_ind_range", DSP_INT_OFF, 0, 1e12, "0", NULL,                                             \
     "reduce raw values modulo this before the vocabulary (DLRM's --max-ind-range; 0 = off)"}

/* Load d from the cache for (spec, source), building it first when missing,
 * stale or corrupt. cache_dir NULL: build in a private temp dir, map, unlink. */
hx_status ds_build(const ds_spec *s, const ds_kind *k, const ds_source *src, const char *cache_dir,
                   ds_data *d, char *err, size_t errlen);

/* ---- the cache file (ds_cache.c) ----
 * A 4096-byte header, then the payload: card (F int64), names (F x 32 bytes),
 * the recipe text, dense (N x Dd float), cat (N x F uint32), label (N float),
 * and in version 2 the planted probabilities (N float), each 64-byte aligned.
 * Version 1 (no probabilities: the real-data loaders') and version 2 (a
 * generated dataset's) differ only in off_prob, which the header checksum of
 * a version 1 file does not cover. A mapped cache is trusted only when magic,
 * version, both checksums, recipe, source stamp and size match and every
 * count, offset and id lies inside the file (the last also guards against
 * forged headers). */
#define CACHE_VERSION 1      /* without probabilities */
#define CACHE_VERSION_PROB 2 /* with them */
#define HDR_BYTES 4096
#define DS_MAX_FIELDS 4096 /* sanity bounds of a header's counts */
#define DS_MAX_DENSE 4096

typedef struct ds_cache_hdr {
    char     magic[8];
    uint32_t version, hdr_bytes;
    uint64_t recipe_hash, source_stamp;
    int64_t  n_rows, n_train, n_val, n_test;
    int32_t  n_dense, n_fields;
    int64_t  n_lines, n_bad, bad[DS_BAD_KINDS];
    uint64_t off_card, off_names, off_recipe, recipe_len, off_dense, off_cat, off_label, file_size;
    uint64_t payload_sum, header_sum;
    uint64_t off_prob; /* version 2 only; the header's zero padding in version 1 */
} ds_cache_hdr;

/* The header checksum (FNV-1a of the header with header_sum = 0), and the
 * payload checksum of a whole cache file of file_size bytes. */
uint64_t ds_cache_header_sum(const ds_cache_hdr *h);
uint64_t ds_cache_payload_sum(const void *file, uint64_t file_size);

/* 0 and d filled (mapped read-only) when path holds a complete cache for this
 * recipe and source; else -1 with the reason in why ("" when the file does
 * not exist). */
int ds_cache_map(const char *path, uint64_t recipe_hash, uint64_t stamp, ds_data *d, char *why, size_t n);

/* The writer's output: bytes written (off) and their running checksum (sum,
 * the payload checksum once the header is skipped); err set on a failed write. */
typedef struct ds_cwriter { FILE *f; uint64_t sum, off; int err; } ds_cwriter;
void ds_cw_put(ds_cwriter *w, const void *p, size_t n);
void ds_cw_pad(ds_cwriter *w); /* zeros to the next 64-byte boundary */
/* Opens tmp and writes the header's placeholder and the sections card (F),
 * names (F) and recipe, filling their offsets in h; HX_ERR_IO with the reason
 * when tmp cannot be created. */
hx_status ds_cw_begin(ds_cwriter *w, ds_cache_hdr *h, const char *tmp, int32_t F, const int64_t *card,
                      const char *const *names, const char *recipe, char *err, size_t errlen);
/* Completes h (magic, version, sizes, checksums), writes it at offset 0,
 * syncs and closes tmp; on any failed write removes tmp and says why. */
hx_status ds_cw_end(ds_cwriter *w, ds_cache_hdr *h, const char *tmp, char *err, size_t errlen);

#endif
