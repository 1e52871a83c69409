/* config_slurm.c: the `slurm:` section of a sweep file, one table row per key
 * (cfg_slurm, config.h). `embsweep submit --slurm` takes every row as a flag of
 * the same name (underscores as dashes), which overrides the file. Example:
 *
 *   slurm:
 *     partition: cpu
 *     account: lab42
 *     time: "1:00:00"          # per task
 *     mem: 8G                  # per task
 *     cpus_per_task: 4         # engine threads follow it
 *     cells_per_task: 10       # cells one array task runs, one after another
 *     minutes_per_task: 50     # or: as many cells as fit, by the sweep's finished runs
 *     max_running: 50          # --array=0-N%50
 *     requeue: true
 *     sbatch: ["--qos=normal", "--constraint=avx2"]
 */
#include "config_int.h"

#include <string.h>

#define SL cfg_slurm
const key_def cfg_slurm_keys[] = {
    KEY_CHARS("partition", KEY_TOP, SL, partition, NULL, "sbatch --partition"),
    KEY_CHARS("account", KEY_TOP, SL, account, NULL, "sbatch --account"),
    KEY_CHARS("time", KEY_TOP, SL, time, NULL, "time limit per task, sbatch --time (e.g. 1:00:00)"),
    KEY_CHARS("mem", KEY_TOP, SL, mem, NULL, "memory per task, sbatch --mem (e.g. 8G)"),
    KEY_NUM("cpus_per_task", KEY_INT, int, KEY_TOP, SL, cpus_per_task, 1, 256, 0, "1", NULL,
            "sbatch --cpus-per-task; the engine threads of each task follow it"),
    KEY_NUM("cells_per_task", KEY_INT, int, KEY_TOP, SL, cells_per_task, 1, 100000, 0, "8", NULL,
            "cells one array task runs, one after another"),
    KEY_NUM("minutes_per_task", KEY_F64, double, KEY_TOP, SL, minutes_per_task, 0, 1e6, 0, "0", NULL,
            "instead of cells_per_task: the cells that fit this many minutes, by the median time of the "
            "sweep's finished runs (else its timeout:)"),
    KEY_NUM("max_running", KEY_INT, int, KEY_TOP, SL, max_running, 0, 100000, 0, "0", NULL,
            "array tasks running at once, K of --array=0-N%K (0: no limit)"),
    KEY_NUM("requeue", KEY_BOOL, int32_t, KEY_TOP, SL, requeue, 0, 1, 0, "false", NULL,
            "sbatch --requeue: a preempted or failed node's task is queued again"),
};
#undef SL
const int cfg_slurm_nkeys = (int)(sizeof cfg_slurm_keys / sizeof cfg_slurm_keys[0]);

const key_def *cfg_slurm_key(const char *name) { return key_find(cfg_slurm_keys, cfg_slurm_nkeys, name); }

void cfg_slurm_defaults(cfg_slurm *s) {
    memset(s, 0, sizeof *s);
    key_table_check(cfg_slurm_keys, cfg_slurm_nkeys, sizeof *s);
    key_defaults(cfg_slurm_keys, cfg_slurm_nkeys, s);
}

/* `sbatch: [line, ...]`: extra lines of the array's script, without `#SBATCH`. */
static void extra_lines(walk *w, yaml_node_t *n, cfg_slurm *s) {
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = node(w, *it);
        if (v->type != YAML_SCALAR_NODE || !stext(v)[0] || strlen(stext(v)) >= sizeof s->extra[0] ||
            strchr(stext(v), '\n')) {
            cfg_err(w->e, nline(v), ncol(v), "slurm.sbatch", "expected one sbatch option of 1-%zu characters",
                    sizeof s->extra[0] - 1);
            continue;
        }
        if (s->n_extra == CFG_SLURM_EXTRA) {
            cfg_err(w->e, nline(v), ncol(v), "slurm.sbatch", "at most %d extra lines", CFG_SLURM_EXTRA);
            return;
        }
        snprintf(s->extra[s->n_extra++], sizeof s->extra[0], "%s", stext(v));
    }
}

void cfg_sec_slurm(walk *w, yaml_node_t *n) {
    if (!cfg_map_check(w, n, "slurm")) return;
    cfg_slurm *s = &w->p->sw->slurm;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, n, pr)) continue;
        yaml_node_t *kn = node(w, pr->key), *vn = node(w, pr->value);
        char path[96];
        snprintf(path, sizeof path, "slurm.%.40s", stext(kn));
        if (!strcmp(stext(kn), "sbatch")) {
            if (vn->type != YAML_SEQUENCE_NODE)
                cfg_err(w->e, nline(vn), ncol(vn), path, "expected a list of sbatch options, e.g. [\"--qos=normal\"]");
            else extra_lines(w, vn, s);
            continue;
        }
        const key_def *k = cfg_slurm_key(stext(kn));
        if (!k) {
            const char *names[16];
            int nn = 0;
            for (int i = 0; i < cfg_slurm_nkeys; i++) names[nn++] = cfg_slurm_keys[i].name;
            names[nn++] = "sbatch";
            char sg[128], all[256];
            cfg_suggest(stext(kn), names, nn, sg, sizeof sg);
            cfg_list_names(names, nn, all, sizeof all);
            cfg_err(w->e, nline(kn), ncol(kn), "slurm", "unknown key '%s'%s; expected one of: %s", stext(kn), sg, all);
            continue;
        }
        if (vn->type == YAML_SCALAR_NODE && key_parse(k, stext(vn), s) == 0) continue;
        char ex[256];
        key_expect(k, vn->type == YAML_SCALAR_NODE ? stext(vn) : NULL, ex, sizeof ex);
        cfg_err(w->e, nline(vn), ncol(vn), path, "expected %s", ex);
    }
}
