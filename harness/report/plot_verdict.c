/* plot_verdict.c: the verdicts in the figures (see plot.h). pl_group_verdicts
 * judges every config of a figure group against `full`, as `embsweep compare`
 * does at its defaults (verdict.h), and marks the points the AUC figures draw
 * hollow.
 *
 * Our own choice [R]: a point of the figures is (method, requested ratio), and
 * the verdict table can hold several rows for it (one per setting of a group
 * that crosses, say, lr, or per parameter set). Such a point is hollow when any
 * of its rows is not resolved: a filled point claims that every config pooled
 * into it has a verdict.
 */
#include <string.h>

#include "plot.h"
#include "verdict.h"

static int unresolved(const vd_row *r) { return r->kind == VD_UNRESOLVED || r->kind == VD_NO_BASELINE; }

hx_status pl_group_verdicts(sqlite3 *db, pl_group *g, char *err, size_t errlen) {
    vd_opts o;
    vd_opts_default(&o);
    vd_table *t = hx_calloc(1, sizeof *t);
    if (!t) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_status rc = vd_table_load(db, g->sweep, g->dataset, g->dim, &o, t, err, errlen);
    if (rc != HX_OK) {
        hx_free(t);
        return rc;
    }
    g->vd = t;
    for (size_t i = 0; i < g->n_cfg; i++) {
        pl_cfg *c = &g->cfg[i];
        c->hollow = 0;
        for (size_t k = 0; k < t->n; k++) /* every row of (method, ratio): any variant, any parameters */
            if (!strcmp(t->rows[k].method, c->method) && t->rows[k].ratio == c->ratio && unresolved(&t->rows[k]))
                c->hollow = 1;
    }
    return HX_OK;
}
