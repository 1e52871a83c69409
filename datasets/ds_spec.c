/* ds_spec.c: dataset kinds, their parameter tables, and the spec life cycle:
 * validate (unknown keys with a "did you mean", wrong types and ranges), the
 * canonical recipe text with defaults filled in a fixed order, its hash (the
 * dataset id), ds_load/ds_free, and a spec from "key=value" arguments.
 *
 * The tables are data in the manner of Redis' config.c (name, type, range,
 * default, help); one row per key. Loaders live one per file. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ds_internal.h"

static const ds_kind k_kinds[] = {
    {"synthetic", "planted-model CTR data generated from a seed (the embedded default)",
     ds_synthetic_params, NULL, ds_synthetic_canon, ds_synthetic_check, ds_synthetic_build},
    {"criteo_synth", "planted-model data in Criteo Kaggle's shape (26 fields, fitted skew, 13 counts), scaled",
     ds_criteo_synth_params, NULL, ds_criteo_synth_canon, ds_criteo_synth_check, ds_criteo_synth_build},
    {"criteo", "Criteo Kaggle train.txt[.gz]: label, I1-I13, C1-C26 (tab-separated)", ds_criteo_params,
     "fmt=1;label=col1;dense=log1p_max0(I1..I13);vocab=train,count_desc_key_asc,oov_last", NULL,
     ds_criteo_check, ds_criteo_build},
    {"avazu", "Avazu train CSV[.gz]: header, id, click, hour (-> hour_of_day, weekday), categoricals",
     ds_avazu_params, "fmt=1;label=click;hour=hour_of_day,weekday;id=dropped;vocab=train,count_desc_key_asc,oov_last",
     NULL, ds_avazu_check, ds_avazu_build},
    {"movielens", "MovieLens 100K or 1M directory: user, item, age, gender, occupation, zip, genres",
     ds_movielens_params, "fmt=1;label=rating>=threshold;genres=one_value;vocab=train,count_desc_key_asc,oov_last",
     NULL, ds_movielens_check, ds_movielens_build},
    {"libfm", "libFM/libSVM text 'label idx:val ...', fields from index ranges (e.g. Frappe)",
     ds_libfm_params, "fmt=1;label=gt0;vocab=train,count_desc_key_asc,oov_last", NULL, ds_libfm_check,
     ds_libfm_build},
};
#define N_KINDS (sizeof k_kinds / sizeof k_kinds[0])

size_t ds_kind_count(void) { return N_KINDS; }
const char *ds_kind_name(size_t i) { return i < N_KINDS ? k_kinds[i].name : NULL; }

const ds_kind *ds_kind_find(const char *name) {
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(k_kinds[i].name, name)) return &k_kinds[i];
    return NULL;
}

/* ---- typed access ---- */

static const ds_param *param_find(const ds_kind *k, const char *key) {
    for (const ds_param *p = k->params; p->name; p++)
        if (!strcmp(p->name, key)) return p;
    return NULL;
}

int ds_has_key(const ds_spec *s, const char *key) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], key)) return 1;
    return 0;
}

const char *ds_get_str(const ds_spec *s, const ds_kind *k, const char *key) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], key)) return s->val[i];
    const ds_param *p = param_find(k, key);
    HX_ASSERT(p != NULL);
    return p->def;
}

int64_t ds_get_int(const ds_spec *s, const ds_kind *k, const char *key) {
    int64_t v = 0;
    int rc = hx_parse_i64(ds_get_str(s, k, key), &v);
    HX_ASSERT(rc == 0); /* validated before */
    return v;
}

double ds_get_f64(const ds_spec *s, const ds_kind *k, const char *key) {
    double v = 0;
    int rc = hx_parse_f64(ds_get_str(s, k, key), &v);
    HX_ASSERT(rc == 0);
    return v;
}

int ds_get_int_list(const ds_spec *s, const ds_kind *k, const char *key, int64_t *out, int cap) {
    const char *v = ds_get_str(s, k, key);
    int n = 0;
    char tok[64];
    while (*v) {
        size_t len = strcspn(v, ",");
        HX_ASSERT(len < sizeof tok);
        memcpy(tok, v, len);
        tok[len] = 0;
        int64_t x = 0;
        HX_ASSERT(hx_parse_i64(tok, &x) == 0);
        if (n < cap) out[n] = x;
        n++;
        v += len;
        if (*v == ',') v++;
    }
    return n;
}

/* ---- validation ---- */

typedef struct errbuf {
    char *buf;
    size_t len, used;
    hx_status first;
} errbuf;

static void eb_add(errbuf *e, const char *file, int line, int col, const ds_spec *s,
                   const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void eb_add(errbuf *e, const char *file, int line, int col, const ds_spec *s,
                   const char *key, const char *fmt, ...) {
    if (e->first == HX_OK) e->first = HX_ERR_PARAM;
    if (!e->buf || e->used + 1 >= e->len) return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char pos[300] = "";
    if (file && line > 0) snprintf(pos, sizeof pos, "%s:%d:%d: ", file, line, col);
    else if (file) snprintf(pos, sizeof pos, "%s: ", file);
    int w = snprintf(e->buf + e->used, e->len - e->used, "%s%sdatasets.%s.%s: %s", e->used ? "\n" : "",
                     pos, s->name[0] ? s->name : s->kind, key, msg);
    if (w > 0) e->used += (size_t)w < e->len - e->used ? (size_t)w : e->len - e->used - 1;
}

/* The closest names by edit distance, as "did you mean 'a' or 'b'?", or "". */
static void suggest(const char *word, const char *const *names, size_t n, char *out, size_t len) {
    int best = 1 << 30;
    for (size_t i = 0; i < n; i++) {
        int d = hx_levenshtein(word, names[i]);
        if (d < best) best = d;
    }
    out[0] = 0;
    int limit = (int)strlen(word) / 2 > 2 ? (int)strlen(word) / 2 : 2;
    if (best > limit) return;
    size_t used = 0;
    int shown = 0;
    for (size_t i = 0; i < n && shown < 3; i++) {
        if (hx_levenshtein(word, names[i]) != best) continue;
        int w = snprintf(out + used, len - used, "%s'%s'", shown ? " or " : "; did you mean ", names[i]);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
        shown++;
    }
    if (shown && used + 2 < len) strcat(out, "?");
}

static int check_number(const ds_param *p, const char *v, char *why, size_t n) {
    if (p->type == DSP_INT || p->type == DSP_INT_OFF || p->type == DSP_INT_LIST) {
        int64_t x;
        if (hx_parse_i64(v, &x) || (double)x < p->lo || (double)x > p->hi) {
            snprintf(why, n, "expected an integer in [%.0f, %.0f], got '%s'", p->lo, p->hi, v);
            return -1;
        }
    } else {
        double x;
        if (hx_parse_f64(v, &x) || x < p->lo || x > p->hi) {
            snprintf(why, n, "expected a number in [%g, %g], got '%s'", p->lo, p->hi, v);
            return -1;
        }
    }
    return 0;
}

static int check_value(const ds_param *p, const char *v, char *why, size_t n) {
    switch (p->type) {
    case DSP_INT:
    case DSP_INT_OFF:
    case DSP_FLOAT: return check_number(p, v, why, n);
    case DSP_STRING: return 0;
    case DSP_STR_LIST: return 0;
    case DSP_ENUM: {
        size_t lv = strlen(v);
        for (const char *c = p->choices; *c;) {
            size_t len = strcspn(c, "|");
            if (len == lv && !strncmp(c, v, len)) return 0;
            c += len;
            if (*c == '|') c++;
        }
        snprintf(why, n, "expected one of %s, got '%s'", p->choices, v);
        return -1;
    }
    case DSP_INT_LIST: {
        char tok[64];
        const char *c = v;
        while (*c) {
            size_t len = strcspn(c, ",");
            if (len >= sizeof tok) { /* checking a prefix would pass what the reader cannot take */
                snprintf(why, n, "expected an integer in [%.0f, %.0f], got a %zu-character value in the list",
                         p->lo, p->hi, len);
                return -1;
            }
            memcpy(tok, c, len);
            tok[len] = 0;
            if (check_number(p, tok, why, n)) {
                size_t l = strlen(why);
                snprintf(why + l, n - l, " in the list");
                return -1;
            }
            c += strcspn(c, ",");
            if (*c == ',') c++;
        }
        return 0;
    }
    }
    return 0;
}

hx_status ds_spec_validate(const ds_spec *s, const char *file, char *err, size_t errlen) {
    errbuf e = {err, errlen, 0, HX_OK};
    if (err && errlen) err[0] = 0;
    const ds_kind *k = ds_kind_find(s->kind);
    if (!k) {
        const char *names[N_KINDS];
        char all[256] = "", hint[160];
        for (size_t i = 0; i < N_KINDS; i++) {
            names[i] = k_kinds[i].name;
            strncat(all, i ? ", " : "", sizeof all - strlen(all) - 1);
            strncat(all, names[i], sizeof all - strlen(all) - 1);
        }
        suggest(s->kind, names, N_KINDS, hint, sizeof hint);
        eb_add(&e, file, s->kind_line, s->kind_col, s, "kind",
               s->kind[0] ? "unknown kind '%s' (expected one of %s)%s" : "missing kind%s (expected one of %s)%s",
               s->kind, all, hint);
        return e.first;
    }
    const char *names[64];
    size_t nn = 0;
    for (const ds_param *p = k->params; p->name && nn < 64; p++) names[nn++] = p->name;
    for (int i = 0; i < s->n; i++) {
        const ds_param *p = param_find(k, s->key[i]);
        if (!p) {
            char hint[160];
            suggest(s->key[i], names, nn, hint, sizeof hint);
            eb_add(&e, file, s->line[i], s->col[i], s, s->key[i], "unknown key for kind %s%s", k->name,
                   hint);
            continue;
        }
        int dup = 0;
        for (int j = 0; j < i; j++) dup |= !strcmp(s->key[j], s->key[i]);
        if (dup) {
            eb_add(&e, file, s->line[i], s->col[i], s, s->key[i], "duplicate key");
            continue;
        }
        char why[600];
        if (check_value(p, s->val[i], why, sizeof why))
            eb_add(&e, file, s->line[i], s->col[i], s, s->key[i], "%s", why);
    }
    if (e.first == HX_OK && k->check) {
        char why[600];
        if (k->check(s, k, why, sizeof why) != HX_OK)
            eb_add(&e, file, s->kind_line, s->kind_col, s, "kind", "%s", why);
    }
    return e.first;
}

/* ---- canonical text and hash ---- */

static int canon_value(const ds_param *p, const char *v, char *out, size_t n) {
    if (p->type == DSP_INT || p->type == DSP_INT_OFF) {
        int64_t x = 0;
        hx_parse_i64(v, &x);
        return snprintf(out, n, "%lld", (long long)x);
    }
    if (p->type == DSP_FLOAT) {
        double x = 0;
        hx_parse_f64(v, &x);
        return snprintf(out, n, "%.10g", x);
    }
    return snprintf(out, n, "%s", v);
}

hx_status ds_canon_generic(const ds_spec *s, const ds_kind *k, char *buf, size_t n) {
    size_t used = 0;
    int w = snprintf(buf, n, "kind=%s", k->name);
    if (w < 0 || (size_t)w >= n) return HX_ERR_PARAM;
    used = (size_t)w;
    for (const ds_param *p = k->params; p->name; p++) {
        char val[600], def[600];
        canon_value(p, ds_get_str(s, k, p->name), val, sizeof val);
        if (p->type == DSP_INT_OFF && canon_value(p, p->def, def, sizeof def) > 0 && !strcmp(val, def)) continue;
        w = snprintf(buf + used, n - used, ";%s=%s", p->name, val);
        if (w < 0 || (size_t)w >= n - used) return HX_ERR_PARAM;
        used += (size_t)w;
    }
    if (k->note) {
        w = snprintf(buf + used, n - used, ";%s", k->note);
        if (w < 0 || (size_t)w >= n - used) return HX_ERR_PARAM;
    }
    return HX_OK;
}

hx_status ds_spec_canonical(const ds_spec *s, char *buf, size_t n) {
    if (n) buf[0] = 0;
    if (ds_spec_validate(s, NULL, NULL, 0) != HX_OK) return HX_ERR_PARAM;
    const ds_kind *k = ds_kind_find(s->kind);
    return k->canon ? k->canon(s, k, buf, n) : ds_canon_generic(s, k, buf, n);
}

uint64_t ds_spec_hash(const ds_spec *s) {
    char buf[8192];
    if (ds_spec_canonical(s, buf, sizeof buf) != HX_OK) return 0;
    return hx_fnv1a(buf, strlen(buf), 0);
}

/* ---- spec from arguments ---- */

hx_status ds_spec_from_args(ds_spec *s, const char *name, const char *kind, int argc, char **kv,
                            char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name && *name ? name : (kind ? kind : ""));
    if (kind) snprintf(s->kind, sizeof s->kind, "%s", kind);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || eq == kv[i])
            return hx_error(HX_ERR_PARAM, err, errlen, "dataset argument '%s': expected key=value", kv[i]);
        size_t kl = (size_t)(eq - kv[i]);
        if (kl == 4 && !strncmp(kv[i], "kind", 4)) {
            snprintf(s->kind, sizeof s->kind, "%s", eq + 1);
            if (!s->name[0]) snprintf(s->name, sizeof s->name, "%s", eq + 1);
            continue;
        }
        if (s->n >= DS_MAX_KEYS)
            return hx_error(HX_ERR_PARAM, err, errlen, "too many dataset arguments (at most %d)", DS_MAX_KEYS);
        if (kl >= sizeof s->key[0] || strlen(eq + 1) >= sizeof s->val[0])
            return hx_error(HX_ERR_PARAM, err, errlen, "dataset argument '%s' is too long", kv[i]);
        memcpy(s->key[s->n], kv[i], kl);
        s->key[s->n][kl] = 0;
        snprintf(s->val[s->n], sizeof s->val[0], "%s", eq + 1);
        s->n++;
    }
    return ds_spec_validate(s, "command line", err, errlen);
}

/* ---- load and free ---- */

hx_status ds_load(const ds_spec *s, const char *cache_dir, ds_data **out, char *err, size_t errlen) {
    *out = NULL;
    hx_status st = ds_spec_validate(s, NULL, err, errlen);
    if (st != HX_OK) return st;
    const ds_kind *k = ds_kind_find(s->kind);
    ds_data *d = hx_calloc(1, sizeof *d);
    char *canon = hx_malloc(8192);
    if (!d || !canon) {
        hx_free(d);
        hx_free(canon);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory loading dataset %s", s->name);
    }
    st = k->canon ? k->canon(s, k, canon, 8192) : ds_canon_generic(s, k, canon, 8192);
    if (st != HX_OK) {
        hx_free(d);
        hx_free(canon);
        return hx_error(st, err, errlen, "datasets.%s: recipe text too long", s->name);
    }
    d->recipe = canon;
    d->recipe_hash = hx_fnv1a(canon, strlen(canon), 0);
    snprintf(d->name, sizeof d->name, "%s", s->name[0] ? s->name : s->kind);
    snprintf(d->kind, sizeof d->kind, "%s", s->kind);
    snprintf(d->id, sizeof d->id, "%.22s_%08x", d->name, (unsigned)(d->recipe_hash >> 32));
    d->bayes_auc = d->bayes_logloss = NAN;
    st = k->build(s, k, cache_dir, d, err, errlen);
    if (st != HX_OK) {
        ds_free(d);
        return st;
    }
    if ((st = ds_fill_stats(d)) != HX_OK) {
        ds_free(d);
        return hx_error(st, err, errlen, "out of memory computing the Bayes AUC of '%s'", s->name);
    }
    *out = d;
    return HX_OK;
}

void ds_free(ds_data *d) {
    if (!d) return;
    if (d->map) munmap(d->map, d->map_len);
    hx_free(d->owned);
    hx_free(d->recipe);
    hx_free(d);
}
