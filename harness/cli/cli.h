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

/* The exit status of a command whose work returned st: bad input (HX_ERR_PARAM)
 * is 2, any other failure 1. */
static inline int cli_exit_status(hx_status st) { return st == HX_OK ? 0 : st == HX_ERR_PARAM ? 2 : 1; }

#endif
