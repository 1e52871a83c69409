/* plot_html.c: plots/index.html, one section per sweep: every figure with a caption
 * saying what to look at, the per-config summary table (Pareto configs starred)
 * and the verdicts against `full` (plot_verdict.c), the runs that did not finish ok with their reason, the datasets, the sweep's YAML
 * and the environment of its invocations. Static HTML with inline CSS and relative
 * image paths: it opens from the file system, no server and no JavaScript.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "plot.h"

static const char k_css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:0 auto;"
    "max-width:1500px;padding:0 18px 40px;color:#1a1a1a}"
    "h1{margin:18px 0 4px}h2{border-bottom:2px solid #333;margin-top:42px}"
    "h3{margin-top:28px}code,pre{font-family:'DejaVu Sans Mono',monospace;font-size:13px}"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:10px;overflow:auto;max-height:480px}"
    ".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:18px}"
    "figure{margin:0;border:1px solid #ddd;padding:8px;background:#fff}"
    "figure img{width:100%;height:auto;display:block}figure.main{grid-column:1/-1;max-width:1120px}"
    "figcaption{font-size:13.5px;color:#333;margin-top:6px}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}"
    "th{background:#eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr:nth-child(even) td{background:#fafafa}tr.front td{background:#fff6d6}"
    ".swatch{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:5px;"
    "vertical-align:-1px}.muted{color:#666}.bad{color:#a40000;font-weight:600}"
    "nav ul{margin:4px 0}details{margin:2px 0}"
    ".vd-better{color:#1a7f37;font-weight:600}.vd-worse{color:#b42318;font-weight:600}"
    ".vd-equiv{color:#1f5fa8;font-weight:600}.vd-open{color:#b35c00;font-weight:600}.vd-base{color:#555}";

/* The figures of a group in page order (plot.h): the captions say what to look at. */
const pl_figure pl_figures[] = {
    {"auc", "test AUC vs inference bytes",
     "The main figure. Up and to the left is better: each method's mean test AUC over seeds "
     "against the bytes its embeddings need at inference; bars: 95% CI over seeds (min/max where "
     "a config has fewer than 3 seeds). A hollow point is a config whose verdict against "
     "<code>full</code> is not resolved (the verdict table below). The grey staircase is "
     "the Pareto front over all methods (the best AUC reachable within a byte budget); the dashed "
     "line is the uncompressed <code>full</code> model and the dotted line, for synthetic data, "
     "the Bayes-optimal AUC. Read off which method is on the front at your budget."},
    {"logloss", "test logloss vs inference bytes",
     "The same with test logloss; down and to the left is better. Bars: 95% CI over seeds "
     "(min/max where a config has fewer than 3 seeds); no hollow points, the verdicts are on AUC. "
     "A method can rank differently here when it is well-ranked (AUC) but badly calibrated "
     "(logloss)."},
    {"ratio", "test AUC vs achieved compression ratio",
     "AUC against the compression ratio each method really achieved (full bytes / inference "
     "bytes), as in CAFE; bars and hollow points as in the first figure. Points far right of the "
     "requested ratio's neighbours overshot it; compare the drop below the dashed full line at "
     "equal ratios."},
    {"train_speed", "training throughput vs training bytes",
     "Training samples per second against the bytes held while training (parameters, "
     "optimizer state, indices). The cost in speed of each method's saving; full is the "
     "reference."},
    {"infer_speed", "inference throughput vs inference bytes",
     "Inference (evaluation) samples per second against inference bytes. Methods that "
     "decompress or hash on lookup pay here."},
    {"rss", "measured peak RSS vs inference bytes",
     "How much of the saving is real: the worker's measured peak RSS (VmHWM, all phases) "
     "against the analytic inference bytes, with y = x for reference. The vertical gap is the "
     "process, data and training overhead; a saving is real when RSS falls as bytes fall."},
    {"rss_time", "RSS over time at the chosen budget",
     "Resident memory of one run per method (lowest seed) at the chosen budget, plus full: "
     "where the memory goes during load, training and evaluation."},
    {"loss", "training loss at the chosen budget",
     "Training loss against step for each method at the chosen budget (mean over seeds, band: "
     "min/max), plus full. Look for methods that learn slowly or stall."},
};
const size_t pl_nfigures = sizeof pl_figures / sizeof pl_figures[0];

/* ---- small writers ---- */

static void td_text(FILE *f, const char *s) {
    fputs("<td>", f);
    pl_html_escape(f, s);
    fputs("</td>", f);
}

static void td_num(FILE *f, const char *fmt, double v) {
    if (!isfinite(v)) {
        fputs("<td class=n>-</td>", f);
        return;
    }
    fputs("<td class=n>", f);
    fprintf(f, fmt, v);
    fputs("</td>", f);
}

static void td_bytes(FILE *f, double v) {
    char b[64];
    if (!isfinite(v)) {
        fputs("<td class=n>-</td>", f);
        return;
    }
    hx_human_bytes(v, b, sizeof b);
    fprintf(f, "<td class=n>%s</td>", b);
}

static void td_stat(FILE *f, const pl_stat *s, int digits) {
    if (s->n == 0) {
        fputs("<td class=n>-</td>", f);
        return;
    }
    fprintf(f, "<td class=n>%.*f", digits, s->mean);
    if (s->n > 1) fprintf(f, " <span class=muted>[%.*f, %.*f]</span>", digits, s->min, digits, s->max);
    fputs("</td>", f);
}

static void anchor(FILE *f, const char *prefix, const char *name) {
    char s[256];
    pl_sanitize(name, s, sizeof s);
    fprintf(f, "%s%s", prefix, s);
}

/* Any statement as a table: the column names as headers, numbers right-aligned. */
static hx_status html_table(FILE *f, sqlite3 *db, const char *sql, const char *sweep,
                            const char *empty, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "page: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    int ncol = sqlite3_column_count(st), rows = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows++ == 0) {
            fputs("<table><tr>", f);
            for (int j = 0; j < ncol; j++) {
                fputs("<th>", f);
                pl_html_escape(f, sqlite3_column_name(st, j));
                fputs("</th>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("<tr>", f);
        for (int j = 0; j < ncol; j++) {
            int t = sqlite3_column_type(st, j);
            const char *v = (const char *)sqlite3_column_text(st, j);
            if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) fprintf(f, "<td class=n>%s</td>", v);
            else if (t == SQLITE_NULL) fputs("<td class=muted>-</td>", f);
            else if (strchr(v, '\n')) { /* multi-line text (stderr tails) folds away */
                fputs("<td><details><summary>", f);
                char first[160];
                snprintf(first, sizeof first, "%.*s", (int)strcspn(v, "\n"), v);
                pl_html_escape(f, first);
                fputs("</summary><pre>", f);
                pl_html_escape(f, v);
                fputs("</pre></details></td>", f);
            } else td_text(f, v);
        }
        fputs("</tr>\n", f);
    }
    if (rows) fputs("</table>\n", f);
    else fprintf(f, "<p class=muted>%s</p>\n", empty);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return hx_error(HX_ERR_IO, err, errlen, "page: %s", sqlite3_errmsg(db));
    return HX_OK;
}

/* ---- one figure group ---- */

static int file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static void html_group(FILE *f, const char *out_dir, const pl_group *g) {
    fprintf(f, "<h3 id=\"");
    anchor(f, "g-", g->base);
    fputs("\">Dataset ", f);
    pl_html_escape(f, g->dataset);
    fprintf(f, ", dim %lld", (long long)g->dim);
    if (strcmp(g->arch, "dlrm")) {
        fprintf(f, ", model ");
        pl_html_escape(f, g->arch);
    }
    fprintf(f, "</h3>\n<p>");
    if (isfinite(g->full_auc)) fprintf(f, "Uncompressed <code>full</code>: test AUC %.4f. ", g->full_auc);
    else fputs("<span class=bad>No <code>full</code> run finished ok: no baseline line.</span> ", f);
    if (isfinite(g->bayes_auc)) fprintf(f, "Bayes-optimal AUC (planted model): %.4f. ", g->bayes_auc);
    fprintf(f, "RSS-over-time and loss figures use ratio %g (change with <code>--budget</code>).</p>\n",
            g->budget);
    fputs("<div class=figs>\n", f);
    for (size_t i = 0; i < pl_nfigures; i++) {
        char png[1200];
        snprintf(png, sizeof png, "%s/%s__%s.png", out_dir, g->base, pl_figures[i].suffix);
        if (!file_exists(png)) continue;
        fprintf(f, "<figure%s><a href=\"%s__%s.svg\"><img src=\"%s__%s.png\" width=1100 "
                   "height=640 alt=\"",
                i == 0 ? " class=main" : "", g->base, pl_figures[i].suffix, g->base, pl_figures[i].suffix);
        pl_html_escape(f, pl_figures[i].title);
        fprintf(f, "\"></a><figcaption><b>");
        pl_html_escape(f, pl_figures[i].title);
        fprintf(f, ".</b> %s <a href=\"data/%s__%s.gp\">script</a></figcaption></figure>\n",
                pl_figures[i].caption, g->base, pl_figures[i].suffix);
    }
    fputs("</div>\n", f);

    fputs("<h4>Summary (ok runs; mean over seeds, [min, max]; &#9733; = on the AUC Pareto front)</h4>\n"
          "<table><tr><th>method</th><th>ratio requested</th><th>ratio achieved</th><th>seeds</th>"
          "<th>test AUC</th><th>&Delta;AUC vs full</th><th>test logloss</th><th>inference bytes</th>"
          "<th>training bytes</th><th>peak RSS</th><th>train samples/s</th><th>infer samples/s</th>"
          "</tr>\n",
          f);
    for (size_t i = 0; i < g->n_cfg; i++) {
        const pl_cfg *c = &g->cfg[i];
        fprintf(f, "<tr%s><td><span class=swatch style=\"background:%s\"></span>", c->front ? " class=front" : "",
                c->style.color);
        pl_html_escape(f, c->method);
        fprintf(f, "%s</td>", c->front ? " &#9733;" : "");
        td_num(f, "%g", c->ratio);
        td_num(f, "%.3g", c->ratio_achieved.mean);
        fprintf(f, "<td class=n>%d</td>", c->n_runs);
        td_stat(f, &c->auc, 4);
        td_num(f, "%+.4f", c->auc.mean - g->full_auc);
        td_stat(f, &c->logloss, 4);
        td_bytes(f, c->bytes_infer.mean);
        td_bytes(f, c->bytes_train.mean);
        td_bytes(f, c->peak_rss.mean);
        td_num(f, "%.0f", c->train_sps.mean);
        td_num(f, "%.0f", c->infer_sps.mean);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    pl_html_verdicts(f, g);
}

/* ---- one sweep ---- */

static const char k_status_sql[] =
    "SELECT r.status, COUNT(*) FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 GROUP BY r.status ORDER BY r.status = 'ok' DESC, r.status";
static const char k_failed_sql[] =
    "SELECT r.status, r.method, r.dataset, r.dim, r.ratio_requested AS ratio, r.seed,"
    " COALESCE(r.reason, '(no reason recorded)') AS reason, r.exit_code, r.signal,"
    " r.stderr_tail AS \"stderr (tail)\", r.key"
    " FROM runs r JOIN sweep_runs s ON s.key = r.key WHERE s.sweep = ?1 AND r.status <> 'ok'"
    " ORDER BY r.status, r.method, r.dataset, r.dim, r.ratio_requested, r.seed";
static const char k_datasets_sql[] =
    "SELECT d.name, d.id, d.kind, d.rows_train, d.rows_val, d.rows_test, d.n_dense, d.n_fields,"
    " d.cardinalities, d.pos_rate_train, d.bayes_auc, d.recipe FROM datasets d"
    " WHERE d.id IN (SELECT r.dataset_id FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1) ORDER BY d.name";
static const char k_env_sql[] =
    "SELECT id, started_at, finished_at, status, git_commit || CASE WHEN git_dirty THEN ' (dirty)'"
    " ELSE '' END AS git, compiler, cflags, blas, cpu_model AS cpu, cores, kernel, hostname,"
    " jobs, threads_per_job, argv FROM invocations WHERE sweep = ?1 ORDER BY id DESC LIMIT 10";

static hx_status html_sweep(FILE *f, sqlite3 *db, const char *out_dir, const char *sweep,
                            const pl_group *gs, size_t n, char *err, size_t errlen) {
    hx_status rc;
    sqlite3_stmt *st = NULL;
    fputs("<section><h2 id=\"", f);
    anchor(f, "s-", sweep);
    fputs("\">Sweep ", f);
    pl_html_escape(f, sweep);
    fputs("</h2>\n<p>Runs: ", f);
    if (sqlite3_prepare_v2(db, k_status_sql, -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "page: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    for (int k = 0; sqlite3_step(st) == SQLITE_ROW; k++) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        fprintf(f, "%s<span class=\"%s\">%d ", k ? ", " : "", strcmp(s, "ok") ? "bad" : "",
                sqlite3_column_int(st, 1));
        pl_html_escape(f, s);
        fputs("</span>", f);
    }
    sqlite3_finalize(st);
    fputs(". Only runs with status ok are plotted.</p>\n", f);
    if (n == 0) fputs("<p class=bad>No run of this sweep finished ok: nothing to plot.</p>\n", f);
    for (size_t i = 0; i < n; i++) html_group(f, out_dir, &gs[i]);

    fputs("<h3>Runs not plotted (did not finish ok), with the reason</h3>\n", f);
    if ((rc = html_table(f, db, k_failed_sql, sweep, "None: every run finished ok.", err, errlen)) != HX_OK)
        return rc;
    fputs("<h3>Datasets</h3>\n", f);
    if ((rc = html_table(f, db, k_datasets_sql, sweep, "No dataset rows recorded.", err, errlen)) != HX_OK)
        return rc;

    fputs("<h3>Sweep file</h3>\n", f);
    if (sqlite3_prepare_v2(db, "SELECT file, yaml, updated_at FROM sweeps WHERE name = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "page: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *file = (const char *)sqlite3_column_text(st, 0);
        const char *yaml = (const char *)sqlite3_column_text(st, 1);
        const char *when = (const char *)sqlite3_column_text(st, 2);
        fputs("<p><code>", f);
        pl_html_escape(f, file ? file : "(unknown file)");
        fputs("</code>, as last run ", f);
        pl_html_escape(f, when ? when : "");
        fputs(":</p>\n<pre>", f);
        pl_html_escape(f, yaml ? yaml : "(not recorded)");
        fputs("</pre>\n", f);
    } else fputs("<p class=muted>Not recorded.</p>\n", f);
    sqlite3_finalize(st);

    fputs("<h3>Environment (latest invocations first)</h3>\n", f);
    rc = html_table(f, db, k_env_sql, sweep, "No invocation recorded.", err, errlen);
    fputs("</section>\n", f);
    return rc;
}

hx_status pl_write_html(sqlite3 *db, const char *out_dir, char **sweeps, size_t n_sweeps,
                        pl_group *const *groups, const size_t *n_groups, char *err,
                        size_t errlen) {
    char path[1100], tmp[1200], when[64];
    snprintf(path, sizeof path, "%s/index.html", out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return hx_error(HX_ERR_IO, err, errlen, "cannot write %s", tmp);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    fprintf(f, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
               "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n"
               "<title>embsweep results</title>\n<style>%s</style></head><body>\n"
               "<h1>embsweep: accuracy against memory</h1>\n"
               "<p class=muted>Generated by <code>embsweep plot</code> on %s from <code>",
            k_css, when);
    pl_html_escape(f, sqlite3_db_filename(db, "main"));
    fputs("</code>. Click a figure for its SVG. Every figure's data (TSV) and gnuplot script are in "
          "<code>data/</code>; rerun one with <code>gnuplot data/NAME.gp</code> from this directory. "
          "Saved queries: <code>embsweep query --list</code>.</p>\n<nav><b>Contents</b><ul>\n",
          f);
    for (size_t s = 0; s < n_sweeps; s++) {
        fputs("<li><a href=\"#", f);
        anchor(f, "s-", sweeps[s]);
        fputs("\">", f);
        pl_html_escape(f, sweeps[s]);
        fputs("</a>", f);
        for (size_t k = 0; k < n_groups[s]; k++) {
            fputs(k ? ", " : ": ", f);
            fputs("<a href=\"#", f);
            anchor(f, "g-", groups[s][k].base);
            fputs("\">", f);
            pl_html_escape(f, groups[s][k].dataset);
            fprintf(f, " d%lld", (long long)groups[s][k].dim);
            if (strcmp(groups[s][k].arch, "dlrm")) {
                fputs(" ", f);
                pl_html_escape(f, groups[s][k].arch);
            }
            fputs("</a>", f);
        }
        fputs("</li>\n", f);
    }
    fputs("</ul></nav>\n", f);
    if (n_sweeps == 0) fputs("<p class=bad>The database holds no sweep yet.</p>\n", f);
    hx_status rc = HX_OK;
    for (size_t s = 0; s < n_sweeps && rc == HX_OK; s++)
        rc = html_sweep(f, db, out_dir, sweeps[s], groups[s], n_groups[s], err, errlen);
    fputs("</body></html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) rc = rc != HX_OK ? rc : hx_error(HX_ERR_IO, err, errlen, "writing %s failed", tmp);
    if (rc == HX_OK && rename(tmp, path) != 0)
        rc = hx_error(HX_ERR_IO, err, errlen, "cannot rename %s to %s", tmp, path);
    if (rc != HX_OK) remove(tmp);
    return rc;
}
