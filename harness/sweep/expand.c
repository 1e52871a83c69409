/* expand.c: a validated sweep -> its cells.
 *
 * Expansion (our design, after FuxiCTR's grid and CAFE's zipped lists [R]):
 *   - every axis with its own values is a unit; every zip group is one unit whose
 *     lists advance together; cells = the cartesian product of the units;
 *   - a unit made only of params.M.* axes does not multiply cells of other
 *     methods (their value would be ignored), so those cells appear once;
 *   - exclude rules drop matrix cells matching every key of a rule (a key with a
 *     list matches any of its values);
 *   - include rules add cells: the rule's keys take the rule's values, every
 *     other axis varies as in the matrix; excludes do not apply to them;
 *   - cells with the same key (same resolved config) are kept once.
 * Then every cell is planned by its method against the dataset's cardinalities:
 * an unreachable ratio is an error naming the cell and the reachable range, or,
 * with `unreachable: skip`, the cell is kept as skipped with that reason.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* ---- resolving one cell ---- */

/* The key's field of rc back to its default. */
static void key_reset(run_config *rc, const char *name) {
    const key_def *k = run_key_find(name);
    HX_ASSERT(k && k->def && key_parse_unchecked(k, k->def, rc) == 0);
}

static void apply_value(run_config *rc, const cfg_axis *a, const cfg_val *v, const cfg_sweep *sw) {
    if (axis_is_param(a)) {
        if (rc->method == a->pm) rc->pv[a->pi] = v->num;
    } else if (axis_is(a, KEY_DATASET)) rc->dataset = sw->datasets[v->ds].spec;
    else if (axis_is(a, KEY_METHOD)) rc->method = v->m;
    else key_set_num(a->k, rc, v->num);
}

typedef struct expander {
    cfg_parse *p;
    cfg_axis  *axes;       /* the axes of this expansion (matrix or an include) */
    int        n_axes;
    int        is_include;
    /* output */
    cfg_cell  *cells;
    int        n, cap;
    uint64_t  *seen;       /* open-addressing set of key hashes (0 = empty) */
    size_t     seen_mask, n_seen; /* grown to keep it at most half full */
    char     **recipes;    /* (n_datasets) canonical recipe per dataset, made on first use */
    int        too_many;
} expander;

static int rule_match(const cfg_rule *r, const run_config *rc) {
    for (int k = 0; k < r->n; k++) {
        char buf[96];
        if (!cfg_value_canon(rc, r->k[k].key, buf, sizeof buf)) return 0;
        int any = 0;
        for (int j = 0; j < r->k[k].n && !any; j++) any = !strcmp(buf, r->k[k].v[j].canon);
        if (!any) return 0;
    }
    return 1;
}

/* Double the set of key hashes. 0, or -1 when out of memory. */
static int seen_grow(expander *x) {
    const size_t mask = x->seen_mask * 2 + 1;
    uint64_t *t = hx_calloc(mask + 1, sizeof *t);
    if (!t) return -1;
    for (size_t j = 0; j <= x->seen_mask; j++) {
        const uint64_t h = x->seen[j];
        if (!h) continue;
        size_t i = h & mask;
        while (t[i]) i = (i + 1) & mask;
        t[i] = h;
    }
    hx_free(x->seen);
    x->seen = t, x->seen_mask = mask;
    return 0;
}

/* 1 when h is new (then it is added), 0 when seen before, -1 when out of memory. */
static int seen_insert(expander *x, uint64_t h) {
    if (h == 0) h = 1;
    if (2 * (x->n_seen + 1) > x->seen_mask + 1 && seen_grow(x)) return -1;
    for (size_t i = h & x->seen_mask;; i = (i + 1) & x->seen_mask) {
        if (x->seen[i] == h) return 0;
        if (x->seen[i] == 0) {
            x->seen[i] = h;
            x->n_seen++;
            return 1;
        }
    }
}

/* The canonical recipe of dataset ds (spec is its spec), made once per
 * expansion: every cell of the dataset shares it. NULL when out of memory. */
static const char *dataset_recipe(expander *x, int ds, const ds_spec *spec) {
    if (!x->recipes[ds]) {
        char recipe[8192];
        if (ds_spec_canonical(spec, recipe, sizeof recipe) != HX_OK)
            snprintf(recipe, sizeof recipe, "name=%s kind=%s", spec->name, spec->kind);
        const size_t n = strlen(recipe) + 1;
        if ((x->recipes[ds] = hx_malloc(n))) memcpy(x->recipes[ds], recipe, n);
    }
    return x->recipes[ds];
}

/* The slot of the next cell (x->cells[x->n], not yet counted): cells are
 * about 19 KB, so each is resolved in place rather than copied in. NULL when
 * out of memory. */
static cfg_cell *next_slot(expander *x) {
    if (x->n == x->cap) { /* n never passes CFG_MAX_CELLS: room for one more is enough */
        int cap = x->cap ? x->cap * 2 : 4;
        if (cap > CFG_MAX_CELLS + 1) cap = CFG_MAX_CELLS + 1;
        cfg_cell *nc = hx_realloc(x->cells, (size_t)cap * sizeof *nc);
        if (!nc) return NULL;
        x->cells = nc, x->cap = cap;
    }
    return &x->cells[x->n];
}

/* Resolve the combination idx into rc; its dataset index and the YAML
 * position of its ratio into *ds, *rl, *rcol. */
static void resolve(expander *x, const int *idx, run_config *rc, int *ds, int *rl, int *rcol) {
    cfg_parse *p = x->p;
    cfg_sweep *sw = p->sw;
    *rc = *p->base;
    rc->cache_dir = NULL;
    *ds = sw->n_datasets == 1 ? 0 : -1;
    if (*ds == 0) rc->dataset = sw->datasets[0].spec;
    *rl = p->matrix_line, *rcol = p->matrix_col;
    rc->method = NULL;
    for (int a = 0; a < x->n_axes; a++) {
        const cfg_axis *ax = &x->axes[a];
        if (axis_is_param(ax)) continue;
        apply_value(rc, ax, &ax->v[idx[a]], sw);
        if (!strcmp(ax->key, "dataset")) *ds = ax->v[idx[a]].ds;
        if (!strcmp(ax->key, "ratio")) *rl = ax->v[idx[a]].line, *rcol = ax->v[idx[a]].col;
    }
    HX_ASSERT(rc->method && *ds >= 0);
    /* emb_optimizer unset anywhere: it follows this cell's dense optimizer, as in
     * `embsweep train` (sgd -> sgd, adagrad -> rowwise_adagrad, adam -> adam) */
    int emb_opt_set = 0;
    for (int a = 0; a < x->n_axes; a++) emb_opt_set |= !strcmp(x->axes[a].key, "emb_optimizer");
    if (!emb_opt_set) rc->train.emb_optimizer = run_default_emb_optimizer(rc->train.optimizer);
    /* A key of one arch does not apply to another: there it takes its default, so
     * it neither changes that cell's run key nor makes two keys of one run [R]. */
    model_cfg *mc = &rc->model;
    static const char *const dlrm_only[] = {"interaction"}, *const dcn_only[] = {"cross_layers", "dcn_structure",
                                                                                 "cross_rank"};
    for (int i = 0; mc->arch != ARCH_DLRM && i < 1; i++) key_reset(rc, dlrm_only[i]);
    for (int i = 0; mc->arch != ARCH_DCN && i < 3; i++) key_reset(rc, dcn_only[i]);
    /* dot (and deepfm, whose x is one more field vector) needs the bottom MLP to
     * end at dim: append a dim-wide layer [R] */
    if ((mc->interaction == INTERACT_DOT || mc->arch == ARCH_DEEPFM) && mc->n_bottom > 0 &&
        mc->bottom[mc->n_bottom - 1] != rc->dim && mc->n_bottom < RUN_MAX_LAYERS)
        mc->bottom[mc->n_bottom++] = rc->dim;
    emb_params_default(rc->method, rc->pv);
    for (int a = 0; a < x->n_axes; a++)
        if (axis_is_param(&x->axes[a])) apply_value(rc, &x->axes[a], &x->axes[a].v[idx[a]], sw);
}

_Static_assert(offsetof(cfg_cell, rc) == 0, "emit clears what follows rc");

static void emit(expander *x, const int *idx, int *excl_hits) {
    cfg_parse *p = x->p;
    cfg_cell *c = next_slot(x);
    if (!c) {
        x->too_many = 1;
        return;
    }
    int ds, rl, rcol;
    resolve(x, idx, &c->rc, &ds, &rl, &rcol);
    if (!x->is_include)
        for (int r = 0; r < p->n_excl; r++)
            if (rule_match(&p->excl[r], &c->rc)) {
                excl_hits[r]++;
                return;
            }
    const char *recipe = dataset_recipe(x, ds, &c->rc.dataset);
    char *json = recipe ? cfg_cell_json(&c->rc, recipe) : NULL;
    if (!json) {
        x->too_many = 1;
        return;
    }
    uint64_t h = hx_fnv1a(json, strlen(json), 0);
    const int is_new = seen_insert(x, h);
    if (is_new <= 0 || x->n >= CFG_MAX_CELLS) {
        hx_free(json);
        x->too_many |= is_new < 0 || (is_new && x->n >= CFG_MAX_CELLS);
        return;
    }
    memset((char *)c + sizeof c->rc, 0, sizeof *c - sizeof c->rc);
    x->n++;
    c->dataset = ds;
    c->json = json;
    snprintf(c->key, sizeof c->key, "%016llx", (unsigned long long)h);
    emb_params_format(c->rc.method, c->rc.pv, c->params, sizeof c->params);
    c->ratio_line = rl, c->ratio_col = rcol;
}

/* Run the odometer over the units of x->axes. */
/* Combinations expand_axes walks: the product of its units' lengths (an axis
 * alone, or a zip group). */
static double n_combinations(const expander *x) {
    int seen[CFG_MAX_AXES + 8] = {0};
    double n = 1;
    for (int a = 0; a < x->n_axes; a++) {
        int g = x->axes[a].group;
        if (g >= 0 && g < CFG_MAX_AXES + 8) {
            if (seen[g]) continue;
            seen[g] = 1;
        }
        n *= x->axes[a].n;
    }
    return n;
}

/* Cells expand_axes keeps before exclude rules and duplicates, when the method
 * is an axis of its own: per method, the product of the other axes' lengths,
 * where a param axis of another method counts once. -1 when the method is
 * zipped with another axis (then only the walk tells). */
static double n_cells_before_rules(const expander *x) {
    int ma = -1;
    for (int a = 0; a < x->n_axes; a++)
        if (axis_is(&x->axes[a], KEY_METHOD)) {
            if (ma >= 0 || x->axes[a].group >= 0) return -1;
            ma = a;
        }
    if (ma < 0) return -1;
    double total = 0;
    for (int i = 0; i < x->axes[ma].n; i++) {
        const emb_method *m = x->axes[ma].v[i].m;
        double n = 1;
        for (int a = 0; a < x->n_axes; a++) {
            const cfg_axis *ax = &x->axes[a];
            if (a == ma || (axis_is_param(ax) && ax->pm != m)) continue;
            if (ax->group >= 0) return -1; /* zip groups: only the walk tells */
            n *= ax->n;
        }
        total += n;
    }
    return total;
}

static void expand_axes(expander *x, int *excl_hits) {
    int unit_of[CFG_MAX_AXES + 8], n_units = 0, len[CFG_MAX_AXES + 8], grp_unit[CFG_MAX_AXES + 8];
    for (int g = 0; g < CFG_MAX_AXES + 8; g++) grp_unit[g] = -1;
    for (int a = 0; a < x->n_axes; a++) {
        int g = x->axes[a].group;
        if (g >= 0 && g < CFG_MAX_AXES + 8 && grp_unit[g] >= 0) {
            unit_of[a] = grp_unit[g];
            continue;
        }
        unit_of[a] = n_units;
        len[n_units] = x->axes[a].n;
        if (g >= 0 && g < CFG_MAX_AXES + 8) grp_unit[g] = n_units;
        n_units++;
    }
    int ctr[CFG_MAX_AXES + 8] = {0}, idx[CFG_MAX_AXES + 8];
    for (;;) {
        for (int a = 0; a < x->n_axes; a++) idx[a] = ctr[unit_of[a]];
        /* the cell's method, to collapse param-only units of other methods */
        const emb_method *m = NULL;
        for (int a = 0; a < x->n_axes; a++)
            if (axis_is(&x->axes[a], KEY_METHOD)) m = x->axes[a].v[idx[a]].m;
        int keep = 1;
        for (int u = 0; u < n_units && keep; u++) {
            if (ctr[u] == 0) continue;
            int param_only = 1, relevant = 0;
            for (int a = 0; a < x->n_axes; a++) {
                if (unit_of[a] != u) continue;
                if (!axis_is_param(&x->axes[a])) param_only = 0;
                else if (x->axes[a].pm == m) relevant = 1;
            }
            if (param_only && !relevant) keep = 0;
        }
        if (keep) emit(x, idx, excl_hits);
        if (x->too_many) return;
        int u = 0;
        for (; u < n_units; u++) {
            if (++ctr[u] < len[u]) break;
            ctr[u] = 0;
        }
        if (u == n_units) break;
    }
}

/* ---- planning ---- */

static hx_status load_dataset(cfg_dataset *d, const char *cache_dir, char *err, size_t errlen) {
    ds_data *dd = NULL;
    hx_status rc = ds_load(&d->spec, cache_dir, &dd, err, errlen);
    if (rc != HX_OK) return rc;
    snprintf(d->id, sizeof d->id, "%s", dd->id);
    d->recipe = hx_strdup(dd->recipe ? dd->recipe : "");
    d->n_train = dd->n_train, d->n_val = dd->n_val, d->n_test = dd->n_test;
    d->n_dense = dd->n_dense, d->n_fields = dd->n_fields;
    d->card = hx_calloc((size_t)dd->n_fields + 1, sizeof(int64_t));
    if (d->card) memcpy(d->card, dd->card, (size_t)dd->n_fields * sizeof(int64_t));
    d->pos_rate_train = dd->pos_rate_train, d->pos_rate_test = dd->pos_rate_test;
    d->bayes_auc = dd->bayes_auc, d->bayes_logloss = dd->bayes_logloss;
    ds_free(dd);
    if (!d->recipe || !d->card) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    d->loaded = 1;
    return HX_OK;
}

static void plan_cells(cfg_parse *p) {
    cfg_sweep *sw = p->sw;
    cfg_errs *e = p->errs;
    for (int i = 0; i < sw->n_cells; i++) sw->datasets[sw->cells[i].dataset].used = 1;
    for (int i = 0; i < sw->n_datasets; i++) {
        cfg_dataset *d = &sw->datasets[i];
        if (!d->used) continue;
        char err[1024];
        hx_status st = load_dataset(d, sw->cache_dir, err, sizeof err);
        if (st != HX_OK) {
            cfg_err(e, d->spec.kind_line, d->spec.kind_col, d->spec.name, "cannot load the dataset: %s", err);
            if (st == HX_ERR_IO || st == HX_ERR_NOMEM) e->status = st; /* not the file's fault */
        }
    }
    for (int i = 0; i < sw->n_cells; i++) {
        cfg_cell *c = &sw->cells[i];
        const cfg_dataset *d = &sw->datasets[c->dataset];
        if (!d->loaded) continue;
        const run_config *rc = &c->rc;
        const emb_method *m = rc->method;
        char err[512], cell[512];
        snprintf(cell, sizeof cell, "cell dataset=%s method=%s dim=%d ratio=%g%s%s", d->spec.name, m->name,
                 rc->dim, rc->ratio, c->params[0] ? " " : "", c->params);
        emb_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.n_fields = d->n_fields;
        spec.card = d->card;
        spec.dim = rc->dim;
        spec.ratio = rc->ratio;
        spec.seed = run_method_seed(rc->seed);
        spec.batch = rc->train.batch;
        spec.steps_per_epoch = (d->n_train + rc->train.batch - 1) / rc->train.batch;
        if (spec.steps_per_epoch < 1) spec.steps_per_epoch = 1;
        spec.total_steps = (int64_t)ceil(rc->train.epochs * (double)spec.steps_per_epoch);
        if (spec.total_steps < 1) spec.total_steps = 1;
        spec.opt = opt_default(rc->train.emb_optimizer, (float)rc->train.emb_lr);
        spec.dense_opt = opt_default(rc->train.optimizer, (float)rc->train.lr);
        memcpy(spec.pv, rc->pv, sizeof spec.pv);
        if (emb_params_check(m, spec.pv, err, sizeof err) != HX_OK) {
            cfg_err(e, c->ratio_line, c->ratio_col, "params", "%s: %s", cell, err);
            continue;
        }
        emb_plan plan;
        memset(&plan, 0, sizeof plan);
        const hx_status pst = m->plan(&spec, &plan, err, sizeof err);
        if (pst == HX_ERR_NOMEM) { /* not an unreachable ratio: the whole load fails */
            cfg_err(e, c->ratio_line, c->ratio_col, "matrix", "%s: %s", cell, err);
            e->status = HX_ERR_NOMEM;
            continue;
        }
        if (pst != HX_OK) {
            if (sw->unreachable_skip) {
                c->skipped = 1;
                snprintf(c->reason, sizeof c->reason, "unreachable: %.600s", err);
            } else {
                cfg_err(e, c->ratio_line, c->ratio_col, "matrix.ratio",
                        "%s: %s (or set `unreachable: skip`)", cell, err);
            }
            continue;
        }
        c->ratio_planned = plan.ratio;
        snprintf(c->knobs, sizeof c->knobs, "%s", plan.knobs);
    }
}

/* Room for the matrix's cells when their count is known up front (no exclude
 * rules, no zip groups; duplicates may make fewer), so the array is not grown
 * to it by doubling. 0, or -1 when out of memory. */
static int reserve_cells(const cfg_parse *p, expander *x) {
    const double n = p->n_excl ? -1 : n_cells_before_rules(x);
    if (n < 1) return 0;
    const int cap = n < CFG_MAX_CELLS ? (int)n : CFG_MAX_CELLS;
    if (!(x->cells = hx_malloc((size_t)cap * sizeof *x->cells))) return -1;
    x->cap = cap;
    return 0;
}

/* A matrix refused before any cell is built: its cell count (computable when
 * no exclude rule may thin it) or the combinations the walk would visit. */
static int too_big(cfg_parse *p, const expander *x) {
    const double combos = n_combinations(x), cells = p->n_excl ? -1 : n_cells_before_rules(x);
    if (cells > CFG_MAX_CELLS)
        cfg_err(p->errs, p->matrix_line, p->matrix_col, "matrix",
                "the axes make %.4g cells; at most %d are allowed: split the sweep or shorten a list", cells,
                CFG_MAX_CELLS);
    else if (combos > CFG_MAX_COMBINATIONS)
        cfg_err(p->errs, p->matrix_line, p->matrix_col, "matrix",
                "the axes cross %.4g combinations; at most %.0e are walked (and %d cells kept): split the "
                "sweep or shorten a list",
                combos, (double)CFG_MAX_COMBINATIONS, CFG_MAX_CELLS);
    else return 0;
    return 1;
}

/* ---- entry ---- */

void cfg_expand(cfg_parse *p, unsigned flags) {
    cfg_sweep *sw = p->sw;
    cfg_errs *e = p->errs;
    int has_method = 0, has_dataset = 0;
    for (int a = 0; a < p->n_axes; a++) {
        has_method |= axis_is(&p->axes[a], KEY_METHOD);
        has_dataset |= axis_is(&p->axes[a], KEY_DATASET);
    }
    if (!has_method) cfg_err(e, p->matrix_line ? p->matrix_line : 1, p->matrix_line ? p->matrix_col : 1,
                             "matrix.method", "missing: list the methods to run, e.g. method: [full, hash]");
    if (!has_dataset && sw->n_datasets > 1)
        cfg_err(e, p->matrix_line ? p->matrix_line : 1, p->matrix_line ? p->matrix_col : 1, "matrix.dataset",
                "missing: %d datasets are defined; list which ones to run", sw->n_datasets);
    if (e->count) return;
    expander x = {.p = p, .axes = p->axes, .n_axes = p->n_axes};
    x.seen_mask = 255; /* grows with the cells */
    x.seen = hx_calloc(x.seen_mask + 1, sizeof(uint64_t));
    x.recipes = hx_calloc((size_t)sw->n_datasets + 1, sizeof(char *));
    cfg_axis *tmp = hx_calloc(CFG_MAX_AXES + 8, sizeof(cfg_axis));
    int excl_hits[CFG_MAX_RULES] = {0};
    if (!x.seen || !x.recipes || !tmp) {
        cfg_err(e, 1, 1, "(file)", "out of memory");
        e->status = HX_ERR_NOMEM;
        goto out;
    }
    if (too_big(p, &x)) goto out;
    if (reserve_cells(p, &x)) {
        cfg_err(e, 1, 1, "(file)", "out of memory");
        e->status = HX_ERR_NOMEM;
        goto out;
    }
    expand_axes(&x, excl_hits);
    for (int r = 0; r < p->n_excl; r++)
        if (!excl_hits[r])
            fprintf(stderr, "%s:%d:%d: warning: exclude[%d] matches no cell\n", e->file, p->excl[r].line,
                    p->excl[r].col, r);
    for (int r = 0; r < p->n_incl && !x.too_many; r++) {
        const cfg_rule *rule = &p->incl[r];
        int n = p->n_axes;
        memcpy(tmp, p->axes, (size_t)n * sizeof *tmp);
        for (int k = 0; k < rule->n; k++) {
            int a = 0;
            for (; a < n; a++)
                if (!strcmp(tmp[a].key, rule->k[k].key)) break;
            if (a == n) n++;
            tmp[a] = rule->k[k];
            tmp[a].group = -1;
        }
        int method_ok = 0;
        for (int a = 0; a < n; a++) method_ok |= axis_is(&tmp[a], KEY_METHOD);
        if (!method_ok) continue;
        x.axes = tmp, x.n_axes = n, x.is_include = 1;
        int before = x.n;
        expand_axes(&x, excl_hits);
        if (x.n == before)
            fprintf(stderr, "%s:%d:%d: warning: include[%d] adds no new cell\n", e->file, rule->line, rule->col, r);
    }
    if (x.too_many) {
        cfg_err(e, p->matrix_line, p->matrix_col, "matrix", "more than %d cells (or out of memory)", CFG_MAX_CELLS);
        goto out;
    }
    sw->cells = x.cells, sw->n_cells = x.n;
    x.cells = NULL;
    if (sw->n_cells == 0) {
        cfg_err(e, p->matrix_line, p->matrix_col, "matrix", "no cells left after exclude: nothing to run");
        goto out;
    }
    if (!(flags & CFG_NO_PLAN)) plan_cells(p);
out:
    for (int i = 0; i < x.n && x.cells; i++) hx_free(x.cells[i].json);
    hx_free(x.cells);
    hx_free(x.seen);
    for (int i = 0; i < sw->n_datasets && x.recipes; i++) hx_free(x.recipes[i]);
    hx_free(x.recipes);
    hx_free(tmp);
}
