/* sweep.c: the scheduler. One poll() loop in the parent:
 *   - starts workers up to `jobs` (worker_spawn: fork + exec of `embsweep worker`);
 *   - reads their fixed-size messages (phase changes, phase peaks, loss points,
 *     the result) and the tail of their stderr;
 *   - samples /proc/<pid>/status of every worker every SAMPLE_S seconds (VmRSS,
 *     VmHWM, RssAnon, RssFile) into the run's RSS series;
 *   - enforces the timeout (SIGTERM, then SIGKILL after KILL_GRACE_S) and the
 *     memory limit (anonymous RSS above memory_limit -> SIGKILL, status oom: the
 *     worker's own memory, not the dataset cache's file pages it shares with the
 *     other workers; the worker also runs under RLIMIT_DATA, where an allocation
 *     failure ends as oom);
 *   - reaps workers, classifies the outcome, reads back the test scores of an ok
 *     run (the worker's anonymous scores file, worker.h), and writes it all in
 *     one transaction.
 * SIGINT/SIGTERM set a flag: running workers are stopped, their runs recorded as
 * interrupted, and the next invocation runs them again. A worker killed by
 * SIGTERM or SIGINT from outside (as Slurm signals every process of a job it
 * cancels) is interrupted too.
 *
 * Statuses: ok, failed (error message), timeout, oom, crashed (signal), diverged
 * (non-finite loss), interrupted. Every one keeps the stderr tail.
 */
#define _GNU_SOURCE
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker.h"

#define SAMPLE_S 0.05
#define KILL_GRACE_S 2.0
#define TAIL 2048

enum { KILL_NONE, KILL_TIMEOUT, KILL_OOM, KILL_INTERRUPT };

typedef struct slot {
    int             active;
    pid_t           pid;
    int             msg_fd, err_fd;
    int             scores_fd;  /* the worker's scores file, -1 when none is kept */
    const cfg_cell *cell;
    double          t0, wall0, last_sample, term_sent;
    int             kill_why;
    uint64_t        kill_rss; /* the anonymous RSS that passed memory_limit */
    int             phase;
    double          phase_t0;
    phase_peak      ph[3];
    worker_msg      buf;        /* partial message being read */
    size_t          buf_n;
    int             got_result;
    worker_msg      result;
    loss_point     *loss;
    int             n_loss, cap_loss;
    rss_sample     *samp;
    int             n_samp, cap_samp;
    char            tail[TAIL + 1]; /* last bytes of stderr */
    size_t          tail_n;
} slot;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

int sweep_should_run(const char *status, const sweep_opts *o) {
    static const char *const unfinished[] = {"", "pending", "running", "interrupted"};
    static const char *const failed[] = {"failed", "timeout", "oom", "crashed", "diverged"};
    if (!strcmp(status, "skipped")) return 0;
    if (o->force) return 1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(status, unfinished[i])) return 1;
    if (o->retry_failed)
        for (int i = 0; i < 5; i++)
            if (!strcmp(status, failed[i])) return 1;
    return 0;
}

static void tail_add(slot *s, const char *b, size_t n) {
    if (n >= TAIL) {
        memcpy(s->tail, b + n - TAIL, TAIL);
        s->tail_n = TAIL;
    } else {
        if (s->tail_n + n > TAIL) {
            size_t drop = s->tail_n + n - TAIL;
            memmove(s->tail, s->tail + drop, s->tail_n - drop);
            s->tail_n -= drop;
        }
        memcpy(s->tail + s->tail_n, b, n);
        s->tail_n += n;
    }
    s->tail[s->tail_n] = 0;
}

static void read_stderr(slot *s) {
    char b[4096];
    for (;;) {
        ssize_t r = read(s->err_fd, b, sizeof b);
        if (r > 0) tail_add(s, b, (size_t)r);
        else if (r < 0 && errno == EINTR) continue;
        else break;
    }
}

static void *grow(void *p, int *cap, size_t elem) {
    int nc = *cap ? *cap * 2 : 256;
    void *np = hx_realloc(p, (size_t)nc * elem);
    if (np) *cap = nc;
    return np;
}

static void handle_msg(slot *s, const worker_msg *m) {
    switch (m->type) {
    case WMSG_PHASE:
        if (m->phase < 0 || m->phase > 2) break;
        if (s->phase >= 0) s->ph[s->phase].seconds = m->t - s->phase_t0;
        s->phase = m->phase;
        s->phase_t0 = m->t;
        s->ph[m->phase].seen = 1;
        break;
    case WMSG_PEAK:
        if (m->phase < 0 || m->phase > 2) break;
        s->ph[m->phase].seen = 1;
        s->ph[m->phase].hwm_reset = m->hwm_reset;
        if (m->hwm > s->ph[m->phase].hwm) s->ph[m->phase].hwm = m->hwm;
        if (m->anon > s->ph[m->phase].anon) s->ph[m->phase].anon = m->anon;
        if (m->file > s->ph[m->phase].file) s->ph[m->phase].file = m->file;
        if (m->phase == s->phase) s->ph[m->phase].seconds = m->t - s->phase_t0;
        break;
    case WMSG_LOSS:
        if (s->n_loss == s->cap_loss) {
            loss_point *np = grow(s->loss, &s->cap_loss, sizeof *np);
            if (!np) break;
            s->loss = np;
        }
        s->loss[s->n_loss++] = (loss_point){m->step, m->epoch, m->loss};
        break;
    case WMSG_RESULT:
        s->got_result = 1;
        s->result = *m;
        s->result.text[sizeof s->result.text - 1] = 0;
        break;
    default: break;
    }
}

static void read_msgs(slot *s) {
    for (;;) {
        ssize_t r = read(s->msg_fd, (char *)&s->buf + s->buf_n, sizeof s->buf - s->buf_n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        s->buf_n += (size_t)r;
        if (s->buf_n == sizeof s->buf) {
            handle_msg(s, &s->buf);
            s->buf_n = 0;
        }
    }
}

/* One /proc sample of the worker into its RSS series and phase peaks; returns
 * its anonymous RSS, 0 when there is no sample (exited, a zombie, or no memory
 * to record). */
static uint64_t sample(slot *s, double now) {
    proc_mem pm;
    s->last_sample = now;
    if (proc_mem_read(s->pid, &pm) != 0 || pm.rss == 0) return 0; /* exited or a zombie */
    int p = s->phase < 0 ? 0 : s->phase;
    if (s->n_samp == s->cap_samp) {
        rss_sample *np = grow(s->samp, &s->cap_samp, sizeof *np);
        if (!np) return 0;
        s->samp = np;
    }
    s->samp[s->n_samp++] = (rss_sample){now - s->t0, p, pm.rss, pm.anon, pm.file, pm.hwm};
    phase_peak *pp = &s->ph[p];
    pp->seen = 1;
    if (pm.anon > pp->anon) pp->anon = pm.anon;
    if (pm.file > pp->file) pp->file = pm.file;
    if (pm.hwm > pp->hwm) pp->hwm = pm.hwm;
    return pm.anon;
}

/* The memory limit (anon: the anonymous RSS just sampled, 0 when none: above
 * it -> SIGKILL, status oom) and the timeout (SIGTERM, then SIGKILL after
 * KILL_GRACE_S). The first reason to stop a worker is the one recorded. */
static void enforce_limits(slot *s, const cfg_sweep *sw, uint64_t anon, double now) {
    if (sw->memory_limit && anon > sw->memory_limit && s->kill_why == KILL_NONE) {
        s->kill_why = KILL_OOM;
        s->kill_rss = anon;
        kill(s->pid, SIGKILL);
    }
    if (sw->timeout > 0 && s->kill_why == KILL_NONE && now - s->t0 > sw->timeout) {
        s->kill_why = KILL_TIMEOUT;
        s->term_sent = now;
        kill(s->pid, SIGTERM);
    } else if (s->kill_why == KILL_TIMEOUT && now - s->term_sent > KILL_GRACE_S) {
        kill(s->pid, SIGKILL);
    }
}

static const char *classify(slot *s, int wstatus, char *reason, size_t n, int *exit_code, int *sig) {
    *exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    *sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
    const char *sn = *sig ? strsignal(*sig) : "";
    char h[32];
    switch (s->kill_why) {
    case KILL_INTERRUPT:
        snprintf(reason, n, "interrupted: the harness was stopped");
        return "interrupted";
    case KILL_TIMEOUT:
        snprintf(reason, n, "timeout: still running after %g s", s->term_sent - s->t0);
        return "timeout";
    case KILL_OOM:
        hx_human_bytes((double)s->kill_rss, h, sizeof h);
        snprintf(reason, n, "oom: anonymous RSS %s exceeded memory_limit", h);
        return "oom";
    default: break;
    }
    if (s->got_result) {
        hx_status st = (hx_status)s->result.status;
        snprintf(reason, n, "%s", s->result.text);
        if (st == HX_OK) {
            reason[0] = 0;
            return "ok";
        }
        if (st == HX_ERR_DIVERGED) return "diverged";
        if (st == HX_ERR_NOMEM) return "oom";
        return "failed";
    }
    if (*sig) {
        snprintf(reason, n, "crashed: killed by signal %d (%s)%s", *sig, sn,
                 *sig == SIGKILL ? "; maybe the kernel OOM killer" : "");
        return "crashed";
    }
    if (*exit_code == WORKER_EXIT_NOMEM) {
        snprintf(reason, n, "oom: allocation failed");
        return "oom";
    }
    snprintf(reason, n, "worker exited with status %d without a result", *exit_code);
    return "failed";
}

static void slot_clear(slot *s) {
    if (s->scores_fd >= 0) close(s->scores_fd);
    hx_free(s->loss);
    hx_free(s->samp);
    memset(s, 0, sizeof *s);
    s->scores_fd = -1; /* a cleared slot holds no descriptor (0 is stdin) */
}

/* The scheduler's state during one sweep_execute. */
typedef struct sched {
    const cfg_sweep  *sw;
    db               *d;
    int64_t           inv;
    const sweep_opts *o;
    sweep_counts     *c;
    int              *todo;    /* indexes of the cells to run, c->total of them */
    slot             *slots;   /* (o->jobs) */
    struct pollfd    *pfd;     /* (2 o->jobs) message and stderr pipes */
    int               next;    /* todo[next] is the next cell to start */
    int               running; /* active slots */
} sched;

/* The one line per finished run printed when the output is not a terminal. */
static void print_done(const sched *x, const slot *s, const run_record *r, const char *reason) {
    const cfg_cell *cell = s->cell;
    const sweep_counts *c = x->c;
    char extra[160] = "";
    if (!strcmp(r->status, "ok")) {
        char h[32];
        double peak = 0;
        for (int p = 0; p < 3; p++)
            if (s->ph[p].hwm > peak) peak = (double)s->ph[p].hwm;
        hx_human_bytes(peak, h, sizeof h);
        snprintf(extra, sizeof extra, "auc=%.4f ratio=%.3g peak=%s", r->res.test_auc, r->res.ratio_achieved, h);
    } else {
        snprintf(extra, sizeof extra, "%.150s", reason);
    }
    char arch[24] = "";
    if (cell->rc.model.arch != ARCH_DLRM) snprintf(arch, sizeof arch, " arch=%s", model_arch_names[cell->rc.model.arch]);
    printf("[%d/%d] %-11s %s %s %s dim=%d ratio=%g seed=%llu%s %.1fs %s\n", c->done, c->total, r->status, cell->key,
           cell->rc.dataset.name, cell->rc.method->name, cell->rc.dim, cell->rc.ratio,
           (unsigned long long)cell->rc.seed, arch, r->finished - r->started, extra);
    fflush(stdout);
}

/* An ok run whose scores cannot be kept: the run stays ok (its metrics are
 * sound), its reason says why, and a warning line says so now. */
static void scores_not_kept(const sched *x, run_record *r, char *reason, size_t n, const char *why) {
    snprintf(reason, n, "scores not kept: %s", why);
    r->reason = reason;
    fprintf(stderr, "%sembsweep run: warning: run %s: %s\n", x->o->tty ? "\r\033[K" : "", r->key, reason);
}

/* The test scores of a run that ended ok, read back from the worker's scores
 * file into *sb and r->scores. A malformed file (the worker's fault: short,
 * bad header, another row count) or a test split too large for one run_scores
 * row keeps none (scores_not_kept). A failure of the parent itself (memory,
 * reading its own descriptor) is returned: the run is then not stored, as on a
 * database error, and the next invocation runs it again. */
static hx_status slot_scores(const sched *x, const slot *s, run_record *r, scores_buf *sb, char *reason,
                             size_t n, char *err, size_t errlen) {
    if (s->scores_fd < 0 || strcmp(r->status, "ok")) return HX_OK;
    const int64_t rows = s->result.res.n_test, max = db_scores_max_rows(x->d);
    char why[400];
    if (rows > max) {
        snprintf(why, sizeof why, "%lld test rows, more than a run_scores row holds (%lld)", (long long)rows,
                 (long long)max);
        scores_not_kept(x, r, reason, n, why);
        return HX_OK;
    }
    hx_status rc = scores_read_fd(s->scores_fd, rows > 0 ? rows : 0, sb, why, sizeof why);
    if (rc == HX_OK) r->scores = sb;
    else if (rc == HX_ERR_FORMAT) scores_not_kept(x, r, reason, n, why);
    else return hx_error(rc, err, errlen, "reading the scores of run %s: %s", r->key, why);
    return HX_OK;
}

/* A reaped worker: drain its pipes, classify the outcome, read back its scores,
 * write the run in one transaction, count it, free the slot. */
static hx_status finish(sched *x, slot *s, int wstatus, char *err, size_t errlen) {
    /* drain what the worker wrote before it exited */
    read_msgs(s);
    read_stderr(s);
    close(s->msg_fd), close(s->err_fd);
    /* A worker stopped from outside before its result (Slurm's scancel, time
     * limit or preemption signal every process of the job, the harness too) was
     * interrupted, not crashed: the next invocation runs it again. */
    if (s->kill_why == KILL_NONE && !s->got_result && WIFSIGNALED(wstatus) &&
        (g_stop || WTERMSIG(wstatus) == SIGTERM || WTERMSIG(wstatus) == SIGINT))
        s->kill_why = KILL_INTERRUPT;
    char reason[600];
    run_record r;
    memset(&r, 0, sizeof r);
    r.key = s->cell->key;
    r.status = classify(s, wstatus, reason, sizeof reason, &r.exit_code, &r.signal);
    r.reason = reason[0] ? reason : NULL;
    r.invocation = x->inv;
    r.has_result = s->got_result && s->result.status == HX_OK;
    if (s->got_result) r.res = s->result.res;
    if (s->phase >= 0 && s->ph[s->phase].seconds <= 0) s->ph[s->phase].seconds = hx_now() - s->t0 - s->phase_t0;
    memcpy(r.phase, s->ph, sizeof r.phase);
    r.blas_threads = x->o->threads;
    r.stderr_tail = s->tail;
    r.started = s->wall0;
    r.finished = db_wall_now();
    r.n_loss = s->n_loss, r.loss = s->loss;
    r.n_samples = s->n_samp, r.samples = s->samp;
    scores_buf sb = {0};
    hx_status rc = slot_scores(x, s, &r, &sb, reason, sizeof reason, err, errlen);
    if (rc == HX_OK) rc = db_run_finish(x->d, &r, err, errlen);
    scores_buf_free(&sb);
    if (rc != HX_OK) { /* the line says what the database holds, not what the worker did */
        r.status = "not-stored";
        snprintf(reason, sizeof reason, "the result could not be stored: %.500s", err);
    }
    x->c->done++;
    if (!strcmp(r.status, "ok")) x->c->ok++;
    else if (strcmp(r.status, "interrupted")) x->c->failed++;
    if (!x->o->tty) print_done(x, s, &r, reason);
    slot_clear(s);
    return rc;
}

static void progress_line(const sweep_counts *c, int running, double elapsed) {
    double eta = c->done > 0 ? elapsed / c->done * (c->total - c->done) : NAN;
    char e[32] = "?";
    if (isfinite(eta)) snprintf(e, sizeof e, "%dm%02ds", (int)eta / 60, (int)eta % 60);
    fprintf(stderr, "\r\033[K%d/%d done, %d running, %d failed, %dm%02ds elapsed, ETA %s", c->done, c->total,
            running, c->failed, (int)elapsed / 60, (int)elapsed % 60, e);
}

/* Which cells this invocation runs (x->todo), by their stored status. */
static hx_status sched_plan(sched *x, char *err, size_t errlen) {
    const cfg_sweep *sw = x->sw;
    sweep_counts *c = x->c;
    for (int i = 0; i < sw->n_cells; i++) {
        if (sw->cells[i].skipped) {
            c->skipped_unreachable++;
            continue;
        }
        char st[32];
        if (db_run_status(x->d, sw->cells[i].key, st, sizeof st) != HX_OK)
            return hx_error(HX_ERR_IO, err, errlen, "reading run status failed");
        if (sweep_should_run(st, x->o)) x->todo[c->total++] = i;
        else if (!strcmp(st, "ok")) c->skipped_done++;
        else c->kept_failed++;
    }
    return HX_OK;
}

/* SIGINT/SIGTERM: every running worker is stopped, nothing new starts. */
static void sched_interrupt(sched *x) {
    x->c->interrupted = 1;
    for (int j = 0; j < x->o->jobs; j++)
        if (x->slots[j].active && x->slots[j].kill_why == KILL_NONE) {
            x->slots[j].kill_why = KILL_INTERRUPT;
            kill(x->slots[j].pid, SIGKILL);
        }
    x->next = x->c->total; /* start nothing new */
}

/* Start the next cell in slot s: mark it running, spawn its worker. */
static hx_status slot_start(sched *x, slot *s, const cfg_cell *cell, char *err, size_t errlen) {
    worker_job *job = hx_calloc(1, sizeof *job);
    if (!job) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    job->magic = WORKER_MAGIC;
    job->size = sizeof *job;
    job->rc = cell->rc;
    snprintf(job->method, sizeof job->method, "%s", cell->rc.method->name);
    snprintf(job->cache_dir, sizeof job->cache_dir, "%s", x->sw->cache_dir);
    job->memory_limit = x->sw->memory_limit;
    job->threads = x->o->threads;
    job->keep_scores = x->sw->keep_scores;
    memset(s, 0, sizeof *s);
    s->scores_fd = -1;
    s->cell = cell;
    s->phase = -1;
    s->t0 = hx_now();
    s->wall0 = db_wall_now();
    if (db_run_started(x->d, cell->key, x->inv, s->wall0) != HX_OK) {
        hx_free(job);
        return hx_error(HX_ERR_IO, err, errlen, "cannot mark run %s as running: %s", cell->key,
                        sqlite3_errmsg(db_handle(x->d)));
    }
    char serr[256];
    s->pid = worker_spawn(job, &s->msg_fd, &s->err_fd, &s->scores_fd, serr, sizeof serr);
    hx_free(job);
    if (s->pid < 0) return hx_error(HX_ERR_IO, err, errlen, "cannot start a worker: %s", serr);
    s->active = 1;
    x->running++;
    return HX_OK;
}

/* Fill the free slots with the next cells, up to `jobs` workers. */
static hx_status sched_start(sched *x, char *err, size_t errlen) {
    for (int j = 0; j < x->o->jobs && x->next < x->c->total && !g_stop; j++) {
        if (x->slots[j].active) continue;
        hx_status rc = slot_start(x, &x->slots[j], &x->sw->cells[x->todo[x->next++]], err, errlen);
        if (rc != HX_OK) return rc;
    }
    return HX_OK;
}

/* Wait for worker output or the next sampling tick; then read every worker's
 * messages and stderr, sample its memory and enforce the limits. */
static void sched_poll(sched *x) {
    int n = 0;
    for (int j = 0; j < x->o->jobs; j++)
        if (x->slots[j].active) {
            x->pfd[n++] = (struct pollfd){.fd = x->slots[j].msg_fd, .events = POLLIN};
            x->pfd[n++] = (struct pollfd){.fd = x->slots[j].err_fd, .events = POLLIN};
        }
    poll(x->pfd, (nfds_t)n, (int)(SAMPLE_S * 1000));
    double now = hx_now();
    for (int j = 0; j < x->o->jobs; j++) {
        slot *s = &x->slots[j];
        if (!s->active) continue;
        read_msgs(s);
        read_stderr(s);
        uint64_t anon = now - s->last_sample >= SAMPLE_S * 0.9 ? sample(s, now) : 0;
        enforce_limits(s, x->sw, anon, now);
    }
}

/* Reap every worker that has exited and record its run. */
static hx_status sched_reap(sched *x, char *err, size_t errlen) {
    hx_status rc = HX_OK;
    for (;;) {
        int wst;
        pid_t pid = waitpid(-1, &wst, WNOHANG);
        if (pid <= 0) break;
        for (int j = 0; j < x->o->jobs; j++)
            if (x->slots[j].active && x->slots[j].pid == pid) {
                hx_status frc = finish(x, &x->slots[j], wst, err, errlen);
                if (frc != HX_OK) rc = frc;
                x->running--;
            }
    }
    return rc;
}

/* After a database error: stop the remaining workers, never leave orphans. */
static void sched_kill_rest(sched *x) {
    for (int j = 0; j < x->o->jobs; j++)
        if (x->slots[j].active) {
            kill(x->slots[j].pid, SIGKILL);
            waitpid(x->slots[j].pid, NULL, 0);
            close(x->slots[j].msg_fd), close(x->slots[j].err_fd);
            slot_clear(&x->slots[j]);
        }
}

/* Start, poll, enforce and reap until every scheduled run is recorded (or the
 * database failed, or a signal stopped the sweep). */
static hx_status sched_loop(sched *x, char *err, size_t errlen) {
    hx_status rc = HX_OK;
    double start = hx_now(), last_line = 0;
    while ((x->next < x->c->total || x->running > 0) && rc == HX_OK) {
        if (g_stop) sched_interrupt(x);
        rc = sched_start(x, err, errlen);
        sched_poll(x);
        hx_status frc = sched_reap(x, err, errlen);
        if (frc != HX_OK) rc = frc;
        double now = hx_now();
        if (x->o->tty && (now - last_line > 0.25 || x->running == 0)) {
            progress_line(x->c, x->running, now - start);
            last_line = now;
        }
    }
    if (x->o->tty) fprintf(stderr, "\n");
    return rc;
}

hx_status sweep_execute(const cfg_sweep *sw, db *d, int64_t inv, const sweep_opts *o, sweep_counts *c,
                        char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    sched x = {.sw = sw, .d = d, .inv = inv, .o = o, .c = c};
    x.todo = hx_calloc((size_t)sw->n_cells + 1, sizeof(int));
    x.slots = hx_calloc((size_t)o->jobs, sizeof(slot));
    x.pfd = hx_calloc((size_t)o->jobs * 2 + 1, sizeof(struct pollfd));
    hx_status rc = HX_OK;
    if (!x.todo || !x.slots || !x.pfd) rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    if (rc == HX_OK) rc = sched_plan(&x, err, errlen);
    if (rc == HX_OK) {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        g_stop = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        rc = sched_loop(&x, err, errlen);
        sched_kill_rest(&x);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (g_stop) c->interrupted = 1;
    }
    hx_free(x.todo);
    hx_free(x.slots);
    hx_free(x.pfd);
    return rc;
}
