/* slurm.c: a submission's directory (plan.tsv, the two sbatch scripts, logs/,
 * shards/), the calls of sbatch and squeue, and an array task's share of the
 * plan. Layout and contract: slurm.h. Slurm is driven only through its own
 * commands (sbatch, squeue); there is no daemon of ours.
 */
#define _GNU_SOURCE
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLAN_MAGIC "embsweep-plan\t1"

int slurm_which(const char *prog, char *path, size_t n) {
    const char *p = getenv("PATH");
    if (!p || !*p) p = "/usr/local/bin:/usr/bin:/bin";
    while (*p) {
        size_t len = strcspn(p, ":");
        if (len > 0 && (size_t)snprintf(path, n, "%.*s/%s", (int)len, p, prog) < n && access(path, X_OK) == 0)
            return 0;
        p += len + (p[len] == ':');
    }
    path[0] = 0;
    return -1;
}

hx_status slurm_next_dir(slurm_sub *s, char *err, size_t errlen) {
    for (int i = 1; i < 1000; i++) {
        if ((size_t)snprintf(s->dir, sizeof s->dir, "%s/%03d", s->workdir, i) >= sizeof s->dir)
            return hx_error(HX_ERR_PARAM, err, errlen, "work directory path too long: %s", s->workdir);
        if (access(s->dir, F_OK) != 0) return HX_OK;
    }
    return hx_error(HX_ERR_PARAM, err, errlen, "%s already holds 999 submissions; use another --workdir",
                    s->workdir);
}

/* A path for the shell: single-quoted, quotes escaped. */
static void shell_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    fputc('\'', f);
}

/* The lines both scripts share (one task, the site's partition, account and
 * extra lines), then `exec embsweep CMD`. */
static void site_lines(FILE *f, const slurm_sub *s, const char *cmd) {
    const cfg_slurm *sl = s->sl;
    fputs("#SBATCH --ntasks=1\n", f);
    if (sl->partition[0]) fprintf(f, "#SBATCH --partition=%s\n", sl->partition);
    if (sl->account[0]) fprintf(f, "#SBATCH --account=%s\n", sl->account);
    for (int i = 0; i < sl->n_extra; i++) fprintf(f, "#SBATCH %s\n", sl->extra[i]);
    fputs("exec ", f);
    shell_quote(f, s->bin);
    fprintf(f, " %s ", cmd);
}

void slurm_script_task(FILE *f, const slurm_sub *s) {
    const cfg_slurm *sl = s->sl;
    fprintf(f, "#!/bin/sh\n# embsweep sweep %s: %d cells in %d array tasks of up to %d cells each\n"
               "# (written by embsweep submit; task I runs the cells of plan.tsv marked I)\n",
            s->sw->name, s->n_todo, s->tasks, sl->cells_per_task);
    fprintf(f, "#SBATCH --job-name=embsweep-%s\n", s->sw->name);
    fprintf(f, "#SBATCH --array=0-%d", s->tasks - 1);
    if (sl->max_running > 0) fprintf(f, "%%%d", sl->max_running);
    fprintf(f, "\n#SBATCH --chdir=%s\n", s->cwd);
    fprintf(f, "#SBATCH --output=%s/logs/task-%%a.out\n#SBATCH --open-mode=append\n", s->dir);
    fprintf(f, "#SBATCH --cpus-per-task=%d\n", sl->cpus_per_task);
    if (sl->time[0]) fprintf(f, "#SBATCH --time=%s\n", sl->time);
    if (sl->mem[0]) fprintf(f, "#SBATCH --mem=%s\n", sl->mem);
    fprintf(f, "#SBATCH --%s\n", sl->requeue ? "requeue" : "no-requeue");
    site_lines(f, s, "task");
    shell_quote(f, s->dir);
    fputc('\n', f);
}

void slurm_script_merge(FILE *f, const slurm_sub *s) {
    fprintf(f, "#!/bin/sh\n# embsweep sweep %s: fold the array's shards into the database once every task\n"
               "# has ended (submitted with --dependency=afterany:<array job>)\n",
            s->sw->name);
    fprintf(f, "#SBATCH --job-name=embsweep-%s-merge\n#SBATCH --chdir=%s\n", s->sw->name, s->cwd);
    fprintf(f, "#SBATCH --output=%s/logs/merge.out\n#SBATCH --open-mode=append\n", s->dir);
    site_lines(f, s, "merge");
    shell_quote(f, s->workdir);
    fputs(" --db ", f);
    shell_quote(f, s->db);
    fputc('\n', f);
}

static void sub_path(const slurm_sub *s, const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", s->dir, name);
}

static int write_plan(const slurm_sub *s, FILE *f) {
    fprintf(f, "%s\nfile\t%s\ncwd\t%s\ndb\t%s\njobs\t%d\nthreads\t%d\ntasks\t%d\n", PLAN_MAGIC, s->file, s->cwd,
            s->db, s->jobs, s->threads, s->tasks);
    for (int i = 0; i < s->n_todo; i++) {
        const cfg_cell *c = &s->sw->cells[s->todo[i]];
        fprintf(f, "cell\t%d\t%s\t%s\n", i / s->sl->cells_per_task, c->key, c->json);
    }
    return ferror(f);
}

/* Write one file of the submission through a temporary name. 0 or -1. */
static int write_file(const slurm_sub *s, const char *name, int mode, int (*fn)(const slurm_sub *, FILE *)) {
    char p[1200], tmp[1210];
    sub_path(s, name, p, sizeof p);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int bad = fn(s, f);
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (!bad) bad = chmod(tmp, (mode_t)mode) != 0 || rename(tmp, p) != 0;
    if (bad) unlink(tmp);
    return bad ? -1 : 0;
}

static int put_task(const slurm_sub *s, FILE *f) { return slurm_script_task(f, s), ferror(f); }
static int put_merge(const slurm_sub *s, FILE *f) { return slurm_script_merge(f, s), ferror(f); }

void slurm_remove(const slurm_sub *s) {
    static const char *const names[] = {"plan.tsv", "task.sbatch", "merge.sbatch", "logs", "shards"};
    char p[1200];
    for (int i = 0; i < 5; i++) {
        sub_path(s, names[i], p, sizeof p);
        if (unlink(p) != 0) rmdir(p);
    }
    rmdir(s->dir);
}

hx_status slurm_write(const slurm_sub *s, char *err, size_t errlen) {
    char p[1200];
    const hx_status mk = hx_mkdir_p(s->workdir, err, errlen);
    if (mk != HX_OK) return mk;
    if (mkdir(s->dir, 0755) != 0)
        return hx_error(HX_ERR_IO, err, errlen, "cannot create %s: %s", s->dir, strerror(errno));
    int bad = 0;
    sub_path(s, "logs", p, sizeof p);
    bad |= mkdir(p, 0755) != 0;
    sub_path(s, "shards", p, sizeof p);
    bad |= mkdir(p, 0755) != 0;
    if (!bad) bad = write_file(s, "plan.tsv", 0644, write_plan) || write_file(s, "task.sbatch", 0755, put_task) ||
                    write_file(s, "merge.sbatch", 0755, put_merge);
    if (bad) {
        hx_status rc = hx_error(HX_ERR_IO, err, errlen, "cannot write the submission in %s: %s", s->dir,
                                strerror(errno));
        slurm_remove(s);
        return rc;
    }
    return HX_OK;
}

/* Run argv (no shell), its stdout into out (NUL-terminated, the rest dropped),
 * stderr into eout when given. The exit status, or -1 when it could not run. */
static int run_capture(char *const argv[], char *out, size_t n, char *eout, size_t en) {
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0) return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) return close(po[0]), close(po[1]), -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1), dup2(pe[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    size_t got = 0, egot = 0;
    char tmp[512];
    ssize_t r;
    while ((r = read(po[0], tmp, sizeof tmp)) > 0 || (r < 0 && errno == EINTR))
        for (ssize_t i = 0; i < r; i++)
            if (got + 1 < n) out[got++] = tmp[i];
    while ((r = read(pe[0], tmp, sizeof tmp)) > 0 || (r < 0 && errno == EINTR))
        for (ssize_t i = 0; eout && i < r; i++)
            if (egot + 1 < en) eout[egot++] = tmp[i];
    out[got] = 0;
    if (eout) eout[egot] = 0;
    close(po[0]), close(pe[0]);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) == 127) return -1;
    return WEXITSTATUS(st);
}

hx_status slurm_sbatch(const char *script, const char *dependency, char *id, size_t n, char *err, size_t errlen) {
    char dep[128] = "", out[256], eout[1024];
    char *argv[] = {"sbatch", "--parsable", (char *)script, NULL, NULL};
    if (dependency) {
        snprintf(dep, sizeof dep, "--dependency=afterany:%s", dependency);
        argv[2] = dep, argv[3] = (char *)script;
    }
    int rc = run_capture(argv, out, sizeof out, eout, sizeof eout);
    out[strcspn(out, ";\n")] = 0; /* "id" or "id;cluster" */
    eout[strcspn(eout, "\n")] = 0;
    if (rc != 0 || !out[0] || strspn(out, "0123456789") != strlen(out))
        return hx_error(HX_ERR_IO, err, errlen, "sbatch %s failed (exit %d): %s", script, rc,
                        eout[0] ? eout : out[0] ? out : "no job id printed");
    snprintf(id, n, "%s", out);
    return HX_OK;
}

int slurm_squeue(const char *jobs, int *pending, int *running) {
    char out[1 << 16], path[1024];
    *pending = *running = 0;
    if (slurm_which("squeue", path, sizeof path) != 0) return -1;
    char *argv[] = {"squeue", "-h", "-r", "-j", (char *)jobs, "-o", "%T", NULL};
    if (run_capture(argv, out, sizeof out, NULL, 0) < 0) return -1;
    /* an id squeue no longer knows (ended and purged) is an error there: none queued */
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strcmp(line, "PENDING") || !strcmp(line, "REQUEUED")) ++*pending;
        else if (!strcmp(line, "RUNNING") || !strcmp(line, "CONFIGURING") || !strcmp(line, "COMPLETING") ||
                 !strcmp(line, "SUSPENDED"))
            ++*running;
    }
    return 0;
}

void slurm_task_free(slurm_task *t) {
    for (int i = 0; i < t->n; i++) hx_free(t->json[i]);
    hx_free(t->json);
    hx_free(t->keys);
    memset(t, 0, sizeof *t);
}

/* One plan line into t: a header field or, when it is task index's, a cell. */
static int plan_line(slurm_task *t, char *line, int index, int *cap) {
    char *tab = strchr(line, '\t');
    if (!tab) return -1;
    *tab = 0;
    char *v = tab + 1;
    if (!strcmp(line, "file")) snprintf(t->file, sizeof t->file, "%s", v);
    else if (!strcmp(line, "cwd")) snprintf(t->cwd, sizeof t->cwd, "%s", v);
    else if (!strcmp(line, "db")) snprintf(t->db, sizeof t->db, "%s", v);
    else if (!strcmp(line, "jobs")) t->jobs = atoi(v);
    else if (!strcmp(line, "threads")) t->threads = atoi(v);
    else if (!strcmp(line, "tasks")) t->tasks = atoi(v);
    else if (!strcmp(line, "cell")) {
        char *key = strchr(v, '\t'), *json = key ? strchr(key + 1, '\t') : NULL;
        if (!json || json - key - 1 != CFG_KEY_LEN - 1) return -1;
        if (atoi(v) != index) return 0;
        if (t->n == *cap) {
            int nc = *cap ? *cap * 2 : 16;
            char(*nk)[CFG_KEY_LEN] = hx_realloc(t->keys, (size_t)nc * sizeof *nk);
            if (nk) t->keys = nk;
            char **nj = hx_realloc(t->json, (size_t)nc * sizeof *nj);
            if (nj) t->json = nj;
            if (!nk || !nj) return -2;
            *cap = nc;
        }
        memcpy(t->keys[t->n], key + 1, CFG_KEY_LEN - 1);
        t->keys[t->n][CFG_KEY_LEN - 1] = 0;
        if (!(t->json[t->n] = hx_malloc(strlen(json + 1) + 1))) return -2;
        strcpy(t->json[t->n++], json + 1);
    } else return -1;
    return 0;
}

hx_status slurm_task_read(const char *dir, int index, slurm_task *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    char p[1200];
    snprintf(p, sizeof p, "%s/plan.tsv", dir);
    FILE *f = fopen(p, "r");
    if (!f) return hx_error(HX_ERR_PARAM, err, errlen, "cannot read %s: %s (not a submission directory?)", p,
                            strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, ccap = 0, bad = 0;
    ssize_t len;
    while (!bad && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[len - 1] = 0;
        if (lineno == 1) bad = strcmp(line, PLAN_MAGIC) ? -1 : 0;
        else bad = plan_line(t, line, index, &ccap);
    }
    int rerr = ferror(f);
    free(line);
    fclose(f);
    hx_status rc = HX_OK;
    if (bad == -2) rc = hx_error(HX_ERR_NOMEM, err, errlen, "out of memory reading %s", p);
    else if (bad || rerr || !t->file[0] || !t->cwd[0] || t->tasks < 1 || t->jobs < 1 || t->threads < 1)
        rc = hx_error(HX_ERR_FORMAT, err, errlen, "%s:%d: not a plan written by embsweep submit", p, lineno);
    else if (index < 0 || index >= t->tasks)
        rc = hx_error(HX_ERR_PARAM, err, errlen, "task index %d out of range: the plan has tasks 0..%d", index,
                      t->tasks - 1);
    if (rc != HX_OK) slurm_task_free(t);
    return rc;
}

hx_status slurm_task_sweep(const cfg_sweep *sw, const slurm_task *t, cfg_sweep *sub, char *err, size_t errlen) {
    *sub = *sw;
    sub->cells = hx_calloc((size_t)t->n + 1, sizeof *sub->cells);
    sub->n_cells = 0;
    if (!sub->cells) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    for (int i = 0; i < t->n; i++) {
        int j = 0;
        while (j < sw->n_cells && strcmp(sw->cells[j].key, t->keys[i])) j++;
        if (j == sw->n_cells || strcmp(sw->cells[j].json, t->json[i])) {
            hx_free(sub->cells);
            sub->cells = NULL;
            return hx_error(HX_ERR_PARAM, err, errlen,
                            "run %s of the plan is %s %s; the sweep file changed since it was submitted: submit it "
                            "again", t->keys[i], j == sw->n_cells ? "no longer in" : "configured differently in",
                            sw->file);
        }
        sub->cells[sub->n_cells++] = sw->cells[j];
    }
    return HX_OK;
}
