/* worker.c: spawning a worker (parent side) and worker_main(), the body of
 * `embsweep worker` (child side). See worker.h for the protocol. The child is the
 * only place besides main() that ends the process: main() returns worker_main()'s
 * exit code, which backs up the result message (WORKER_EXIT_*).
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, memfd_create */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "scores.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif

/* Address space a worker may map per engine thread beyond memory_limit (see
 * the RLIMIT_DATA below). */
#define WORKER_DATA_SLACK ((uint64_t)256 << 20)

_Static_assert(sizeof(worker_msg) <= 4096, "a message must fit one atomic pipe write (PIPE_BUF)");

/* ---- /proc ---- */

int proc_mem_read(pid_t pid, proc_mem *out) {
    char path[64], line[256];
    memset(out, 0, sizeof *out);
    if (pid > 0) snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    else snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) out->rss = kb * 1024, got++;
        else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) out->hwm = kb * 1024, got++;
        else if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) out->anon = kb * 1024, got++;
        else if (sscanf(line, "RssFile: %llu kB", &kb) == 1) out->file = kb * 1024, got++;
    }
    fclose(f);
    return got >= 2 ? 0 : -1;
}

/* ---- parent side ---- */

static int write_full(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r, n -= (size_t)r;
    }
    return 0;
}

pid_t worker_spawn(const worker_job *job, int *msg_fd, int *err_fd, int *scores_fd, char *err, size_t errlen) {
    int in[2] = {-1, -1}, msg[2] = {-1, -1}, se[2] = {-1, -1}, sc = -1;
    *scores_fd = -1;
    if (job->keep_scores && (sc = memfd_create("embsweep-scores", MFD_CLOEXEC)) < 0) {
        hx_error(HX_ERR_IO, err, errlen, "memfd_create: %s", strerror(errno));
        goto fail;
    }
    if (pipe2(in, O_CLOEXEC) || pipe2(msg, O_CLOEXEC) || pipe2(se, O_CLOEXEC)) {
        hx_error(HX_ERR_IO, err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    fcntl(in[1], F_SETPIPE_SZ, (int)sizeof *job + 4096); /* the job fits without blocking */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        hx_error(HX_ERR_IO, err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* child: own process group (Ctrl-C goes to the parent, which then stops
         * us), die with the parent (kill -9 of the harness leaves no orphans) */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(WORKER_EXIT_FAILED);
        int sc5 = sc >= 0 ? fcntl(sc, F_DUPFD_CLOEXEC, 5) : -1; /* out of the way of fds 0..4 */
        if ((sc >= 0 && sc5 < 0) || dup2(in[0], 0) < 0 || dup2(se[1], 2) < 0 || dup2(msg[1], 3) < 0 ||
            (sc5 >= 0 && dup2(sc5, 4) < 0))
            _exit(WORKER_EXIT_FAILED);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1), close(devnull);
        /* the engine threads itself (harness/core/pool.h, job->threads); OpenBLAS
         * runs one thread per call, so it needs no pool of its own */
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        unsetenv("EMBSWEEP_FAULT_ALLOC"); /* the tests' fault injection is the parent's */
        unsetenv("EMBSWEEP_FAULT_IO");
        setenv("OMP_NUM_THREADS", "1", 1);
        char *const argv[] = {"embsweep", "worker", NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(in[0]), close(msg[1]), close(se[1]);
    in[0] = msg[1] = se[1] = -1;
    if (write_full(in[1], job, sizeof *job) != 0) {
        /* the worker died before reading: its exit status tells the rest */
    }
    close(in[1]);
    fcntl(msg[0], F_SETFL, O_NONBLOCK);
    fcntl(se[0], F_SETFL, O_NONBLOCK);
    *msg_fd = msg[0];
    *err_fd = se[0];
    *scores_fd = sc;
    return pid;
fail:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0) close(in[i]);
        if (msg[i] >= 0) close(msg[i]);
        if (se[i] >= 0) close(se[i]);
    }
    if (sc >= 0) close(sc);
    return -1;
}

/* ---- child side: worker_main ---- */

typedef struct wctx {
    int    fd;
    int    scores_fd;    /* the scores file (fd 4) */
    int    phase;        /* current phase index, -1 before the first */
    int    reset_ok;     /* the reset at the current phase's start worked */
    double t0;
} wctx;

static void send_msg(wctx *w, worker_msg *m) {
    m->t = hx_now() - w->t0;
    (void)write_full(w->fd, m, sizeof *m);
}

static int phase_index(const char *p) {
    if (!strcmp(p, "load")) return 0;
    if (!strcmp(p, "train")) return 1;
    return 2;
}

static int clear_refs(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return 0;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

/* Report the peak of the phase that is ending. */
static void end_phase(wctx *w) {
    if (w->phase < 0) return;
    proc_mem pm;
    worker_msg m;
    memset(&m, 0, sizeof m);
    m.type = WMSG_PEAK;
    m.phase = w->phase;
    m.hwm_reset = w->reset_ok;
    if (proc_mem_read(0, &pm) == 0) m.hwm = pm.hwm, m.anon = pm.anon, m.file = pm.file;
    send_msg(w, &m);
}

static void obs_phase(void *ctx, const char *phase) {
    wctx *w = ctx;
    int p = phase_index(phase);
    if (p == w->phase) return;
    end_phase(w);
    w->phase = p;
    w->reset_ok = clear_refs();
    worker_msg m;
    memset(&m, 0, sizeof m);
    m.type = WMSG_PHASE;
    m.phase = p;
    send_msg(w, &m);
}

static void obs_loss(void *ctx, int64_t step, double epoch, double loss) {
    worker_msg m;
    memset(&m, 0, sizeof m);
    m.type = WMSG_LOSS;
    m.step = step, m.epoch = epoch, m.loss = loss;
    send_msg(ctx, &m);
}

/* Test-only, armed like the fault methods (EMBSWEEP_FAULTS=1):
 * EMBSWEEP_FAULT_SCORES=magic overwrites the written file's magic, =short cuts
 * it to half its size; the parent must refuse either (tests/test_scores.c). */
static void scores_fault(int fd) {
    const char *on = getenv("EMBSWEEP_FAULTS"), *how = getenv("EMBSWEEP_FAULT_SCORES");
    if (!on || strcmp(on, "1") || !how) return;
    int bad = 0;
    if (!strcmp(how, "magic")) bad = pwrite(fd, "XXXX", 4, 0) != 4;
    else if (!strcmp(how, "short")) bad = ftruncate(fd, lseek(fd, 0, SEEK_CUR) / 2) != 0;
    if (bad) fprintf(stderr, "embsweep worker: EMBSWEEP_FAULT_SCORES=%s: %s\n", how, strerror(errno));
}

/* The selected test scores into the scores file; a failed write is reported on
 * stderr and left for the parent to find (a short file). */
static void obs_scores(void *ctx, const float *logits, const float *label, int64_t n) {
    wctx *w = ctx;
    if (scores_write_fd(w->scores_fd, logits, label, n) != 0)
        fprintf(stderr, "embsweep worker: writing the test scores: %s\n", strerror(errno));
    scores_fault(w->scores_fd);
}

int worker_main(void) {
    signal(SIGPIPE, SIG_IGN);
    wctx w = {.fd = 3, .scores_fd = 4, .phase = -1, .t0 = hx_now()};
    worker_job *job = hx_calloc(1, sizeof *job);
    worker_msg *m = hx_calloc(1, sizeof *m);
    if (!job || !m || read_full(0, job, sizeof *job) != 0 || job->magic != WORKER_MAGIC ||
        job->size != sizeof *job) {
        fprintf(stderr, "embsweep worker: bad job on stdin\n");
        return WORKER_EXIT_USAGE;
    }
    job->method[sizeof job->method - 1] = 0;
    job->cache_dir[sizeof job->cache_dir - 1] = 0;
    run_config *rc = &job->rc;
    rc->method = emb_method_find(job->method);
    rc->cache_dir = job->cache_dir[0] ? job->cache_dir : NULL;
    rc->train.threads = job->threads;
#ifndef WORKER_ASAN
    /* ASan reserves terabytes of address space, so a data limit would break it;
     * the parent's RSS check enforces the limit there. RLIMIT_DATA counts
     * address space, not memory used: each engine thread's OpenBLAS maps a
     * 128 MiB buffer (and glibc an arena) that it touches only in part, and
     * OpenBLAS retries a refused buffer forever, so the data limit leaves
     * WORKER_DATA_SLACK per thread above memory_limit. What the worker uses is
     * bounded by the parent's check of its anonymous RSS (sweep.c). */
    if (job->memory_limit) {
        const uint64_t lim = job->memory_limit + WORKER_DATA_SLACK * (uint64_t)(job->threads > 1 ? job->threads : 1);
        struct rlimit  rl = {.rlim_cur = lim, .rlim_max = lim};
        if (setrlimit(RLIMIT_DATA, &rl) != 0) fprintf(stderr, "setrlimit(RLIMIT_DATA): %s\n", strerror(errno));
    }
#endif
    run_observer obs = {.ctx = &w, .phase = obs_phase, .loss = obs_loss,
                        .scores = job->keep_scores ? obs_scores : NULL};
    hx_status st;
    if (!rc->method) st = hx_error(HX_ERR_PARAM, m->text, sizeof m->text, "unknown method '%s'", job->method);
    else st = run_execute(rc, &obs, &m->res, m->text, sizeof m->text);
    end_phase(&w);
    m->type = WMSG_RESULT;
    m->status = st;
    send_msg(&w, m);
    if (st != HX_OK) fprintf(stderr, "embsweep worker: %s: %s\n", hx_status_str(st), m->text);
    int code = st == HX_OK ? WORKER_EXIT_OK
             : st == HX_ERR_NOMEM ? WORKER_EXIT_NOMEM
             : st == HX_ERR_DIVERGED ? WORKER_EXIT_DIVERGED
             : WORKER_EXIT_FAILED;
    hx_free(job);
    hx_free(m);
    return code;
}
