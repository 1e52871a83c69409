/* criteo.c: Criteo Kaggle Display Advertising Challenge train.txt (plain or gzip).
 * Each line: label \t I1..I13 \t C1..C26 (40 tab-separated columns, no header).
 * I fields are integers, possibly empty or negative; dense = log(1 + max(x, 0)),
 * empty = 0, as DLRM's Kaggle preprocessing (recorded as dense=log1p_max0).
 * C fields are 32-bit hex (8 digits) or empty; an empty value is its own id.
 * Rows are decoded in one pass (parse); unusual ones go to slow_parse, which
 * gives the same values or the bad-row reason (tests/test_parse.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ds_text.h"

static const char *const k_what = "a Criteo Kaggle TSV: label, I1-I13, C1-C26, 40 tab-separated columns, plain or gzip";

const ds_param ds_criteo_params[] = {
    {"path", DSP_STRING, 0, 0, "", NULL, "train.txt or train.txt.gz"},
    DS_RECIPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const char *const k_names[26] = {"C1",  "C2",  "C3",  "C4",  "C5",  "C6",  "C7",  "C8",  "C9",
                                        "C10", "C11", "C12", "C13", "C14", "C15", "C16", "C17", "C18",
                                        "C19", "C20", "C21", "C22", "C23", "C24", "C25", "C26"};

#define LOG1P_TABLE 4096

/* (float)log1p(v) for 0 < v < TABLE, filled as values are met (0 = not yet:
 * log1p(v) > 0 there), so a build pays only for the values its file holds. */
typedef struct criteo_ctx { float log1p[LOG1P_TABLE]; } criteo_ctx;

static float table_log1p(criteo_ctx *c, uint64_t v) {
    if (c->log1p[v] == 0.0f) c->log1p[v] = (float)log1p((double)v);
    return c->log1p[v];
}

/* The checking parser: splits the columns, then validates them in order; it
 * words the bad-row messages. parse (the fast path below) hands it every row
 * it cannot take. */
static int slow_parse(char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                      size_t n) {
    char *col[40];
    size_t cl[40];
    int nc = ds_split(line, len, '\t', col, cl, 40);
    if (nc != 40) {
        snprintf(why, n, "%d columns, expected 40", nc);
        return DS_BAD_COLUMNS;
    }
    if (cl[0] != 1 || (col[0][0] != '0' && col[0][0] != '1')) {
        snprintf(why, n, "label '%.20s', expected 0 or 1", col[0]);
        return DS_BAD_LABEL;
    }
    *label = col[0][0] == '1' ? 1.0f : 0.0f;
    for (int j = 0; j < 13; j++) {
        int64_t v = 0;
        if (cl[1 + j] && ds_parse_int(col[1 + j], cl[1 + j], &v)) {
            snprintf(why, n, "I%d '%.20s' is not an integer", j + 1, col[1 + j]);
            return DS_BAD_INT;
        }
        dense[j] = v > 0 ? (float)log1p((double)v) : 0.0f;
    }
    for (int j = 0; j < 26; j++) {
        const char *c = col[14 + j];
        uint64_t v;
        if (cl[14 + j] == 0) {
            keys[j] = 0;
        } else if (cl[14 + j] > 8 || ds_parse_hex(c, cl[14 + j], &v)) {
            snprintf(why, n, "C%d '%.20s' is not 32-bit hex", j + 1, c);
            return DS_BAD_HEX;
        } else {
            keys[j] = v + 1;
        }
    }
    return -1;
}

/* The value of the 8 hex digits at p into *v, all 8 bytes at once (SWAR [R]);
 * 0 when one of them is not a hex digit (0-9, a-f, A-F, as ds_hex_digit).
 * BETWEEN sets the top bit of each byte b with m < b < n (exact for every
 * byte; Anderson's bit twiddling hacks, "hasbetween"). A digit's value is its
 * low nibble, plus 9 for a letter (bit 6 set); the nibbles are then packed
 * pairwise and byte-swapped (the first digit is the most significant). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hex8 reads 8 bytes as a little-endian word"
#endif
#define ONES8 0x0101010101010101ULL
#define BETWEEN(x, m, n) \
    ((ONES8 * (127 + (n)) - ((x) & ONES8 * 127)) & ~(x) & (((x) & ONES8 * 127) + ONES8 * (127 - (m))) & ONES8 * 128)
static inline int hex8(const unsigned char *p, uint64_t *v) {
    uint64_t x;
    memcpy(&x, p, 8); /* little-endian: p[0] in the low byte */
    const uint64_t ok = BETWEEN(x, 0x2f, 0x3a) | BETWEEN(x | ONES8 * 0x20, 0x60, 0x67);
    uint64_t d = (x & ONES8 * 15) + ((x >> 6) & ONES8) * 9;
    d = ((d & 0x000F000F000F000FULL) << 4) | ((d >> 8) & 0x000F000F000F000FULL);
    d = (d | d >> 8) & 0x0000FFFF0000FFFFULL;
    d = (d | d >> 16) & 0xFFFFFFFFULL;
    *v = __builtin_bswap32((uint32_t)d);
    return ok == ONES8 * 128;
}

/* One pass over the line, no splitting or copying [R]: the usual row (label,
 * 13 optional decimal integers, 26 optional 1-8 digit hex values) is decoded in
 * place; anything else (a '+' sign, an over-long number, a wrong column count,
 * a bad character) goes to slow_parse, which gives the same result with its
 * message. The line is NUL-terminated at len, so every scan stops there. */
static int parse(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                 size_t n) {
    criteo_ctx *c = ctx;
    const unsigned char *p = (const unsigned char *)line, *end = p + len;
    if ((p[0] != '0' && p[0] != '1') || p[1] != '\t') return slow_parse(line, len, label, dense, keys, why, n);
    *label = p[0] == '1' ? 1.0f : 0.0f;
    p += 2;
    for (int j = 0; j < 13; j++) {
        int neg = *p == '-';
        p += neg;
        uint64_t v = 0;
        const unsigned char *q = p;
        for (unsigned d; (d = (unsigned)*p - '0') <= 9; p++) v = v * 10 + d;
        size_t nd = (size_t)(p - q);
        if (*p != '\t' || nd > 18 || (neg && nd == 0)) return slow_parse(line, len, label, dense, keys, why, n);
        dense[j] = neg || v == 0 ? 0.0f : v < LOG1P_TABLE ? table_log1p(c, v) : (float)log1p((double)v);
        p++;
    }
    for (int j = 0; j < 26; j++) {
        uint64_t v = 0;
        const size_t left = (size_t)(end - p); /* the usual value: 8 digits, then a tab or the end */
        if (left >= 8 && (j < 25 ? left > 8 && p[8] == '\t' : left == 8) && hex8(p, &v)) {
            keys[j] = v + 1;
            p += 9;
            continue;
        }
        v = 0; /* hex8 wrote a partial value */
        const unsigned char *q = p;
        for (unsigned h; (h = ds_hex_digit[*p]) != 0; p++) v = v << 4 | (h - 1);
        size_t nd = (size_t)(p - q);
        if (nd > 8 || (j < 25 ? *p != '\t' : p != end)) return slow_parse(line, len, label, dense, keys, why, n);
        keys[j] = nd ? v + 1 : 0;
        p++;
    }
    return -1;
}

hx_status ds_criteo_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d, char *err,
                          size_t errlen) {
    criteo_ctx *c = hx_calloc(1, sizeof *c);
    if (!c) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    ds_source src = {.what = k_what, .path = ds_get_str(s, k, "path"), .n_dense = 13, .n_fields = 26,
                     .field_names = k_names, .ctx = c, .parse = parse};
    hx_status st = ds_build(s, k, &src, cache_dir, d, err, errlen);
    hx_free(c);
    return st;
}

hx_status ds_criteo_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (!*ds_get_str(s, k, "path")) return hx_error(HX_ERR_PARAM, err, errlen, "path is required (%s)", k_what);
    return HX_OK;
}
