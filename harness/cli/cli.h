/* cli.h: the subcommands of `embsweep`. Each parses its argv, prints its own
 * usage on --help and returns the process exit status: 0 success, 1 a run or I/O
 * failure, 2 bad usage or bad input. The work is done by the layers below; only
 * main() calls these. `embsweep worker`, the worker process's entry, is
 * worker_main() of harness/sweep/worker.h (see main.c). */
#ifndef EMBSWEEP_CLI_H
#define EMBSWEEP_CLI_H

#include "harness/core/util.h"

int cmd_train(int argc, char **argv);    /* harness/cli/train_cli.c */
int cmd_methods(int argc, char **argv);  /* harness/cli/train_cli.c */
int cmd_run(int argc, char **argv);      /* harness/cli/sweep_cli.c */
int cmd_status(int argc, char **argv);   /* harness/cli/sweep_cli.c */
int cmd_plot(int argc, char **argv);     /* harness/cli/plot_cli.c */
int cmd_query(int argc, char **argv);    /* harness/cli/query_cli.c */
int cmd_export(int argc, char **argv);   /* harness/cli/query_cli.c */
int cmd_compare(int argc, char **argv);  /* harness/cli/compare_cli.c */
int cmd_dataset(int argc, char **argv);  /* harness/cli/dataset_cli.c */
int cmd_bench(int argc, char **argv);    /* harness/cli/bench_cli.c */
int cmd_submit(int argc, char **argv);   /* harness/cli/slurm_cli.c */
int cmd_task(int argc, char **argv);     /* harness/cli/slurm_cli.c */
int cmd_merge(int argc, char **argv);    /* harness/cli/slurm_cli.c */

/* Shared by run and the Slurm commands (harness/cli/sweep_cli.c). */
struct cfg_sweep;
struct sweep_opts;
/* Load and expand a sweep file: the sweep, or NULL with every error printed
 * and *code the exit status (2 a problem in the file, 1 one of the machine). */
struct cfg_sweep *cli_load_sweep(const char *cmd, const char *file, int *code);
/* Workers and engine threads per worker into o, jobs x threads within cores
 * (jobs 0: the file's). */
void cli_threads(const struct cfg_sweep *sw, int jobs, int cores, struct sweep_opts *o);
/* "embsweep CMD ARGS..." for an invocation row. */
void cli_join_args(int argc, char **argv, char *buf, size_t n);

/* The exit status of a command whose work returned st: bad input (HX_ERR_PARAM)
 * is 2, any other failure 1. */
static inline int cli_exit_status(hx_status st) { return st == HX_OK ? 0 : st == HX_ERR_PARAM ? 2 : 1; }

#endif
