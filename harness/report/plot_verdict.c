/* plot_verdict.c: the verdicts in the figures and on the page (see plot.h).
 * pl_group_verdicts judges every config of a figure group against `full`, as
 * `embsweep compare` does at its defaults (verdict.h), and marks the points the
 * AUC figures draw hollow; pl_html_verdicts writes the group's verdict table.
 *
 * Our own choice [R]: a point of the figures is (method, requested ratio), and
 * the verdict table can hold several rows for it (one per setting of a group
 * that crosses, say, lr, or per parameter set). Such a point is hollow when any
 * of its rows is not resolved: a filled point claims that every config pooled
 * into it has a verdict.
 */
#include <math.h>
#include <string.h>

#include "plot.h"
#include "verdict.h"

static int unresolved(const vd_row *r) { return r->kind == VD_UNRESOLVED || r->kind == VD_NO_BASELINE; }

hx_status pl_group_verdicts(sqlite3 *db, pl_group *g, char *err, size_t errlen) {
    vd_opts o;
    vd_opts_default(&o);
    o.arch = g->arch;
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

/* ---- the table on the page ---- */

/* The CSS class of a verdict's cell (plot_html.c's stylesheet). */
static const char *kind_class(vd_kind k) {
    switch (k) {
    case VD_BETTER: return "vd-better";
    case VD_WORSE: return "vd-worse";
    case VD_EQUIVALENT: return "vd-equiv";
    case VD_BASELINE: return "vd-base";
    case VD_UNRESOLVED:
    case VD_NO_BASELINE: return "vd-open";
    }
    return "vd-open";
}

/* "0.7810 [0.7790, 0.7830]"; the interval left off when it is NAN; "-" for NAN. */
static void td_ci(FILE *f, const char *fmt, double v, double lo, double hi) {
    if (!isfinite(v)) {
        fputs("<td class=n>-</td>", f);
        return;
    }
    fputs("<td class=n>", f);
    fprintf(f, fmt, v);
    if (isfinite(lo) && isfinite(hi)) {
        fputs(" <span class=muted>[", f);
        fprintf(f, fmt, lo);
        fputs(", ", f);
        fprintf(f, fmt, hi);
        fputs("]</span>", f);
    }
    fputs("</td>", f);
}

static void td_p(FILE *f, double p) {
    if (isfinite(p)) fprintf(f, "<td class=n>%.2g</td>", p);
    else fputs("<td class=n>-</td>", f);
}

/* What the verdicts mean, above the table: the baseline, the rules at the
 * options they were judged with, where the rest is. */
static void html_intro(FILE *f, const vd_table *t, const vd_opts *o) {
    double base_ratio = NAN;
    for (size_t i = 0; i < t->n && !isfinite(base_ratio); i++) base_ratio = t->rows[i].baseline_ratio;
    fputs("<h4>Verdicts against <code>", f);
    pl_html_escape(f, t->baseline);
    fputs("</code></h4>\n<p>Each config against <code>", f);
    pl_html_escape(f, t->baseline);
    if (isfinite(base_ratio)) fprintf(f, "</code> at ratio %g", base_ratio);
    else fputs("</code> <span class=bad>(this group has no such run: nothing is resolved)</span>", f);
    fprintf(f, ", paired by seed. <b>better</b> or <b>worse</b>: the paired t-test over seeds and DeLong's "
               "test on the shared test rows both reject at &alpha; = %g with the same sign (the t-test alone "
               "where no scores were kept); <b>equivalent</b>: two one-sided tests put the AUC difference "
               "within &plusmn;%g; otherwise <b>not resolved</b>, with the seeds that would resolve it at the "
               "observed spread. Configs not resolved are drawn hollow in the AUC figures. These are the rows "
               "of <code>embsweep compare</code>, which also takes another baseline, margin or level; every "
               "column is explained in <code>results/README.md</code>.</p>\n",
            o->alpha, o->margin);
}

static void html_row(FILE *f, const vd_row *r, int variants) {
    int judged = r->kind != VD_BASELINE && r->n_paired > 0;
    fputs("<tr><td", f);
    if (r->params[0]) { /* the method's parameters on hover */
        fputs(" title=\"", f);
        pl_html_escape(f, r->params);
        fputc('"', f);
    }
    fprintf(f, "><span class=swatch style=\"background:%s\"></span>", pl_method_style(r->method).color);
    pl_html_escape(f, r->method);
    fputs("</td>", f);
    if (variants) {
        fputs("<td>", f);
        pl_html_escape(f, r->variant);
        fputs("</td>", f);
    }
    fprintf(f, "<td class=n>%g</td><td class=n>%d</td>", r->ratio, r->n_seeds);
    td_ci(f, "%.4f", r->auc.mean, r->auc.ci_lo, r->auc.ci_hi);
    if (judged) {
        td_ci(f, "%+.4f", r->delta.mean, r->delta.ci_lo, r->delta.ci_hi);
        td_p(f, r->delta.p);
        td_p(f, r->n_delong ? r->delong.p : NAN);
    } else fputs("<td class=n>-</td><td class=n>-</td><td class=n>-</td>", f);
    fprintf(f, "<td class=\"%s\">", kind_class(r->kind));
    pl_html_escape(f, r->verdict);
    fputs("</td></tr>\n", f);
}

void pl_html_verdicts(FILE *f, const pl_group *g) {
    const vd_table *t = g->vd;
    if (!t) return;
    vd_opts o;
    vd_opts_default(&o);
    html_intro(f, t, &o);
    if (t->n == 0) {
        fputs("<p class=muted>No config with a test AUC.</p>\n", f);
        return;
    }
    int variants = 0;
    for (size_t i = 0; i < t->n; i++) variants |= t->rows[i].variant[0] != 0;
    fprintf(f, "<table class=verdicts><tr><th>method</th>%s<th>ratio</th><th>seeds</th>"
               "<th>test AUC, mean [%g%% CI]</th><th>&Delta;AUC vs ",
            variants ? "<th>variant</th>" : "", 100 * (1 - o.alpha));
    pl_html_escape(f, t->baseline);
    fprintf(f, " [%g%% CI]</th><th>t-test p</th><th>DeLong p</th><th>verdict</th></tr>\n", 100 * (1 - o.alpha));
    for (size_t i = 0; i < t->n; i++) html_row(f, &t->rows[i], variants);
    fputs("</table>\n", f);
}
