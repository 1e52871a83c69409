/* verdict.c: the verdict of a config against the baseline (verdict.h): the pure
 * judgement (vd_judge), the table of one group read from the database
 * (vd_table_load). Its two outputs, `embsweep compare` and the stored `verdicts`
 * table, are verdict_out.c.
 *
 * Our own choices [R]: a config is its method, ratio, parameters and setting
 * (an lr axis makes two configs, never a pooled one), so it has one run per
 * seed; the seeds needed are those that resolve max(|mean difference|, margin)
 * at the observed spread.
 */
#include "verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/sweep/db.h"

#define VD_MAX_SEEDS 1000

void vd_opts_default(vd_opts *o) {
    o->baseline = "full";
    o->baseline_ratio = 0;
    o->baseline_params = NULL;
    o->margin = 0.001;
    o->alpha = 0.05;
    o->power = 0.8;
    o->arch = NULL;
}

/* ---- the judgement ---- */

static const vd_run *find_seed(const vd_run *r, int n, int64_t seed) {
    for (int i = 0; i < n; i++)
        if (r[i].seed == seed) return &r[i];
    return NULL;
}

/* Both runs kept scores on the same test rows (same count, same labels). */
static int same_rows(const vd_run *a, const vd_run *b) {
    return a->logits && b->logits && a->n == b->n && a->n > 0 &&
           !memcmp(a->labels, b->labels, (size_t)a->n * sizeof *a->labels);
}

/* DeLong over the paired seeds that kept scores: one test per seed, combined. */
static hx_status judge_delong(const vd_run *a, int na, const vd_run *base, int nb, vd_row *row) {
    st_delong *d = hx_malloc(((size_t)na + 1) * sizeof *d);
    if (!d) return HX_ERR_NOMEM;
    int k = 0;
    hx_status rc = HX_OK;
    for (int i = 0; i < na && rc == HX_OK; i++) {
        const vd_run *b = find_seed(base, nb, a[i].seed);
        if (!b || !same_rows(&a[i], b)) continue;
        rc = st_delong_test(a[i].logits, b->logits, a[i].labels, a[i].n, &d[k]);
        if (rc == HX_OK) k++;
        else if (rc == HX_ERR_PARAM) rc = HX_OK; /* one class absent: no test on this seed */
    }
    row->n_delong = k;
    if (k) row->delong = st_delong_combine(d, k);
    hx_free(d);
    return rc;
}

static void verdict_text(vd_row *row, int nb, const vd_opts *o) {
    const st_paired *dl = &row->delta;
    double ad = fabs(dl->mean);
    if (row->n_paired == 0) {
        row->kind = VD_NO_BASELINE;
        snprintf(row->verdict, sizeof row->verdict, nb ? "no baseline on its seeds" : "no baseline");
        return;
    }
    if (row->n_paired == 1) {
        row->kind = VD_UNRESOLVED;
        snprintf(row->verdict, sizeof row->verdict, "not resolved (1 seed)");
        return;
    }
    /* all differences equal: no spread; the margin decides (same runs, or a test set of a few rows) */
    int flat = !(dl->sd > 0);
    if ((flat && ad < o->margin) || row->tost.p < o->alpha) {
        row->kind = VD_EQUIVALENT;
        snprintf(row->verdict, sizeof row->verdict, "equivalent within %g", o->margin);
        return;
    }
    int delong_ok = row->n_delong == 0 ||
                    (row->delong.p < o->alpha && (row->delong.auc_a - row->delong.auc_b) * dl->mean > 0);
    if (((dl->p < o->alpha) || (flat && ad >= o->margin)) && delong_ok) {
        row->kind = dl->mean > 0 ? VD_BETTER : VD_WORSE;
        snprintf(row->verdict, sizeof row->verdict, "%s", dl->mean > 0 ? "better" : "worse");
        return;
    }
    row->kind = VD_UNRESOLVED;
    if (row->seeds_needed > VD_MAX_SEEDS)
        snprintf(row->verdict, sizeof row->verdict, "not resolved (needs >%d seeds)", VD_MAX_SEEDS);
    else if (row->seeds_needed <= row->n_paired) /* the spread allows it; the test-set noise does not */
        snprintf(row->verdict, sizeof row->verdict, "not resolved (test-set noise)");
    else snprintf(row->verdict, sizeof row->verdict, "not resolved (needs ~%d seeds)", row->seeds_needed);
}

hx_status vd_judge(const vd_run *a, int na, const vd_run *base, int nb, const vd_opts *o, vd_row *row) {
    double *x = hx_malloc(((size_t)na * 2 + 2) * sizeof *x);
    if (!x) return HX_ERR_NOMEM;
    double *pa = x + na + 1, bytes = 0;
    int np = 0;
    for (int i = 0; i < na; i++) {
        x[i] = a[i].auc;
        bytes += a[i].bytes_infer;
    }
    row->n_seeds = na;
    row->bytes_infer = na ? bytes / na : NAN;
    row->auc = st_mean_ci(x, na, o->alpha);
    for (int i = 0; i < na; i++) { /* pairs: a's AUC in pa, the baseline's in x */
        const vd_run *b = find_seed(base, nb, a[i].seed);
        if (!b) continue;
        pa[np] = a[i].auc;
        x[np++] = b->auc;
    }
    row->n_paired = np;
    row->delta = st_paired_t(pa, x, np, o->alpha);
    row->tost = st_tost_paired(pa, x, np, o->margin);
    row->mdd = st_mdd(row->delta.sd, np, o->alpha, o->power);
    double target = fabs(row->delta.mean) > o->margin ? fabs(row->delta.mean) : o->margin;
    row->seeds_needed = np >= 2 ? st_seeds_needed(row->delta.sd, target, o->alpha, o->power, VD_MAX_SEEDS) : 0;
    hx_free(x);
    row->delong.p = row->delong.z = NAN;
    row->n_delong = 0;
    hx_status rc = np ? judge_delong(a, na, base, nb, row) : HX_OK;
    if (rc == HX_OK) verdict_text(row, nb, o);
    return rc;
}

/* ---- one group from the database ---- */

/* The ok runs of a group with a test AUC, one per (config, seed). A config is
 * the method, its requested ratio, its parameters and its setting: the resolved
 * config without method, parameters, ratio and seed (model and training keys,
 * dataset recipe, dim), so runs that differ in, say, lr are never pooled. */
static const char k_runs_sql[] =
    "SELECT r.method, r.ratio_requested, r.seed, r.test_auc, r.bytes_infer, MIN(r.key), COALESCE(r.params, ''),"
    " json_remove(r.config, '$.method', '$.params', '$.ratio', '$.seed') AS setting"
    " FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.dataset = ?2 AND r.dim = ?3 AND r.status = 'ok' AND r.test_auc IS NOT NULL"
    " AND (?4 IS NULL OR " PL_ARCH_SQL " = ?4)"
    " GROUP BY setting, r.method, r.ratio_requested, r.params, r.seed"
    " ORDER BY setting, r.method, r.ratio_requested, r.params, r.seed";

typedef struct vd_ent {
    vd_run run;
    char   key[40], method[PL_NAME];
    double ratio;
    char  *params, *setting;
} vd_ent;

typedef struct vd_src { /* every run of the group, configs contiguous */
    vd_ent *e;
    int     n, cap;
} vd_src;

static void src_free(vd_src *s) {
    for (int i = 0; i < s->n; i++) {
        hx_free(s->e[i].params);
        hx_free(s->e[i].setting);
    }
    hx_free(s->e);
    memset(s, 0, sizeof *s);
}

static char *col_dup(sqlite3_stmt *st, int i) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    size_t n = t ? strlen(t) : 0;
    char *d = hx_malloc(n + 1);
    if (d) memcpy(d, t ? t : "", n + 1);
    return d;
}

static int src_add(vd_src *s, sqlite3_stmt *st) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        vd_ent *e = hx_realloc(s->e, (size_t)cap * sizeof *e);
        if (!e) return -1;
        s->e = e, s->cap = cap;
    }
    vd_ent *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    const char *m = (const char *)sqlite3_column_text(st, 0), *k = (const char *)sqlite3_column_text(st, 5);
    snprintf(e->method, sizeof e->method, "%s", m ? m : "?");
    snprintf(e->key, sizeof e->key, "%s", k ? k : "");
    e->ratio = sqlite3_column_double(st, 1);
    e->run = (vd_run){.seed = sqlite3_column_int64(st, 2), .auc = sqlite3_column_double(st, 3),
                      .bytes_infer = sqlite3_column_double(st, 4)};
    e->params = col_dup(st, 6);
    e->setting = col_dup(st, 7);
    s->n++; /* counted before the check: src_free frees what was had */
    return e->params && e->setting ? 0 : -1;
}

static hx_status src_load(sqlite3 *h, const char *sweep, const char *dataset, int64_t dim, const char *arch,
                          vd_src *s, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, k_runs_sql, -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "reading runs: %s", sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, dim);
    if (arch) sqlite3_bind_text(st, 4, arch, -1, SQLITE_TRANSIENT);
    hx_status rc = HX_OK;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (src_add(s, st)) {
            rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
            break;
        }
    if (rc == HX_OK && step != SQLITE_DONE)
        rc = hx_error(HX_ERR_IO, err, errlen, "reading runs: %s", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc;
}

static int same_cfg(const vd_ent *a, const vd_ent *b) {
    return !strcmp(a->method, b->method) && a->ratio == b->ratio && !strcmp(a->params, b->params) &&
           !strcmp(a->setting, b->setting);
}

/* The end of the config that starts at i. */
static int cfg_end(const vd_src *s, int i) {
    int j = i;
    while (j < s->n && same_cfg(&s->e[j], &s->e[i])) j++;
    return j;
}

/* Reads the kept scores of runs [i, j); a run that kept none has logits NULL. */
static hx_status scores_load(sqlite3 *h, vd_src *s, int i, int j, char *err, size_t errlen) {
    for (int r = i; r < j; r++) {
        float *lg = NULL, *lb = NULL;
        int64_t n = 0;
        hx_status rc = db_scores_read(h, s->e[r].key, &lg, &lb, &n, err, errlen);
        if (rc != HX_OK) return rc;
        s->e[r].run.logits = lg, s->e[r].run.labels = lb, s->e[r].run.n = n;
    }
    return HX_OK;
}

static void scores_free(vd_src *s, int i, int j) {
    for (int r = i; r < j; r++) {
        hx_free((void *)s->e[r].run.logits);
        hx_free((void *)s->e[r].run.labels);
        s->e[r].run.logits = s->e[r].run.labels = NULL;
        s->e[r].run.n = 0;
    }
}

/* Every space-separated "k=v" of want is a word of have. */
static int has_params(const char *have, const char *want) {
    char tok[128];
    size_t n = strlen(have);
    for (const char *w = want; w && *w;) {
        size_t len = strcspn(w, " ");
        if (len && len < sizeof tok) {
            memcpy(tok, w, len);
            tok[len] = 0;
            const char *at = have;
            int found = 0;
            while (!found && (at = strstr(at, tok))) {
                found = (at == have || at[-1] == ' ') && (at + len == have + n || at[len] == ' ');
                at++;
            }
            if (!found) return 0;
        }
        w += len + (w[len] == ' ');
    }
    return 1;
}

/* The baseline config of the one at i: o->baseline with the same setting and
 * o->baseline_params, at o->baseline_ratio (< 0: the row's own ratio; 0: its
 * smallest, configs of a method and setting being sorted by ratio); the first
 * by parameters when several qualify. -1 when none. */
static int find_baseline(const vd_src *s, int i, const vd_opts *o) {
    for (int b = 0; b < s->n; b = cfg_end(s, b)) {
        const vd_ent *e = &s->e[b];
        double want = o->baseline_ratio < 0 ? s->e[i].ratio : o->baseline_ratio;
        if (!strcmp(e->method, o->baseline) && !strcmp(e->setting, s->e[i].setting) &&
            (want == 0 || e->ratio == want) && has_params(e->params, o->baseline_params))
            return b;
    }
    return -1;
}

static int row_cmp(const void *pa, const void *pb) {
    const vd_row *a = pa, *b = pb;
    int c = strcmp(a->variant, b->variant);
    if (c) return c;
    size_t oa = pl_method_style(a->method).order, ob = pl_method_style(b->method).order;
    if (oa != ob) return oa < ob ? -1 : 1;
    if ((c = strcmp(a->method, b->method))) return c;
    if (a->ratio != b->ratio) return (a->ratio > b->ratio) - (a->ratio < b->ratio);
    return strcmp(a->params, b->params);
}

/* Judges the config [i, j) against the baseline [b, cfg_end(b)) (b < 0: none),
 * whose scores are loaded. */
static hx_status judge_cfg(sqlite3 *h, vd_src *s, int i, int j, int b, const vd_opts *o, vd_row *row,
                           char *err, size_t errlen) {
    int nb = b >= 0 ? cfg_end(s, b) - b : 0;
    vd_run *runs = hx_malloc(((size_t)(j - i) + (size_t)nb + 1) * sizeof *runs);
    if (!runs) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = b >= 0 && b != i ? scores_load(h, s, i, j, err, errlen) : HX_OK;
    for (int r = 0; r < j - i; r++) runs[r] = s->e[i + r].run;
    for (int r = 0; r < nb; r++) runs[j - i + r] = s->e[b + r].run;
    if (rc == HX_OK && (rc = vd_judge(runs, j - i, runs + (j - i), nb, o, row)) == HX_ERR_NOMEM)
        hx_error(rc, err, errlen, "out of memory");
    if (b != i) scores_free(s, i, j);
    hx_free(runs);
    if (b == i) {
        row->kind = VD_BASELINE;
        snprintf(row->verdict, sizeof row->verdict, "baseline");
    }
    return rc;
}

/* ---- variants: what tells the settings of a group apart ---- */

/* The model and training keys of a setting, and its top-level scalars (the
 * dataset recipe, dim). */
static const char k_kv_sql[] =
    "SELECT key, value FROM json_each(?1) WHERE type NOT IN ('object', 'array')"
    " UNION ALL SELECT key, value FROM json_each(?1, '$.model')"
    " UNION ALL SELECT key, value FROM json_each(?1, '$.train')";

int vd_kv_read(sqlite3 *h, const char *sql, const char *json, vd_kv *kv, int max) {
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
        snprintf(kv[n].k, sizeof kv[n].k, "%s", k ? k : "");
        snprintf(kv[n].v, sizeof kv[n].v, "%s", v ? v : "null");
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

const char *vd_kv_get(const vd_kv *kv, int n, const char *k) {
    for (int i = 0; i < n; i++)
        if (!strcmp(kv[i].k, k)) return kv[i].v;
    return NULL;
}

int vd_kv_varies(const vd_kv *kv, const int *n, int ns, const vd_kv *e) {
    for (int b = 0; b < ns; b++) {
        const char *v = vd_kv_get(kv + (size_t)b * VD_KV, n[b], e->k);
        if (!v || strcmp(v, e->v)) return 1;
    }
    return 0;
}

/* For each distinct setting (first entry index in first[], ns of them), the
 * keys whose values differ between settings, as "k=v k=v" into text[]. */
static hx_status variants(sqlite3 *h, const vd_src *s, const int *first, int ns, char (*text)[PL_VARIANT]) {
    vd_kv *kv = hx_calloc((size_t)ns * VD_KV + 1, sizeof *kv);
    int *n = hx_calloc((size_t)ns + 1, sizeof *n);
    hx_status rc = kv && n ? HX_OK : HX_ERR_NOMEM;
    for (int a = 0; a < ns && rc == HX_OK; a++)
        if ((n[a] = vd_kv_read(h, k_kv_sql, s->e[first[a]].setting, kv + (size_t)a * VD_KV, VD_KV)) < 0)
            rc = HX_ERR_IO;
    for (int a = 0; a < ns && rc == HX_OK; a++) {
        const vd_kv *ka = kv + (size_t)a * VD_KV;
        size_t used = 0;
        text[a][0] = 0;
        for (int i = 0; i < n[a]; i++) {
            if (vd_kv_varies(kv, n, ns, &ka[i]) && used < PL_VARIANT) {
                int w = snprintf(text[a] + used, PL_VARIANT - used, "%s%s=%s", used ? " " : "", ka[i].k, ka[i].v);
                if (w > 0) used += (size_t)w;
            }
        }
    }
    hx_free(kv);
    hx_free(n);
    return rc;
}

/* The variant text of every entry's setting ("" when the group has one). */
static hx_status src_variants(sqlite3 *h, const vd_src *s, char (*var)[PL_VARIANT], char *err, size_t errlen) {
    int *first = hx_calloc((size_t)s->n + 1, sizeof *first), ns = 0;
    char(*text)[PL_VARIANT] = hx_calloc((size_t)s->n + 1, sizeof *text);
    hx_status rc = first && text ? HX_OK : HX_ERR_NOMEM;
    for (int i = 0; i < s->n && rc == HX_OK; i++)
        if (i == 0 || strcmp(s->e[i].setting, s->e[i - 1].setting)) first[ns++] = i;
    if (rc == HX_OK && ns > 1) rc = variants(h, s, first, ns, text);
    for (int i = 0, k = -1; i < s->n && rc == HX_OK; i++) {
        if (k + 1 < ns && first[k + 1] == i) k++;
        snprintf(var[i], PL_VARIANT, "%s", ns > 1 ? text[k] : "");
    }
    hx_free(first);
    hx_free(text);
    if (rc == HX_ERR_NOMEM) hx_error(rc, err, errlen, "out of memory");
    else if (rc != HX_OK) hx_error(rc, err, errlen, "reading settings: %s", sqlite3_errmsg(h));
    return rc;
}

/* Judges every config of s; the baseline's scores stay loaded while configs of
 * its setting follow (s is sorted by setting). */
static hx_status judge_all(sqlite3 *h, vd_src *s, const vd_opts *o, vd_table *t, char *err, size_t errlen) {
    char(*var)[PL_VARIANT] = hx_calloc((size_t)s->n + 1, sizeof *var);
    if (!var) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = src_variants(h, s, var, err, errlen);
    int loaded = -1;
    for (int i = 0; i < s->n && rc == HX_OK; i = cfg_end(s, i)) {
        int b = find_baseline(s, i, o);
        if (b != loaded) {
            if (loaded >= 0) scores_free(s, loaded, cfg_end(s, loaded));
            loaded = -1;
            if (b >= 0 && (rc = scores_load(h, s, b, cfg_end(s, b), err, errlen)) != HX_OK) break;
            loaded = b;
        }
        vd_row *row = &t->rows[t->n++];
        memset(row, 0, sizeof *row);
        snprintf(row->method, sizeof row->method, "%s", s->e[i].method);
        snprintf(row->params, sizeof row->params, "%s", s->e[i].params);
        row->ratio = s->e[i].ratio;
        snprintf(row->variant, sizeof row->variant, "%s", var[i]);
        row->baseline_ratio = b >= 0 ? s->e[b].ratio : NAN;
        rc = judge_cfg(h, s, i, cfg_end(s, i), b, o, row, err, errlen);
    }
    if (loaded >= 0) scores_free(s, loaded, cfg_end(s, loaded));
    hx_free(var);
    return rc;
}

hx_status vd_table_load(sqlite3 *h, const char *sweep, const char *dataset, int64_t dim, const vd_opts *o,
                        vd_table *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    snprintf(t->sweep, sizeof t->sweep, "%s", sweep);
    snprintf(t->dataset, sizeof t->dataset, "%s", dataset);
    snprintf(t->baseline, sizeof t->baseline, "%s", o->baseline);
    snprintf(t->baseline_params, sizeof t->baseline_params, "%s", o->baseline_params ? o->baseline_params : "");
    t->dim = dim;
    vd_src s = {0};
    hx_status rc = src_load(h, sweep, dataset, dim, o->arch, &s, err, errlen);
    int configs = 0;
    for (int i = 0; rc == HX_OK && i < s.n; i = cfg_end(&s, i)) configs++;
    if (rc == HX_OK && !(t->rows = hx_calloc((size_t)configs + 1, sizeof *t->rows)))
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    if (rc == HX_OK) rc = judge_all(h, &s, o, t, err, errlen);
    src_free(&s);
    if (rc != HX_OK) vd_table_free(t);
    else qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
    return rc;
}

void vd_table_free(vd_table *t) {
    hx_free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

const vd_row *vd_table_find(const vd_table *t, const char *method, double ratio) {
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].method, method) && t->rows[i].ratio == ratio) return &t->rows[i];
    return NULL;
}
