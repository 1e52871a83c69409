/* config.c: the YAML sweep file -> a validated cfg_parse, then cfg_expand().
 *
 * Table-driven as Redis's config.c: every top-level key, every matrix/train key
 * and every method parameter is a row of data with a type and a range; a key not
 * in a table is an error with the closest valid names suggested (hx_levenshtein).
 * Unlike Redis we do not stop at the first problem: every error in the file is
 * collected, as "FILE:LINE:COL: key: what was expected", so one edit-run cycle
 * fixes them all. Positions are libyaml's marks, made 1-based.
 *
 * We use libyaml's document API (the whole file is small) and walk the node tree;
 * duplicate keys, which libyaml accepts silently, are checked per mapping.
 */
#include "config_int.h"
#include "harness/core/pool.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* ---- mapping checks ---- */

/* Check a mapping for duplicate and non-scalar keys; returns 0 if n is not a map. */
static int map_check(walk *w, yaml_node_t *n, const char *path) {
    if (!n || n->type != YAML_MAPPING_NODE) {
        if (n) cfg_err(w->e, nline(n), ncol(n), path, "expected a mapping, got %s", ntype(n));
        return 0;
    }
    for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++) {
        yaml_node_t *ka = node(w, a->key);
        if (ka->type != YAML_SCALAR_NODE) {
            cfg_err(w->e, nline(ka), ncol(ka), path, "expected a plain key, got %s", ntype(ka));
            continue;
        }
        for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
            yaml_node_t *kb = node(w, b->key);
            if (kb->type == YAML_SCALAR_NODE && !strcmp(stext(ka), stext(kb))) {
                cfg_err(w->e, nline(ka), ncol(ka), path, "duplicate key '%s' (first at line %d)",
                        stext(ka), nline(kb));
                break;
            }
        }
    }
    return 1;
}

/* 1 if pair a is the first pair with its key (duplicates are skipped). */
static int first_of_key(walk *w, yaml_node_t *map, yaml_node_pair_t *a) {
    yaml_node_t *ka = node(w, a->key);
    if (ka->type != YAML_SCALAR_NODE) return 0;
    for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
        yaml_node_t *kb = node(w, b->key);
        if (kb->type == YAML_SCALAR_NODE && !strcmp(stext(ka), stext(kb))) return 0;
    }
    return 1;
}


/* Add a parsed axis; a key set twice (train + matrix, matrix + zip) is an error. */
static cfg_axis *axis_add(walk *w, const cfg_axis *a, const char *path) {
    cfg_parse *p = w->p;
    for (int i = 0; i < p->n_axes; i++)
        if (!strcmp(p->axes[i].key, a->key)) {
            cfg_err(w->e, a->line, a->col, path, "'%s' is already set at line %d", a->key, p->axes[i].line);
            return NULL;
        }
    if (p->n_axes >= CFG_MAX_AXES) {
        cfg_err(w->e, a->line, a->col, path, "too many axes (at most %d)", CFG_MAX_AXES);
        return NULL;
    }
    p->axes[p->n_axes] = *a;
    return &p->axes[p->n_axes++];
}

/* One "key: value-or-list" entry of matrix/train/params/zip into a new axis. */
static cfg_axis *entry_axis(walk *w, const char *key, yaml_node_t *kn, yaml_node_t *vn, const char *path,
                            int train_only, int group) {
    cfg_axis a;
    char kp[256];
    snprintf(kp, sizeof kp, "%s.%s", path, key);
    if (cfg_axis_header(w, &a, key, nline(kn), ncol(kn), path, train_only) != 0) return NULL;
    if (!strcmp(path, "params")) snprintf(kp, sizeof kp, "%s", a.key);
    else snprintf(kp, sizeof kp, "%s.%s", path, a.key);
    a.group = group;
    if (cfg_axis_values(w, &a, vn, kp, 1) < 0) {
        hx_free(a.v);
        return NULL;
    }
    cfg_axis *r = axis_add(w, &a, kp);
    if (!r) hx_free(a.v);
    return r;
}

/* ---- sections ---- */

static void sec_datasets(walk *w, yaml_node_t *n) {
    if (!map_check(w, n, "datasets")) return;
    cfg_sweep *sw = w->p->sw;
    int cnt = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0) {
        cfg_err(w->e, nline(n), ncol(n), "datasets", "empty: expected at least one dataset");
        return;
    }
    sw->datasets = hx_calloc((size_t)cnt, sizeof(cfg_dataset));
    if (!sw->datasets) return;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!first_of_key(w, n, pr)) continue;
        yaml_node_t *kn = node(w, pr->key), *vn = node(w, pr->value);
        const char *name = stext(kn);
        char path[128];
        snprintf(path, sizeof path, "datasets.%.60s", name);
        if (strlen(name) >= sizeof sw->datasets[0].spec.name || !name[0]) {
            cfg_err(w->e, nline(kn), ncol(kn), "datasets", "'%s': expected a name of 1-63 characters", name);
            continue;
        }
        if (!map_check(w, vn, path)) continue;
        ds_spec *s = &sw->datasets[sw->n_datasets].spec;
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
        int bad = 0;
        for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
            if (!first_of_key(w, vn, q)) continue;
            yaml_node_t *k = node(w, q->key), *v = node(w, q->value);
            const char *key = stext(k);
            char text[512] = "";
            if (v->type == YAML_SCALAR_NODE) {
                if (strlen(stext(v)) >= sizeof text) {
                    cfg_err(w->e, nline(v), ncol(v), path, "%s: value too long (at most 511 characters)", key);
                    bad = 1;
                    continue;
                }
                snprintf(text, sizeof text, "%s", stext(v));
            } else if (v->type == YAML_SEQUENCE_NODE) {
                size_t used = 0;
                for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                    yaml_node_t *c = node(w, *it);
                    if (c->type != YAML_SCALAR_NODE) {
                        cfg_err(w->e, nline(c), ncol(c), path, "%s: expected a list of values, got %s",
                                key, ntype(c));
                        bad = 1;
                        break;
                    }
                    int wr = snprintf(text + used, sizeof text - used, "%s%s", used ? "," : "", stext(c));
                    if (wr < 0 || (size_t)wr >= sizeof text - used) {
                        cfg_err(w->e, nline(v), ncol(v), path, "%s: list too long", key);
                        bad = 1;
                        break;
                    }
                    used += (size_t)wr;
                }
            } else {
                cfg_err(w->e, nline(v), ncol(v), path, "%s: expected a value or a list, got %s", key, ntype(v));
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
        if (!bad) {
            char err[4096] = "";
            if (ds_spec_validate(s, w->e->file, err, sizeof err) != HX_OK) {
                /* the datasets module writes whole "file:line:col: ..." lines */
                for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n")) {
                    if (!strncmp(line, w->e->file, strlen(w->e->file))) cfg_err_raw(w->e, line);
                    else cfg_err(w->e, s->kind_line, s->kind_col, path, "%s", line);
                }
            }
        }
        sw->n_datasets++;
    }
}

static void sec_model(walk *w, yaml_node_t *n) {
    if (!map_check(w, n, "model")) return;
    model_cfg *m = &w->p->model;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!first_of_key(w, n, pr)) continue;
        yaml_node_t *kn = node(w, pr->key), *vn = node(w, pr->value);
        const char *key = stext(kn);
        char path[96];
        snprintf(path, sizeof path, "model.%.40s", key);
        if (!strcmp(key, "bottom_mlp") || !strcmp(key, "top_mlp")) {
            int32_t *dst = key[0] == 'b' ? m->bottom : m->top;
            int32_t *cnt = key[0] == 'b' ? &m->n_bottom : &m->n_top;
            *cnt = 0;
            if (vn->type != YAML_SEQUENCE_NODE) {
                cfg_err(w->e, nline(vn), ncol(vn), path, "expected a list of layer widths, got %s", ntype(vn));
                continue;
            }
            for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
                yaml_node_t *c = node(w, *it);
                int64_t x;
                if (c->type != YAML_SCALAR_NODE || hx_parse_i64(stext(c), &x) != 0 || x < 1 || x > 65536) {
                    cfg_err(w->e, nline(c), ncol(c), path, "expected a layer width, an integer in [1, 65536]");
                    continue;
                }
                if (*cnt >= RUN_MAX_LAYERS) {
                    cfg_err(w->e, nline(c), ncol(c), path, "too many layers (at most %d)", RUN_MAX_LAYERS);
                    break;
                }
                dst[(*cnt)++] = (int32_t)x;
            }
        } else if (!strcmp(key, "interaction")) {
            if (vn->type == YAML_SCALAR_NODE && !strcmp(stext(vn), "dot")) m->interaction = INTERACT_DOT;
            else if (vn->type == YAML_SCALAR_NODE && !strcmp(stext(vn), "cat")) m->interaction = INTERACT_CAT;
            else cfg_err(w->e, nline(vn), ncol(vn), path, "expected dot or cat");
        } else {
            static const char *const c[] = {"bottom_mlp", "top_mlp", "interaction"};
            char sg[128];
            cfg_suggest(key, c, 3, sg, sizeof sg);
            cfg_err(w->e, nline(kn), ncol(kn), "model",
                    "unknown key '%s'%s; expected one of: bottom_mlp, top_mlp, interaction", key, sg);
        }
    }
}

/* train: and matrix: share the entry syntax; train allows only training keys. */
static void sec_axes(walk *w, yaml_node_t *n, const char *path, int train_only) {
    if (!map_check(w, n, path)) return;
    if (!train_only) {
        w->p->matrix_line = nline(n), w->p->matrix_col = ncol(n);
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
            cfg_err(w->e, nline(n), ncol(n), path, "empty matrix: expected at least method: [...]");
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!first_of_key(w, n, pr)) continue;
        entry_axis(w, stext(node(w, pr->key)), node(w, pr->key), node(w, pr->value), path, train_only, -1);
    }
}

static void sec_params(walk *w, yaml_node_t *n) {
    if (!map_check(w, n, "params")) return;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!first_of_key(w, n, pr)) continue;
        yaml_node_t *mk = node(w, pr->key), *mv = node(w, pr->value);
        char path[96];
        snprintf(path, sizeof path, "params.%.40s", stext(mk));
        if (!map_check(w, mv, path)) continue;
        for (yaml_node_pair_t *q = mv->data.mapping.pairs.start; q < mv->data.mapping.pairs.top; q++) {
            if (!first_of_key(w, mv, q)) continue;
            char key[160];
            snprintf(key, sizeof key, "params.%.60s.%.60s", stext(mk), stext(node(w, q->key)));
            /* report unknown methods at the method name, parameters at the key */
            yaml_node_t *kn = emb_method_find(stext(mk)) ? node(w, q->key) : mk;
            entry_axis(w, key, kn, node(w, q->value), "params", 0, -1);
        }
    }
}

static void sec_zip(walk *w, yaml_node_t *n) {
    if (n->type != YAML_SEQUENCE_NODE) {
        cfg_err(w->e, nline(n), ncol(n), "zip", "expected a list of groups ({key: [..], key: [..]}), got %s",
                ntype(n));
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *g = node(w, *it);
        int gid = w->p->n_groups++;
        char path[32];
        snprintf(path, sizeof path, "zip[%d]", gid);
        if (!map_check(w, g, path)) continue;
        int len = -1;
        cfg_axis *first = NULL;
        int cnt = 0;
        for (yaml_node_pair_t *pr = g->data.mapping.pairs.start; pr < g->data.mapping.pairs.top; pr++) {
            if (!first_of_key(w, g, pr)) continue;
            cfg_axis *a = entry_axis(w, stext(node(w, pr->key)), node(w, pr->key), node(w, pr->value), path, 0, gid);
            if (!a) continue;
            cnt++;
            if (len < 0) len = a->n, first = a;
            else if (a->n != len)
                cfg_err(w->e, a->line, a->col, path,
                        "'%s' has %d values but '%s' has %d: lists in a zip group advance together", a->key,
                        a->n, first->key, len);
        }
        if (cnt == 1)
            cfg_err(w->e, nline(g), ncol(g), path, "a zip group needs at least two keys");
    }
}

static void sec_rules(walk *w, yaml_node_t *n, const char *what) {
    cfg_parse *p = w->p;
    int incl = !strcmp(what, "include");
    if (n->type != YAML_SEQUENCE_NODE) {
        cfg_err(w->e, nline(n), ncol(n), what, "expected a list of rules ({key: value, ...}), got %s", ntype(n));
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *r = node(w, *it);
        int *cnt = incl ? &p->n_incl : &p->n_excl;
        char path[32];
        snprintf(path, sizeof path, "%s[%d]", what, *cnt);
        if (!map_check(w, r, path)) continue;
        if (*cnt >= CFG_MAX_RULES) {
            cfg_err(w->e, nline(r), ncol(r), what, "too many rules (at most %d)", CFG_MAX_RULES);
            return;
        }
        cfg_rule *rule = &(incl ? p->incl : p->excl)[*cnt];
        memset(rule, 0, sizeof *rule);
        rule->line = nline(r), rule->col = ncol(r);
        int bad = 0;
        if (r->data.mapping.pairs.top == r->data.mapping.pairs.start) {
            cfg_err(w->e, nline(r), ncol(r), path, "empty rule: expected {key: value, ...}");
            bad = 1;
        }
        for (yaml_node_pair_t *pr = r->data.mapping.pairs.start; pr < r->data.mapping.pairs.top; pr++) {
            if (!first_of_key(w, r, pr)) continue;
            yaml_node_t *kn = node(w, pr->key);
            if (rule->n >= 8) {
                cfg_err(w->e, nline(kn), ncol(kn), path, "too many keys in one rule (at most 8)");
                bad = 1;
                break;
            }
            cfg_axis *a = &rule->k[rule->n];
            char kp[160];
            if (cfg_axis_header(w, a, stext(kn), nline(kn), ncol(kn), path, 0) != 0) {
                bad = 1;
                continue;
            }
            snprintf(kp, sizeof kp, "%s.%s", path, a->key);
            rule->n++;
            if (cfg_axis_values(w, a, node(w, pr->value), kp, 1) < 0) bad = 1;
        }
        if (bad) {
            for (int k = 0; k < rule->n; k++) hx_free(rule->k[k].v);
            continue;
        }
        (*cnt)++;
    }
}

/* Top-level scalars. */
static int top_int(walk *w, yaml_node_t *n, const char *key, int lo, int hi, int *out) {
    int64_t x;
    if (n->type != YAML_SCALAR_NODE || hx_parse_i64(stext(n), &x) != 0 || x < lo || x > hi) {
        cfg_err(w->e, nline(n), ncol(n), key, "expected an integer in [%d, %d]", lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int top_str(walk *w, yaml_node_t *n, const char *key, char *dst, size_t len) {
    if (n->type != YAML_SCALAR_NODE || !stext(n)[0] || strlen(stext(n)) >= len) {
        cfg_err(w->e, nline(n), ncol(n), key, "expected a string of 1-%zu characters", len - 1);
        return -1;
    }
    snprintf(dst, len, "%s", stext(n));
    return 0;
}

static const char *const k_top[] = {"name", "description", "datasets", "model", "train", "matrix",
                                    "params", "zip", "exclude", "include", "jobs", "threads",
                                    "timeout", "memory_limit", "unreachable", "cache_dir"};
#define N_TOP ((int)(sizeof k_top / sizeof k_top[0]))

static int top_index(const char *k) {
    for (int i = 0; i < N_TOP; i++)
        if (!strcmp(k_top[i], k)) return i;
    HX_ASSERT(0);
    return 0;
}

static void parse_root(walk *w, yaml_node_t *root) {
    cfg_sweep *sw = w->p->sw;
    if (!root || root->type != YAML_MAPPING_NODE) {
        cfg_err(w->e, root ? nline(root) : 1, root ? ncol(root) : 1, "(file)",
                "expected a mapping of sweep settings (name:, datasets:, matrix:, ...)");
        return;
    }
    map_check(w, root, "(file)");
    /* datasets first: matrix values refer to them */
    yaml_node_t *got[N_TOP] = {0};
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        if (!first_of_key(w, root, pr)) continue;
        yaml_node_t *kn = node(w, pr->key);
        int i = 0;
        for (; i < N_TOP; i++)
            if (!strcmp(k_top[i], stext(kn))) break;
        if (i == N_TOP) {
            char sg[128], all[512];
            cfg_suggest(stext(kn), k_top, N_TOP, sg, sizeof sg);
            cfg_list_names(k_top, N_TOP, all, sizeof all);
            cfg_err(w->e, nline(kn), ncol(kn), stext(kn), "unknown key%s; expected one of: %s", sg, all);
            continue;
        }
        got[i] = node(w, pr->value);
    }
    for (int i = 0; i < N_TOP; i++) {
        yaml_node_t *n = got[i];
        if (!n) continue;
        const char *k = k_top[i];
        if (!strcmp(k, "name")) top_str(w, n, k, sw->name, sizeof sw->name);
        else if (!strcmp(k, "description")) {
            if (n->type != YAML_SCALAR_NODE) cfg_err(w->e, nline(n), ncol(n), k, "expected a string");
        } else if (!strcmp(k, "datasets")) sec_datasets(w, n);
        else if (!strcmp(k, "model")) sec_model(w, n);
        else if (!strcmp(k, "jobs")) top_int(w, n, k, 1, 256, &sw->jobs);
        else if (!strcmp(k, "threads")) top_int(w, n, k, 0, HX_POOL_MAX, &sw->threads);
        else if (!strcmp(k, "cache_dir")) top_str(w, n, k, sw->cache_dir, sizeof sw->cache_dir);
        else if (!strcmp(k, "timeout")) {
            double x;
            if (n->type != YAML_SCALAR_NODE || hx_parse_f64(stext(n), &x) != 0 || x <= 0 || x > 1e7)
                cfg_err(w->e, nline(n), ncol(n), k, "expected seconds, a number in (0, 1e7]");
            else sw->timeout = x;
        } else if (!strcmp(k, "memory_limit")) {
            uint64_t b;
            if (n->type != YAML_SCALAR_NODE || cfg_parse_bytes(stext(n), &b) != 0 || b < (16u << 20))
                cfg_err(w->e, nline(n), ncol(n), k, "expected a size of at least 16MiB, e.g. 512MiB or 2GiB");
            else sw->memory_limit = b;
        } else if (!strcmp(k, "unreachable")) {
            if (n->type == YAML_SCALAR_NODE && !strcmp(stext(n), "skip")) sw->unreachable_skip = 1;
            else if (n->type == YAML_SCALAR_NODE && !strcmp(stext(n), "error")) sw->unreachable_skip = 0;
            else cfg_err(w->e, nline(n), ncol(n), k, "expected error or skip");
        }
    }
    /* sections that refer to datasets and methods */
    for (int i = 0; i < N_TOP; i++) {
        yaml_node_t *n = got[i];
        if (!n) continue;
        const char *k = k_top[i];
        if (!strcmp(k, "train")) sec_axes(w, n, "train", 1);
        else if (!strcmp(k, "matrix")) sec_axes(w, n, "matrix", 0);
        else if (!strcmp(k, "params")) sec_params(w, n);
        else if (!strcmp(k, "zip")) sec_zip(w, n);
    }
    for (int i = 0; i < N_TOP; i++)
        if (got[i] && (!strcmp(k_top[i], "exclude") || !strcmp(k_top[i], "include")))
            sec_rules(w, got[i], k_top[i]);
    if (!got[top_index("matrix")])
        cfg_err(w->e, 1, 1, "matrix", "missing: a sweep needs matrix: {method: [...], ...}");
    if (!got[top_index("datasets")]) cfg_err(w->e, 1, 1, "datasets", "missing: define at least one dataset under datasets:");
}

/* ---- file loading ---- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 14, n = 0;
    char *buf = hx_malloc(cap);
    for (;;) {
        if (!buf) break;
        if (n + 4096 + 1 > cap) {
            char *nb = hx_realloc(buf, cap * 2);
            if (!nb) {
                hx_free(buf);
                buf = NULL;
                break;
            }
            buf = nb, cap *= 2;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096) break;
    }
    fclose(f);
    if (buf) buf[n] = 0, *len = n;
    return buf;
}

static void default_name(const char *file, char *dst, size_t len) {
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    snprintf(dst, len, "%s", b);
    char *dot = strrchr(dst, '.');
    if (dot && dot != dst) *dot = 0;
}

void cfg_free(cfg_sweep *s) {
    if (!s) return;
    for (int i = 0; i < s->n_datasets; i++) {
        hx_free(s->datasets[i].recipe);
        hx_free(s->datasets[i].card);
    }
    hx_free(s->datasets);
    for (int i = 0; i < s->n_cells; i++) hx_free(s->cells[i].json);
    hx_free(s->cells);
    hx_free(s->yaml);
    hx_free(s);
}

hx_status cfg_load(const char *file, unsigned flags, cfg_sweep **out, char **errors) {
    cfg_errs e = {.file = file};
    cfg_parse p;
    memset(&p, 0, sizeof p);
    *out = NULL;
    *errors = NULL;
    hx_status rc = HX_ERR_FORMAT;
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_parser = 0, have_doc = 0;
    cfg_sweep *sw = hx_calloc(1, sizeof *sw);
    p.axes = hx_calloc(CFG_MAX_AXES, sizeof(cfg_axis));
    p.excl = hx_calloc(CFG_MAX_RULES, sizeof(cfg_rule));
    p.incl = hx_calloc(CFG_MAX_RULES, sizeof(cfg_rule));
    if (!sw || !p.axes || !p.excl || !p.incl) {
        cfg_err(&e, 1, 1, "(file)", "out of memory");
        rc = HX_ERR_NOMEM;
        goto done;
    }
    p.sw = sw, p.errs = &e;
    snprintf(sw->file, sizeof sw->file, "%s", file);
    snprintf(sw->cache_dir, sizeof sw->cache_dir, "results/cache");
    sw->jobs = 1;
    size_t len = 0;
    sw->yaml = read_file(file, &len);
    if (!sw->yaml) {
        cfg_err(&e, 0, 0, "(file)", "cannot read: %s", strerror(errno));
        rc = HX_ERR_IO;
        goto done;
    }
    default_name(file, sw->name, sizeof sw->name);
    {
        run_config rc0;
        run_config_default(&rc0);
        p.model = rc0.model;
    }
    if (!yaml_parser_initialize(&parser)) {
        cfg_err(&e, 1, 1, "(file)", "cannot initialise the YAML parser");
        goto done;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)sw->yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        cfg_err(&e, (int)m->line + 1, (int)m->column + 1, "syntax", "%s%s%s",
                parser.problem ? parser.problem : "malformed YAML", parser.context ? " " : "",
                parser.context ? parser.context : "");
        goto done;
    }
    have_doc = 1;
    walk w = {.doc = &doc, .p = &p, .e = &e};
    parse_root(&w, yaml_document_get_root_node(&doc));
    for (const char *c = sw->name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("_-.", *c)) {
            cfg_err(&e, 1, 1, "name", "'%s': expected letters, digits, '_', '-' or '.'", sw->name);
            break;
        }
    if (e.count == 0) cfg_expand(&p, flags);
    if (e.count == 0) rc = HX_OK;
done:
    for (int i = 0; i < p.n_axes; i++) hx_free(p.axes[i].v);
    for (int i = 0; i < p.n_excl; i++)
        for (int k = 0; k < p.excl[i].n; k++) hx_free(p.excl[i].k[k].v);
    for (int i = 0; i < p.n_incl; i++)
        for (int k = 0; k < p.incl[i].n; k++) hx_free(p.incl[i].k[k].v);
    hx_free(p.axes);
    hx_free(p.excl);
    hx_free(p.incl);
    if (have_doc) yaml_document_delete(&doc);
    if (have_parser) yaml_parser_delete(&parser);
    if (rc == HX_OK) {
        hx_free(e.s);
        *out = sw;
    } else {
        cfg_free(sw);
        cfg_errs_sort(&e);
        if (!e.s) cfg_err(&e, 1, 1, "(file)", "%s", hx_status_str(rc));
        *errors = e.s;
    }
    return rc;
}
