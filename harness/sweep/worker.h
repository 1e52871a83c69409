/* worker.h: one run in its own process, and the protocol between it and the
 * sweep parent.
 *
 * The parent fork()s and the child exec()s `embsweep worker` (/proc/self/exe), so
 * the worker starts from a fresh image: VmHWM then measures the run, not the
 * parent (ru_maxrss and fork-without-exec both inherit the parent's pages). The
 * job (a resolved run_config) arrives on stdin; reports go to fd 3 as fixed-size,
 * zeroed worker_msg records (Redis childinfo style: one write() per message,
 * <= PIPE_BUF so it is atomic); stderr is a pipe whose tail the parent keeps.
 *
 * Scores (job.keep_scores): fd 4 is an anonymous file (memfd_create: no name on
 * any file system, so nothing is left behind however either side ends) that the
 * parent created and keeps open. When the run succeeds the worker writes its
 * test scores there (scores.h: header, logits, packed labels) before it sends the
 * result; the parent reads them back with pread on its own descriptor once the
 * worker has exited and the result says ok.
 *
 * Per-phase peak RSS: at each phase start the worker reads its VmHWM (the peak of
 * the phase that just ended), reports it, and writes "5" to /proc/self/clear_refs
 * to reset the high-water mark to the current RSS.
 */
#ifndef EMBSWEEP_WORKER_H
#define EMBSWEEP_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "harness/train/run.h"

#define WORKER_MAGIC 0x454d4257u /* "EMBW" */

/* Exit codes of `embsweep worker` (the message is authoritative when present). */
enum { WORKER_EXIT_OK = 0, WORKER_EXIT_FAILED = 1, WORKER_EXIT_USAGE = 2, WORKER_EXIT_NOMEM = 3,
       WORKER_EXIT_DIVERGED = 4 };

enum { WMSG_PHASE = 1, WMSG_PEAK = 2, WMSG_LOSS = 3, WMSG_RESULT = 4 };

typedef struct worker_msg {
    uint32_t   type;       /* WMSG_* */
    int32_t    status;     /* RESULT: hx_status of run_execute */
    int32_t    phase;      /* PHASE: the phase starting; PEAK: the phase that ended (0..2) */
    int32_t    hwm_reset;  /* PEAK: 1 if the reset at that phase's start worked */
    int64_t    step;       /* LOSS */
    double     epoch, loss;
    double     t;          /* seconds since the worker started */
    uint64_t   hwm;        /* PEAK: VmHWM bytes */
    uint64_t   anon, file; /* PEAK: RssAnon, RssFile bytes as the phase ends (a short
                            * phase can fall between the parent's samples) */
    run_result res;        /* RESULT */
    char       text[512];  /* RESULT: error message */
} worker_msg;

typedef struct worker_job {
    uint32_t   magic;
    uint32_t   size;       /* sizeof(worker_job): parent and worker are one binary */
    run_config rc;         /* rc.method and rc.cache_dir are ignored (pointers) */
    char       method[64];
    char       cache_dir[256];
    uint64_t   memory_limit; /* bytes, 0 = none: RLIMIT_DATA in the worker */
    int32_t    threads;      /* engine threads (worker pool) */
    int32_t    keep_scores;  /* 1: write the test scores to fd 4 */
} worker_job;

/* worker_spawn: start a worker for job. Returns its pid (> 0) with the read ends
 * of its message pipe and stderr pipe (non-blocking, close-on-exec) and, when
 * job->keep_scores, the parent's descriptor of the worker's scores file
 * (close-on-exec; else -1), or -1 with err set and nothing left open. The
 * caller closes the three descriptors. */
pid_t worker_spawn(const worker_job *job, int *msg_fd, int *err_fd, int *scores_fd, char *err, size_t errlen);

/* worker_main: the child side, the body of `embsweep worker` (main() checks its
 * command line and returns this as the exit status). Reads one job from stdin,
 * runs it, sends the messages to fd 3; returns WORKER_EXIT_*. */
int worker_main(void);

/* Memory figures of a process from /proc/<pid>/status, in bytes. 0 on success. */
typedef struct proc_mem { uint64_t rss, hwm, anon, file; } proc_mem;
int proc_mem_read(pid_t pid, proc_mem *out);

#endif
