/* config_keys.c: the value side of sweep-file validation: the error list, name
 * suggestions (hx_levenshtein), and YAML scalars turned into typed, canonical
 * axis values by the rows of the matrix/train keys (run_keys[] of
 * harness/train/run_keys.c: one row per key, Redis config.c style). config.c
 * walks the document. */
#include "config_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- error list ---- */

/* Append a message that already carries "file:line:col: key: "; a message
 * already in the list (the same problem found twice) is dropped. */
void cfg_err_raw(cfg_errs *e, const char *line) {
    char full[1400];
    snprintf(full, sizeof full, "%s\n", line);
    size_t len = strlen(full);
    if (e->s && strstr(e->s, full)) return;
    if (e->n + len + 1 > e->cap) {
        size_t cap = (e->cap ? e->cap * 2 : 4096) + len;
        char *ns = hx_realloc(e->s, cap);
        if (!ns) { /* the problem still counts: the load fails, saying out of memory */
            e->oom = 1;
            e->count++;
            e->status = HX_ERR_NOMEM;
            return;
        }
        e->s = ns;
        e->cap = cap;
    }
    memcpy(e->s + e->n, full, len + 1);
    e->n += len;
    e->count++;
}

void cfg_err(cfg_errs *e, int line, int col, const char *key, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[1390];
    snprintf(full, sizeof full, "%s:%d:%d: %s: %s", e->file, line, col, key, msg);
    cfg_err_raw(e, full);
}

/* Sort the collected lines by (line, col) so they read top to bottom. */
static void pos_of(const char *l, size_t flen, long *line, long *col) {
    *line = *col = 0;
    if (strlen(l) <= flen + 1) return;
    char *end;
    *line = strtol(l + flen + 1, &end, 10);
    *col = (*end == ':') ? strtol(end + 1, NULL, 10) : 0;
}

static size_t g_sort_flen;
static int cmp_err(const void *a, const void *b) {
    long la, ca, lb, cb;
    pos_of(*(char *const *)a, g_sort_flen, &la, &ca);
    pos_of(*(char *const *)b, g_sort_flen, &lb, &cb);
    if (la != lb) return la < lb ? -1 : 1;
    if (ca != cb) return ca < cb ? -1 : 1;
    return 0;
}

void cfg_errs_sort(cfg_errs *e) {
    if (e->count < 2 || !e->s) return;
    char **lines = hx_calloc((size_t)e->count + 1, sizeof(char *));
    char *copy = hx_strdup(e->s);
    if (!lines || !copy) goto out;
    int n = 0;
    for (char *l = strtok(copy, "\n"); l && n < e->count; l = strtok(NULL, "\n")) lines[n++] = l;
    g_sort_flen = strlen(e->file);
    qsort(lines, (size_t)n, sizeof *lines, cmp_err);
    size_t used = 0;
    for (int i = 0; i < n; i++) used += (size_t)sprintf(e->s + used, "%s\n", lines[i]);
out:
    hx_free(lines);
    hx_free(copy);
}

/* ---- suggestions ---- */

/* Append " (did you mean 'x'?)" to buf when a candidate is close to word. */
void cfg_suggest(const char *word, const char *const *cands, int n, char *buf, size_t len) {
    int best = 1 << 30;
    const char *bw = NULL;
    for (int i = 0; i < n; i++) {
        if (!cands[i]) continue;
        int d = hx_levenshtein(word, cands[i]);
        if (d < best) best = d, bw = cands[i];
    }
    int lim = (int)strlen(word) / 3;
    if (lim < 2) lim = 2;
    buf[0] = 0;
    if (bw && best <= lim) snprintf(buf, len, " (did you mean '%s'?)", bw);
}

void cfg_list_names(const char *const *names, int n, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ---- matrix / train keys: rows of run_keys (harness/train/run_keys.c) ---- */

/* Matrix axes may be matrix or train keys; train: takes only train keys. */
static int axis_key_ok(const key_def *k, int train_only) {
    return k->where == KEY_TRAIN || (!train_only && k->where == KEY_MATRIX);
}

/* "params.METHOD.PARAM" into a parameter axis. */
static int header_param(walk *w, cfg_axis *a, const char *key, int line, int col, const char *path) {
    char mname[64], pname[64];
    const char *dot = strchr(key + 7, '.');
    if (!dot || dot == key + 7 || !dot[1] || (size_t)(dot - key - 7) >= sizeof mname ||
        strlen(dot + 1) >= sizeof pname) {
        cfg_err(w->e, line, col, path, "'%s': expected params.METHOD.PARAM", key);
        return -1;
    }
    memcpy(mname, key + 7, (size_t)(dot - key - 7));
    mname[dot - key - 7] = 0;
    snprintf(pname, sizeof pname, "%s", dot + 1);
    const emb_method *m = emb_method_find(mname);
    if (!m) {
        const char *c[64] = {0};
        int n = 0;
        for (size_t i = 0; i < emb_method_count() && n < 64; i++) c[n++] = emb_method_at(i)->name;
        char sg[128];
        cfg_suggest(mname, c, n, sg, sizeof sg);
        cfg_err(w->e, line, col, path, "unknown method '%s'%s", mname, sg);
        return -1;
    }
    int pi = emb_param_index(m, pname);
    if (pi < 0) {
        const char *c[EMB_MAX_PARAMS + 1] = {0};
        int n = 0;
        for (; m->params[n].name; n++) c[n] = m->params[n].name;
        char sg[128], all[512];
        cfg_suggest(pname, c, n, sg, sizeof sg);
        cfg_list_names(c, n, all, sizeof all);
        cfg_err(w->e, line, col, path, "unknown parameter '%s' of method %s%s; expected one of: %s", pname,
                m->name, sg, n ? all : "(none: it has no parameters)");
        return -1;
    }
    snprintf(a->key, sizeof a->key, "params.%s.%s", m->name, pname);
    a->pm = m, a->pi = pi;
    return 0;
}

static void header_unknown(walk *w, const char *key, int line, int col, const char *path, int train_only) {
    const char *c[64] = {0};
    int n = 0;
    for (int i = 0; i < run_keys_n && n < 64; i++)
        if (axis_key_ok(&run_keys[i], train_only)) c[n++] = run_keys[i].name;
    char sg[128], all[1024];
    cfg_suggest(key, c, n, sg, sizeof sg);
    cfg_list_names(c, n, all, sizeof all);
    cfg_err(w->e, line, col, path, "unknown key '%s'%s; expected one of: %s%s", key, sg, all,
            train_only ? "" : ", params.METHOD.PARAM, model.KEY");
}

/* Resolve a key ("lr", "params.hash.rows") into an axis header. train_only: the
 * key is under train:. Reports and returns -1 on error. */
int cfg_axis_header(walk *w, cfg_axis *a, const char *key, int line, int col, const char *path, int train_only) {
    memset(a, 0, sizeof *a);
    a->group = -1;
    a->line = line, a->col = col;
    if (!train_only && !strncmp(key, "params.", 7)) return header_param(w, a, key, line, col, path);
    const key_def *k = run_key_find(key);
    if (!train_only && !strncmp(key, "model.", 6)) { /* model.arch: a scalar model: key as an axis */
        k = run_key_find(key + 6);
        if (!k || k->where != KEY_MODEL || !key_is_scalar(k)) {
            const char *c[16];
            int n = 0;
            for (int i = 0; i < run_keys_n && n < 16; i++)
                if (run_keys[i].where == KEY_MODEL && key_is_scalar(&run_keys[i])) c[n++] = run_keys[i].name;
            char sg[128], all[256];
            cfg_suggest(key + 6, c, n, sg, sizeof sg);
            cfg_list_names(c, n, all, sizeof all);
            cfg_err(w->e, line, col, path, "unknown model key '%s'%s; expected model. and one of: %s", key + 6, sg,
                    all);
            return -1;
        }
        snprintf(a->key, sizeof a->key, "%s", key);
        a->k = k;
        return 0;
    }
    if (!k || !axis_key_ok(k, train_only)) {
        header_unknown(w, key, line, col, path, train_only);
        return -1;
    }
    snprintf(a->key, sizeof a->key, "%s", key);
    a->k = k;
    return 0;
}

/* ---- values ---- */

static int value_dataset(walk *w, cfg_val *v, const char *path) {
    const cfg_sweep *sw = w->p->sw;
    const char *s = v->text;
    for (int i = 0; i < sw->n_datasets; i++)
        if (!strcmp(sw->datasets[i].spec.name, s)) {
            v->ds = i;
            snprintf(v->canon, sizeof v->canon, "%s", s);
            return 0;
        }
    const char *c[64] = {0};
    int n = 0;
    for (int i = 0; i < sw->n_datasets && n < 64; i++) c[n++] = sw->datasets[i].spec.name;
    char sg[128], all[512];
    cfg_suggest(s, c, n, sg, sizeof sg);
    cfg_list_names(c, n, all, sizeof all);
    cfg_err(w->e, v->line, v->col, path, "unknown dataset '%s'%s; expected one of: %s", s, sg,
            n ? all : "(none: define it under datasets:)");
    return -1;
}

static int value_method(walk *w, cfg_val *v, const char *path) {
    const char *s = v->text;
    v->m = emb_method_find(s);
    if (v->m) {
        snprintf(v->canon, sizeof v->canon, "%s", v->m->name);
        return 0;
    }
    const char *c[128] = {0}, *lc[64];
    int n = 0, ln = 0;
    for (size_t i = 0; i < emb_method_count() && n < 126; i++) {
        const emb_method *m = emb_method_at(i);
        c[n++] = m->name;
        if (m->alias) c[n++] = m->alias;
    }
    for (size_t i = 0; i < emb_method_count() && ln < 64; i++)
        if (!(emb_method_at(i)->caps & EMB_CAP_TEST_ONLY)) lc[ln++] = emb_method_at(i)->name;
    char sg[128], all[1024];
    cfg_suggest(s, c, n, sg, sizeof sg);
    cfg_list_names(lc, ln, all, sizeof all);
    cfg_err(w->e, v->line, v->col, path, "unknown method '%s'%s; expected one of: %s", s, sg, all);
    return -1;
}

static int value_param(walk *w, const cfg_axis *a, cfg_val *v, const char *path) {
    const emb_param_desc *d = &a->pm->params[a->pi];
    const char *s = v->text;
    if (!strcmp(s, "auto")) {
        if (!d->auto_ok) {
            cfg_err(w->e, v->line, v->col, path, "'auto' is not allowed for %s.%s", a->pm->name, d->name);
            return -1;
        }
        v->num = EMB_AUTO;
        snprintf(v->canon, sizeof v->canon, "auto");
        return 0;
    }
    if (d->type == EMB_P_ENUM) {
        int n = 0;
        for (; d->choices[n]; n++)
            if (!strcmp(d->choices[n], s)) {
                v->num = n;
                snprintf(v->canon, sizeof v->canon, "%s", s);
                return 0;
            }
        char sg[128], all[512];
        cfg_suggest(s, (const char *const *)d->choices, n, sg, sizeof sg);
        cfg_list_names((const char *const *)d->choices, n, all, sizeof all);
        cfg_err(w->e, v->line, v->col, path, "'%s'%s: expected one of: %s", s, sg, all);
        return -1;
    }
    if (d->type == EMB_P_BOOL) {
        if (key_parse_bool(s, &v->num) == 0) {
            snprintf(v->canon, sizeof v->canon, "%.0f", v->num);
            return 0;
        }
        cfg_err(w->e, v->line, v->col, path, "'%s': expected true or false", s);
        return -1;
    }
    double x;
    int bad = hx_parse_f64(s, &x) != 0 || (d->type == EMB_P_INT && x != floor(x));
    if (bad || x < d->min || x > d->max) {
        cfg_err(w->e, v->line, v->col, path, "'%s': expected %s in [%g, %g]%s", s,
                d->type == EMB_P_INT ? "an integer" : "a number", d->min, d->max, d->auto_ok ? " or auto" : "");
        return -1;
    }
    v->num = x;
    snprintf(v->canon, sizeof v->canon, "%.17g", x);
    return 0;
}

/* A scalar key: parsed, range-checked and made canonical by its row. */
static int value_key(walk *w, const cfg_axis *a, cfg_val *v, const char *path) {
    if (key_parse_num(a->k, v->text, &v->num) != 0) {
        char ex[256];
        key_expect(a->k, v->text, ex, sizeof ex);
        cfg_err(w->e, v->line, v->col, path, "'%s': expected %s", v->text, ex);
        return -1;
    }
    key_format_num(a->k, v->num, v->canon, sizeof v->canon);
    return 0;
}

/* Parse one value text for axis a into v. Reports and returns -1 on error. */
static int value_parse(walk *w, const cfg_axis *a, cfg_val *v, const char *path) {
    v->canon[0] = 0;
    if (axis_is_param(a)) return value_param(w, a, v, path);
    if (axis_is(a, KEY_DATASET)) return value_dataset(w, v, path);
    if (axis_is(a, KEY_METHOD)) return value_method(w, v, path);
    HX_ASSERT(key_is_scalar(a->k));
    return value_key(w, a, v, path);
}

/* `method: all`: every listed (not test-only) registered method, registry order. */
static void method_all(cfg_axis *a, int line, int col) {
    for (size_t i = 0; i < emb_method_count() && a->n < CFG_MAX_VALS; i++) {
        const emb_method *m = emb_method_at(i);
        if (m->caps & EMB_CAP_TEST_ONLY) continue;
        cfg_val *v = &a->v[a->n++];
        v->text = m->name, v->line = line, v->col = col;
        v->m = m;
        snprintf(v->canon, sizeof v->canon, "%s", m->name);
    }
}

/* Fill axis values from a scalar or a list of scalars. Returns the count or -1. */
int cfg_axis_values(walk *w, cfg_axis *a, yaml_node_t *n, const char *path, int allow_list) {
    if (!a->v) a->v = hx_calloc(CFG_MAX_VALS, sizeof(cfg_val));
    if (!a->v) {
        cfg_err(w->e, nline(n), ncol(n), path, "out of memory");
        w->e->status = HX_ERR_NOMEM;
        return -1;
    }
    a->n = 0;
    int bad = 0;
    if (n->type == YAML_SCALAR_NODE && !(axis_is(a, KEY_METHOD) && !strcmp(stext(n), "all"))) {
        cfg_val *v = &a->v[a->n++];
        v->text = stext(n), v->line = nline(n), v->col = ncol(n);
        if (!v->text[0]) {
            cfg_err(w->e, v->line, v->col, path, "empty value: expected %s",
                    axis_is_param(a) ? "a parameter value" : "a value");
            return -1;
        }
        return value_parse(w, a, v, path) == 0 ? 1 : -1;
    }
    if (n->type == YAML_SCALAR_NODE) { /* method: all */
        method_all(a, nline(n), ncol(n));
        return a->n;
    }
    if (n->type != YAML_SEQUENCE_NODE || !allow_list) {
        cfg_err(w->e, nline(n), ncol(n), path, "expected %s, got %s",
                allow_list ? "a value or a list of values" : "a single value", ntype(n));
        return -1;
    }
    if (n->data.sequence.items.top == n->data.sequence.items.start) {
        cfg_err(w->e, nline(n), ncol(n), path, "empty list: expected at least one value");
        return -1;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *c = node(w, *it);
        if (c->type != YAML_SCALAR_NODE) {
            cfg_err(w->e, nline(c), ncol(c), path, "expected a value, got %s", ntype(c));
            bad = 1;
            continue;
        }
        if (a->n >= CFG_MAX_VALS) {
            cfg_err(w->e, nline(c), ncol(c), path, "too many values (at most %d)", CFG_MAX_VALS);
            return -1;
        }
        if (axis_is(a, KEY_METHOD) && !strcmp(stext(c), "all")) {
            method_all(a, nline(c), ncol(c));
            continue;
        }
        cfg_val *v = &a->v[a->n++];
        v->text = stext(c), v->line = nline(c), v->col = ncol(c);
        if (value_parse(w, a, v, path) != 0) bad = 1;
        for (int j = 0; j + 1 < a->n && !bad; j++)
            if (!strcmp(a->v[j].canon, v->canon)) {
                cfg_err(w->e, v->line, v->col, path, "value '%s' listed twice", v->text);
                bad = 1;
            }
    }
    return bad ? -1 : a->n;
}
