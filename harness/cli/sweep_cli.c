/* sweep_cli.c: `embsweep run FILE` and `embsweep status`.
 *
 * run: validate and expand the file (every error at once, exit 2, nothing
 * written), then either print the plan (--dry-run) or record the sweep and run
 * the cells not yet finished. Exit 0 when every scheduled run ended ok, 1 when a
 * run failed or the database failed, 2 on bad usage or a bad file, 130 when
 * interrupted (the next invocation resumes).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "harness/report/verdict.h"
#include "harness/sweep/config.h"
#include "harness/sweep/db.h"
#include "harness/sweep/sweep.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: embsweep run FILE [--db PATH] [--jobs N] [--force] [--retry-failed] [--dry-run]\n"
            "  FILE            a YAML sweep (see harness/sweep/README.md, experiments/default.yaml)\n"
            "  --db PATH       results database (default results/results.db)\n"
            "  --jobs N        workers at once (default: the file's jobs:, else 1)\n"
            "  --force         rerun runs that already finished ok\n"
            "  --retry-failed  rerun runs that failed, timed out, ran out of memory, crashed or diverged\n"
            "  --dry-run       print the expanded plan (one line per run with its key) and the count\n");
}

static void print_plan(const cfg_sweep *sw) {
    int skipped = 0;
    for (int i = 0; i < sw->n_cells; i++) {
        const cfg_cell *c = &sw->cells[i];
        printf("%s  dataset=%s method=%s dim=%d ratio=%g seed=%llu%s%s", c->key, sw->datasets[c->dataset].spec.name,
               c->rc.method->name, c->rc.dim, c->rc.ratio, (unsigned long long)c->rc.seed, c->params[0] ? " " : "",
               c->params);
        if (c->skipped) printf("  [skipped: %s]", c->reason), skipped++;
        printf("\n");
    }
    printf("%d runs (%d to run, %d skipped as unreachable) in sweep %s\n", sw->n_cells, sw->n_cells - skipped,
           skipped, sw->name);
}

typedef struct run_args {
    const char *file, *db_path;
    int         jobs, dry; /* jobs 0: the file's */
    sweep_opts  o;
} run_args;

/* argv into a. Returns -1 after --help, 0, or the exit status (2). */
static int run_parse_args(int argc, char **argv, run_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            run_usage(stdout);
            return -1;
        } else if (!strcmp(s, "--db") && i + 1 < argc) a->db_path = argv[++i];
        else if (!strcmp(s, "--jobs") && i + 1 < argc) {
            const key_def *k = cfg_top_key("jobs"); /* the range of the file's jobs: */
            double x;
            if (key_parse_num(k, argv[++i], &x) != 0) {
                char ex[128];
                key_expect(k, argv[i], ex, sizeof ex);
                fprintf(stderr, "embsweep run: --jobs: expected %s\n", ex);
                return 2;
            }
            a->jobs = (int)x;
        } else if (!strcmp(s, "--force")) a->o.force = 1;
        else if (!strcmp(s, "--retry-failed")) a->o.retry_failed = 1;
        else if (!strcmp(s, "--dry-run")) a->dry = 1;
        else if (s[0] != '-' && !a->file) a->file = s;
        else {
            fprintf(stderr, "embsweep run: unexpected argument '%s'\n", s);
            run_usage(stderr);
            return 2;
        }
    }
    if (!a->file) {
        run_usage(stderr);
        return 2;
    }
    return 0;
}

cfg_sweep *cli_load_sweep(const char *cmd, const char *file, int *code) {
    cfg_sweep *sw = NULL;
    char *errors = NULL;
    hx_status st = cfg_load(file, 0, &sw, &errors);
    if (st == HX_OK) return sw;
    if (errors) fputs(errors, stderr);
    else fprintf(stderr, "embsweep %s: cannot load the sweep\n", cmd);
    int n = 0;
    for (const char *p = errors; p && *p; p++) n += *p == '\n';
    fprintf(stderr, "embsweep %s: %d error%s in %s; nothing was run\n", cmd, n, n == 1 ? "" : "s", file);
    hx_free(errors);
    *code = st == HX_ERR_FORMAT || st == HX_ERR_PARAM ? 2 : 1;
    return NULL;
}

void cli_threads(const cfg_sweep *sw, int jobs, int cores, sweep_opts *o) {
    o->jobs = jobs ? jobs : sw->jobs;
    o->threads = sw->threads ? sw->threads : cores / o->jobs;
    if (o->threads < 1) o->threads = 1;
    if (o->jobs * o->threads > cores && o->threads > 1) {
        o->threads = cores / o->jobs > 0 ? cores / o->jobs : 1;
        fprintf(stderr, "embsweep run: threads lowered to %d so jobs x threads <= %d cores\n", o->threads, cores);
    }
}

void cli_join_args(int argc, char **argv, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = -1; i < argc && used < n - 1; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i < 0 ? "" : " ", i < 0 ? "embsweep" : argv[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Record the sweep and an invocation, run what is not done yet, report. Returns
 * the exit status. */
static int run_record_and_execute(cfg_sweep *sw, const run_args *a, const prov *pv, const char *args) {
    char err[1024];
    db *d = NULL;
    int code = 1;
    int64_t inv = 0;
    if (db_open(a->db_path, &d, err, sizeof err) != HX_OK || db_sweep_prepare(d, sw, err, sizeof err) != HX_OK ||
        db_invocation_start(d, sw->name, args, a->o.jobs, a->o.threads, pv, &inv, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep run: %s\n", err);
        goto out;
    }
    sweep_counts c;
    hx_status st = sweep_execute(sw, d, inv, &a->o, &c, err, sizeof err);
    db_invocation_finish(d, inv, c.interrupted ? "interrupted" : st == HX_OK ? "finished" : "failed");
    if (st != HX_OK) {
        fprintf(stderr, "embsweep run: %s\n", err);
        goto out;
    }
    printf("sweep %s: %d run, %d ok, %d not ok; %d already ok, %d kept as failed (--retry-failed reruns them), "
           "%d skipped as unreachable; database %s\n",
           sw->name, c.done, c.ok, c.failed, c.skipped_done, c.kept_failed, c.skipped_unreachable, a->db_path);
    if (vd_store(db_handle(d), sw->name, err, sizeof err) != HX_OK) { /* the runs are stored; only the table is not */
        fprintf(stderr, "embsweep run: the verdict table was not updated: %s\n", err);
        goto out;
    }
    if (c.interrupted) {
        fprintf(stderr, "embsweep run: interrupted; run the same command again to resume\n");
        code = 130;
    } else code = c.failed ? 1 : 0;
out:
    db_close(d);
    return code;
}

int cmd_run(int argc, char **argv) {
    run_args a = {.db_path = "results/results.db"};
    int rc = run_parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    int code = 2;
    cfg_sweep *sw = cli_load_sweep("run", a.file, &code);
    if (!sw) return code;
    if (a.dry) {
        print_plan(sw);
        cfg_free(sw);
        return 0;
    }
    prov pv;
    prov_collect(&pv);
    cli_threads(sw, a.jobs, pv.cores > 0 ? pv.cores : 1, &a.o);
    a.o.tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
    char args[2048];
    cli_join_args(argc, argv, args, sizeof args);
    rc = run_record_and_execute(sw, &a, &pv, args);
    cfg_free(sw);
    return rc;
}

/* ---- status ---- */

int cmd_status(int argc, char **argv) {
    const char *db_path = "results/results.db";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: embsweep status [--db PATH]\n  counts of runs per status for every sweep, its verdicts against full, and its last invocation\n");
            return 0;
        } else {
            if (!strcmp(argv[i], "--db")) fprintf(stderr, "embsweep status: --db needs a path\n");
            else fprintf(stderr, "embsweep status: unknown argument '%s'\n", argv[i]);
            fprintf(stderr, "usage: embsweep status [--db PATH]\n");
            return 2;
        }
    }
    char err[512];
    hx_status st = sweep_status(db_path, stdout, err, sizeof err);
    if (st != HX_OK) fprintf(stderr, "embsweep status: %s\n", err);
    return st == HX_OK ? 0 : 1;
}
