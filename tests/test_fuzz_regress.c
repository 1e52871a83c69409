/* test_fuzz_regress.c: the fuzzers' regression corpus. Every file under
 * tests/fuzz/regress/<target>/ once crashed (or was a case worth keeping) and is
 * fed to the same target function libFuzzer runs (tests/fuzz/fuzz.h), here
 * compiled without libFuzzer; under `make SANITIZE=1 test` with ASan + UBSan.
 *
 * Each input runs in a child process with its stderr in a temp file (the
 * loaders report bad rows there); a child that does not exit 0 (a crash, a
 * sanitizer report, a failed invariant, a leak) fails the test with the
 * input's name and what it printed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#define REGRESS_DIR "tests/fuzz/regress"

/* Present in ASan builds only (LeakSanitizer): the child leaves by _exit, so
 * the leak check that would run at exit is asked for here. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 4096, used = 0;
    uint8_t *b = malloc(cap);
    for (size_t got; b && (got = fread(b + used, 1, cap - used, f)) > 0;) {
        used += got;
        if (used == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    cr_assert_not_null(b);
    *n = used;
    return b;
}

/* Run fn on the file in a child; 0 when it exited 0, else its output in log. */
static int replay_one(fz_target fn, const char *path, char *log, size_t logn) {
    size_t n;
    uint8_t *data = read_all(path, &n);
    char tmp[] = "/tmp/embsweep-regress-XXXXXX";
    int fd = mkstemp(tmp);
    cr_assert_geq(fd, 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fd, 2);
        int rc = fn(data, n);
        fz_dir_remove();
        free(data);
        if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) rc = 1;
        _exit(rc == 0 ? 0 : 1);
    }
    free(data);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    ssize_t got = pread(fd, log, logn - 1, 0);
    log[got > 0 ? got : 0] = 0;
    close(fd);
    unlink(tmp);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFSIGNALED(status)) {
        size_t l = strlen(log);
        snprintf(log + l, logn - l, "\n(killed by signal %d)", WTERMSIG(status));
    }
    return -1;
}

Test(fuzz_regress, every_input_of_every_target, .timeout = 600) {
    int total = 0, failed = 0;
    static char log[16384];
    for (const fz_entry *t = fz_targets; t->name; t++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s", REGRESS_DIR, t->name);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            total++;
            if (replay_one(t->fn, path, log, sizeof log)) {
                failed++;
                cr_log_error("fuzz target %s failed on %s:\n%s", t->name, path, log);
            }
        }
        closedir(d);
    }
    cr_expect_gt(total, 0, "no inputs under %s (run from the repository root)", REGRESS_DIR);
    cr_expect_eq(failed, 0, "%d of %d regression inputs failed (details above)", failed, total);
}
