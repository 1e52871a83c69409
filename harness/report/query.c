/* query.c: saved queries and the CSV export, pl_query_*() and pl_export_csv() of
 * plot.h, the work of `embsweep query` and `embsweep export` (their command lines
 * are harness/cli/query_cli.c): a saved query (results/queries/NAME.sql) runs on
 * the results database and prints aligned columns; the export writes the
 * run_summary view as CSV (MLflow's `experiments csv`). Also the row printer
 * shared with `embsweep plot`.
 *
 * A saved query is plain SQLite SQL; its first line is a `-- question` comment, the
 * header --list shows. A query may use the parameter :sweep (bound by --sweep, NULL
 * otherwise) to filter, e.g. `WHERE :sweep IS NULL OR sweep = :sweep`.
 * The queries directory: --queries DIR, else results/queries under the working
 * directory, else next to the binary (./embsweep or build/<mode>/embsweep).
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

/* ---- printing rows ---- */

static void cell_text(sqlite3_stmt *st, int i, pl_format fmt, char *buf, size_t n) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: snprintf(buf, n, "%s", fmt == PL_FMT_TABLE ? "-" : ""); break;
    case SQLITE_INTEGER: snprintf(buf, n, "%lld", (long long)sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        /* whole numbers (rounded throughputs, byte means) print as integers */
        if (fmt == PL_FMT_TABLE && v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
        else snprintf(buf, n, fmt == PL_FMT_TABLE ? "%.6g" : "%.15g", v);
        break;
    }
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        snprintf(buf, n, "%s", t ? t : "");
    }
    }
}

static void put_field(FILE *f, const char *s, pl_format fmt) {
    if (fmt == PL_FMT_CSV && strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
        return;
    }
    for (; *s; s++) fputc(fmt == PL_FMT_TSV && (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s, f);
}

typedef struct cells { char **s; unsigned char *num; size_t n, cap; } cells;

static void cells_push(cells *c, const char *s, int num) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->s = hx_realloc(c->s, c->cap * sizeof *c->s);
        c->num = hx_realloc(c->num, c->cap);
        HX_ASSERT(c->s && c->num);
    }
    c->num[c->n] = (unsigned char)num;
    c->s[c->n++] = hx_strdup(s);
}

/* Table cells are single-line: newlines become spaces, long text is cut. A column
 * whose cells are all numbers (or NULL) is right-aligned, header included. */
static void table_print(FILE *f, const cells *c, int ncol) {
    size_t nc = (size_t)ncol;
    size_t *w = hx_xmalloc(nc * sizeof *w);
    unsigned char *right = hx_xmalloc(nc);
    for (size_t j = 0; j < nc; j++) w[j] = 0, right[j] = 1;
    for (size_t i = 0; i < c->n; i++) {
        char *s = c->s[i];
        for (char *p = s; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
        if (strlen(s) > 100) strcpy(s + 97, "...");
        size_t l = strlen(s);
        if (l > w[i % nc]) w[i % nc] = l;
        if (i >= nc && !c->num[i] && strcmp(s, "-")) right[i % nc] = 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t j = i % nc;
        int last = j == nc - 1;
        fprintf(f, right[j] ? "%*s" : "%-*s", last && !right[j] ? 0 : (int)w[j], c->s[i]);
        fputs(last ? "\n" : "  ", f);
        if (last && i < nc) { /* the rule under the header */
            for (size_t k = 0; k < nc; k++) {
                for (size_t m = 0; m < w[k]; m++) fputc('-', f);
                fputs(k == nc - 1 ? "\n" : "  ", f);
            }
        }
    }
    hx_free(right);
    hx_free(w);
}

hx_status pl_dump_stmt(sqlite3 *db, sqlite3_stmt *st, FILE *f, pl_format fmt, size_t *rows,
                       char *err, size_t errlen) {
    int ncol = sqlite3_column_count(st), step;
    size_t nrow = 0;
    char buf[4096];
    cells c = {0};
    const char *sep = fmt == PL_FMT_CSV ? "," : "\t";
    for (int j = 0; j < ncol; j++) {
        const char *name = sqlite3_column_name(st, j);
        if (fmt == PL_FMT_TABLE) cells_push(&c, name, 0);
        else {
            put_field(f, name, fmt);
            fputs(j == ncol - 1 ? "\n" : sep, f);
        }
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int j = 0; j < ncol; j++) {
            cell_text(st, j, fmt, buf, sizeof buf);
            int type = sqlite3_column_type(st, j);
            if (fmt == PL_FMT_TABLE) cells_push(&c, buf, type == SQLITE_INTEGER || type == SQLITE_FLOAT);
            else {
                put_field(f, buf, fmt);
                fputs(j == ncol - 1 ? "\n" : sep, f);
            }
        }
        nrow++;
    }
    if (fmt == PL_FMT_TABLE && ncol > 0) table_print(f, &c, ncol);
    for (size_t i = 0; i < c.n; i++) hx_free(c.s[i]);
    hx_free(c.s);
    hx_free(c.num);
    if (rows) *rows = nrow;
    if (step != SQLITE_DONE) return hx_error(HX_ERR_IO, err, errlen, "%s", sqlite3_errmsg(db));
    return HX_OK;
}

/* ---- the queries directory ---- */

static int is_dir(const char *p) {
    DIR *d = opendir(p);
    if (d) closedir(d);
    return d != NULL;
}

static int find_queries_dir(char *out, size_t n) {
    if (is_dir("results/queries")) {
        snprintf(out, n, "results/queries");
        return 0;
    }
    char exe[PATH_MAX - 64];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l <= 0) return -1;
    exe[l] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = 0;
    static const char *const rel[] = {"/results/queries", "/../../results/queries"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        int w = snprintf(out, n, "%s%s", exe, rel[i]);
        if (w > 0 && (size_t)w < n && is_dir(out)) return 0;
    }
    return -1;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The saved query names (file names without .sql), sorted. */
static pl_list list_queries(const char *dir) {
    pl_list l = {0};
    DIR *d = opendir(dir);
    if (!d) return l;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && e->d_name[0] != '.' && !strcmp(e->d_name + len - 4, ".sql")) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(len - 4), e->d_name);
            pl_list_push(&l, name);
        }
    }
    closedir(d);
    if (l.n) qsort(l.s, l.n, sizeof *l.s, name_cmp);
    return l;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, r;
    char *buf = hx_xmalloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            cap *= 2;
            buf = hx_realloc(buf, cap);
            HX_ASSERT(buf);
        }
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* The header: the first `--` line, without the dashes. */
static void query_header(const char *sql, char *out, size_t n) {
    out[0] = 0;
    while (*sql == ' ' || *sql == '\n' || *sql == '\r' || *sql == '\t') sql++;
    if (strncmp(sql, "--", 2)) return;
    sql += 2;
    while (*sql == ' ' || *sql == '-') sql++;
    size_t k = strcspn(sql, "\r\n");
    snprintf(out, n, "%.*s", (int)k, sql);
}

/* ---- the commands' work ---- */

hx_status pl_query_dir(const char *dir, char *out, size_t n, char *err, size_t errlen) {
    if (dir) snprintf(out, n, "%s", dir);
    else if (find_queries_dir(out, n) != 0)
        return hx_error(HX_ERR_PARAM, err, errlen,
                        "no results/queries directory here or next to the binary; pass --queries DIR");
    return HX_OK;
}

size_t pl_query_list(const char *qdir, FILE *f) {
    pl_list names = list_queries(qdir);
    char path[PATH_MAX + 300], header[512];
    for (size_t i = 0; i < names.n; i++) {
        snprintf(path, sizeof path, "%s/%s.sql", qdir, names.s[i]);
        char *sql = read_file(path);
        query_header(sql ? sql : "", header, sizeof header);
        fprintf(f, "%-24s %s\n", names.s[i], header);
        hx_free(sql);
    }
    size_t n = names.n;
    pl_list_free(&names);
    return n;
}

hx_status pl_query_find(const char *qdir, const char *name, char *path, size_t n, char *err, size_t errlen) {
    size_t len = strlen(name);
    snprintf(path, n, "%s/%.*s.sql", qdir, (int)(len > 4 && !strcmp(name + len - 4, ".sql") ? len - 4 : len), name);
    FILE *probe = fopen(path, "rb");
    if (probe) {
        fclose(probe);
        return HX_OK;
    }
    pl_list names = list_queries(qdir);
    int best = 99;
    const char *near = NULL;
    char hint[320] = "";
    for (size_t i = 0; i < names.n; i++) {
        int d = hx_levenshtein(name, names.s[i]);
        if (d < best) best = d, near = names.s[i];
    }
    if (near && best <= 4) snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
    hx_status rc = hx_error(HX_ERR_PARAM, err, errlen,
                            "no saved query '%s' in %s%s; `embsweep query --list` lists them", name, qdir, hint);
    pl_list_free(&names);
    return rc;
}

/* One statement of a saved query: run it, print what it returns. */
static hx_status query_statement(sqlite3 *db, sqlite3_stmt *st, const char *path, pl_format fmt, FILE *f,
                                 char *err, size_t errlen) {
    size_t rows = 0;
    if (sqlite3_column_count(st) == 0) {
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            return hx_error(HX_ERR_FORMAT, err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        return HX_OK;
    }
    char msg[512];
    if (pl_dump_stmt(db, st, f, fmt, &rows, msg, sizeof msg) != HX_OK)
        return hx_error(HX_ERR_IO, err, errlen, "%s: %s", path, msg);
    if (fmt == PL_FMT_TABLE) fprintf(f, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
    return HX_OK;
}

hx_status pl_query_run(const char *path, const char *db_path, const char *sweep, pl_format fmt, FILE *f,
                       char *err, size_t errlen) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    hx_status rc = HX_OK;
    int results = 0;
    char *sql = read_file(path);
    if (!sql) return hx_error(HX_ERR_IO, err, errlen, "cannot read %s", path);
    if ((rc = pl_db_open(db_path, &db, err, errlen)) != HX_OK) goto done;
    for (const char *tail = sql; *tail;) {
        if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
            rc = hx_error(HX_ERR_FORMAT, err, errlen, "%s: %s", path, sqlite3_errmsg(db));
            goto done;
        }
        if (!st) continue; /* comments or whitespace at the end */
        int ix = sqlite3_bind_parameter_index(st, ":sweep");
        if (ix > 0 && sweep) sqlite3_bind_text(st, ix, sweep, -1, SQLITE_TRANSIENT);
        if (sqlite3_column_count(st) > 0 && results++ && fmt == PL_FMT_TABLE) fputc('\n', f);
        if ((rc = query_statement(db, st, path, fmt, f, err, errlen)) != HX_OK) goto done;
        sqlite3_finalize(st);
        st = NULL;
    }
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    hx_free(sql);
    return rc;
}

hx_status pl_export_csv(const char *db_path, const char *sweep, const char *out, size_t *rows, char *err,
                        size_t errlen) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    FILE *f = NULL;
    hx_status rc;
    *rows = 0;
    if ((rc = pl_db_open(db_path, &db, err, errlen)) != HX_OK) return rc;
    if (sweep) { /* a sweep the database does not hold is an error, not an empty file */
        pl_list named = {0};
        rc = pl_list_sweeps(db, sweep, &named, err, errlen);
        pl_list_free(&named);
        if (rc != HX_OK) goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT * FROM run_summary WHERE ?1 IS NULL OR sweep = ?1"
                           " ORDER BY sweep, dataset, dim, method, ratio_requested, seed, key",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = hx_error(HX_ERR_FORMAT, err, errlen, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (sweep) sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    if (!(f = out ? fopen(out, "w") : stdout)) {
        rc = hx_error(HX_ERR_IO, err, errlen, "cannot write %s", out);
        goto done;
    }
    if ((rc = pl_dump_stmt(db, st, f, PL_FMT_CSV, rows, err, errlen)) != HX_OK) goto done;
    if (fflush(f) != 0 || ferror(f))
        rc = hx_error(HX_ERR_IO, err, errlen, "writing %s failed", out ? out : "stdout");
done:
    if (f && f != stdout && fclose(f) != 0 && rc == HX_OK) rc = hx_error(HX_ERR_IO, err, errlen, "writing %s failed", out);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
