/* config.c: the YAML sweep file -> a validated cfg_parse, then cfg_expand().
 *
 * Table-driven as Redis's config.c: every top-level key (k_top below), every
 * matrix/train/model key (run_keys[], harness/train/run_keys.c) and every method
 * parameter is a row of data with a type and a range; a key not in a table is an
 * error with the closest valid names suggested (hx_levenshtein).
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
#include <string.h>
#include <yaml.h>

/* ---- mapping checks ---- */

int cfg_map_check(walk *w, yaml_node_t *n, const char *path) {
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

int cfg_first_of_key(walk *w, yaml_node_t *map, yaml_node_pair_t *a) {
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

/* model: bottom_mlp / top_mlp, lists of widths (the rows' range per width). */
static void model_widths(walk *w, const key_def *k, yaml_node_t *vn, const char *path) {
    int32_t *cnt, cap;
    int32_t *dst = key_widths(k, w->p->base, &cnt, &cap);
    *cnt = 0;
    if (vn->type != YAML_SEQUENCE_NODE) {
        cfg_err(w->e, nline(vn), ncol(vn), path, "expected a list of layer widths, got %s", ntype(vn));
        return;
    }
    for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
        yaml_node_t *c = node(w, *it);
        double x;
        if (c->type != YAML_SCALAR_NODE || key_parse_num(k, stext(c), &x) != 0) {
            char ex[128];
            key_expect(k, NULL, ex, sizeof ex);
            cfg_err(w->e, nline(c), ncol(c), path, "expected a layer width, %s", ex);
            continue;
        }
        if (*cnt >= cap) {
            cfg_err(w->e, nline(c), ncol(c), path, "too many layers (at most %d)", cap);
            break;
        }
        dst[(*cnt)++] = (int32_t)x;
    }
}

static void sec_model(walk *w, yaml_node_t *n) {
    if (!cfg_map_check(w, n, "model")) return;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, n, pr)) continue;
        yaml_node_t *kn = node(w, pr->key), *vn = node(w, pr->value);
        const char *key = stext(kn);
        char path[96];
        snprintf(path, sizeof path, "model.%.40s", key);
        const key_def *k = run_key_find(key);
        if (k && k->where == KEY_MODEL && k->kind == KEY_WIDTHS) {
            model_widths(w, k, vn, path);
        } else if (k && k->where == KEY_MODEL) {
            double x;
            if (vn->type == YAML_SCALAR_NODE && key_parse_num(k, stext(vn), &x) == 0) {
                key_set_num(k, w->p->base, x);
                continue;
            }
            char ex[256];
            key_expect(k, NULL, ex, sizeof ex);
            cfg_err(w->e, nline(vn), ncol(vn), path, "expected %s", ex);
        } else {
            const char *c[16];
            int nc = 0;
            for (int i = 0; i < run_keys_n && nc < 16; i++)
                if (run_keys[i].where == KEY_MODEL) c[nc++] = run_keys[i].name;
            char sg[128], all[256];
            cfg_suggest(key, c, nc, sg, sizeof sg);
            cfg_list_names(c, nc, all, sizeof all);
            cfg_err(w->e, nline(kn), ncol(kn), "model", "unknown key '%s'%s; expected one of: %s", key, sg, all);
        }
    }
}

/* train: and matrix: share the entry syntax; train allows only training keys. */
static void sec_axes(walk *w, yaml_node_t *n, const char *path, int train_only) {
    if (!cfg_map_check(w, n, path)) return;
    if (!train_only) {
        w->p->matrix_line = nline(n), w->p->matrix_col = ncol(n);
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
            cfg_err(w->e, nline(n), ncol(n), path, "empty matrix: expected at least method: [...]");
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, n, pr)) continue;
        entry_axis(w, stext(node(w, pr->key)), node(w, pr->key), node(w, pr->value), path, train_only, -1);
    }
}

static void sec_train(walk *w, yaml_node_t *n) { sec_axes(w, n, "train", 1); }
static void sec_matrix(walk *w, yaml_node_t *n) { sec_axes(w, n, "matrix", 0); }

static void sec_params(walk *w, yaml_node_t *n) {
    if (!cfg_map_check(w, n, "params")) return;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, n, pr)) continue;
        yaml_node_t *mk = node(w, pr->key), *mv = node(w, pr->value);
        char path[96];
        snprintf(path, sizeof path, "params.%.40s", stext(mk));
        if (!cfg_map_check(w, mv, path)) continue;
        for (yaml_node_pair_t *q = mv->data.mapping.pairs.start; q < mv->data.mapping.pairs.top; q++) {
            if (!cfg_first_of_key(w, mv, q)) continue;
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
        if (!cfg_map_check(w, g, path)) continue;
        int len = -1;
        cfg_axis *first = NULL;
        int cnt = 0;
        for (yaml_node_pair_t *pr = g->data.mapping.pairs.start; pr < g->data.mapping.pairs.top; pr++) {
            if (!cfg_first_of_key(w, g, pr)) continue;
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
        if (!cfg_map_check(w, r, path)) continue;
        if (*cnt >= CFG_MAX_RULES) {
            cfg_err(w->e, nline(r), ncol(r), what, "too many rules (at most %d)", CFG_MAX_RULES);
            return;
        }
        cfg_rule **rules = incl ? &p->incl : &p->excl; /* (CFG_MAX_RULES), made on first use */
        if (!*rules && !(*rules = hx_calloc(CFG_MAX_RULES, sizeof(cfg_rule)))) {
            cfg_err(w->e, nline(r), ncol(r), what, "out of memory");
            w->e->status = HX_ERR_NOMEM;
            return;
        }
        cfg_rule *rule = &(*rules)[*cnt];
        memset(rule, 0, sizeof *rule);
        rule->line = nline(r), rule->col = ncol(r);
        int bad = 0;
        if (r->data.mapping.pairs.top == r->data.mapping.pairs.start) {
            cfg_err(w->e, nline(r), ncol(r), path, "empty rule: expected {key: value, ...}");
            bad = 1;
        }
        for (yaml_node_pair_t *pr = r->data.mapping.pairs.start; pr < r->data.mapping.pairs.top; pr++) {
            if (!cfg_first_of_key(w, r, pr)) continue;
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

static void sec_exclude(walk *w, yaml_node_t *n) { sec_rules(w, n, "exclude"); }
static void sec_include(walk *w, yaml_node_t *n) { sec_rules(w, n, "include"); }

/* ---- top-level keys: one row each ---- */

/* A top-level row: a value (cfg_sweep field) or a section with its walker. */
typedef struct top_key {
    key_def k;
    void  (*section)(walk *w, yaml_node_t *n); /* KEY_SECTION */
    int     pass; /* 0 first (datasets: values refer to them), 1 axes, 2 rules */
} top_key;

static const char *const k_unreachable[] = {"error", "skip", NULL};

#define SW cfg_sweep
#define SECTION(name, fn, pass, help) {KEY_NONE(name, KEY_SECTION, help), fn, pass}
static const top_key k_top[] = {
    {KEY_CHARS("name", KEY_TOP, SW, name, NULL, "the sweep's name in the database (default: the file name)"),
     NULL, 0},
    {KEY_NONE("description", KEY_TEXT, "free text, ignored"), NULL, 0},
    SECTION("datasets", cfg_sec_datasets, 0, "named datasets, each {kind: K, ...}"),
    SECTION("model", sec_model, 0, "the model around the embeddings"),
    SECTION("train", sec_train, 1, "training settings, each a value or a list"),
    SECTION("matrix", sec_matrix, 1, "the axes"),
    SECTION("params", sec_params, 1, "method parameters"),
    SECTION("zip", sec_zip, 1, "groups of lists that advance together"),
    SECTION("exclude", sec_exclude, 2, "rules dropping matrix cells"),
    SECTION("include", sec_include, 2, "rules adding cells"),
    SECTION("slurm", cfg_sec_slurm, 0, "the Slurm job array of `embsweep submit --slurm`"),
    {KEY_NUM("jobs", KEY_INT, int, KEY_TOP, SW, jobs, 1, 256, 0, "1", NULL, "workers at once"), NULL, 0},
    {KEY_NUM("threads", KEY_INT, int, KEY_TOP, SW, threads, 0, HX_POOL_MAX, 0, "0", NULL,
             "engine threads per worker (0 = cores / jobs)"), NULL, 0},
    {KEY_NUM("timeout", KEY_SECONDS, double, KEY_TOP, SW, timeout, 0, 1e7, KEY_MIN_OPEN, "0", NULL,
             "per run (default: none)"), NULL, 0},
    {KEY_NUM("memory_limit", KEY_BYTES, uint64_t, KEY_TOP, SW, memory_limit, 16 << 20, 0, 0, "0", NULL,
             "per worker, its anonymous RSS (default: none)"), NULL, 0},
    {KEY_CHOICE("unreachable", int, KEY_TOP, SW, unreachable_skip, k_unreachable, 0, "error", NULL,
                "a cell whose ratio its method cannot reach: an error, or skipped"), NULL, 0},
    {KEY_CHARS("cache_dir", KEY_TOP, SW, cache_dir, "results/cache", "dataset cache directory"), NULL, 0},
    {KEY_NUM("keep_scores", KEY_BOOL, int32_t, KEY_TOP, SW, keep_scores, 0, 1, 0, "true", NULL,
             "keep each ok run's test logits and labels (run_scores)"), NULL, 0},
};
#undef SECTION
#undef SW
#define N_TOP ((int)(sizeof k_top / sizeof k_top[0]))

static int top_index(const char *name) {
    for (int i = 0; i < N_TOP; i++)
        if (!strcmp(k_top[i].k.name, name)) return i;
    return -1;
}

const key_def *cfg_top_key(const char *name) {
    int i = top_index(name);
    return i < 0 ? NULL : &k_top[i].k;
}

/* A top-level value into its cfg_sweep field, or the row's "expected" text. */
static void top_value(walk *w, yaml_node_t *n, const key_def *k) {
    int scalar = n->type == YAML_SCALAR_NODE;
    if (scalar && (k->kind == KEY_TEXT || key_parse(k, stext(n), w->p->sw) == 0)) return;
    char ex[256];
    key_expect(k, scalar ? stext(n) : NULL, ex, sizeof ex);
    cfg_err(w->e, nline(n), ncol(n), k->name, "expected %s", ex);
}

/* The value of each top-level key (duplicates skipped), unknown keys reported. */
static void root_collect(walk *w, yaml_node_t *root, yaml_node_t **got) {
    const char *names[N_TOP];
    for (int i = 0; i < N_TOP; i++) names[i] = k_top[i].k.name;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        if (!cfg_first_of_key(w, root, pr)) continue;
        yaml_node_t *kn = node(w, pr->key);
        int i = 0;
        while (i < N_TOP && strcmp(names[i], stext(kn))) i++;
        if (i < N_TOP) {
            got[i] = node(w, pr->value);
            continue;
        }
        char sg[128], all[512];
        cfg_suggest(stext(kn), names, N_TOP, sg, sizeof sg);
        cfg_list_names(names, N_TOP, all, sizeof all);
        cfg_err(w->e, nline(kn), ncol(kn), stext(kn), "unknown key%s; expected one of: %s", sg, all);
    }
}

static void parse_root(walk *w, yaml_node_t *root) {
    if (!root || root->type != YAML_MAPPING_NODE) {
        cfg_err(w->e, root ? nline(root) : 1, root ? ncol(root) : 1, "(file)",
                "expected a mapping of sweep settings (name:, datasets:, matrix:, ...)");
        return;
    }
    cfg_map_check(w, root, "(file)");
    yaml_node_t *got[N_TOP] = {0};
    root_collect(w, root, got);
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < N_TOP; i++) {
            if (!got[i] || k_top[i].pass != pass) continue;
            if (k_top[i].section) k_top[i].section(w, got[i]);
            else top_value(w, got[i], &k_top[i].k);
        }
    int matrix = top_index("matrix"), datasets = top_index("datasets");
    HX_ASSERT(matrix >= 0 && datasets >= 0);
    if (!got[matrix]) cfg_err(w->e, 1, 1, "matrix", "missing: a sweep needs matrix: {method: [...], ...}");
    if (!got[datasets])
        cfg_err(w->e, 1, 1, "datasets", "missing: define at least one dataset under datasets:");
}

/* ---- file loading ---- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 14, n = 0;
    char *buf = hx_malloc(cap);
    for (;;) {
        if (!buf) {
            errno = ENOMEM;
            break;
        }
        if (n + 4096 + 1 > cap) {
            char *nb = hx_realloc(buf, cap * 2);
            if (!nb) {
                hx_free(buf);
                buf = NULL;
                errno = ENOMEM;
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

/* Allocate the parse state and set every default. */
static hx_status parse_init(cfg_parse *p, cfg_errs *e, const char *file) {
    memset(p, 0, sizeof *p);
    p->errs = e;
    p->sw = hx_calloc(1, sizeof *p->sw);
    p->base = hx_calloc(1, sizeof *p->base);
    p->axes = hx_calloc(CFG_MAX_AXES, sizeof(cfg_axis));
    if (!p->sw || !p->base || !p->axes) {
        cfg_err(e, 1, 1, "(file)", "out of memory");
        e->status = HX_ERR_NOMEM;
        return HX_ERR_NOMEM;
    }
    for (int i = 0; i < N_TOP; i++) {
        key_table_check(&k_top[i].k, 1, sizeof *p->sw);
        for (int j = 0; j < i; j++) HX_ASSERT(strcmp(k_top[i].k.name, k_top[j].k.name) != 0);
        HX_ASSERT((k_top[i].k.kind == KEY_SECTION) == (k_top[i].section != NULL));
        key_defaults(&k_top[i].k, 1, p->sw);
    }
    cfg_slurm_defaults(&p->sw->slurm);
    snprintf(p->sw->file, sizeof p->sw->file, "%s", file);
    default_name(file, p->sw->name, sizeof p->sw->name);
    run_config_default(p->base);
    return HX_OK;
}

static void parse_free(cfg_parse *p) {
    for (int i = 0; i < p->n_axes; i++) hx_free(p->axes[i].v);
    for (int i = 0; i < p->n_excl; i++)
        for (int k = 0; k < p->excl[i].n; k++) hx_free(p->excl[i].k[k].v);
    for (int i = 0; i < p->n_incl; i++)
        for (int k = 0; k < p->incl[i].n; k++) hx_free(p->incl[i].k[k].v);
    hx_free(p->axes);
    hx_free(p->excl);
    hx_free(p->incl);
    hx_free(p->base);
}

/* Load the YAML text as a document (syntax errors at libyaml's mark) and walk it. */
static void parse_yaml(cfg_parse *p, size_t len) {
    cfg_errs *e = p->errs;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        cfg_err(e, 1, 1, "(file)", "cannot initialise the YAML parser");
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)p->sw->yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        cfg_err(e, (int)m->line + 1, (int)m->column + 1, "syntax", "%s%s%s",
                parser.problem ? parser.problem : "malformed YAML", parser.context ? " " : "",
                parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return;
    }
    walk w = {.doc = &doc, .p = p, .e = e};
    parse_root(&w, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    /* a second document (after ---) would be ignored: refuse it */
    if (yaml_parser_load(&parser, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root)
            cfg_err(e, (int)root->start_mark.line + 1, (int)root->start_mark.column + 1, "(file)",
                    "a second YAML document: a sweep file holds one (remove the --- and what follows it)");
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
}

/* Caps checked on the raw text before libyaml sees it: its scanner's time grows
 * with the square of the flow nesting depth ([[[[...). Returns 0 when the text
 * fits, else records the error (at the first bracket too deep). */
static int check_caps(cfg_errs *e, const char *s, size_t len) {
    if (len > CFG_MAX_FILE_BYTES) {
        cfg_err(e, 1, 1, "(file)", "%zu bytes: a sweep file is at most %d bytes", len, CFG_MAX_FILE_BYTES);
        return -1;
    }
    int depth = 0, line = 1, col = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        const char c = s[i];
        col++;
        if (c == '\n') {
            line++, col = 0;
            if (quote == '#') quote = 0;
            continue;
        }
        if (quote) { /* inside a quoted scalar or a comment */
            if (c == quote && quote != '#' && !(quote == '"' && i && s[i - 1] == '\\')) quote = 0;
            continue;
        }
        if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n')) quote = '#';
        else if ((c == '"' || c == '\'') && (i == 0 || strchr(" \t[{,:", s[i - 1]))) quote = c; /* not it's */
        else if (c == '[' || c == '{') {
            if (++depth > CFG_MAX_DEPTH) {
                cfg_err(e, line, col, "(file)", "lists and maps nested more than %d deep", CFG_MAX_DEPTH);
                return -1;
            }
        } else if ((c == ']' || c == '}') && depth > 0) depth--;
    }
    return 0;
}

static void check_name(cfg_errs *e, const char *name) {
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("_-.", *c)) {
            cfg_err(e, 1, 1, "name", "'%s': expected letters, digits, '_', '-' or '.'", name);
            return;
        }
}

hx_status cfg_load(const char *file, unsigned flags, cfg_sweep **out, char **errors) {
    cfg_errs e = {.file = file};
    cfg_parse p;
    *out = NULL;
    *errors = NULL;
    hx_status rc = parse_init(&p, &e, file);
    if (rc == HX_OK) {
        size_t len = 0;
        p.sw->yaml = read_file(file, &len);
        if (!p.sw->yaml) {
            cfg_err(&e, 0, 0, "(file)", "cannot read: %s", strerror(errno));
            rc = HX_ERR_IO;
        } else {
            if (check_caps(&e, p.sw->yaml, len) == 0) parse_yaml(&p, len);
            check_name(&e, p.sw->name);
            if (e.count == 0) cfg_expand(&p, flags);
            rc = !e.count ? HX_OK : e.status ? e.status : HX_ERR_FORMAT;
        }
    }
    parse_free(&p);
    if (rc == HX_OK) {
        hx_free(e.s);
        *out = p.sw;
        return rc;
    }
    cfg_free(p.sw);
    cfg_errs_sort(&e);
    if (e.oom) { /* some message was lost: say why, in memory that cannot fail */
        hx_free(e.s);
        e.s = hx_strdup("out of memory while checking the sweep file\n");
    }
    if (!e.s) cfg_err(&e, 1, 1, "(file)", "%s", hx_status_str(rc));
    *errors = e.s;
    return rc;
}
