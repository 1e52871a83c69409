/* verdict_out.c: the outputs of the verdicts (verdict.h): `embsweep compare`
 * (vd_compare; its pair mode's rows, vd_pairs_print) and the stored `verdicts`
 * table (vd_store). Both write rows with
 * the stored table's columns through one insert, compare into a temporary table
 * of a read-only connection, so the command and the saved query print the same
 * rows. */
#include <math.h>
#include <string.h>

#include "harness/sweep/db.h"
#include "verdict.h"

/* The columns of the `verdicts` table (schema.sql) and of compare's output. */
#define VD_COLUMNS                                                                                  \
    "sweep, dataset, dim, variant, method, params, ratio, bytes_infer, seeds, auc_mean, auc_ci_lo,"   \
    " auc_ci_hi,"                                                                                     \
    " baseline, paired, delta, delta_ci_lo, delta_ci_hi, t_p, delong_p, tost_p, mdd, seeds_needed," \
    " verdict"
#define VD_PARAMS                                                                                  \
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23"

static void bind_num(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, const char *v) {
    if (v && v[0]) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

static int insert_row(sqlite3_stmt *st, const vd_table *t, const vd_row *r) {
    char base[PL_NAME + 200] = "";
    if (isfinite(r->baseline_ratio))
        snprintf(base, sizeof base, "%s@%g%s%.150s", t->baseline, r->baseline_ratio, t->baseline_params[0] ? " " : "",
                 t->baseline_params);
    int judged = r->kind != VD_BASELINE && r->n_paired > 0, c = 1;
    sqlite3_reset(st);
    bind_str(st, c++, t->sweep);
    bind_str(st, c++, t->dataset);
    sqlite3_bind_int64(st, c++, t->dim);
    bind_str(st, c++, r->variant);
    bind_str(st, c++, r->method);
    bind_str(st, c++, r->params);
    bind_num(st, c++, r->ratio);
    bind_num(st, c++, r->bytes_infer);
    sqlite3_bind_int(st, c++, r->n_seeds);
    bind_num(st, c++, r->auc.mean);
    bind_num(st, c++, r->auc.ci_lo);
    bind_num(st, c++, r->auc.ci_hi);
    bind_str(st, c++, base);
    sqlite3_bind_int(st, c++, r->n_paired);
    const double v[] = {r->delta.mean, r->delta.ci_lo, r->delta.ci_hi, r->delta.p,
                        r->n_delong ? r->delong.p : NAN, r->tost.p, r->mdd};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) bind_num(st, c++, judged ? v[i] : NAN);
    if (judged && r->n_paired >= 2) sqlite3_bind_int(st, c++, r->seeds_needed);
    else sqlite3_bind_null(st, c++);
    bind_str(st, c++, r->verdict);
    HX_ASSERT(c == 24);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

/* The (dataset, dim) groups of a sweep, optionally one dataset / dim. */
static const char k_groups_sql[] =
    "SELECT DISTINCT r.dataset, r.dim FROM runs r JOIN sweep_runs s ON s.key = r.key"
    " WHERE s.sweep = ?1 AND r.status = 'ok' AND (?2 IS NULL OR r.dataset = ?2) AND (?3 = 0 OR r.dim = ?3)"
    " ORDER BY r.dataset, r.dim";

/* Judges every group of the sweep and inserts its rows with `ins`. */
static hx_status insert_groups(sqlite3 *h, sqlite3_stmt *ins, const char *sweep, const char *dataset,
                               int64_t dim, const vd_opts *o, size_t *rows, char *err, size_t errlen) {
    sqlite3_stmt *g = NULL;
    if (sqlite3_prepare_v2(h, k_groups_sql, -1, &g, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "reading groups: %s", sqlite3_errmsg(h));
    sqlite3_bind_text(g, 1, sweep, -1, SQLITE_TRANSIENT);
    if (dataset) sqlite3_bind_text(g, 2, dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(g, 3, dim);
    hx_status rc = HX_OK;
    *rows = 0;
    while (rc == HX_OK && sqlite3_step(g) == SQLITE_ROW) {
        char ds[PL_NAME];
        snprintf(ds, sizeof ds, "%s", (const char *)sqlite3_column_text(g, 0));
        vd_table t;
        if ((rc = vd_table_load(h, sweep, ds, sqlite3_column_int64(g, 1), o, &t, err, errlen)) != HX_OK) break;
        for (size_t i = 0; i < t.n && rc == HX_OK; i++, ++*rows)
            if (insert_row(ins, &t, &t.rows[i]))
                rc = hx_error(HX_ERR_IO, err, errlen, "writing verdicts: %s", sqlite3_errmsg(h));
        vd_table_free(&t);
    }
    sqlite3_finalize(g);
    return rc;
}

hx_status vd_store(sqlite3 *h, const char *sweep, char *err, size_t errlen) {
    vd_opts o;
    vd_opts_default(&o);
    sqlite3_stmt *ins = NULL, *del = NULL;
    size_t rows;
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "storing verdicts: %s", sqlite3_errmsg(h));
    hx_status rc = HX_OK;
    if (sqlite3_prepare_v2(h, "DELETE FROM verdicts WHERE sweep = ?1", -1, &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO verdicts (" VD_COLUMNS ") VALUES (" VD_PARAMS ")", -1, &ins, NULL) !=
            SQLITE_OK)
        rc = hx_error(HX_ERR_IO, err, errlen, "storing verdicts: %s", sqlite3_errmsg(h));
    if (rc == HX_OK) {
        sqlite3_bind_text(del, 1, sweep, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(del) != SQLITE_DONE)
            rc = hx_error(HX_ERR_IO, err, errlen, "storing verdicts: %s", sqlite3_errmsg(h));
    }
    if (rc == HX_OK) rc = insert_groups(h, ins, sweep, NULL, 0, &o, &rows, err, errlen);
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    if (rc == HX_OK && sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = hx_error(HX_ERR_IO, err, errlen, "storing verdicts: %s", sqlite3_errmsg(h));
    if (rc != HX_OK) sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* The temporary table vd_out with `extra` columns before the verdict's ones
 * (bound as ?24, ...), and its insert. */
static hx_status out_table(sqlite3 *h, const char *extra, const char *extra_params, sqlite3_stmt **ins, char *err,
                           size_t errlen) {
    char sql[1024];
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE vd_out (%s" VD_COLUMNS ")", extra);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK) {
        snprintf(sql, sizeof sql, "INSERT INTO temp.vd_out (%s" VD_COLUMNS ") VALUES (%s" VD_PARAMS ")", extra,
                 extra_params);
        if (sqlite3_prepare_v2(h, sql, -1, ins, NULL) == SQLITE_OK) return HX_OK;
    }
    sqlite3_finalize(*ins);
    *ins = NULL;
    return hx_error(HX_ERR_IO, err, errlen, "%s", sqlite3_errmsg(h));
}

/* Prints vd_out, the rows inserted. */
static hx_status out_print(sqlite3 *h, FILE *f, pl_format fmt, size_t *rows, char *err, size_t errlen) {
    sqlite3_stmt *sel = NULL;
    hx_status rc = HX_OK;
    if (sqlite3_prepare_v2(h, "SELECT * FROM temp.vd_out", -1, &sel, NULL) != SQLITE_OK)
        rc = hx_error(HX_ERR_IO, err, errlen, "%s", sqlite3_errmsg(h));
    if (rc == HX_OK) rc = pl_dump_stmt(h, sel, f, fmt, rows, err, errlen);
    sqlite3_finalize(sel);
    return rc;
}

/* compare: the rows of every listed sweep go into a temporary table (the main
 * database stays read-only) and are printed by the saved queries' printer. */
static hx_status compare_into(sqlite3 *h, const vd_compare_opts *o, const pl_list *sweeps, FILE *f,
                              size_t *rows, char *err, size_t errlen) {
    sqlite3_stmt *ins = NULL;
    hx_status rc = out_table(h, "", "", &ins, err, errlen);
    size_t n = 0, total = 0;
    for (size_t i = 0; i < sweeps->n && rc == HX_OK; i++, total += n)
        rc = insert_groups(h, ins, sweeps->s[i], o->dataset, o->dim, &o->v, &n, err, errlen);
    sqlite3_finalize(ins);
    if (rc == HX_OK && total == 0)
        rc = hx_error(HX_ERR_PARAM, err, errlen, "no ok run to compare%s",
                      o->dataset || o->dim ? " in the dataset and dim asked for" : "");
    return rc == HX_OK ? out_print(h, f, o->fmt, rows, err, errlen) : rc;
}

hx_status vd_pairs_print(sqlite3 *h, const vd_pair *p, size_t n, FILE *f, pl_format fmt, size_t *rows, char *err,
                         size_t errlen) {
    sqlite3_stmt *ins = NULL;
    hx_status rc = out_table(h, "config, against, ", "?24, ?25, ", &ins, err, errlen);
    for (size_t i = 0; i < n && rc == HX_OK; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 24, p[i].config, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 25, p[i].against, -1, SQLITE_TRANSIENT);
        if (insert_row(ins, &p[i].head, &p[i].row))
            rc = hx_error(HX_ERR_IO, err, errlen, "%s", sqlite3_errmsg(h));
    }
    sqlite3_finalize(ins);
    return rc == HX_OK ? out_print(h, f, fmt, rows, err, errlen) : rc;
}

hx_status vd_compare(const vd_compare_opts *o, FILE *f, size_t *rows, char *err, size_t errlen) {
    sqlite3 *h = NULL;
    hx_status rc = db_open_read(o->db, &h, err, errlen);
    if (rc != HX_OK) return rc;
    pl_list sweeps = {0};
    rc = pl_list_sweeps(h, o->sweep, &sweeps, err, errlen);
    if (rc == HX_OK && o->n_pairs) rc = vd_compare_pairs(h, o, f, rows, err, errlen);
    else if (rc == HX_OK) rc = compare_into(h, o, &sweeps, f, rows, err, errlen);
    pl_list_free(&sweeps);
    sqlite3_close(h);
    return rc;
}
