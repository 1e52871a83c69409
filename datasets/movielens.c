/* movielens.c: MovieLens 100K and 1M as CTR data (GroupLens files as distributed).
 *   100K: a directory with u.data (user \t item \t rating \t time), u.user
 *         (id|age|gender|occupation|zip) and u.item (id|title|date|video|url|19
 *         genre flags).
 *   1M:   a directory with ratings.dat (user::item::rating::time), users.dat
 *         (id::gender::age::occupation::zip) and movies.dat (id::title::genres).
 * `path` is the directory, or its u.data / ratings.dat. Fields: user, item, age,
 * gender, occupation, zip, genres; the genre set is one categorical value (the
 * 19 flags as text in 100K, the "A|B" genre list in 1M). label = rating >=
 * threshold (default 4, the usual CTR conversion; recorded). Rows keep the file
 * order (u.data is not sorted by time; use split: random for a shuffled split).
 * A rating whose user or item is missing from the side files gets the empty
 * value in those fields. No dense features. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ds_text.h"

#define ML_MAX_ID 10000000

static const char *const k_what =
    "MovieLens 100K (u.data, u.user, u.item) or 1M (ratings.dat, users.dat, movies.dat) in one directory";

const ds_param ds_movielens_params[] = {
    {"path", DSP_STRING, 0, 0, "", NULL, "the ml-100k or ml-1m directory (or its u.data / ratings.dat)"},
    {"threshold", DSP_INT, 1, 5, "4", NULL, "label = rating >= threshold"},
    DS_RECIPE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const char *const k_names[7] = {"user", "item", "age", "gender", "occupation", "zip", "genres"};

typedef struct ml_ctx {
    int       v1m;          /* 1M format ("::") */
    int64_t   threshold;
    uint64_t *user;         /* (n_user, 4): age, gender, occupation, zip keys */
    uint64_t *item;         /* (n_item) genres key */
    int64_t   n_user, n_item;
} ml_ctx;

/* Split at a one- or two-character separator ("|", "\t" or "::"). */
static int split_sep(char *line, size_t len, const char *sep, char **col, size_t *cl, int max) {
    if (!sep[1]) return ds_split(line, len, sep[0], col, cl, max);
    int n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *q = p;
        while (q + 1 < end && !(q[0] == sep[0] && q[1] == sep[1])) q++;
        int last = q + 1 >= end;
        char *e = last ? end : q;
        if (n < max) col[n] = p, cl[n] = (size_t)(e - p), *e = 0;
        n++;
        if (last) return n;
        p = q + 2;
    }
}

/* Read a side table (users or items): id in column 0, keys from the others. */
static hx_status read_side(ml_ctx *c, const char *path, int is_user, char *err, size_t errlen) {
    ds_reader r;
    hx_status st = ds_reader_open(&r, path, k_what, err, errlen);
    if (st != HX_OK) return st;
    char *line, *col[32];
    size_t len, cl[32];
    int rc;
    const int want = is_user ? 5 : (c->v1m ? 3 : 24);
    while ((rc = ds_reader_next(&r, &line, &len)) != DS_LINE_EOF) {
        if (rc == DS_LINE_TRUNC) { /* as the ratings: a broken stream fails, never fewer users or items */
            st = hx_error(HX_ERR_FORMAT, err, errlen, "%s:%lld: the file is truncated or corrupt (%s)", path,
                          (long long)r.line_no, r.why);
            break;
        }
        if (rc != DS_LINE_OK || len == 0) continue;
        int nc = split_sep(line, len, c->v1m ? "::" : "|", col, cl, 32);
        int64_t id;
        if (nc != want || ds_parse_int(col[0], cl[0], &id) || id < 0 || id >= ML_MAX_ID) {
            st = hx_error(HX_ERR_FORMAT, err, errlen, "%s:%lld: %d columns or a bad id (expected %s)", path,
                          (long long)r.line_no, nc, k_what);
            break;
        }
        int64_t *n = is_user ? &c->n_user : &c->n_item;
        uint64_t **tab = is_user ? &c->user : &c->item;
        int w = is_user ? 4 : 1;
        if (id >= *n) {
            int64_t nn = id + 1 > 2 * *n ? id + 1 : 2 * *n;
            uint64_t *t = hx_realloc(*tab, (size_t)nn * (size_t)w * sizeof *t);
            if (!t) {
                st = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory reading '%s'", path);
                break;
            }
            memset(t + *n * w, 0, (size_t)(nn - *n) * (size_t)w * sizeof *t);
            *tab = t, *n = nn;
        }
        uint64_t *o = *tab + id * w;
        if (is_user && !c->v1m) /* id|age|gender|occupation|zip */
            for (int j = 0; j < 4; j++) o[j] = ds_key(col[1 + j], cl[1 + j]);
        else if (is_user) { /* id::gender::age::occupation::zip */
            o[0] = ds_key(col[2], cl[2]), o[1] = ds_key(col[1], cl[1]);
            o[2] = ds_key(col[3], cl[3]), o[3] = ds_key(col[4], cl[4]);
        } else if (c->v1m) {
            o[0] = ds_key(col[2], cl[2]);
        } else { /* the 19 flags joined into one text */
            char flags[20];
            for (int j = 0; j < 19; j++) flags[j] = cl[5 + j] == 1 ? col[5 + j][0] : '?';
            o[0] = ds_key(flags, 19);
        }
    }
    ds_reader_close(&r);
    return st;
}

static int parse(void *ctx, char *line, size_t len, float *label, float *dense, uint64_t *keys, char *why,
                 size_t n) {
    (void)dense;
    const ml_ctx *c = ctx;
    char *col[5];
    size_t cl[5];
    int nc = split_sep(line, len, c->v1m ? "::" : "\t", col, cl, 5);
    if (nc != 4) {
        snprintf(why, n, "%d columns, expected 4 (user, item, rating, time)", nc);
        return DS_BAD_COLUMNS;
    }
    int64_t u, it, rating, t;
    for (int j = 0; j < 4; j++)
        if (ds_parse_int(col[j], cl[j], j == 0 ? &u : j == 1 ? &it : j == 2 ? &rating : &t)) {
            snprintf(why, n, "column %d '%.20s' is not an integer", j + 1, col[j]);
            return DS_BAD_INT;
        }
    if (rating < 0 || rating > 5 || u < 0 || it < 0) {
        snprintf(why, n, "rating %lld or ids out of range", (long long)rating);
        return DS_BAD_VALUE;
    }
    *label = rating >= c->threshold ? 1.0f : 0.0f;
    keys[0] = (uint64_t)u;
    keys[1] = (uint64_t)it;
    for (int j = 0; j < 4; j++) keys[2 + j] = u < c->n_user ? c->user[u * 4 + j] : 0;
    keys[6] = it < c->n_item ? c->item[it] : 0;
    return -1;
}

hx_status ds_movielens_build(const ds_spec *s, const ds_kind *k, const char *cache_dir, ds_data *d,
                             char *err, size_t errlen) {
    const char *path = ds_get_str(s, k, "path");
    char dir[512], ratings[600], users[600], items[600];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", path);
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) { /* a file: its directory */
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    ml_ctx c = {.threshold = ds_get_int(s, k, "threshold")};
    snprintf(ratings, sizeof ratings, "%s/ratings.dat", dir);
    c.v1m = stat(ratings, &st) == 0;
    if (!c.v1m) snprintf(ratings, sizeof ratings, "%s/u.data", dir);
    snprintf(users, sizeof users, "%s/%s", dir, c.v1m ? "users.dat" : "u.user");
    snprintf(items, sizeof items, "%s/%s", dir, c.v1m ? "movies.dat" : "u.item");
    hx_status rc = read_side(&c, users, 1, err, errlen);
    if (rc == HX_OK) rc = read_side(&c, items, 0, err, errlen);
    if (rc == HX_OK) {
        ds_source src = {.what = k_what, .path = ratings, .extra = {users, items, NULL}, .n_dense = 0,
                         .n_fields = 7, .field_names = k_names, .ctx = &c, .parse = parse};
        rc = ds_build(s, k, &src, cache_dir, d, err, errlen);
    }
    hx_free(c.user);
    hx_free(c.item);
    return rc;
}

hx_status ds_movielens_check(const ds_spec *s, const ds_kind *k, char *err, size_t errlen) {
    if (!*ds_get_str(s, k, "path")) return hx_error(HX_ERR_PARAM, err, errlen, "path is required (%s)", k_what);
    return HX_OK;
}
