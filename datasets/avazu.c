/* avazu.c: Avazu CTR Prediction (Kaggle 2014) train CSV, plain or gzip.
 * A header line names the columns (LF or CRLF endings). `id` (a uint64) is not
 * a feature, `click` is the label, `hour` (YYMMDDHH, UTC) becomes two fields,
 * hour_of_day and weekday (0 = Sunday); every other column is categorical, in
 * header order, keyed by its text. No dense features. */
#include <stdio.h>
#include <string.h>

#include "ds_text.h"

#define AVAZU_MAX_COLS 64

static const char *const k_what = "an Avazu CSV: a header with id, click, hour and categorical columns, comma-separated";

const ds_param ds_avazu_params[] = {
    {"path", DSP_STRING, 0, 0, "", NULL, "train.csv or train.gz"},
    DS_RECIPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct avazu_ctx {
    int         ncols, id, click, hour;
    int         cat[AVAZU_MAX_COLS]; /* column of field 2.. */
    char        names[AVAZU_MAX_COLS][32];
    const char *name_ptr[AVAZU_MAX_COLS];
} avazu_ctx;

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_u64(const char *s, size_t n) {
    if (n == 0 || n > 20) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n < 20 || memcmp(s, "18446744073709551615", 20) <= 0;
}

static int parse(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                 size_t n) {
    (void)dense;
    const avazu_ctx *c = ctx;
    char *col[AVAZU_MAX_COLS];
    size_t cl[AVAZU_MAX_COLS];
    int nc = ds_split(line, len, ',', col, cl, AVAZU_MAX_COLS);
    if (nc != c->ncols) {
        snprintf(why, n, "%d columns, expected %d", nc, c->ncols);
        return DS_BAD_COLUMNS;
    }
    if (!is_u64(col[c->id], cl[c->id])) {
        snprintf(why, n, "id '%.24s' is not an unsigned 64-bit integer", col[c->id]);
        return DS_BAD_INT;
    }
    if (cl[c->click] != 1 || (col[c->click][0] != '0' && col[c->click][0] != '1')) {
        snprintf(why, n, "click '%.20s', expected 0 or 1", col[c->click]);
        return DS_BAD_LABEL;
    }
    *label = col[c->click][0] == '1' ? 1.0f : 0.0f;
    const char *h = col[c->hour];
    int64_t hv;
    if (cl[c->hour] != 8 || ds_parse_int(h, 8, &hv) || h[0] == '-' || h[0] == '+') {
        snprintf(why, n, "hour '%.20s', expected YYMMDDHH", h);
        return DS_BAD_VALUE;
    }
    int64_t yy = hv / 1000000, mm = hv / 10000 % 100, dd = hv / 100 % 100, hh = hv % 100;
    if (mm < 1 || mm > 12 || dd < 1 || dd > 31 || hh > 23) {
        snprintf(why, n, "hour '%.20s' is not a valid YYMMDDHH", h);
        return DS_BAD_VALUE;
    }
    int64_t wd = (days_from_civil(2000 + yy, mm, dd) % 7 + 11) % 7; /* 1970-01-01 was a Thursday */
    keys[0] = (uint64_t)hh;
    keys[1] = (uint64_t)wd;
    for (int f = 0; f < c->ncols - 3; f++) keys[2 + f] = ds_key(col[c->cat[f]], cl[c->cat[f]]);
    return -1;
}

/* The header names each column once, has id, click and hour, and at most
 * AVAZU_MAX_COLS columns; sets c->id, c->click and c->hour. */
static hx_status check_header(avazu_ctx *c, const char *path, char **col, char *err, size_t errlen) {
    if (c->ncols > AVAZU_MAX_COLS)
        return hx_error(HX_ERR_FORMAT, err, errlen, "'%s': the header has %d columns, at most %d (expected %s)",
                        path, c->ncols, AVAZU_MAX_COLS, k_what);
    c->id = c->click = c->hour = -1;
    for (int i = 0; i < c->ncols; i++) {
        for (int j = 0; j < i; j++)
            if (!strcmp(col[i], col[j]))
                return hx_error(HX_ERR_FORMAT, err, errlen,
                                "'%s': header column '%.40s' appears twice (columns %d and %d)", path, col[i],
                                j + 1, i + 1);
        if (!strcmp(col[i], "id")) c->id = i;
        else if (!strcmp(col[i], "click")) c->click = i;
        else if (!strcmp(col[i], "hour")) c->hour = i;
    }
    if (c->id < 0 || c->click < 0 || c->hour < 0)
        return hx_error(HX_ERR_FORMAT, err, errlen, "'%s': the header has no %s column; expected %s", path,
                        c->id < 0 ? "id" : c->click < 0 ? "click" : "hour", k_what);
    return HX_OK;
}

/* Read the header line and lay out the fields. */
static hx_status read_header(avazu_ctx *c, const char *path, char *err, size_t errlen) {
    ds_reader r;
    hx_status st = ds_reader_open(&r, path, k_what, err, errlen);
    if (st != HX_OK) return st;
    char *line, *col[AVAZU_MAX_COLS];
    size_t len, cl[AVAZU_MAX_COLS];
    if (ds_reader_next(&r, &line, &len) != DS_LINE_OK) {
        ds_reader_close(&r);
        return hx_error(HX_ERR_FORMAT, err, errlen, "'%s': no header line (expected %s)", path, k_what);
    }
    c->ncols = ds_split(line, len, ',', col, cl, AVAZU_MAX_COLS);
    st = check_header(c, path, col, err, errlen);
    if (st == HX_OK) {
        snprintf(c->names[0], 32, "hour_of_day");
        snprintf(c->names[1], 32, "weekday");
        for (int i = 0, nf = 2; i < c->ncols; i++)
            if (i != c->id && i != c->click && i != c->hour) {
                c->cat[nf - 2] = i;
                snprintf(c->names[nf++], 32, "%.31s", col[i]);
            }
    }
    ds_reader_close(&r);
    if (st != HX_OK) return st;
    const int nf = c->ncols - 1;
    for (int i = 0; i < nf; i++) c->name_ptr[i] = c->names[i];
    return HX_OK;
}

hx_status ds_avazu_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d, char *err,
                         size_t errlen) {
    avazu_ctx *c = hx_calloc(1, sizeof *c);
    if (!c) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    const char *path = ds_get_str(s, k, "path");
    hx_status st = read_header(c, path, err, errlen);
    if (st == HX_OK) {
        ds_source src = {.what = k_what, .path = path, .skip_lines = 1, .n_dense = 0,
                         .n_fields = c->ncols - 1, .field_names = c->name_ptr, .ctx = c, .parse = parse};
        st = ds_build(s, k, &src, cache_dir, d, err, errlen);
    }
    hx_free(c);
    return st;
}

hx_status ds_avazu_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (!*ds_get_str(s, k, "path")) return hx_error(HX_ERR_PARAM, err, errlen, "path is required (%s)", k_what);
    return HX_OK;
}
