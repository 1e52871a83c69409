/* query_cli.c: `embsweep query NAME` / `query --list` and `embsweep export --csv`,
 * their options and usage; the work is harness/report/query.c (pl_query_*,
 * pl_export_csv). Exit 0 ok, 1 a database or I/O failure, 2 bad usage or an
 * unknown query. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "harness/report/plot.h"

#define DEFAULT_DB "results/results.db"

static void query_usage(FILE *f) {
    fprintf(f, "usage: embsweep query NAME [--db PATH] [--sweep NAME] [--csv|--tsv] [--queries DIR]\n"
               "       embsweep query --list [--queries DIR]\n"
               "Runs the saved query results/queries/NAME.sql on the database (default %s)\n"
               "and prints aligned columns (or CSV/TSV). --sweep binds :sweep in the query.\n",
            DEFAULT_DB);
}

/* --list, or the saved query `name` looked up in the queries directory. */
static hx_status query_saved(const char *name, const char *dir, const char *db_path, const char *sweep,
                             pl_format fmt, char *err, size_t errlen) {
    char qdir[PATH_MAX], path[PATH_MAX + 300];
    hx_status st = pl_query_dir(dir, qdir, sizeof qdir, err, errlen);
    if (st != HX_OK) return st;
    if (!name) {
        if (pl_query_list(qdir, stdout) == 0) fprintf(stderr, "embsweep query: no .sql files in %s\n", qdir);
        return HX_OK;
    }
    if ((st = pl_query_find(qdir, name, path, sizeof path, err, errlen)) != HX_OK) return st;
    return pl_query_run(path, db_path, sweep, fmt, stdout, err, errlen);
}

int cmd_query(int argc, char **argv) {
    const char *db_path = DEFAULT_DB, *dir = NULL, *name = NULL, *sweep = NULL;
    int list = 0;
    pl_format fmt = PL_FMT_TABLE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            query_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) list = 1;
        else if (!strcmp(a, "--csv")) fmt = PL_FMT_CSV;
        else if (!strcmp(a, "--tsv")) fmt = PL_FMT_TSV;
        else if ((!strcmp(a, "--db") || !strcmp(a, "--queries") || !strcmp(a, "--sweep")) && i + 1 < argc) {
            const char **dst = a[2] == 'd' ? &db_path : a[2] == 'q' ? &dir : &sweep;
            *dst = argv[++i];
        } else if (a[0] != '-' && !name) name = a;
        else {
            fprintf(stderr, "embsweep query: unexpected argument '%s'\n", a);
            query_usage(stderr);
            return 2;
        }
    }
    if (!list && !name) {
        query_usage(stderr);
        return 2;
    }
    char err[PATH_MAX + 1024];
    hx_status st;
    if (name && strchr(name, '/')) st = pl_query_run(name, db_path, sweep, fmt, stdout, err, sizeof err); /* any .sql file */
    else st = query_saved(list ? NULL : name, dir, db_path, sweep, fmt, err, sizeof err);
    if (st != HX_OK) fprintf(stderr, "embsweep query: %s\n", err);
    return cli_exit_status(st);
}

static void export_usage(FILE *f) {
    fprintf(f, "usage: embsweep export --csv [--db PATH] [--sweep NAME] [--out FILE]\n"
               "Writes the run_summary view (one row per run and sweep, every status) as CSV\n"
               "to FILE or standard output. Database default: %s.\n",
            DEFAULT_DB);
}

int cmd_export(int argc, char **argv) {
    const char *db_path = DEFAULT_DB, *out = NULL, *sweep = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            export_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--csv")) continue; /* the one format */
        else if (!strcmp(a, "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(a, "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--sweep") && i + 1 < argc) sweep = argv[++i];
        else {
            fprintf(stderr, "embsweep export: unexpected argument '%s'\n", a);
            export_usage(stderr);
            return 2;
        }
    }
    char err[1024];
    size_t rows;
    hx_status st = pl_export_csv(db_path, sweep, out, &rows, err, sizeof err);
    if (st != HX_OK) {
        fprintf(stderr, "embsweep export: %s\n", err);
        return cli_exit_status(st);
    }
    if (out) fprintf(stderr, "embsweep export: %zu runs written to %s\n", rows, out);
    return 0;
}
