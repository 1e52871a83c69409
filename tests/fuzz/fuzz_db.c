/* fuzz_db.c: the results database's open path (harness/sweep/db.c: WAL,
 * user_version, migration, prepared statements) on a file holding the input,
 * then the queries of `embsweep status` (harness/cli/sweep_cli.c), a run's
 * status, and the stored test scores of up to 8 runs (db_scores_read on a
 * read-only handle: what it returns must hold n floats, labels 0 or 1). SQLite's
 * side files (-wal, -shm, -journal) are removed around each input, so every
 * input starts from its own bytes alone. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "harness/cli/cli.h"
#include "harness/sweep/db.h"

static void remove_side_files(const char *path) {
    static const char *const ext[] = {"-wal", "-shm", "-journal"};
    for (int i = 0; i < 3; i++) {
        char p[FZ_PATH + 16];
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
}

/* db_scores_read of the first keys of run_scores. */
static void read_scores(const char *path) {
    sqlite3 *h = NULL;
    char err[512];
    if (db_open_read(path, &h, err, sizeof err) != HX_OK) return;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT key FROM run_scores LIMIT 8", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *key = (const char *)sqlite3_column_text(st, 0);
            float *lg = NULL, *lb = NULL;
            int64_t n = 0;
            hx_status rc = db_scores_read(h, key ? key : "", &lg, &lb, &n, err, sizeof err);
            if (rc != HX_OK || n == 0) {
                if (lg || lb || n) abort(); /* nothing is returned without scores */
                continue;
            }
            for (int64_t i = 0; i < n; i++)
                if (lb[i] != 0.0f && lb[i] != 1.0f) abort();
            volatile float last = lg[n - 1]; /* the whole array is there (ASan) */
            (void)last;
            hx_free(lg), hx_free(lb);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
}

int fuzz_db(const uint8_t *data, size_t size) {
    char path[FZ_PATH];
    if (fz_write("results.db", data, size, 0, 0, path)) return 0;
    remove_side_files(path);
    db *d = NULL;
    char err[512], status[64];
    if (db_open(path, &d, err, sizeof err) == HX_OK) {
        db_run_status(d, "0123456789abcdef", status, sizeof status);
        db_close(d);
        char *argv[] = {"status", "--db", path, NULL};
        cmd_status(3, argv);
        read_scores(path);
    }
    remove_side_files(path);
    return 0;
}
