/* run_keys.c: the table of run_config keys and the generic helpers of run_keys.h.
 *
 * Why here: the rows describe run_config fields (run.h), and three layers need
 * them: train fills the defaults (run_config_default), sweep parses sweep files
 * and builds run keys, cli builds `embsweep train`'s flags and --help. The table
 * sits in the lowest of them, as data plus value helpers; it knows nothing of
 * YAML (harness/sweep walks the document and reports positions) nor of argv.
 */
#include "run_keys.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/core/pool.h"

/* ---- the run_config table ---- */

static const char *const k_opt_dense[] = {"sgd", "adagrad", "adam", NULL};
static const char *const k_opt_emb[] = {"sgd", "adagrad", "adam", "rowwise_adagrad", NULL};
static const char *const k_interaction[] = {"dot", "cat", NULL};
static const char *const k_dcn_structure[] = {"stacked", "parallel", NULL};

#define RC run_config
/* Rows in the order of the run key's JSON; a row's place there is fixed once
 * results exist (reordering changes every run key). */
const key_def run_keys[] = {
    KEY_OF("dataset", KEY_DATASET, ds_spec, KEY_MATRIX, RC, dataset, 0, "synthetic", "dataset",
           "dataset kind; any other --KEY VALUE is a dataset key, e.g. --rows 20000 --fields 8 --dense 4"),
    KEY_OF("method", KEY_METHOD, const emb_method *, KEY_MATRIX, RC, method, 0, "full", "method",
           "embedding method (see `embsweep methods`); --param K=V sets its parameters"),
    KEY_NUM("dim", KEY_INT, int32_t, KEY_MATRIX, RC, dim, 1, 4096, 0, "16", "dim", "embedding width"),
    KEY_NUM("ratio", KEY_F64, double, KEY_MATRIX, RC, ratio, 1, 1e9, KEY_CAP, "1", "ratio",
            "requested compression ratio"),
    KEY_NUM("seed", KEY_U64, uint64_t, KEY_MATRIX, RC, seed, 0, 9007199254740992.0, KEY_CAP, "1", "seed",
            "seed for init, hashing and shuffling"),
    KEY_LIST("bottom_mlp", KEY_MODEL, RC, model.bottom, model.n_bottom, 1, 65536, 0, "64,16", "bottom",
             "bottom MLP widths; with dot the last is dim\n64,DIM"),
    KEY_LIST("top_mlp", KEY_MODEL, RC, model.top, model.n_top, 1, 65536, 0, "64,32", "top",
             "top MLP hidden widths (the deep MLP of dcn, deepfm, wdl); a final 1 is implied"),
    KEY_CHOICE("interaction", interact_kind, KEY_MODEL, RC, model.interaction, k_interaction, 0, "dot",
               "interaction", "how embeddings and the bottom MLP output meet (arch dlrm)"),
    KEY_CHOICE("arch", model_arch, KEY_MODEL, RC, model.arch, model_arch_names, KEY_OMIT_DEFAULT, "dlrm", "arch",
               "the network around the embeddings: DLRM, DCN-v2, DeepFM or Wide & Deep"),
    KEY_NUM("cross_layers", KEY_INT, int32_t, KEY_MODEL, RC, model.cross_layers, 1, CROSS_MAX_LAYERS,
            KEY_OMIT_DEFAULT, "3", "cross-layers", "dcn: cross layers"),
    KEY_CHOICE("dcn_structure", dcn_structure, KEY_MODEL, RC, model.structure, k_dcn_structure, KEY_OMIT_DEFAULT,
               "stacked", "dcn-structure", "dcn: the deep MLP after the cross network, or beside it"),
    KEY_NUM("cross_rank", KEY_INT, int32_t, KEY_MODEL, RC, model.cross_rank, 0, 65536, KEY_OMIT_DEFAULT, "0",
            "cross-rank", "dcn: rank r of each cross matrix W = U V^T\nfull rank"),
    KEY_NUM("epochs", KEY_F64, double, KEY_TRAIN, RC, train.epochs, 0, 1e4, KEY_MIN_OPEN, "1", "epochs",
            "epochs, may be fractional"),
    KEY_NUM("batch", KEY_INT, int32_t, KEY_TRAIN, RC, train.batch, 1, 1 << 20, 0, "256", "batch",
            "training minibatch"),
    KEY_NUM("eval_batch", KEY_INT, int32_t, KEY_TRAIN, RC, train.eval_batch, 1, 1 << 22, 0, "4096",
            "eval-batch", "evaluation minibatch"),
    KEY_CHOICE("optimizer", opt_kind, KEY_TRAIN, RC, train.optimizer, k_opt_dense, 0, "adam", "optimizer",
               "dense-layer optimizer"),
    KEY_NUM("lr", KEY_F64, double, KEY_TRAIN, RC, train.lr, 0, 1e3, KEY_MIN_OPEN, "0.003", "lr",
            "learning rate"),
    KEY_CHOICE("emb_optimizer", opt_kind, KEY_TRAIN, RC, train.emb_optimizer, k_opt_emb, 0, "adam",
               "emb-optimizer", "embedding-row optimizer\nrowwise_adagrad with adagrad, else the dense optimizer"),
    KEY_NUM("emb_lr", KEY_F64, double, KEY_TRAIN, RC, train.emb_lr, 0, 1e3, KEY_MIN_OPEN, "0", "emb-lr",
            "embedding learning rate\nthe same as lr"),
    KEY_NUM("log_every", KEY_INT, int32_t, KEY_TRAIN, RC, train.log_every, 1, 1e9, KEY_CAP, "100",
            "log-every", "record the training loss every N steps"),
    KEY_NUM("eval_every_epoch", KEY_BOOL, int32_t, KEY_TRAIN, RC, train.eval_every_epoch, 0, 1, 0, "true",
            "eval-every-epoch", "evaluate validation each epoch and select on it"),
    KEY_NUM("threads", KEY_INT, int32_t, KEY_CLI, RC, train.threads, 0, HX_POOL_MAX, 0, "0", "threads",
            "engine threads, 0 or 1 = one: batch rows, weight-gradient rows and embedding fields are split "
            "across them; the same seed and thread count give the same bits"),
    KEY_OF("cache_dir", KEY_PATH, const char *, KEY_CLI, RC, cache_dir, 0, NULL, "cache",
           "dataset cache directory"),
};
#undef RC
const int run_keys_n = (int)(sizeof run_keys / sizeof run_keys[0]);

const key_def *run_key_find(const char *name) { return key_find(run_keys, run_keys_n, name); }

void run_config_default(run_config *cfg) {
    key_table_check(run_keys, run_keys_n, sizeof *cfg); /* a few dozen comparisons */
    memset(cfg, 0, sizeof *cfg);
    key_defaults(run_keys, run_keys_n, cfg);
    if (cfg->method) emb_params_default(cfg->method, cfg->pv);
}

/* ---- field access ---- */

static void *field(const key_def *k, void *base) { return (char *)base + k->off; }
static const void *cfield(const key_def *k, const void *base) { return (const char *)base + k->off; }

const key_def *key_find(const key_def *t, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, name)) return &t[i];
    return NULL;
}

int key_is_scalar(const key_def *k) {
    switch (k->kind) {
    case KEY_INT: case KEY_U64: case KEY_F64: case KEY_SECONDS: case KEY_BYTES: case KEY_BOOL: case KEY_ENUM:
        return 1;
    default: return 0;
    }
}

void key_set_num(const key_def *k, void *base, double num) {
    void *p = field(k, base);
    switch (k->kind) {
    case KEY_INT: *(int32_t *)p = (int32_t)num; break;
    case KEY_BOOL: *(int32_t *)p = num != 0; break;
    case KEY_U64: case KEY_BYTES: *(uint64_t *)p = (uint64_t)num; break;
    case KEY_F64: case KEY_SECONDS: *(double *)p = num; break;
    case KEY_ENUM: {
        int v = (int)num;
        memcpy(p, &v, sizeof v);
        break;
    }
    default: HX_ASSERT(0 && "key_set_num: not a scalar key");
    }
}

double key_get_num(const key_def *k, const void *base) {
    const void *p = cfield(k, base);
    switch (k->kind) {
    case KEY_INT: case KEY_BOOL: return *(const int32_t *)p;
    case KEY_U64: case KEY_BYTES: return (double)*(const uint64_t *)p;
    case KEY_F64: case KEY_SECONDS: return *(const double *)p;
    case KEY_ENUM: {
        int v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: HX_ASSERT(0 && "key_get_num: not a scalar key");
    }
    return 0;
}

/* ---- parsing ---- */

int key_parse_bool(const char *s, double *out) {
    static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, t[i])) return *out = 1, 0;
        if (!strcasecmp(s, f[i])) return *out = 0, 0;
    }
    return -1;
}

int key_parse_bytes(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) return -1;
    while (*end == ' ') end++;
    static const struct { const char *suf; double mul; } k[] = {
        {"", 1}, {"B", 1}, {"K", 1e3}, {"KB", 1e3}, {"KiB", 1024.0}, {"M", 1e6}, {"MB", 1e6},
        {"MiB", 1048576.0}, {"G", 1e9}, {"GB", 1e9}, {"GiB", 1073741824.0},
        {"T", 1e12}, {"TB", 1e12}, {"TiB", 1099511627776.0}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(end, k[i].suf)) {
            double b = v * k[i].mul;
            if (b >= 1.8e19) return -1;
            *out = (uint64_t)b;
            return 0;
        }
    return -1;
}

static int in_range(const key_def *k, double x) {
    int lo_ok = (k->flags & KEY_MIN_OPEN) ? x > k->min : x >= k->min;
    return lo_ok && x <= k->max;
}

static int is_integer_kind(key_kind kind) { return kind == KEY_INT || kind == KEY_U64 || kind == KEY_WIDTHS; }

static int parse_num(const key_def *k, const char *s, double *num, int check) {
    double x;
    switch (k->kind) {
    case KEY_BOOL: return key_parse_bool(s, num);
    case KEY_ENUM:
        for (int i = 0; k->choices[i]; i++)
            if (!strcmp(k->choices[i], s)) return *num = i, 0;
        return -1;
    case KEY_BYTES: {
        uint64_t b;
        if (key_parse_bytes(s, &b) != 0 || (check && (double)b < k->min)) return -1;
        return *num = (double)b, 0;
    }
    default:
        if (hx_parse_f64(s, &x) != 0 || (is_integer_kind(k->kind) && x != floor(x))) return -1;
        if (check && !in_range(k, x)) return -1;
        return *num = x, 0;
    }
}

int key_parse_num(const key_def *k, const char *text, double *num) {
    HX_ASSERT(key_is_scalar(k) || k->kind == KEY_WIDTHS);
    return parse_num(k, text, num, 1);
}

int32_t *key_widths(const key_def *k, void *base, int32_t **count, int *cap) {
    HX_ASSERT(k->kind == KEY_WIDTHS);
    *count = (int32_t *)((char *)base + k->aux);
    *cap = (int)(k->size / sizeof(int32_t));
    return field(k, base);
}

/* "64,16" into the widths and their count. */
static int parse_widths(const key_def *k, const char *s, void *base, int check) {
    int32_t *count, n = 0;
    int cap;
    int32_t *w = key_widths(k, base, &count, &cap);
    for (const char *p = s; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[32];
        double x;
        if (len == 0 || len >= sizeof tok || n >= cap) return -1;
        memcpy(tok, p, len);
        tok[len] = 0;
        if (parse_num(k, tok, &x, check) != 0) return -1;
        w[n++] = (int32_t)x;
        p += len + (end != NULL);
        if (end && !*p) return -1; /* a trailing comma */
    }
    if (n == 0) return -1;
    *count = n;
    return 0;
}

static int parse_any(const key_def *k, const char *text, void *base, int check) {
    double num;
    void *p = field(k, base);
    if (key_is_scalar(k)) {
        if (parse_num(k, text, &num, check) != 0) return -1;
        key_set_num(k, base, num);
        return 0;
    }
    switch (k->kind) {
    case KEY_WIDTHS: return parse_widths(k, text, base, check);
    case KEY_STR:
        if (!text[0] || strlen(text) >= k->size) return -1;
        memcpy(p, text, strlen(text) + 1);
        return 0;
    case KEY_PATH:
        if (!text[0]) return -1;
        *(const char **)p = text;
        return 0;
    case KEY_METHOD: {
        const emb_method *m = emb_method_find(text);
        if (!m && check) return -1;
        *(const emb_method **)p = m; /* unchecked: a default method may not be built */
        return 0;
    }
    case KEY_DATASET: {
        ds_spec *d = p;
        if (!text[0] || strlen(text) >= sizeof d->kind) return -1;
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", text);
        snprintf(d->kind, sizeof d->kind, "%s", text);
        return 0;
    }
    default: HX_ASSERT(0 && "key_parse: the key has no field");
    }
    return -1;
}

int key_parse(const key_def *k, const char *text, void *base) { return parse_any(k, text, base, 1); }
int key_parse_unchecked(const key_def *k, const char *text, void *base) { return parse_any(k, text, base, 0); }

void key_defaults(const key_def *t, int n, void *base) {
    for (int i = 0; i < n; i++) {
        const key_def *k = &t[i];
        if (k->kind == KEY_TEXT || k->kind == KEY_SECTION) continue;
        if (!k->def) {
            memset(field(k, base), 0, k->size);
            if (k->kind == KEY_WIDTHS) memset((char *)base + k->aux, 0, sizeof(int32_t));
            continue;
        }
        HX_ASSERT(key_parse_unchecked(k, k->def, base) == 0);
    }
}

/* ---- texts ---- */

/* A bound as people write it: integers in full, other numbers %g with a short
 * exponent (1e7, not 1e+07). */
static void fmt_bound(const key_def *k, double x, char *buf, size_t n) {
    if (is_integer_kind(k->kind)) {
        snprintf(buf, n, "%.0f", x);
        return;
    }
    char t[48];
    snprintf(t, sizeof t, "%g", x);
    char *e = strchr(t, 'e');
    if (e) {
        char *d = e + 1;
        int neg = *d == '-';
        if (*d == '+' || *d == '-') d++;
        while (*d == '0' && d[1]) d++;
        snprintf(e + 1, sizeof t - (size_t)(e + 1 - t), "%s%s", neg ? "-" : "", d);
    }
    snprintf(buf, n, "%s", t);
}

static void fmt_size(double b, char *buf, size_t n) {
    static const char *const units[] = {"GiB", "MiB", "KiB"};
    for (int i = 0; i < 3; i++) {
        double u = (double)(1ull << (10 * (3 - i)));
        if (b >= u && fmod(b, u) == 0) {
            snprintf(buf, n, "%.0f%s", b / u, units[i]);
            return;
        }
    }
    snprintf(buf, n, "%.0fB", b);
}

static void expect_choices(const key_def *k, char *buf, size_t n) {
    int c = 0;
    while (k->choices[c]) c++;
    if (c == 2) {
        snprintf(buf, n, "%s or %s", k->choices[0], k->choices[1]);
        return;
    }
    size_t used = (size_t)snprintf(buf, n, "one of ");
    for (int i = 0; i < c && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", k->choices[i]);
}

static void expect_range(const key_def *k, const char *text, char *buf, size_t n) {
    const char *what = k->kind == KEY_SECONDS ? "seconds, a number" : is_integer_kind(k->kind) ? "an integer"
                                                                                              : "a number";
    char lo[48], hi[48];
    fmt_bound(k, k->min, lo, sizeof lo);
    fmt_bound(k, k->max, hi, sizeof hi);
    double x;
    int over = text && hx_parse_f64(text, &x) == 0 && x > k->max;
    int open = (k->flags & KEY_MIN_OPEN) != 0;
    if ((k->flags & KEY_CAP) && !over) snprintf(buf, n, "%s %s %s", what, open ? ">" : ">=", lo);
    else snprintf(buf, n, "%s in %s%s, %s]", what, open ? "(" : "[", lo, hi);
}

void key_expect(const key_def *k, const char *text, char *buf, size_t n) {
    char t[48];
    switch (k->kind) {
    case KEY_INT: case KEY_U64: case KEY_F64: case KEY_SECONDS: case KEY_WIDTHS:
        expect_range(k, text, buf, n);
        break;
    case KEY_BYTES:
        fmt_size(k->min, t, sizeof t);
        snprintf(buf, n, "a size of at least %s, e.g. 512MiB or 2GiB", t);
        break;
    case KEY_BOOL: snprintf(buf, n, "true or false"); break;
    case KEY_ENUM: expect_choices(k, buf, n); break;
    case KEY_STR: snprintf(buf, n, "a string of 1-%zu characters", k->size - 1); break;
    case KEY_TEXT: snprintf(buf, n, "a string"); break;
    case KEY_PATH: snprintf(buf, n, "a path"); break;
    case KEY_METHOD: snprintf(buf, n, "a method name (embsweep methods lists them)"); break;
    case KEY_DATASET: snprintf(buf, n, "a dataset kind (embsweep dataset kinds lists them)"); break;
    case KEY_SECTION: snprintf(buf, n, "a section"); break;
    }
}

void key_arg(const key_def *k, char *buf, size_t n) {
    switch (k->kind) {
    case KEY_INT: case KEY_U64: snprintf(buf, n, "N"); break;
    case KEY_F64: snprintf(buf, n, "X"); break;
    case KEY_SECONDS: snprintf(buf, n, "SECONDS"); break;
    case KEY_BYTES: snprintf(buf, n, "SIZE"); break;
    case KEY_BOOL: snprintf(buf, n, "true|false"); break;
    case KEY_ENUM: {
        size_t used = 0;
        buf[0] = 0;
        for (int i = 0; k->choices[i] && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "|" : "", k->choices[i]);
        break;
    }
    case KEY_WIDTHS: snprintf(buf, n, "W,W,..."); break;
    case KEY_PATH: snprintf(buf, n, "DIR"); break;
    case KEY_METHOD: snprintf(buf, n, "NAME"); break;
    case KEY_DATASET: snprintf(buf, n, "KIND"); break;
    default: snprintf(buf, n, "TEXT"); break;
    }
}

/* ---- canonical values ---- */

void key_format_num(const key_def *k, double num, char *buf, size_t n) {
    switch (k->kind) {
    case KEY_INT: snprintf(buf, n, "%d", (int32_t)num); break;
    case KEY_BOOL: snprintf(buf, n, "%d", num != 0); break;
    case KEY_U64: case KEY_BYTES: snprintf(buf, n, "%llu", (unsigned long long)num); break;
    case KEY_ENUM: snprintf(buf, n, "%s", k->choices[(int)num]); break;
    default: snprintf(buf, n, "%.17g", num); break;
    }
}

void key_format(const key_def *k, const void *base, char *buf, size_t n) {
    const void *p = cfield(k, base);
    if (key_is_scalar(k)) {
        key_format_num(k, key_get_num(k, base), buf, n);
        return;
    }
    switch (k->kind) {
    case KEY_WIDTHS: {
        const int32_t *w = p, cnt = *(const int32_t *)((const char *)base + k->aux);
        size_t used = (size_t)snprintf(buf, n, "[");
        for (int32_t i = 0; i < cnt && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%d", i ? "," : "", w[i]);
        if (used < n) snprintf(buf + used, n - used, "]");
        break;
    }
    case KEY_STR: snprintf(buf, n, "%s", (const char *)p); break;
    case KEY_PATH: snprintf(buf, n, "%s", *(const char *const *)p ? *(const char *const *)p : ""); break;
    case KEY_METHOD: {
        const emb_method *m = *(const emb_method *const *)p;
        snprintf(buf, n, "%s", m ? m->name : "");
        break;
    }
    case KEY_DATASET: snprintf(buf, n, "%s", ((const ds_spec *)p)->name); break;
    default: HX_ASSERT(0 && "key_format: the key has no field");
    }
}

int key_is_default(const key_def *k, const void *base) {
    HX_ASSERT(key_is_scalar(k));
    double d = 0;
    if (k->def) HX_ASSERT(parse_num(k, k->def, &d, 0) == 0);
    char a[64], b[64];
    key_format(k, base, a, sizeof a);
    key_format_num(k, d, b, sizeof b);
    return !strcmp(a, b);
}

/* ---- table checks ---- */

static size_t kind_size(key_kind kind) {
    switch (kind) {
    case KEY_INT: case KEY_BOOL: return sizeof(int32_t);
    case KEY_U64: case KEY_BYTES: return sizeof(uint64_t);
    case KEY_F64: case KEY_SECONDS: return sizeof(double);
    case KEY_ENUM: return sizeof(int);
    case KEY_PATH: return sizeof(const char *);
    case KEY_METHOD: return sizeof(const emb_method *);
    case KEY_DATASET: return sizeof(ds_spec);
    default: return 0; /* arrays (checked below) and keys without a field */
    }
}

static void check_row(const key_def *k) {
    size_t want = kind_size(k->kind);
    if (want) HX_ASSERT(k->size == want);
    if (k->kind == KEY_WIDTHS) HX_ASSERT(k->size >= sizeof(int32_t) && k->size % sizeof(int32_t) == 0);
    if (k->kind == KEY_STR) HX_ASSERT(k->size >= 2);
    if (k->kind == KEY_ENUM) HX_ASSERT(k->choices && k->choices[0]);
    if (k->kind == KEY_INT || k->kind == KEY_WIDTHS) HX_ASSERT(k->min >= INT32_MIN && k->max <= INT32_MAX);
    if (k->kind == KEY_U64) HX_ASSERT(k->min >= 0 && k->max <= 9007199254740992.0);
    if (is_integer_kind(k->kind) || k->kind == KEY_F64 || k->kind == KEY_SECONDS) HX_ASSERT(k->min <= k->max);
    if (k->flags & KEY_OMIT_DEFAULT) HX_ASSERT(key_is_scalar(k) && k->where != KEY_CLI && k->where != KEY_TOP);
    if (k->flag) HX_ASSERT(k->kind != KEY_TEXT && k->kind != KEY_SECTION && k->help);
}

void key_table_check(const key_def *t, int n, size_t struct_size) {
    int closed[KEY_TOP + 1] = {0};
    for (int i = 0; i < n; i++) {
        const key_def *k = &t[i];
        check_row(k);
        HX_ASSERT(k->off + k->size <= struct_size && k->aux + sizeof(int32_t) <= struct_size);
        for (int j = 0; j < i; j++) {
            HX_ASSERT(strcmp(t[j].name, k->name) != 0);
            HX_ASSERT(!k->flag || !t[j].flag || strcmp(t[j].flag, k->flag) != 0);
        }
        /* the rows of one JSON object are contiguous */
        if (i > 0 && t[i - 1].where != k->where) closed[t[i - 1].where] = 1;
        HX_ASSERT(!closed[k->where]);
    }
}
