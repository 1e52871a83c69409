/* provenance.c: what machine and build produced a sweep's numbers, recorded per
 * invocation (MLflow#1912 asks for the dirty flag; Google Benchmark records the
 * CPU). The git state is read at run time from the current directory, which is
 * the repository root under `make experiments` [R]; outside a checkout it is NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "db.h"
#include "harness/core/interact.h"

#ifndef EMBSWEEP_CFLAGS
#define EMBSWEEP_CFLAGS "unknown"
#endif

extern char *openblas_get_config(void);

/* First line of a command's output into buf; returns bytes of all output. */
static size_t run_cmd(const char *cmd, char *buf, size_t n) {
    buf[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    size_t total = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (total == 0) {
            snprintf(buf, n, "%s", line);
            buf[strcspn(buf, "\n")] = 0;
        }
        total += strlen(line);
    }
    pclose(f);
    return total;
}

void prov_collect(prov *p) {
    memset(p, 0, sizeof *p);
    p->git_dirty = -1;
    char b[512];
    run_cmd("git rev-parse HEAD 2>/dev/null", b, sizeof b);
    if (strlen(b) >= 40) {
        snprintf(p->git_commit, sizeof p->git_commit, "%.40s", b);
        p->git_dirty = run_cmd("git status --porcelain --untracked-files=no 2>/dev/null", b, sizeof b) > 0;
    }
#ifdef __clang__
    snprintf(p->compiler, sizeof p->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(p->compiler, sizeof p->compiler, "gcc %s", __VERSION__);
#else
    snprintf(p->compiler, sizeof p->compiler, "unknown");
#endif
    snprintf(p->cflags, sizeof p->cflags, "%s", EMBSWEEP_CFLAGS);
    const char *cfg = openblas_get_config();
    snprintf(p->blas, sizeof p->blas, "OpenBLAS %.200s; dot interaction %s", cfg ? cfg : "",
             interact_dot_isa_name(interact_dot_isa()));
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) {
                    c += 1 + (c[1] == ' ');
                    c[strcspn(c, "\n")] = 0;
                    snprintf(p->cpu_model, sizeof p->cpu_model, "%s", c);
                }
                break;
            }
        fclose(f);
    }
    p->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0) snprintf(p->kernel, sizeof p->kernel, "%.40s %.80s", u.sysname, u.release);
    gethostname(p->hostname, sizeof p->hostname - 1);
    const char *job = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID"),
               *node = getenv("SLURMD_NODENAME");
    if (!job) job = getenv("SLURM_JOB_ID");
    snprintf(p->slurm_job, sizeof p->slurm_job, "%s", job ? job : "");
    snprintf(p->node, sizeof p->node, "%s", job && node ? node : "");
    p->slurm_task = job && task ? atoi(task) : -1;
}
