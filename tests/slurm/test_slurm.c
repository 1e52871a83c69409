/* test_slurm.c: `make test-slurm`: embsweep on a real Slurm cluster started on
 * this machine (tests/slurm/cluster.sh). The scenario is tests/slurm/test_slurm.sh
 * (submit, wait, merge, the same bits as a local run; scancel of a task and a
 * second submit; a merge killed half-way); its exit status 77 means Slurm cannot
 * start here, which is a skip with the script's reason, never a pass. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The last line of a file into buf. */
static void last_line(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    char line[1024];
    buf[0] = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n') snprintf(buf, n, "%s", line);
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

Test(slurm, array_merge_faults, .timeout = 1200) {
    cr_assert_not_null(getenv("EMBSWEEP_BIN"), "EMBSWEEP_BIN is not set (run through make test-slurm)");
    const char *log = "build/test-slurm.log", *err = "build/test-slurm.err";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tests/slurm/test_slurm.sh > %s 2> %s", log, err);
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char why[1024];
    last_line(err, why, sizeof why);
    if (rc == 77) cr_skip_test("Slurm cannot start on this machine: %s", why);
    cr_assert_eq(rc, 0, "tests/slurm/test_slurm.sh exited %d: %s (full output: %s, %s)", rc, why, log, err);
}
