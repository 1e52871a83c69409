/* pending.c: weak fallbacks for entry points whose module is not linked yet, so
 * every module builds and tests on its own while others are in progress. A module
 * that implements one of these defines it normally, which overrides the fallback. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run.h"

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

__attribute__((weak)) void run_config_default(run_config *cfg) { memset(cfg, 0, sizeof *cfg); }

__attribute__((weak)) hx_status run_execute(const run_config *cfg, const run_observer *obs,
                                            run_result *res, char *err, size_t errlen) {
    (void)cfg, (void)obs, (void)res;
    return hx_error(HX_ERR_UNSUPPORTED, err, errlen, "training is not built in this version");
}

__attribute__((weak)) hx_status ds_spec_validate(const ds_spec *s, const char *file, char *err,
                                                 size_t errlen) {
    (void)s, (void)file;
    return hx_error(HX_ERR_UNSUPPORTED, err, errlen, "datasets are not built in this version");
}

__attribute__((weak)) hx_status ds_spec_canonical(const ds_spec *s, char *buf, size_t n) {
    snprintf(buf, n, "kind=%s", s->kind);
    return HX_OK;
}

__attribute__((weak)) uint64_t ds_spec_hash(const ds_spec *s) { return hx_fnv1a(s, sizeof *s, 0); }

__attribute__((weak)) hx_status ds_load(const ds_spec *s, const char *cache_dir, ds_data **out,
                                        char *err, size_t errlen) {
    (void)s, (void)cache_dir, (void)out;
    return hx_error(HX_ERR_UNSUPPORTED, err, errlen, "datasets are not built in this version");
}

__attribute__((weak)) void ds_free(ds_data *d) { (void)d; }
__attribute__((weak)) size_t ds_kind_count(void) { return 0; }
__attribute__((weak)) const char *ds_kind_name(size_t i) { (void)i; return NULL; }

__attribute__((weak)) hx_status ds_spec_from_args(ds_spec *s, const char *name, const char *kind,
                                                  int argc, char **kv, char *err, size_t errlen) {
    (void)s, (void)name, (void)kind, (void)argc, (void)kv;
    return hx_error(HX_ERR_UNSUPPORTED, err, errlen, "datasets are not built in this version");
}
