/* db_scores.c: reading a run's kept test scores back from the results database
 * (db_scores_read of db.h), on any handle: the writer's or a read-only one. The
 * writing side is db_run_finish (db.c); the blob layout is scores.h. */
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "db.h"

int64_t db_scores_max_rows(db *d) {
    int64_t lim = sqlite3_limit(db_handle(d), SQLITE_LIMIT_LENGTH, -1);
    return lim / 4;
}

static int has_scores_table(sqlite3 *h) {
    sqlite3_stmt *st;
    int yes = 0;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_scores'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int r = sqlite3_step(st);
    yes = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return yes;
}

/* The row st points at into two new float arrays. */
static hx_status scores_row(sqlite3_stmt *st, const char *key, float **logits, float **labels, int64_t *n,
                            char *err, size_t errlen) {
    int64_t rows = sqlite3_column_int64(st, 0);
    const char *fmt = (const char *)sqlite3_column_text(st, 1);
    if (!fmt || strcmp(fmt, SCORES_FORMAT))
        return hx_error(HX_ERR_FORMAT, err, errlen, "run %s: scores in format '%s', this embsweep reads '%s'", key,
                        fmt ? fmt : "NULL", SCORES_FORMAT);
    const unsigned char *lg = sqlite3_column_blob(st, 2), *lb = sqlite3_column_blob(st, 3);
    int64_t nlg = sqlite3_column_bytes(st, 2), nlb = sqlite3_column_bytes(st, 3);
    if (rows < 1 || rows > INT64_MAX / 8)
        return hx_error(HX_ERR_FORMAT, err, errlen, "run %s: scores of %lld rows", key, (long long)rows);
    if (nlg != 4 * rows || (uint64_t)nlb != scores_label_bytes(rows))
        return hx_error(HX_ERR_FORMAT, err, errlen,
                        "run %s: %lld rows of scores with %lld bytes of logits and %lld of labels (expected %lld "
                        "and %llu)", key, (long long)rows, (long long)nlg, (long long)nlb, (long long)(4 * rows),
                        (unsigned long long)scores_label_bytes(rows));
    float *a = hx_malloc((size_t)rows * sizeof(float)), *b = hx_malloc((size_t)rows * sizeof(float));
    if (!a || !b) {
        hx_free(a), hx_free(b);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for %lld scores", (long long)rows);
    }
    scores_decode_logits(lg, a, rows);
    scores_unpack_labels(lb, b, rows);
    *logits = a, *labels = b, *n = rows;
    return HX_OK;
}

hx_status db_scores_read(sqlite3 *h, const char *key, float **logits, float **labels, int64_t *n, char *err,
                         size_t errlen) {
    *logits = *labels = NULL;
    *n = 0;
    int has = has_scores_table(h);
    if (has <= 0) /* a database older than version 3 has no scores: not found */
        return has < 0 ? hx_error(HX_ERR_IO, err, errlen, "sqlite: reading scores: %s", sqlite3_errmsg(h)) : HX_OK;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h,
                           "SELECT s.n, s.format, s.logits, s.labels FROM run_scores s JOIN runs r ON r.key = s.key"
                           " WHERE s.key = ?1 AND r.status = 'ok'",
                           -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "sqlite: reading scores: %s", sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    hx_status rc = HX_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) rc = scores_row(st, key, logits, labels, n, err, errlen);
    else if (r != SQLITE_DONE) rc = hx_error(HX_ERR_IO, err, errlen, "sqlite: reading scores of %s: %s", key,
                                            sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc;
}
