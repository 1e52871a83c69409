/* config_datasets.c: the datasets: section of a sweep file -> ds_spec per name.
 *
 * Each dataset is a flat map {kind: K, key: value, ...}; a list value is kept as
 * "a,b,c". The datasets module (datasets/dataset.h) owns the keys of each kind and
 * checks them, reporting whole "file:line:col: ..." lines that are passed on. */
#include "config_int.h"

#include <string.h>

/* A dataset key's value as text: a scalar, or a list joined by ','. -1 after reporting. */
static int dataset_text(walk *w, yaml_node_t *v, const char *key, const char *path, char *text, size_t len) {
    text[0] = 0;
    if (v->type == YAML_SCALAR_NODE) {
        if (strlen(stext(v)) >= len) {
            cfg_err(w->e, nline(v), ncol(v), path, "%s: value too long (at most %zu characters)", key, len - 1);
            return -1;
        }
        snprintf(text, len, "%s", stext(v));
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        cfg_err(w->e, nline(v), ncol(v), path, "%s: expected a value or a list, got %s", key, ntype(v));
        return -1;
    }
    size_t used = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *c = node(w, *it);
        if (c->type != YAML_SCALAR_NODE) {
            cfg_err(w->e, nline(c), ncol(c), path, "%s: expected a list of values, got %s", key, ntype(c));
            return -1;
        }
        int wr = snprintf(text + used, len - used, "%s%s", used ? "," : "", stext(c));
        if (wr < 0 || (size_t)wr >= len - used) {
            cfg_err(w->e, nline(v), ncol(v), path, "%s: list too long", key);
            return -1;
        }
        used += (size_t)wr;
    }
    return 0;
}

/* The datasets module checks the spec and writes whole "file:line:col: ..." lines. */
static void dataset_validate(walk *w, const ds_spec *s, const char *path) {
    char err[4096] = "";
    if (ds_spec_validate(s, w->e->file, err, sizeof err) == HX_OK) return;
    for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, w->e->file, strlen(w->e->file))) cfg_err_raw(w->e, line);
        else cfg_err(w->e, s->kind_line, s->kind_col, path, "%s", line);
    }
}

/* One `name: {kind: K, key: value, ...}` into s. */
static void dataset_one(walk *w, yaml_node_t *vn, ds_spec *s, const char *path) {
    int bad = 0;
    for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
        if (!cfg_first_of_key(w, vn, q)) continue;
        yaml_node_t *k = node(w, q->key), *v = node(w, q->value);
        const char *key = stext(k);
        char text[512];
        if (dataset_text(w, v, key, path, text, sizeof text) != 0) {
            bad = 1;
            continue;
        }
        if (!strcmp(key, "kind")) {
            snprintf(s->kind, sizeof s->kind, "%s", text);
            s->kind_line = nline(v), s->kind_col = ncol(v);
            continue;
        }
        if (s->n >= DS_MAX_KEYS || strlen(key) >= sizeof s->key[0]) {
            cfg_err(w->e, nline(k), ncol(k), path, "'%s': too many keys or key too long", key);
            bad = 1;
            continue;
        }
        snprintf(s->key[s->n], sizeof s->key[0], "%s", key);
        snprintf(s->val[s->n], sizeof s->val[0], "%s", text);
        s->line[s->n] = nline(v), s->col[s->n] = ncol(v);
        s->n++;
    }
    if (!s->kind[0]) {
        cfg_err(w->e, nline(vn), ncol(vn), path, "missing key 'kind' (e.g. kind: synthetic)");
        bad = 1;
    }
    if (!bad) dataset_validate(w, s, path);
}

void cfg_sec_datasets(walk *w, yaml_node_t *n) {
    if (!cfg_map_check(w, n, "datasets")) return;
    cfg_sweep *sw = w->p->sw;
    int cnt = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0) {
        cfg_err(w->e, nline(n), ncol(n), "datasets", "empty: expected at least one dataset");
        return;
    }
    sw->datasets = hx_calloc((size_t)cnt, sizeof(cfg_dataset));
    if (!sw->datasets) {
        cfg_err(w->e, nline(n), ncol(n), "datasets", "out of memory");
        w->e->status = HX_ERR_NOMEM;
        return;
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, n, pr)) continue;
        yaml_node_t *kn = node(w, pr->key), *vn = node(w, pr->value);
        const char *name = stext(kn);
        char path[128];
        snprintf(path, sizeof path, "datasets.%.60s", name);
        if (strlen(name) >= sizeof sw->datasets[0].spec.name || !name[0]) {
            cfg_err(w->e, nline(kn), ncol(kn), "datasets", "'%s': expected a name of 1-63 characters", name);
            continue;
        }
        if (!cfg_map_check(w, vn, path)) continue;
        ds_spec *s = &sw->datasets[sw->n_datasets].spec;
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
        dataset_one(w, vn, s, path);
        sw->n_datasets++;
    }
}
