/* verdict_pair.c: the pair mode of `embsweep compare` (verdict.h): two configs
 * picked by selectors, `--config 'method=mlet dim=4' --against 'method=full
 * dim=16'`, the first judged against the second like a row against its
 * baseline (vd_judge: runs paired by seed, DeLong on the kept scores, TOST),
 * whatever their dims, settings or methods.
 *
 * A selector is space-separated K=V terms matched against each run's resolved
 * config (runs.config); it must pick exactly one config, the runs that differ
 * only by seed. Keys: method, dim, ratio (requested), dataset (the YAML name),
 * arch (model.arch, absent = dlrm), a training key by its name or train.NAME,
 * model.NAME, params.NAME; seed is not one (runs pair by seed). Values compare
 * as numbers when both sides are numbers, else as text (true/false, [16,4]).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/sweep/db.h"
#include "verdict.h"

#define VP_TERMS 16
#define VP_LIST  10 /* configs listed when a selector picks several */

typedef struct vp_term {
    char        name[64]; /* as the user wrote it */
    char        path[80]; /* JSON path in runs.config; "" for dataset */
    const char *dflt;     /* value when absent (arch), NULL: none */
    char        val[128];
} vp_term;

typedef struct vp_run { /* one ok run with a test AUC */
    vd_run  run;
    char    key[40];
    double  ratio;
    int64_t dim;
    char   *dataset, *method, *params, *config, *cfg; /* cfg: dataset and config without seed */
} vp_run;

typedef struct vp_ctx {
    sqlite3      *h;
    sqlite3_stmt *q; /* json_type, json_extract of (config, path) */
    vp_run       *r;  /* sorted by cfg, seed: configs contiguous */
    int           n;
} vp_ctx;

/* ---- the runs ---- */

static const char k_cand_sql[] =
    "SELECT r.key, r.seed, r.test_auc, r.bytes_infer, r.ratio_requested, r.dim, r.dataset, r.method,"
    " COALESCE(r.params, ''), r.config, r.dataset || char(31) || json_remove(r.config, '$.seed') AS cfg"
    " FROM runs r WHERE r.status = 'ok' AND r.test_auc IS NOT NULL AND (?2 IS NULL OR r.dataset = ?2)"
    " AND (?1 IS NULL OR EXISTS (SELECT 1 FROM sweep_runs s WHERE s.key = r.key AND s.sweep = ?1))"
    " ORDER BY cfg, r.seed";

static char *text_dup(sqlite3_stmt *st, int i) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    return hx_strdup(t ? t : "");
}

static void runs_free(vp_ctx *c) {
    for (int i = 0; i < c->n; i++) {
        vp_run *r = &c->r[i];
        hx_free(r->dataset), hx_free(r->method), hx_free(r->params), hx_free(r->config), hx_free(r->cfg);
    }
    hx_free(c->r);
    c->r = NULL;
    c->n = 0;
}

static hx_status runs_load(vp_ctx *c, const char *sweep, const char *dataset, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->h, k_cand_sql, -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "reading runs: %s", sqlite3_errmsg(c->h));
    if (sweep) sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    if (dataset) sqlite3_bind_text(st, 2, dataset, -1, SQLITE_TRANSIENT);
    int cap = 0, step;
    hx_status rc = HX_OK;
    while (rc == HX_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->n == cap) {
            vp_run *r = hx_realloc(c->r, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *r);
            if (!r) {
                rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
                break;
            }
            c->r = r;
        }
        vp_run *r = &c->r[c->n++];
        const char *k = (const char *)sqlite3_column_text(st, 0);
        snprintf(r->key, sizeof r->key, "%s", k ? k : "");
        r->run = (vd_run){.seed = sqlite3_column_int64(st, 1), .auc = sqlite3_column_double(st, 2),
                          .bytes_infer = sqlite3_column_double(st, 3)};
        r->ratio = sqlite3_column_double(st, 4);
        r->dim = sqlite3_column_int64(st, 5);
        r->dataset = text_dup(st, 6), r->method = text_dup(st, 7), r->params = text_dup(st, 8);
        r->config = text_dup(st, 9), r->cfg = text_dup(st, 10);
        if (!r->dataset || !r->method || !r->params || !r->config || !r->cfg)
            rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    if (rc == HX_OK && step != SQLITE_DONE)
        rc = hx_error(HX_ERR_IO, err, errlen, "reading runs: %s", sqlite3_errmsg(c->h));
    sqlite3_finalize(st);
    return rc;
}

/* The end of the config that starts at i. */
static int cfg_end(const vp_ctx *c, int i) {
    int j = i;
    while (j < c->n && !strcmp(c->r[j].cfg, c->r[i].cfg)) j++;
    return j;
}

/* ---- the terms ---- */

static int is_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* Some run's config holds path. */
static int path_seen(vp_ctx *c, const char *path) {
    int seen = 0;
    for (int i = 0; i < c->n && !seen; i = cfg_end(c, i)) {
        sqlite3_reset(c->q);
        sqlite3_bind_text(c->q, 1, c->r[i].config, -1, SQLITE_STATIC);
        sqlite3_bind_text(c->q, 2, path, -1, SQLITE_STATIC);
        seen = sqlite3_step(c->q) == SQLITE_ROW && sqlite3_column_type(c->q, 0) != SQLITE_NULL;
    }
    return seen;
}

/* One K=V of sel into t: the key's JSON path (a bare name: the training key,
 * else the model key, whichever some run has). */
static hx_status term_parse(vp_ctx *c, const char *sel, const char *w, size_t len, vp_term *t, char *err,
                            size_t errlen) {
    const char *eq = memchr(w, '=', len);
    size_t kl = eq ? (size_t)(eq - w) : 0;
    if (!eq || !kl || kl >= sizeof t->name || len - kl - 1 >= sizeof t->val)
        return hx_error(HX_ERR_PARAM, err, errlen, "selector '%s': '%.*s': expected KEY=VALUE", sel, (int)len, w);
    memset(t, 0, sizeof *t);
    memcpy(t->name, w, kl);
    memcpy(t->val, eq + 1, len - kl - 1);
    const char *dot = strchr(t->name, '.'), *k = t->name;
    if (!strcmp(k, "seed"))
        return hx_error(HX_ERR_PARAM, err, errlen, "selector '%s': seed is not a selector key (runs pair by seed)",
                        sel);
    if (!strcmp(k, "dataset")) return HX_OK;
    if (!strcmp(k, "arch") || !strcmp(k, "model.arch")) {
        snprintf(t->path, sizeof t->path, "$.model.arch");
        t->dflt = "dlrm";
        return HX_OK;
    }
    if (!strcmp(k, "method") || !strcmp(k, "dim") || !strcmp(k, "ratio")) {
        snprintf(t->path, sizeof t->path, "$.%s", k);
        return HX_OK;
    }
    int ok = 0;
    if (dot && (!strncmp(k, "train.", 6) || !strncmp(k, "model.", 6) || !strncmp(k, "params.", 7)) &&
        is_name(dot + 1)) {
        snprintf(t->path, sizeof t->path, "$.%s", k);
        ok = path_seen(c, t->path);
    } else if (!dot && is_name(k)) {
        snprintf(t->path, sizeof t->path, "$.train.%s", k);
        if (!(ok = path_seen(c, t->path))) {
            snprintf(t->path, sizeof t->path, "$.model.%s", k);
            ok = path_seen(c, t->path);
        }
    }
    if (!ok)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "selector '%s': unknown key '%s' (in no run's config; keys: method, dim, ratio,"
                        " dataset, arch, a training key (lr, emb_lr, ...), model.NAME, params.NAME)",
                        sel, k);
    return HX_OK;
}

static hx_status terms_parse(vp_ctx *c, const char *sel, vp_term *t, int *nt, char *err, size_t errlen) {
    *nt = 0;
    for (const char *w = sel; *w;) {
        size_t len = strcspn(w, " \t");
        if (len) {
            if (*nt == VP_TERMS)
                return hx_error(HX_ERR_PARAM, err, errlen, "selector '%s': more than %d terms", sel, VP_TERMS);
            hx_status rc = term_parse(c, sel, w, len, &t[(*nt)++], err, errlen);
            if (rc != HX_OK) return rc;
        }
        w += len + (w[len] != 0);
    }
    if (!*nt) return hx_error(HX_ERR_PARAM, err, errlen, "empty selector: expected 'KEY=VALUE ...'");
    return HX_OK;
}

/* The run r has t's value. */
static int term_match(vp_ctx *c, const vp_run *r, const vp_term *t) {
    if (!t->path[0]) return !strcmp(r->dataset, t->val);
    sqlite3_reset(c->q);
    sqlite3_bind_text(c->q, 1, r->config, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->q, 2, t->path, -1, SQLITE_STATIC);
    if (sqlite3_step(c->q) != SQLITE_ROW || sqlite3_column_type(c->q, 0) == SQLITE_NULL)
        return t->dflt && !strcmp(t->dflt, t->val);
    const char *type = (const char *)sqlite3_column_text(c->q, 0);
    char *end;
    double x = strtod(t->val, &end);
    if ((!strcmp(type, "integer") || !strcmp(type, "real")) && end != t->val && !*end)
        return sqlite3_column_double(c->q, 1) == x;
    if (!strcmp(type, "true") || !strcmp(type, "false")) return !strcmp(type, t->val);
    const char *v = (const char *)sqlite3_column_text(c->q, 1);
    return v && !strcmp(v, t->val);
}

/* ---- a selector's config ---- */

/* The keys of a config as a selector names them (but dataset), with their values. */
static const char k_kv_sql[] =
    "SELECT 'arch', COALESCE(json_extract(?1, '$.model.arch'), 'dlrm')"
    " UNION ALL SELECT key, CASE WHEN type IN ('true', 'false') THEN type ELSE value END FROM json_each(?1)"
    " WHERE type NOT IN ('object', 'array') AND key NOT IN ('dataset', 'seed')"
    " UNION ALL SELECT key, CASE WHEN type IN ('true', 'false') THEN type ELSE value END"
    " FROM json_each(?1, '$.train')"
    " UNION ALL SELECT 'model.' || key, CASE WHEN type IN ('true', 'false') THEN type ELSE value END"
    " FROM json_each(?1, '$.model') WHERE key <> 'arch'"
    " UNION ALL SELECT 'params.' || key, CASE WHEN type IN ('true', 'false') THEN type ELSE value END"
    " FROM json_each(?1, '$.params')";

/* Every key of r's config as a selector names it, dataset first. */
static int kv_load(sqlite3 *h, const vp_run *r, vd_kv *kv) {
    snprintf(kv[0].k, sizeof kv[0].k, "dataset");
    snprintf(kv[0].v, sizeof kv[0].v, "%s", r->dataset);
    int n = vd_kv_read(h, k_kv_sql, r->config, kv + 1, VD_KV - 1);
    return n < 0 ? 1 : n + 1;
}

/* The error of a selector that matches the ns configs starting at m[]: up to
 * VP_LIST of them, each by the keys whose values differ among them. */
static hx_status ambiguous(vp_ctx *c, const char *sel, const int *m, int ns, char *err, size_t errlen) {
    vd_kv *kv = hx_calloc((size_t)ns * VD_KV, sizeof *kv);
    int *n = hx_calloc((size_t)ns, sizeof *n);
    if (!kv || !n) {
        hx_free(kv), hx_free(n);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    for (int a = 0; a < ns; a++) n[a] = kv_load(c->h, &c->r[m[a]], kv + (size_t)a * VD_KV);
    size_t used = (size_t)snprintf(err, errlen, "selector '%s' matches %d configs; add terms to pick one:", sel, ns);
    for (int a = 0; a < ns && a < VP_LIST && used < errlen; a++) {
        const vd_kv *ka = kv + (size_t)a * VD_KV;
        used += (size_t)snprintf(err + used, errlen - used, "\n ");
        for (int i = 0; i < n[a] && used < errlen; i++)
            if (vd_kv_varies(kv, n, ns, &ka[i]))
                used += (size_t)snprintf(err + used, errlen - used, " %s=%s", ka[i].k, ka[i].v);
    }
    if (ns > VP_LIST && used < errlen) snprintf(err + used, errlen - used, "\n  (and %d more)", ns - VP_LIST);
    hx_free(kv), hx_free(n);
    return HX_ERR_PARAM;
}

/* The first run of the one config sel picks, in *at. */
static hx_status pick(vp_ctx *c, const char *sel, int *at, char *err, size_t errlen) {
    vp_term t[VP_TERMS];
    int nt, ns = 0;
    hx_status rc = terms_parse(c, sel, t, &nt, err, errlen);
    int *m = rc == HX_OK ? hx_malloc(((size_t)c->n + 1) * sizeof *m) : NULL;
    if (rc == HX_OK && !m) rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    for (int i = 0; rc == HX_OK && i < c->n; i = cfg_end(c, i)) {
        int all = 1;
        for (int k = 0; k < nt && all; k++) all = term_match(c, &c->r[i], &t[k]);
        if (all) m[ns++] = i;
    }
    if (rc == HX_OK && ns == 0)
        rc = hx_error(HX_ERR_PARAM, err, errlen, "selector '%s' matches no ok run", sel);
    else if (rc == HX_OK && ns > 1) rc = ambiguous(c, sel, m, ns, err, errlen);
    else if (rc == HX_OK) *at = m[0];
    hx_free(m);
    return rc;
}

/* ---- judging a pair ---- */

/* Into v: the keys outside method, ratio and params whose values differ
 * between the configs of a and b, "dim=4/16 emb_lr=0.01/0.8" ("-": absent). */
static hx_status pair_variant(vp_ctx *c, const vp_run *a, const vp_run *b, char *v, size_t n) {
    vd_kv *kv = hx_calloc(2 * VD_KV, sizeof *kv);
    if (!kv) return HX_ERR_NOMEM;
    int na = kv_load(c->h, a, kv), nb = kv_load(c->h, b, kv + VD_KV);
    size_t used = 0;
    v[0] = 0;
    for (int s = 0; s < 2; s++) /* a's keys, then those only b has */
        for (int i = 0; i < (s ? nb : na); i++) {
            const vd_kv *e = kv + s * VD_KV + i;
            const char *va = s ? vd_kv_get(kv, na, e->k) : e->v, *vb = s ? e->v : vd_kv_get(kv + VD_KV, nb, e->k);
            if ((s && va) || !strcmp(e->k, "method") || !strcmp(e->k, "ratio") || !strncmp(e->k, "params.", 7) ||
                (va && vb && !strcmp(va, vb)) || used >= n)
                continue;
            used += (size_t)snprintf(v + used, n - used, "%s%s=%s/%s", used ? " " : "", e->k, va ? va : "-",
                                     vb ? vb : "-");
        }
    hx_free(kv);
    return HX_OK;
}

static void scores_drop(vp_run *r, int n) {
    for (int i = 0; i < n; i++) {
        hx_free((void *)r[i].run.logits), hx_free((void *)r[i].run.labels);
        r[i].run.logits = r[i].run.labels = NULL;
        r[i].run.n = 0;
    }
}

/* The runs [i, j) with their kept scores into out. */
static hx_status runs_with_scores(vp_ctx *c, int i, int j, vd_run *out, char *err, size_t errlen) {
    for (int k = i; k < j; k++) {
        float *lg = NULL, *lb = NULL;
        int64_t n = 0;
        hx_status rc = db_scores_read(c->h, c->r[k].key, &lg, &lb, &n, err, errlen);
        if (rc != HX_OK) return rc;
        c->r[k].run.logits = lg, c->r[k].run.labels = lb, c->r[k].run.n = n;
        out[k - i] = c->r[k].run;
    }
    return HX_OK;
}

/* The config at a judged against the one at b into p. */
static hx_status judge_pair(vp_ctx *c, int a, int b, const vd_opts *o, vd_pair *p, char *err, size_t errlen) {
    int ea = cfg_end(c, a), eb = cfg_end(c, b), na = ea - a, nb = eb - b;
    vd_run *runs = hx_malloc(((size_t)na + (size_t)nb) * sizeof *runs);
    if (!runs) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = runs_with_scores(c, a, ea, runs, err, errlen);
    if (rc == HX_OK && b == a) memcpy(runs + na, runs, (size_t)na * sizeof *runs); /* the same config: loaded once */
    else if (rc == HX_OK) rc = runs_with_scores(c, b, eb, runs + na, err, errlen);
    vd_row *row = &p->row;
    const vp_run *ra = &c->r[a], *rb = &c->r[b];
    snprintf(row->method, sizeof row->method, "%s", ra->method);
    snprintf(row->params, sizeof row->params, "%s", ra->params);
    row->ratio = ra->ratio;
    row->baseline_ratio = rb->ratio;
    snprintf(p->head.dataset, sizeof p->head.dataset, "%s", ra->dataset);
    p->head.dim = ra->dim;
    snprintf(p->head.baseline, sizeof p->head.baseline, "%s", rb->method);
    snprintf(p->head.baseline_params, sizeof p->head.baseline_params, "%s", rb->params);
    if (rc == HX_OK) rc = pair_variant(c, ra, rb, row->variant, sizeof row->variant);
    if (rc == HX_OK) rc = vd_judge(runs, na, runs + na, nb, o, row);
    if (rc == HX_ERR_NOMEM)
        hx_error(rc, err, errlen, "out of memory");
    scores_drop(c->r + a, na);
    if (b != a) scores_drop(c->r + b, nb);
    hx_free(runs);
    return rc;
}

hx_status vd_compare_pairs(sqlite3 *h, const vd_compare_opts *o, FILE *f, size_t *rows, char *err, size_t errlen) {
    vp_ctx c = {.h = h};
    vd_pair *p = hx_calloc(o->n_pairs + 1, sizeof *p);
    if (!p) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = runs_load(&c, o->sweep, o->dataset, err, errlen);
    if (rc == HX_OK && !c.n)
        rc = hx_error(HX_ERR_PARAM, err, errlen, "no ok run to compare%s",
                      o->sweep || o->dataset ? " in the sweep and dataset asked for" : "");
    if (rc == HX_OK &&
        sqlite3_prepare_v2(h, "SELECT json_type(?1, ?2), json_extract(?1, ?2)", -1, &c.q, NULL) != SQLITE_OK)
        rc = hx_error(HX_ERR_IO, err, errlen, "%s", sqlite3_errmsg(h));
    for (size_t i = 0; i < o->n_pairs && rc == HX_OK; i++) {
        int a = 0, b = 0;
        p[i].config = o->config[i], p[i].against = o->against[i];
        snprintf(p[i].head.sweep, sizeof p[i].head.sweep, "%s", o->sweep ? o->sweep : "");
        if ((rc = pick(&c, o->config[i], &a, err, errlen)) == HX_OK &&
            (rc = pick(&c, o->against[i], &b, err, errlen)) == HX_OK)
            rc = judge_pair(&c, a, b, &o->v, &p[i], err, errlen);
    }
    sqlite3_finalize(c.q);
    runs_free(&c);
    if (rc == HX_OK) rc = vd_pairs_print(h, p, o->n_pairs, f, o->fmt, rows, err, errlen);
    hx_free(p);
    return rc;
}
