/* criteo.c: Criteo Kaggle Display Advertising Challenge train.txt (plain or gzip).
 * Each line: label \t I1..I13 \t C1..C26 (40 tab-separated columns, no header).
 * I fields are integers, possibly empty or negative; dense = log(1 + max(x, 0)),
 * empty = 0, as DLRM's Kaggle preprocessing (recorded as dense=log1p_max0).
 * C fields are 32-bit hex (8 digits) or empty; an empty value is its own id. */
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

static int parse(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                 size_t n) {
    (void)ctx;
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

hx_status ds_criteo_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d, char *err,
                          size_t errlen) {
    ds_source src = {.what = k_what, .path = ds_get_str(s, k, "path"), .n_dense = 13, .n_fields = 26,
                     .field_names = k_names, .parse = parse};
    return ds_build(s, k, &src, cache_dir, d, err, errlen);
}

hx_status ds_criteo_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (!*ds_get_str(s, k, "path")) return hx_error(HX_ERR_PARAM, err, errlen, "path is required (%s)", k_what);
    return HX_OK;
}
