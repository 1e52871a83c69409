/* fuzz_db.c: the results database's open path (harness/sweep/db.c: WAL,
 * user_version, migration, prepared statements) on a file holding the input,
 * then the queries of `embsweep status` (harness/cli/sweep_cli.c) and a run's
 * status. SQLite's side files (-wal, -shm, -journal) are removed around each
 * input, so every input starts from its own bytes alone. */
#include <stdio.h>
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
    }
    remove_side_files(path);
    return 0;
}
