/* test_writers.c: one writer per results database. A second `embsweep run` on
 * a database another sweep is writing is refused with a message naming the
 * holder, and a writer killed with -9 never blocks the next one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

/* A sweep that holds its database for about 3 s: fault_hang runs into the
 * timeout. */
static const char k_slow_yaml[] =
    "name: slow\n"
    "datasets:\n  syn: {kind: synthetic, rows: 1000, fields: 2}\n"
    "train: {epochs: 0.1}\n"
    "matrix: {method: [full, fault_hang], dim: [4], ratio: [1], seed: [1]}\n"
    "timeout: 3\n";

static pid_t start_run(const char *yaml, const char *dbp) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        setenv("EMBSWEEP_FAULTS", "1", 1); /* arms fault_hang */
        execl(getenv("EMBSWEEP_BIN"), "embsweep", "run", yaml, "--db", dbp, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait until the holder has written its note into <db>.writer (at most 10 s). */
static void wait_holder(const char *dbp) {
    char lp[256];
    snprintf(lp, sizeof lp, "%s.writer", dbp);
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(lp, "r");
        char line[256] = "";
        if (f) {
            if (!fgets(line, sizeof line, f)) line[0] = 0;
            fclose(f);
        }
        if (strstr(line, "pid ")) return;
        usleep(10000);
    }
    cr_assert_fail("no writer note in %s", lp);
}

Test(writers, second_writer_refused_and_killed_writer_does_not_block) {
    char dir[64], yaml[128], dbp[160], out[8192], cmd[400];
    fx_tmpdir(dir);
    fx_write(dir, "slow.yaml", k_slow_yaml, yaml);
    snprintf(dbp, sizeof dbp, "%s/r.db", dir);
    pid_t first = start_run(yaml, dbp);
    wait_holder(dbp);
    snprintf(cmd, sizeof cmd, "run %s --db %s", yaml, dbp);
    int rc = fx_run_cli(cmd, out, sizeof out);
    cr_expect_neq(rc, 0, "the second writer is refused: %s", out);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "pid %d on ", (int)first);
    cr_expect(strstr(out, "is in use by another sweep") && strstr(out, pid_text) && strstr(out, " since "),
              "the message names the holder: %s", out);
    cr_expect(!strstr(out, "] ok "), "the second writer ran nothing: %s", out);
    /* kill -9 the holder: the next writer takes over and finishes the sweep */
    kill(first, SIGKILL);
    int st;
    waitpid(first, &st, 0);
    rc = fx_run_cli(cmd, out, sizeof out);
    cr_expect_eq(rc, 0, "after a kill -9 the next writer runs: %s", out);
    cr_expect(strstr(out, "sweep slow:") && strstr(out, "0 not ok"), "%s", out);
    fx_rmdir(dir);
}
