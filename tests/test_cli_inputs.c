/* test_cli_inputs.c: command lines that must be refused before any work is
 * done, each with a non-zero exit and a message saying what was expected. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixtures.h"

/* An empty --db once ran the whole sweep into SQLite's private temporary
 * database and exited 0, throwing every result away. */
Test(cli_inputs, empty_db_path_is_an_error) {
    char out[4096];
    int rc = fx_run_cli("run tests/sweeps/grid.yaml --db ''", out, sizeof out);
    cr_expect_neq(rc, 0, "%s", out);
    cr_expect(strstr(out, "is not a file name"), "%s", out);
    cr_expect(!strstr(out, " ok "), "nothing ran: %s", out);
    cr_expect_neq(fx_run_cli("run tests/sweeps/grid.yaml --db :memory:", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("status --db ''", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("plot --db '' --out /nonexistent", out, sizeof out), 0, "%s", out);
    cr_expect_neq(fx_run_cli("export --db ''", out, sizeof out), 0, "%s", out);
}
