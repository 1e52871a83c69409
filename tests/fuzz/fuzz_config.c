/* fuzz_config.c: the sweep file parser and expander (harness/sweep/config.c,
 * config_keys.c, expand.c) on a YAML file holding the input. Planning is off
 * (CFG_NO_PLAN): it would load the datasets a file names, any path or any
 * synthetic size; the dataset specs are still validated and canonicalised,
 * and the matrix is expanded and keyed. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "harness/sweep/config.h"

int fuzz_config(const uint8_t *data, size_t size) {
    char path[FZ_PATH];
    if (fz_write("sweep.yaml", data, size, 0, 0, path)) return 0;
    cfg_sweep *sw = NULL;
    char *errors = NULL;
    hx_status st = cfg_load(path, CFG_NO_PLAN, &sw, &errors);
    if ((st == HX_OK) != (sw != NULL) || (st == HX_OK) == (errors != NULL)) {
        fprintf(stderr, "fuzz: cfg_load returned %d with sweep %p and errors %p\n", (int)st, (void *)sw,
                (void *)errors);
        abort();
    }
    cfg_free(sw);
    hx_free(errors);
    return 0;
}
