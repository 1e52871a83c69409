/* cell_json.c: a resolved cell as its canonical JSON (its run key is this
 * text's hash), and one key's canonical value (what exclude rules compare). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"

/* ---- a small string builder ---- */

typedef struct sbuf {
    char  *s;
    size_t n, cap;
    int    oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) { b->oom = 1; return; }
        if (b->s && b->n + (size_t)w < b->cap) { b->n += (size_t)w; return; }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)w;
        char *ns = hx_realloc(b->s, cap);
        if (!ns) { b->oom = 1; return; }
        b->s = ns, b->cap = cap;
    }
}

static int json_plain(unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; }

/* s as a JSON string; runs of characters that need no escape go in at once. */
static void sb_str(sbuf *b, const char *s) {
    sb_add(b, "\"");
    while (*s) {
        size_t n = 0;
        while (s[n] && json_plain((unsigned char)s[n])) n++;
        if (n) sb_add(b, "%.*s", (int)n, s);
        s += n;
        if (!*s) break;
        unsigned char c = (unsigned char)*s++;
        if (c == '"' || c == '\\') sb_add(b, "\\%c", c);
        else sb_add(b, "\\u%04x", c);
    }
    sb_add(b, "\"");
}

/* ---- canonical JSON and values ---- */

static void param_text(const emb_param_desc *d, double v, char *buf, size_t n) {
    if (d->auto_ok && v == EMB_AUTO) snprintf(buf, n, "auto");
    else if (d->type == EMB_P_ENUM) snprintf(buf, n, "%s", d->choices[(int)v]);
    else if (d->type == EMB_P_BOOL) snprintf(buf, n, "%s", v != 0 ? "true" : "false");
    else snprintf(buf, n, "%.17g", v);
}

/* The method's parameters, every one incl. defaults: "params":{"rows":"auto",...} */
static void json_params(sbuf *b, const run_config *rc) {
    const emb_method *m = rc->method;
    sb_add(b, ",\"params\":{");
    for (int i = 0; m->params[i].name; i++) {
        const emb_param_desc *d = &m->params[i];
        char t[64];
        param_text(d, rc->pv[i], t, sizeof t);
        int quoted = d->type == EMB_P_ENUM || (d->auto_ok && rc->pv[i] == EMB_AUTO);
        sb_add(b, "%s\"%s\":%s%s%s", i ? "," : "", d->name, quoted ? "\"" : "", t, quoted ? "\"" : "");
    }
    sb_add(b, "}");
}

/* One row's value as JSON: strings and enums quoted, the dataset as its recipe. */
static void json_value(sbuf *b, const key_def *k, const run_config *rc, const char *recipe) {
    char t[512];
    if (k->kind == KEY_DATASET) {
        sb_str(b, recipe);
        return;
    }
    key_format(k, rc, t, sizeof t);
    if (k->kind == KEY_ENUM || k->kind == KEY_METHOD) sb_str(b, t);
    else sb_add(b, "%s", t);
}

/* The canonical JSON: the rows of run_keys in table order, each object
 * ("model", "train") from its rows' `where`, the method's parameters after
 * the method. Keys flagged KEY_OMIT_DEFAULT appear only away from their default. */
char *cfg_cell_json(const run_config *rc, const char *recipe) {
    static const char *const obj[KEY_MODEL + 1] = {[KEY_TRAIN] = "train", [KEY_MODEL] = "model"};
    sbuf b = {0};
    key_where in = KEY_MATRIX;
    int first = 1;
    sb_add(&b, "{");
    for (int i = 0; i < run_keys_n; i++) {
        const key_def *k = &run_keys[i];
        if (k->where == KEY_CLI || ((k->flags & KEY_OMIT_DEFAULT) && key_is_default(k, rc))) continue;
        if (k->where != in) {
            HX_ASSERT(k->where <= KEY_MODEL && obj[k->where]);
            if (in != KEY_MATRIX) sb_add(&b, "}");
            in = k->where;
            sb_add(&b, ",\"%s\":{", obj[in]);
            first = 1;
        }
        sb_add(&b, "%s\"%s\":", first ? "" : ",", k->name);
        json_value(&b, k, rc, recipe);
        if (k->kind == KEY_METHOD) json_params(&b, rc);
        first = 0;
    }
    sb_add(&b, "%s}", in != KEY_MATRIX ? "}" : "");
    if (b.oom) {
        hx_free(b.s);
        return NULL;
    }
    return b.s;
}

int cfg_value_canon(const run_config *rc, const char *key, char *buf, size_t n) {
    if (!strncmp(key, "params.", 7)) {
        size_t ml = strlen(rc->method->name);
        if (strncmp(key + 7, rc->method->name, ml) || key[7 + ml] != '.') return 0;
        int i = emb_param_index(rc->method, key + 8 + ml);
        if (i < 0) return 0;
        const emb_param_desc *d = &rc->method->params[i];
        if (d->type == EMB_P_BOOL) snprintf(buf, n, "%.0f", rc->pv[i]);
        else param_text(d, rc->pv[i], buf, n);
        return 1;
    }
    const int in_model = !strncmp(key, "model.", 6);
    const key_def *k = run_key_find(in_model ? key + 6 : key);
    if (!k || k->where == KEY_CLI || (k->where == KEY_MODEL) != in_model || (in_model && !key_is_scalar(k))) return 0;
    key_format(k, rc, buf, n);
    return 1;
}
