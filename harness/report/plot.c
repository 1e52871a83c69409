/* plot.c: `embsweep plot [--db PATH] [--sweep NAME] [--out DIR] [--budget R]`.
 *
 * Reads the results database (read-only), writes the data of every figure as TSV
 * plus one gnuplot script per figure under DIR/data/, runs gnuplot once over all
 * scripts (from DIR, so the scripts can be rerun by hand: `cd DIR && gnuplot
 * data/X.gp`), which writes the PNG and SVG files into DIR, then writes
 * DIR/index.html.
 * Figure groups are (sweep, dataset, dim); only runs with status 'ok' are drawn.
 * See plots/README.md for every figure and how to read it.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness/cli/cli.h"
#include "plot.h"

extern char **environ;

static void plot_usage(FILE *f) {
    fputs("usage: embsweep plot [--db PATH] [--sweep NAME] [--out DIR] [--budget R]\n"
          "Draws the figures of every sweep in the database (or only NAME) with gnuplot\n"
          "into DIR (PNG and SVG), their data and scripts into DIR/data, and the page\n"
          "DIR/index.html. Defaults: --db results/results.db --out plots. --budget sets the\n"
          "compression ratio of the RSS-over-time and loss-curve figures (default: the\n"
          "ratio most methods reached).\n",
          f);
}

static hx_status mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return hx_error(HX_ERR_IO, err, errlen, "cannot create %s: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return HX_OK;
}

/* Runs `gnuplot SCRIPT...` in out_dir; its output goes to our stderr. */
static hx_status run_gnuplot(const char *out_dir, const pl_list *scripts, char *err, size_t errlen) {
    if (scripts->n == 0) return HX_OK;
    char **argv = hx_xmalloc((scripts->n + 2) * sizeof *argv);
    argv[0] = "gnuplot";
    for (size_t i = 0; i < scripts->n; i++) argv[i + 1] = scripts->s[i];
    argv[scripts->n + 1] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, out_dir);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    pid_t pid;
    int e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ), st = 0;
    posix_spawn_file_actions_destroy(&fa);
    hx_free(argv);
    if (e != 0)
        return hx_error(HX_ERR_IO, err, errlen,
                        "cannot run gnuplot: %s (install it with harness/deps.sh)", strerror(e));
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return hx_error(HX_ERR_IO, err, errlen, "waitpid: %s", strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return hx_error(HX_ERR_IO, err, errlen,
                        "gnuplot failed (status %d) on the scripts in %s/data; rerun one with "
                        "`cd %s && gnuplot data/<name>.gp`",
                        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out_dir, out_dir);
    return HX_OK;
}

/* The sweeps to draw: every sweep named in the database, or just `only`. */
static hx_status list_sweeps(sqlite3 *db, const char *only, pl_list *out, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    hx_status rc = HX_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sweeps UNION SELECT sweep FROM sweep_runs ORDER BY 1",
                           -1, &st, NULL) != SQLITE_OK)
        return hx_error(HX_ERR_IO, err, errlen, "listing sweeps: %s", sqlite3_errmsg(db));
    pl_list all = {0};
    while (sqlite3_step(st) == SQLITE_ROW) pl_list_push(&all, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    for (size_t i = 0; i < all.n; i++)
        if (!only || !strcmp(only, all.s[i])) pl_list_push(out, all.s[i]);
    if (only && out->n == 0) {
        char names[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < all.n && used < sizeof names; i++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", all.s[i]);
            if (w > 0) used += (size_t)w;
        }
        rc = hx_error(HX_ERR_PARAM, err, errlen, "no sweep '%s' in the database (it has: %s)", only,
                      all.n ? names : "none");
    }
    pl_list_free(&all);
    return rc;
}

/* Loads every (dataset, dim) group of a sweep that has ok runs. */
static hx_status load_groups(sqlite3 *db, const char *sweep, double budget, pl_group **out,
                             size_t *n_out, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    hx_status rc = HX_OK;
    size_t n = 0, cap = 0;
    pl_group *gs = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT r.dataset, r.dim FROM runs r JOIN sweep_runs s ON s.key = r.key"
                           " WHERE s.sweep = ?1 AND r.status = 'ok' ORDER BY r.dataset, r.dim",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = hx_error(HX_ERR_IO, err, errlen, "listing groups: %s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(st, 1, sweep, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            gs = hx_realloc(gs, cap * sizeof *gs);
            HX_ASSERT(gs);
        }
        const char *ds = (const char *)sqlite3_column_text(st, 0);
        rc = pl_group_load(db, sweep, ds ? ds : "", sqlite3_column_int64(st, 1), budget, &gs[n],
                           err, errlen);
        if (rc != HX_OK) goto done;
        n++;
    }
done:
    sqlite3_finalize(st);
    if (rc != HX_OK) {
        for (size_t i = 0; i < n; i++) pl_group_free(&gs[i]);
        hx_free(gs);
        gs = NULL;
        n = 0;
    }
    *out = gs;
    *n_out = n;
    return rc;
}

int cmd_plot(int argc, char **argv) {
    const char *db_path = "results/results.db", *sweep = NULL, *out_dir = "plots";
    double budget = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            plot_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(a, "--sweep") && i + 1 < argc) sweep = argv[++i];
        else if (!strcmp(a, "--out") && i + 1 < argc) out_dir = argv[++i];
        else if (!strcmp(a, "--budget") && i + 1 < argc) {
            if (hx_parse_f64(argv[++i], &budget) != 0 || !(budget >= 1)) {
                fprintf(stderr, "embsweep plot: --budget expects a ratio >= 1, got '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "embsweep plot: unexpected argument '%s'\n", a);
            plot_usage(stderr);
            return 2;
        }
    }
    char err[1024], sub[1100];
    int status = 1;
    sqlite3 *db = NULL;
    pl_list sweeps = {0}, scripts = {0};
    pl_group **groups = NULL;
    size_t *n_groups = NULL, n_figs;
    hx_status rc;
    if ((rc = pl_db_open(db_path, &db, err, sizeof err)) != HX_OK) goto fail;
    if ((rc = list_sweeps(db, sweep, &sweeps, err, sizeof err)) != HX_OK) {
        if (rc == HX_ERR_PARAM) status = 2;
        goto fail;
    }
    static const char *const subdirs[] = {"", "/data"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(sub, sizeof sub, "%s%s", out_dir, subdirs[i]);
        if ((rc = mkdir_p(sub, err, sizeof err)) != HX_OK) goto fail;
    }
    groups = hx_calloc(sweeps.n + 1, sizeof *groups);
    n_groups = hx_calloc(sweeps.n + 1, sizeof *n_groups);
    HX_ASSERT(groups && n_groups);
    for (size_t s = 0; s < sweeps.n; s++) {
        if ((rc = load_groups(db, sweeps.s[s], budget, &groups[s], &n_groups[s], err, sizeof err)) != HX_OK)
            goto fail;
        for (size_t k = 0; k < n_groups[s]; k++)
            if ((rc = pl_write_figures(db, &groups[s][k], out_dir, &scripts, err, sizeof err)) != HX_OK)
                goto fail;
    }
    n_figs = scripts.n;
    if ((rc = run_gnuplot(out_dir, &scripts, err, sizeof err)) != HX_OK) goto fail;
    if ((rc = pl_write_html(db, out_dir, sweeps.s, sweeps.n, groups, n_groups, err, sizeof err)) != HX_OK)
        goto fail;
    fprintf(stderr, "embsweep plot: %zu figure%s (PNG and SVG) for %zu sweep%s in %s; open %s/index.html\n",
            n_figs, n_figs == 1 ? "" : "s", sweeps.n, sweeps.n == 1 ? "" : "s", out_dir, out_dir);
    status = 0;
    goto done;
fail:
    fprintf(stderr, "embsweep plot: %s\n", err);
done:
    for (size_t s = 0; groups && s < sweeps.n; s++) {
        for (size_t k = 0; k < n_groups[s]; k++) pl_group_free(&groups[s][k]);
        hx_free(groups[s]);
    }
    hx_free(groups);
    hx_free(n_groups);
    pl_list_free(&sweeps);
    pl_list_free(&scripts);
    sqlite3_close(db);
    return status;
}
