/* db_record.c: writing to the results database (db.h): a sweep's cells, an
 * invocation's start and end, and each run's result in one transaction (its
 * row, loss curve, RSS samples, phase peaks and test scores). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"

/* ---- binding helpers: NULL for non-finite doubles and unknown values ---- */

static void bind_d(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}
static void bind_u(sqlite3_stmt *st, int i, uint64_t v, int valid) {
    if (valid) sqlite3_bind_int64(st, i, (sqlite3_int64)v);
    else sqlite3_bind_null(st, i);
}
static void bind_t(sqlite3_stmt *st, int i, const char *s) {
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}
static void bind_time(sqlite3_stmt *st, int i, double t) {
    char b[40];
    if (t <= 0) {
        sqlite3_bind_null(st, i);
        return;
    }
    db_iso_time(t, b, sizeof b);
    sqlite3_bind_text(st, i, b, -1, SQLITE_TRANSIENT);
}

static int step_done(sqlite3_stmt *st) {
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r == SQLITE_DONE ? 0 : -1;
}

hx_status db_run_status(db *d, const char *key, char *status, size_t n) {
    status[0] = 0;
    sqlite3_bind_text(d->status, 1, key, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(d->status);
    if (r == SQLITE_ROW) snprintf(status, n, "%s", (const char *)sqlite3_column_text(d->status, 0));
    sqlite3_reset(d->status);
    sqlite3_clear_bindings(d->status);
    return (r == SQLITE_ROW || r == SQLITE_DONE) ? HX_OK : HX_ERR_IO;
}

hx_status db_run_started(db *d, const char *key, int64_t invocation, double started) {
    sqlite3_bind_text(d->started, 1, key, -1, SQLITE_TRANSIENT);
    bind_time(d->started, 2, started);
    sqlite3_bind_int64(d->started, 3, invocation);
    return step_done(d->started) ? HX_ERR_IO : HX_OK;
}

/* The statements that record a sweep (db_sweep_prepare). */
typedef struct sweep_stmts {
    sqlite3_stmt *sweep, *ds, *run, *upd, *link, *skip;
} sweep_stmts;

/* Nonzero when any statement failed to prepare. */
static int sweep_stmts_prepare(db *d, sweep_stmts *q) {
    int bad = 0;
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT INTO sweeps(name, file, yaml, created_at, updated_at) VALUES (?1,?2,?3,?4,?4) "
                              "ON CONFLICT(name) DO UPDATE SET file=?2, yaml=?3, updated_at=?4",
                              -1, &q->sweep, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT OR REPLACE INTO datasets(id, name, kind, recipe, rows_train, rows_val, rows_test,"
                              " n_dense, n_fields, cardinalities, pos_rate_train, pos_rate_test, bayes_auc,"
                              " bayes_logloss) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                              -1, &q->ds, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "INSERT OR IGNORE INTO runs(key, sweep, status, method, dataset, dataset_id, dim,"
                              " ratio_requested, seed, params, knobs, config) VALUES (?1,?2,'pending',?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                              -1, &q->run, NULL);
    bad |= sqlite3_prepare_v2(d->h, "UPDATE runs SET sweep = ?2, dataset_id = COALESCE(?3, dataset_id) WHERE key = ?1",
                              -1, &q->upd, NULL);
    bad |= sqlite3_prepare_v2(d->h, "INSERT OR IGNORE INTO sweep_runs(sweep, key) VALUES (?1, ?2)", -1, &q->link, NULL);
    bad |= sqlite3_prepare_v2(d->h,
                              "UPDATE runs SET status = 'skipped', reason = ?2 WHERE key = ?1 AND status <> 'ok'",
                              -1, &q->skip, NULL);
    return bad;
}

static void sweep_stmts_free(sweep_stmts *q) {
    sqlite3_finalize(q->sweep), sqlite3_finalize(q->ds), sqlite3_finalize(q->run);
    sqlite3_finalize(q->upd), sqlite3_finalize(q->link), sqlite3_finalize(q->skip);
}

/* A datasets row per loaded dataset of the sweep. 0 or -1. */
static int record_datasets(sqlite3_stmt *ds, const cfg_sweep *sw) {
    for (int i = 0; i < sw->n_datasets; i++) {
        const cfg_dataset *x = &sw->datasets[i];
        if (!x->loaded) continue;
        char cards[4096];
        size_t u = 0;
        u += (size_t)snprintf(cards, sizeof cards, "[");
        for (int f = 0; f < x->n_fields && u + 24 < sizeof cards; f++)
            u += (size_t)snprintf(cards + u, sizeof cards - u, "%s%lld", f ? "," : "", (long long)x->card[f]);
        snprintf(cards + u, sizeof cards - u, "]");
        bind_t(ds, 1, x->id);
        bind_t(ds, 2, x->spec.name);
        bind_t(ds, 3, x->spec.kind);
        bind_t(ds, 4, x->recipe);
        sqlite3_bind_int64(ds, 5, x->n_train);
        sqlite3_bind_int64(ds, 6, x->n_val);
        sqlite3_bind_int64(ds, 7, x->n_test);
        sqlite3_bind_int(ds, 8, x->n_dense);
        sqlite3_bind_int(ds, 9, x->n_fields);
        bind_t(ds, 10, cards);
        bind_d(ds, 11, x->pos_rate_train);
        bind_d(ds, 12, x->pos_rate_test);
        bind_d(ds, 13, x->bayes_auc);
        bind_d(ds, 14, x->bayes_logloss);
        if (step_done(ds)) return -1;
    }
    return 0;
}

/* Per cell: a pending runs row (an existing row keeps its status and results),
 * the sweep that last scheduled it, its sweep_runs link, and the skip reason of
 * an unreachable cell. 0 or -1. */
static int record_cells(const sweep_stmts *q, const cfg_sweep *sw) {
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        const cfg_dataset *x = &sw->datasets[c->dataset];
        const char *dsid = x->loaded ? x->id : NULL;
        bind_t(q->run, 1, c->key);
        bind_t(q->run, 2, sw->name);
        bind_t(q->run, 3, c->rc.method->name);
        bind_t(q->run, 4, x->spec.name);
        bind_t(q->run, 5, dsid);
        sqlite3_bind_int(q->run, 6, c->rc.dim);
        sqlite3_bind_double(q->run, 7, c->rc.ratio);
        sqlite3_bind_int64(q->run, 8, (sqlite3_int64)c->rc.seed);
        bind_t(q->run, 9, c->params);
        bind_t(q->run, 10, c->knobs[0] ? c->knobs : NULL);
        bind_t(q->run, 11, c->json);
        if (step_done(q->run)) return -1;
        bind_t(q->upd, 1, c->key);
        bind_t(q->upd, 2, sw->name);
        bind_t(q->upd, 3, dsid);
        if (step_done(q->upd)) return -1;
        bind_t(q->link, 1, sw->name);
        bind_t(q->link, 2, c->key);
        if (step_done(q->link)) return -1;
        if (c->skipped) {
            bind_t(q->skip, 1, c->key);
            bind_t(q->skip, 2, c->reason);
            if (step_done(q->skip)) return -1;
        }
    }
    return 0;
}

hx_status db_sweep_prepare(db *d, const cfg_sweep *sw, char *err, size_t errlen) {
    sweep_stmts q = {0};
    char now[40];
    db_iso_time(db_wall_now(), now, sizeof now);
    if (db_exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return db_sql_err(d, "begin", err, errlen);
    if (sweep_stmts_prepare(d, &q)) goto fail;
    sqlite3_bind_text(q.sweep, 1, sw->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 2, sw->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 3, sw->yaml, -1, SQLITE_STATIC);
    sqlite3_bind_text(q.sweep, 4, now, -1, SQLITE_STATIC);
    if (step_done(q.sweep) || record_datasets(q.ds, sw) || record_cells(&q, sw)) goto fail;
    sweep_stmts_free(&q);
    if (db_exec(d, "COMMIT") != SQLITE_OK) return db_sql_err(d, "commit", err, errlen);
    return HX_OK;
fail:;
    hx_status rc = db_sql_err(d, "recording the sweep", err, errlen);
    sweep_stmts_free(&q);
    db_exec(d, "ROLLBACK");
    return rc;
}

hx_status db_invocation_start(db *d, const char *sweep, const char *argv, int jobs, int threads,
                              const prov *p, int64_t *id, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h,
                           "INSERT INTO invocations(sweep, started_at, argv, git_commit, git_dirty, compiler, cflags,"
                           " blas, cpu_model, cores, kernel, hostname, jobs, threads_per_job, status, slurm_job,"
                           " slurm_task, node) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,'running',"
                           "?15,?16,?17)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_sql_err(d, "invocation", err, errlen);
    bind_t(st, 1, sweep);
    bind_time(st, 2, db_wall_now());
    bind_t(st, 3, argv);
    bind_t(st, 4, p->git_commit[0] ? p->git_commit : NULL);
    if (p->git_dirty >= 0) sqlite3_bind_int(st, 5, p->git_dirty);
    bind_t(st, 6, p->compiler);
    bind_t(st, 7, p->cflags);
    bind_t(st, 8, p->blas);
    bind_t(st, 9, p->cpu_model);
    sqlite3_bind_int(st, 10, p->cores);
    bind_t(st, 11, p->kernel);
    bind_t(st, 12, p->hostname);
    sqlite3_bind_int(st, 13, jobs);
    sqlite3_bind_int(st, 14, threads);
    bind_t(st, 15, p->slurm_job[0] ? p->slurm_job : NULL);
    if (p->slurm_task >= 0) sqlite3_bind_int(st, 16, p->slurm_task);
    bind_t(st, 17, p->node[0] ? p->node : NULL);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return db_sql_err(d, "invocation", err, errlen);
    *id = sqlite3_last_insert_rowid(d->h);
    return HX_OK;
}

hx_status db_invocation_finish(db *d, int64_t id, const char *status) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->h, "UPDATE invocations SET finished_at = ?2, status = ?3 WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return HX_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    bind_time(st, 2, db_wall_now());
    bind_t(st, 3, status);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? HX_OK : HX_ERR_IO;
}

/* The result columns of d->finish (?5..?23, ?30, ?31, ?33..?38), bound only for
 * a run that has a result; the others stay NULL. */
static void bind_run_result(sqlite3_stmt *st, const run_result *x) {
    bind_d(st, 5, x->ratio_achieved);
    bind_t(st, 6, x->knobs[0] ? x->knobs : NULL);
    bind_d(st, 7, x->test_auc), bind_d(st, 8, x->test_logloss), bind_d(st, 9, x->test_acc);
    bind_d(st, 10, x->val_auc), bind_d(st, 11, x->val_logloss);
    bind_d(st, 12, x->bayes_auc), bind_d(st, 13, x->bayes_logloss);
    sqlite3_bind_int(st, 14, x->best_epoch);
    bind_u(st, 15, x->bytes_infer, 1);
    bind_u(st, 16, x->bytes.infer_params, 1);
    bind_u(st, 17, x->bytes.infer_index, 1);
    bind_t(st, 18, x->bytes.index_desc);
    bind_u(st, 19, x->bytes_train, 1);
    bind_u(st, 20, x->bytes.train_params, 1);
    bind_u(st, 21, x->bytes.train_optim, 1);
    bind_u(st, 22, x->bytes.train_other, 1);
    bind_u(st, 23, x->bytes_dense, 1);
    bind_d(st, 30, x->train_samples_per_s), bind_d(st, 31, x->infer_samples_per_s);
    bind_d(st, 33, x->cpu_s);
    bind_d(st, 34, x->train_s), bind_d(st, 35, x->eval_s), bind_d(st, 36, x->load_s);
    sqlite3_bind_int64(st, 37, x->steps);
    bind_d(st, 38, x->final_train_loss);
}

/* Every column of the run's row in d->finish: status, result, measured memory
 * (the peaks over the phases), how the worker ended. */
static void bind_run_row(sqlite3_stmt *st, const run_record *r) {
    uint64_t peak = 0, anon = 0, file = 0;
    int any_peak = 0;
    for (int p = 0; p < 3; p++)
        if (r->phase[p].seen) {
            any_peak = 1;
            if (r->phase[p].hwm > peak) peak = r->phase[p].hwm;
        }
    for (int p = 0; p < 3; p++) {
        if (r->phase[p].anon > anon) anon = r->phase[p].anon;
        if (r->phase[p].file > file) file = r->phase[p].file;
    }
    bind_t(st, 1, r->key);
    bind_t(st, 2, r->status);
    bind_t(st, 3, r->reason);
    sqlite3_bind_int64(st, 4, r->invocation);
    if (r->has_result) bind_run_result(st, &r->res);
    bind_u(st, 24, peak, any_peak);
    for (int p = 0; p < 3; p++) bind_u(st, 25 + p, r->phase[p].hwm, r->phase[p].seen);
    bind_u(st, 28, anon, anon > 0);
    bind_u(st, 29, file, anon > 0);
    bind_d(st, 32, r->has_result && r->res.wall_s > 0 ? r->res.wall_s : r->finished - r->started);
    sqlite3_bind_int(st, 39, r->blas_threads);
    if (r->exit_code >= 0) sqlite3_bind_int(st, 40, r->exit_code);
    if (r->signal > 0) sqlite3_bind_int(st, 41, r->signal);
    bind_t(st, 42, r->stderr_tail && r->stderr_tail[0] ? r->stderr_tail : NULL);
    bind_time(st, 43, r->started);
    bind_time(st, 44, r->finished);
}

/* The run's test scores, replacing those of an earlier attempt (none when the
 * run kept none). 0 or -1. */
static int write_run_scores(db *d, const run_record *r) {
    bind_t(d->del_scores, 1, r->key);
    if (step_done(d->del_scores)) return -1;
    const scores_buf *sb = r->scores;
    if (!sb) return 0;
    bind_t(d->ins_scores, 1, r->key);
    sqlite3_bind_int64(d->ins_scores, 2, sb->n);
    sqlite3_bind_blob64(d->ins_scores, 3, sb->logits, 4 * (sqlite3_uint64)sb->n, SQLITE_STATIC);
    sqlite3_bind_blob64(d->ins_scores, 4, sb->labels, scores_label_bytes(sb->n), SQLITE_STATIC);
    return step_done(d->ins_scores);
}

/* The run's loss curve, RSS samples, phase peaks and stage times, replacing those
 * of an earlier attempt. 0 or -1. */
static int write_run_series(db *d, const run_record *r) {
    sqlite3_stmt *dels[] = {d->del_loss, d->del_rss, d->del_phase, d->del_stage};
    for (int i = 0; i < 4; i++) {
        bind_t(dels[i], 1, r->key);
        if (step_done(dels[i])) return -1;
    }
    for (int i = 0; i < r->n_loss; i++) {
        bind_t(d->ins_loss, 1, r->key);
        sqlite3_bind_int64(d->ins_loss, 2, r->loss[i].step);
        bind_d(d->ins_loss, 3, r->loss[i].epoch);
        bind_d(d->ins_loss, 4, r->loss[i].loss);
        if (step_done(d->ins_loss)) return -1;
    }
    for (int i = 0; i < r->n_samples; i++) {
        const rss_sample *s = &r->samples[i];
        bind_t(d->ins_rss, 1, r->key);
        sqlite3_bind_double(d->ins_rss, 2, s->t);
        bind_t(d->ins_rss, 3, db_phase_names[s->phase]);
        bind_u(d->ins_rss, 4, s->rss, 1), bind_u(d->ins_rss, 5, s->anon, 1);
        bind_u(d->ins_rss, 6, s->file, 1), bind_u(d->ins_rss, 7, s->hwm, 1);
        if (step_done(d->ins_rss)) return -1;
    }
    for (int p = 0; p < 3; p++) {
        const phase_peak *pp = &r->phase[p];
        if (!pp->seen) continue;
        bind_t(d->ins_phase, 1, r->key);
        bind_t(d->ins_phase, 2, db_phase_names[p]);
        bind_u(d->ins_phase, 3, pp->hwm, 1), bind_u(d->ins_phase, 4, pp->anon, 1);
        bind_u(d->ins_phase, 5, pp->file, 1);
        sqlite3_bind_int(d->ins_phase, 6, pp->hwm_reset);
        bind_d(d->ins_phase, 7, pp->seconds);
        if (step_done(d->ins_phase)) return -1;
    }
    for (int s = 0; r->has_result && s < MS_N; s++) {
        bind_t(d->ins_stage, 1, r->key);
        bind_t(d->ins_stage, 2, model_stage_names[s]);
        bind_d(d->ins_stage, 3, r->res.stage_s[s]);
        if (step_done(d->ins_stage)) return -1;
    }
    return 0;
}

hx_status db_run_finish(db *d, const run_record *r, char *err, size_t errlen) {
    if (db_exec(d, "BEGIN IMMEDIATE") != SQLITE_OK) return db_sql_err(d, "begin", err, errlen);
    bind_run_row(d->finish, r);
    if (step_done(d->finish) || write_run_series(d, r) || write_run_scores(d, r) ||
        db_exec(d, "COMMIT") != SQLITE_OK) {
        hx_status rc = db_sql_err(d, "writing a run", err, errlen);
        db_exec(d, "ROLLBACK");
        return rc;
    }
    return HX_OK;
}
