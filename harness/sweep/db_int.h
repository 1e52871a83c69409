/* db_int.h: what the results database's two files share (db.c opens,
 * migrates, locks and closes it; db_record.c writes sweeps, invocations and
 * runs): the handle's layout and two SQLite helpers. Not for other callers. */
#ifndef EMBSWEEP_DB_INT_H
#define EMBSWEEP_DB_INT_H

#include <sqlite3.h>

#include "db.h"

struct db {
    sqlite3      *h;
    int           writer_fd;  /* flock'ed <path>.writer, or -1 */
    sqlite3_stmt *finish, *started, *status, *del_loss, *del_rss, *del_phase, *ins_loss, *ins_rss,
                 *ins_phase, *del_scores, *ins_scores, *del_stage, *ins_stage;
};

/* An HX_ERR_IO status "sqlite: what: <SQLite's message>". */
hx_status db_sql_err(db *d, const char *what, char *err, size_t errlen);
/* sqlite3_exec without callbacks: SQLITE_OK or SQLite's error code. */
int       db_exec(db *d, const char *sql);

#endif
