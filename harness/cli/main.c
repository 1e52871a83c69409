/* main.c: `embsweep` command dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "harness/core/util.h"
#include "harness/sweep/worker.h"

/* `embsweep worker`, the worker process's entry. It takes no arguments: its input
 * is the job the sweep parent writes to its stdin, and its output the messages on
 * fd 3 (harness/sweep/worker.h). Both sides of that protocol stay together in
 * harness/sweep/worker.c, where the child side is worker_main(); the command line
 * is only checked here, so a worker started by hand stops at once. */
static int cmd_worker(int argc, char **argv) {
    (void)argv;
    if (argc != 1 || isatty(0)) {
        fprintf(stderr, "embsweep worker: internal command, started by `embsweep run`\n");
        return WORKER_EXIT_USAGE;
    }
    return worker_main();
}

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command k_commands[] = {
    {"run", cmd_run, "run a sweep file: embsweep run FILE [--db PATH] [--jobs N] [--dry-run] [--force] [--retry-failed]"},
    {"status", cmd_status, "summarise the sweeps in a database (and their Slurm submissions)"},
    {"submit", cmd_submit, "run a sweep file on a Slurm cluster: embsweep submit FILE --slurm [--dry-run]"},
    {"merge", cmd_merge, "fold the result shards of a Slurm submission into the database"},
    {"task", cmd_task, "one Slurm array task of a submission (run by its sbatch script)"},
    {"plot", cmd_plot, "draw the Pareto figures and plots/index.html from a database"},
    {"query", cmd_query, "run a saved query (results/queries/*.sql); --list lists them"},
    {"export", cmd_export, "export the run summary as CSV"},
    {"compare", cmd_compare, "verdicts against a baseline: better, worse, equivalent or not resolved"},
    {"train", cmd_train, "train and evaluate one cell from flags, print a summary"},
    {"methods", cmd_methods, "list the embedding methods and their parameters"},
    {"dataset", cmd_dataset, "inspect a dataset: embsweep dataset info NAME|FILE"},
    {"bench", cmd_bench, "run the benchmarks (make bench)"},
    {"worker", cmd_worker, NULL}, /* internal: one run inside a sweep */
};

static void usage(FILE *f) {
    fprintf(f, "usage: embsweep COMMAND [ARGS]   (embsweep COMMAND --help for details)\n\n"
               "embsweep measures how embedding-table compression methods for CTR models\n"
               "trade accuracy against memory: it trains a DLRM-style model per cell of a\n"
               "YAML sweep, records metrics, bytes and peak RSS in SQLite, and plots them.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (k_commands[i].help) fprintf(f, "  %-8s %s\n", k_commands[i].name, k_commands[i].help);
}

/* The tests' fault injection (harness/core/util.h): EMBSWEEP_FAULT_ALLOC=N
 * fails the Nth checked allocation, EMBSWEEP_FAULT_IO=N the Nth write; at exit
 * the counts reached are printed, so a test knows whether the site was hit. */
static int arm_faults(void) {
    const char *a = getenv("EMBSWEEP_FAULT_ALLOC"), *w = getenv("EMBSWEEP_FAULT_IO");
    if (a) hx_fault_alloc(atol(a));
    if (w) hx_fault_io(atol(w));
    return a || w;
}

static int run_command(int argc, char **argv) {
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name)) return k_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "embsweep: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    int armed = arm_faults(), rc = run_command(argc, argv);
    if (armed)
        fprintf(stderr, "embsweep: fault injection reached %ld allocations, %ld writes\n", hx_fault_alloc_seen(),
                hx_fault_io_seen());
    return rc;
}
