/* libfm.c: libFM / libSVM style text (e.g. Frappe from the NFM/AFM papers), plain
 * or gzip: `label idx:val idx:val ...`, one-hot features with global indices.
 * The fields are recovered from index ranges: field_starts lists the first
 * global index of each field (ascending), e.g. Frappe
 *   field_starts: [0, 957, 5039, 5046, 5053, 5055, 5058, 5060, 5069, 5149]
 * A feature idx belongs to the last field whose start is <= idx; its id within
 * the field is idx - start. A field with no feature on a row takes the value
 * "missing"; two features in one field, or a val of 0, make the row bad. Labels:
 * > 0 is positive, else negative (so -1/1 and 0/1 both work). No dense features. */
#include <stdio.h>
#include <string.h>

#include "ds_text.h"

#define LIBFM_MAX_FIELDS 256

static const char *const k_what = "libFM/libSVM text: 'label idx:val ...' per line, space-separated";

const ds_param ds_libfm_params[] = {
    {"path", DSP_STRING, 0, 0, "", NULL, "the .libfm / .libsvm file (plain or gzip)"},
    {"field_starts", DSP_INT_LIST, 0, 4e9, "", NULL, "first global index of each field, ascending"},
    {"field_names", DSP_STR_LIST, 0, 0, "", NULL, "optional names, one per field"},
    DS_RECIPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct libfm_ctx {
    int         F;
    int64_t     start[LIBFM_MAX_FIELDS];
    char        names[LIBFM_MAX_FIELDS][32];
    const char *name_ptr[LIBFM_MAX_FIELDS];
} libfm_ctx;

static int parse(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                 size_t n) {
    (void)dense;
    const libfm_ctx *c = ctx;
    for (int f = 0; f < c->F; f++) keys[f] = 0; /* missing */
    char *p = line, *end = line + len;
    int first = 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (p == end) break;
        char *t = p;
        while (p < end && *p != ' ' && *p != '\t') p++;
        size_t tl = (size_t)(p - t);
        *p++ = 0;
        if (first) {
            double y;
            if (hx_parse_f64(t, &y)) {
                snprintf(why, n, "label '%.20s' is not a number", t);
                return DS_BAD_LABEL;
            }
            *label = y > 0 ? 1.0f : 0.0f;
            first = 0;
            continue;
        }
        char *colon = memchr(t, ':', tl);
        int64_t idx;
        double val;
        if (!colon || ds_parse_int(t, (size_t)(colon - t), &idx) || idx < 0 || hx_parse_f64(colon + 1, &val)) {
            snprintf(why, n, "feature '%.24s', expected idx:val", t);
            return DS_BAD_INT;
        }
        int lo = 0, hi = c->F - 1, f = -1; /* last start <= idx */
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            if (c->start[mid] <= idx) f = mid, lo = mid + 1;
            else hi = mid - 1;
        }
        if (f < 0 || val == 0 || keys[f]) {
            snprintf(why, n, "feature %lld: %s", (long long)idx,
                     f < 0 ? "below the first field start" : val == 0 ? "value 0" : "a second feature in its field");
            return DS_BAD_VALUE;
        }
        keys[f] = (uint64_t)(idx - c->start[f]) + 1;
    }
    if (first) {
        snprintf(why, n, "empty line");
        return DS_BAD_COLUMNS;
    }
    return -1;
}

hx_status ds_libfm_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d, char *err,
                         size_t errlen) {
    libfm_ctx *c = hx_calloc(1, sizeof *c);
    if (!c) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    c->F = ds_get_int_list(s, k, "field_starts", c->start, LIBFM_MAX_FIELDS);
    const char *names = ds_get_str(s, k, "field_names");
    for (int f = 0; f < c->F; f++) {
        size_t l = strcspn(names, ",");
        if (*names) snprintf(c->names[f], 32, "%.*s", (int)(l < 31 ? l : 31), names);
        else snprintf(c->names[f], 32, "field%d", f);
        names += l + (names[l] == ',');
        c->name_ptr[f] = c->names[f];
    }
    ds_source src = {.what = k_what, .path = ds_get_str(s, k, "path"), .n_dense = 0, .n_fields = c->F,
                     .field_names = c->name_ptr, .ctx = c, .parse = parse};
    hx_status st = ds_build(s, k, &src, cache_dir, d, err, errlen);
    hx_free(c);
    return st;
}

hx_status ds_libfm_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (!*ds_get_str(s, k, "path")) return hx_error(HX_ERR_PARAM, err, errlen, "path is required (%s)", k_what);
    int64_t st[LIBFM_MAX_FIELDS + 1];
    int n = ds_get_int_list(s, k, "field_starts", st, LIBFM_MAX_FIELDS + 1);
    if (n < 1 || n > LIBFM_MAX_FIELDS)
        return hx_error(HX_ERR_PARAM, err, errlen, "field_starts must list 1 to %d field starts, e.g. [0, 957, 5039]",
                        LIBFM_MAX_FIELDS);
    for (int i = 1; i < n; i++)
        if (st[i] <= st[i - 1])
            return hx_error(HX_ERR_PARAM, err, errlen, "field_starts must be strictly ascending (%lld after %lld)",
                            (long long)st[i], (long long)st[i - 1]);
    const char *names = ds_get_str(s, k, "field_names");
    int nn = *names ? 1 : 0;
    for (const char *p = names; *p; p++) nn += *p == ',';
    if (nn && nn != n)
        return hx_error(HX_ERR_PARAM, err, errlen, "field_names lists %d names for %d fields", nn, n);
    return HX_OK;
}
