/* plot_cli.c: `embsweep plot [--db PATH] [--sweep NAME] [--out DIR] [--budget R]`,
 * its options and usage; the drawing is harness/report/plot.c (pl_plot). Exit 0
 * ok, 1 a database, I/O or gnuplot failure, 2 bad usage or an unknown sweep. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "harness/report/plot.h"

static void plot_usage(FILE *f) {
    fputs("usage: embsweep plot [--db PATH] [--sweep NAME] [--out DIR] [--budget R]\n"
          "Draws the figures of every sweep in the database (or only NAME) with gnuplot\n"
          "into DIR (PNG and SVG), their data and scripts into DIR/data, and the page\n"
          "DIR/index.html. Defaults: --db results/results.db --out plots. --budget sets the\n"
          "compression ratio of the RSS-over-time and loss-curve figures (default: the\n"
          "ratio most methods reached).\n",
          f);
}

int cmd_plot(int argc, char **argv) {
    pl_opts o = {.db = "results/results.db", .sweep = NULL, .out_dir = "plots", .budget = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            plot_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--db") && i + 1 < argc) o.db = argv[++i];
        else if (!strcmp(a, "--sweep") && i + 1 < argc) o.sweep = argv[++i];
        else if (!strcmp(a, "--out") && i + 1 < argc) o.out_dir = argv[++i];
        else if (!strcmp(a, "--budget") && i + 1 < argc) {
            if (hx_parse_f64(argv[++i], &o.budget) != 0 || !(o.budget >= 1)) {
                fprintf(stderr, "embsweep plot: --budget expects a ratio >= 1, got '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "embsweep plot: unexpected argument '%s'\n", a);
            plot_usage(stderr);
            return 2;
        }
    }
    char err[1024];
    size_t n_figs, n_sweeps;
    hx_status st = pl_plot(&o, &n_figs, &n_sweeps, err, sizeof err);
    if (st != HX_OK) {
        fprintf(stderr, "embsweep plot: %s\n", err);
        return cli_exit_status(st);
    }
    fprintf(stderr, "embsweep plot: %zu figure%s (PNG and SVG) for %zu sweep%s in %s; open %s/index.html\n",
            n_figs, n_figs == 1 ? "" : "s", n_sweeps, n_sweeps == 1 ? "" : "s", o.out_dir, o.out_dir);
    return 0;
}
