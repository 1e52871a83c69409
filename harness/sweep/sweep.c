/* sweep.c: the scheduler. One poll() loop in the parent:
 *   - starts workers up to `jobs` (worker_spawn: fork + exec of `embsweep worker`);
 *   - reads their fixed-size messages (phase changes, phase peaks, loss points,
 *     the result) and the tail of their stderr;
 *   - samples /proc/<pid>/status of every worker every SAMPLE_S seconds (VmRSS,
 *     VmHWM, RssAnon, RssFile) into the run's RSS series;
 *   - enforces the timeout (SIGTERM, then SIGKILL after KILL_GRACE_S) and the
 *     memory limit (RSS above memory_limit -> SIGKILL, status oom; the worker also
 *     runs under RLIMIT_DATA, where an allocation failure ends as oom);
 *   - reaps workers, classifies the outcome, and writes it in one transaction.
 * SIGINT/SIGTERM set a flag: running workers are stopped, their runs recorded as
 * interrupted, and the next invocation runs them again.
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
    const cfg_cell *cell;
    double          t0, wall0, last_sample, term_sent;
    int             kill_why;
    uint64_t        kill_rss;
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

static void sample(slot *s, const cfg_sweep *sw, double now) {
    proc_mem pm;
    s->last_sample = now;
    if (proc_mem_read(s->pid, &pm) != 0 || pm.rss == 0) return; /* exited or a zombie */
    int p = s->phase < 0 ? 0 : s->phase;
    if (s->n_samp == s->cap_samp) {
        rss_sample *np = grow(s->samp, &s->cap_samp, sizeof *np);
        if (!np) return;
        s->samp = np;
    }
    s->samp[s->n_samp++] = (rss_sample){now - s->t0, p, pm.rss, pm.anon, pm.file, pm.hwm};
    phase_peak *pp = &s->ph[p];
    pp->seen = 1;
    if (pm.anon > pp->anon) pp->anon = pm.anon;
    if (pm.file > pp->file) pp->file = pm.file;
    if (pm.hwm > pp->hwm) pp->hwm = pm.hwm;
    if (sw->memory_limit && pm.rss > sw->memory_limit && s->kill_why == KILL_NONE) {
        s->kill_why = KILL_OOM;
        s->kill_rss = pm.rss;
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
        snprintf(reason, n, "oom: RSS %s exceeded memory_limit", h);
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
    hx_free(s->loss);
    hx_free(s->samp);
    memset(s, 0, sizeof *s);
}

static hx_status finish(slot *s, int wstatus, const cfg_sweep *sw, db *d, int64_t inv, const sweep_opts *o,
                        sweep_counts *c, char *err, size_t errlen) {
    /* drain what the worker wrote before it exited */
    read_msgs(s);
    read_stderr(s);
    close(s->msg_fd), close(s->err_fd);
    char reason[600];
    run_record r;
    memset(&r, 0, sizeof r);
    r.key = s->cell->key;
    r.status = classify(s, wstatus, reason, sizeof reason, &r.exit_code, &r.signal);
    r.reason = reason[0] ? reason : NULL;
    r.invocation = inv;
    r.has_result = s->got_result && s->result.status == HX_OK;
    if (s->got_result) r.res = s->result.res;
    if (s->phase >= 0 && s->ph[s->phase].seconds <= 0) s->ph[s->phase].seconds = hx_now() - s->t0 - s->phase_t0;
    memcpy(r.phase, s->ph, sizeof r.phase);
    r.blas_threads = o->threads;
    r.stderr_tail = s->tail;
    r.started = s->wall0;
    r.finished = db_wall_now();
    r.n_loss = s->n_loss, r.loss = s->loss;
    r.n_samples = s->n_samp, r.samples = s->samp;
    hx_status rc = db_run_finish(d, &r, err, errlen);
    c->done++;
    int ok = !strcmp(r.status, "ok");
    if (ok) c->ok++;
    else if (strcmp(r.status, "interrupted")) c->failed++;
    const cfg_cell *cell = s->cell;
    if (!o->tty) {
        char extra[160] = "";
        if (ok) {
            char h[32];
            double peak = 0;
            for (int p = 0; p < 3; p++)
                if (s->ph[p].hwm > peak) peak = (double)s->ph[p].hwm;
            hx_human_bytes(peak, h, sizeof h);
            snprintf(extra, sizeof extra, "auc=%.4f ratio=%.3g peak=%s", r.res.test_auc, r.res.ratio_achieved, h);
        } else {
            snprintf(extra, sizeof extra, "%.150s", reason);
        }
        printf("[%d/%d] %-11s %s %s %s dim=%d ratio=%g seed=%llu %.1fs %s\n", c->done, c->total, r.status,
               cell->key, cell->rc.dataset.name, cell->rc.method->name, cell->rc.dim, cell->rc.ratio, (unsigned long long)cell->rc.seed,
               r.finished - r.started, extra);
        fflush(stdout);
    }
    (void)sw;
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

hx_status sweep_execute(const cfg_sweep *sw, db *d, int64_t inv, const sweep_opts *o, sweep_counts *c,
                        char *err, size_t errlen) {
    hx_status rc = HX_OK;
    memset(c, 0, sizeof *c);
    int *todo = hx_calloc((size_t)sw->n_cells + 1, sizeof(int));
    slot *slots = hx_calloc((size_t)o->jobs, sizeof(slot));
    struct pollfd *pfd = hx_calloc((size_t)o->jobs * 2 + 1, sizeof(struct pollfd));
    if (!todo || !slots || !pfd) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < sw->n_cells; i++) {
        if (sw->cells[i].skipped) {
            c->skipped_unreachable++;
            continue;
        }
        char st[32];
        if (db_run_status(d, sw->cells[i].key, st, sizeof st) != HX_OK) {
            rc = hx_error(HX_ERR_IO, err, errlen, "reading run status failed");
            goto out;
        }
        if (sweep_should_run(st, o)) todo[c->total++] = i;
        else if (!strcmp(st, "ok")) c->skipped_done++;
        else c->kept_failed++;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    double start = hx_now(), last_line = 0;
    int next = 0, running = 0;
    while ((next < c->total || running > 0) && rc == HX_OK) {
        if (g_stop) {
            c->interrupted = 1;
            for (int j = 0; j < o->jobs; j++)
                if (slots[j].active && slots[j].kill_why == KILL_NONE) {
                    slots[j].kill_why = KILL_INTERRUPT;
                    kill(slots[j].pid, SIGKILL);
                }
            next = c->total; /* start nothing new */
        }
        for (int j = 0; j < o->jobs && next < c->total && !g_stop; j++) {
            if (slots[j].active) continue;
            const cfg_cell *cell = &sw->cells[todo[next++]];
            worker_job *job = hx_calloc(1, sizeof *job);
            if (!job) {
                rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
                break;
            }
            job->magic = WORKER_MAGIC;
            job->size = sizeof *job;
            job->rc = cell->rc;
            snprintf(job->method, sizeof job->method, "%s", cell->rc.method->name);
            snprintf(job->cache_dir, sizeof job->cache_dir, "%s", sw->cache_dir);
            job->memory_limit = sw->memory_limit;
            job->threads = o->threads;
            slot *s = &slots[j];
            memset(s, 0, sizeof *s);
            s->cell = cell;
            s->phase = -1;
            s->t0 = hx_now();
            s->wall0 = db_wall_now();
            db_run_started(d, cell->key, inv, s->wall0);
            char serr[256];
            s->pid = worker_spawn(job, &s->msg_fd, &s->err_fd, serr, sizeof serr);
            hx_free(job);
            if (s->pid < 0) {
                rc = hx_error(HX_ERR_IO, err, errlen, "cannot start a worker: %s", serr);
                break;
            }
            s->active = 1;
            running++;
        }
        /* wait for output or the next sampling tick */
        int n = 0;
        for (int j = 0; j < o->jobs; j++)
            if (slots[j].active) {
                pfd[n++] = (struct pollfd){.fd = slots[j].msg_fd, .events = POLLIN};
                pfd[n++] = (struct pollfd){.fd = slots[j].err_fd, .events = POLLIN};
            }
        poll(pfd, (nfds_t)n, (int)(SAMPLE_S * 1000));
        double now = hx_now();
        for (int j = 0; j < o->jobs; j++) {
            slot *s = &slots[j];
            if (!s->active) continue;
            read_msgs(s);
            read_stderr(s);
            if (now - s->last_sample >= SAMPLE_S * 0.9) sample(s, sw, now);
            if (sw->timeout > 0 && s->kill_why == KILL_NONE && now - s->t0 > sw->timeout) {
                s->kill_why = KILL_TIMEOUT;
                s->term_sent = now;
                kill(s->pid, SIGTERM);
            } else if (s->kill_why == KILL_TIMEOUT && now - s->term_sent > KILL_GRACE_S) {
                kill(s->pid, SIGKILL);
            }
        }
        for (;;) {
            int wst;
            pid_t pid = waitpid(-1, &wst, WNOHANG);
            if (pid <= 0) break;
            for (int j = 0; j < o->jobs; j++)
                if (slots[j].active && slots[j].pid == pid) {
                    hx_status frc = finish(&slots[j], wst, sw, d, inv, o, c, err, errlen);
                    if (frc != HX_OK) rc = frc;
                    running--;
                }
        }
        if (o->tty && (now - last_line > 0.25 || running == 0)) {
            progress_line(c, running, now - start);
            last_line = now;
        }
    }
    if (o->tty) fprintf(stderr, "\n");
    /* on a database error: stop the remaining workers, never leave orphans */
    for (int j = 0; j < o->jobs; j++)
        if (slots[j].active) {
            kill(slots[j].pid, SIGKILL);
            waitpid(slots[j].pid, NULL, 0);
            close(slots[j].msg_fd), close(slots[j].err_fd);
            slot_clear(&slots[j]);
        }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (g_stop) c->interrupted = 1;
out:
    hx_free(todo);
    hx_free(slots);
    hx_free(pfd);
    return rc;
}
