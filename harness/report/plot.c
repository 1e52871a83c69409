/* plot.c: `embsweep plot`'s work, pl_plot() of plot.h (the command line is
 * harness/cli/plot_cli.c).
 *
 * Reads the results database (read-only), writes the data of every figure as TSV
 * plus one gnuplot script per figure under DIR/data/, runs gnuplot once over all
 * scripts (from DIR, so the scripts can be rerun by hand: `cd DIR && gnuplot
 * data/X.gp`), which writes the PNG and SVG files into DIR, then writes
 * DIR/index.html.
 * Figure groups are (sweep, dataset, dim, model.arch); only runs with status 'ok' are drawn.
 * See plots/README.md for every figure and how to read it.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "plot.h"

extern char **environ;

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
hx_status pl_list_sweeps(sqlite3 *db, const char *only, pl_list *out, char *err, size_t errlen) {
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

/* Loads every (dataset, dim, arch) group of a sweep that has ok runs (dlrm first). */
static hx_status load_groups(sqlite3 *db, const char *sweep, double budget, pl_group **out,
                             size_t *n_out, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    hx_status rc = HX_OK;
    size_t n = 0, cap = 0;
    pl_group *gs = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT r.dataset, r.dim, " PL_ARCH_SQL " AS arch"
                           " FROM runs r JOIN sweep_runs s ON s.key = r.key"
                           " WHERE s.sweep = ?1 AND r.status = 'ok' ORDER BY r.dataset, r.dim, arch != 'dlrm', arch",
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
        rc = pl_group_load(db, sweep, ds ? ds : "", sqlite3_column_int64(st, 1),
                           (const char *)sqlite3_column_text(st, 2), budget, &gs[n], err, errlen);
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

hx_status pl_plot(const pl_opts *o, size_t *n_figs, size_t *n_sweeps, char *err, size_t errlen) {
    char sub[1100];
    sqlite3 *db = NULL;
    pl_list sweeps = {0}, scripts = {0};
    pl_group **groups = NULL;
    size_t *n_groups = NULL;
    hx_status rc;
    *n_figs = *n_sweeps = 0;
    if ((rc = pl_db_open(o->db, &db, err, errlen)) != HX_OK) goto done;
    if ((rc = pl_list_sweeps(db, o->sweep, &sweeps, err, errlen)) != HX_OK) goto done;
    static const char *const subdirs[] = {"", "/data"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(sub, sizeof sub, "%s%s", o->out_dir, subdirs[i]);
        if ((rc = hx_mkdir_p(sub, err, errlen)) != HX_OK) goto done;
    }
    groups = hx_calloc(sweeps.n + 1, sizeof *groups);
    n_groups = hx_calloc(sweeps.n + 1, sizeof *n_groups);
    HX_ASSERT(groups && n_groups);
    for (size_t s = 0; s < sweeps.n; s++) {
        if ((rc = load_groups(db, sweeps.s[s], o->budget, &groups[s], &n_groups[s], err, errlen)) != HX_OK)
            goto done;
        for (size_t k = 0; k < n_groups[s]; k++)
            if ((rc = pl_write_figures(db, &groups[s][k], o->out_dir, &scripts, err, errlen)) != HX_OK)
                goto done;
    }
    if ((rc = run_gnuplot(o->out_dir, &scripts, err, errlen)) != HX_OK) goto done;
    if ((rc = pl_write_html(db, o->out_dir, sweeps.s, sweeps.n, groups, n_groups, err, errlen)) != HX_OK)
        goto done;
    *n_figs = scripts.n;
    *n_sweeps = sweeps.n;
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
    return rc;
}
