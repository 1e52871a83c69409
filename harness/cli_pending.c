/* cli_pending.c: weak fallbacks for subcommands whose module is not linked yet.
 * A module that implements a command defines it normally and overrides these. */
#include <stdio.h>

#include "cli.h"

#define PENDING(fn, what)                                                          \
    __attribute__((weak)) int fn(int argc, char **argv) {                          \
        (void)argc;                                                                \
        (void)argv;                                                                \
        fprintf(stderr, "embsweep: %s is not built in this version\n", what);      \
        return 2;                                                                  \
    }

PENDING(cmd_train, "train")
PENDING(cmd_methods, "methods")
PENDING(cmd_run, "run")
PENDING(cmd_status, "status")
PENDING(cmd_worker, "worker")
PENDING(cmd_plot, "plot")
PENDING(cmd_query, "query")
PENDING(cmd_export, "export")
PENDING(cmd_dataset, "dataset")
PENDING(cmd_bench, "bench")
