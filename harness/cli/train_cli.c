/* train_cli.c: `embsweep train` (one cell from flags, a one-screen summary) and
 * `embsweep methods` (the method registry with its parameter tables).
 * Exit status: 0 ok, 1 a run failure (divergence, I/O), 2 bad usage or values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness/sweep/scores.h"
#include "harness/train/run.h"
#include "harness/train/run_keys.h"

/* ---- flags and --help: the rows of run_keys with a flag (harness/train/run_keys.c) ---- */

#define HELP_COL 21
#define HELP_WIDTH 79

static const key_def *flag_key(const char *flag) {
    for (int i = 0; i < run_keys_n; i++)
        if (run_keys[i].flag && !strcmp(run_keys[i].flag, flag)) return &run_keys[i];
    return NULL;
}

/* An unbreakable item at column col: on this line if it fits in HELP_WIDTH, else on
 * the next, indented to indent. Returns the column after it. */
static int put(FILE *f, int col, int indent, const char *item, int len) {
    if (col > indent && col + 1 + len > HELP_WIDTH) col = fprintf(f, "\n%*s", indent, "") - 1;
    else if (col != indent) col += fprintf(f, " ");
    return col + fprintf(f, "%.*s", len, item);
}

/* The words of text, wrapped as put() does. */
static int wrap(FILE *f, int col, int indent, const char *text) {
    for (const char *p = text; *p;) {
        while (*p == ' ') p++;
        int len = (int)strcspn(p, " ");
        if (len) col = put(f, col, indent, p, len);
        p += len;
    }
    return col;
}

static void usage_line(FILE *f) {
    char arg[96], item[160];
    int col = fprintf(f, "usage: embsweep train");
    for (int i = 0; i < run_keys_n; i++) {
        const key_def *k = &run_keys[i];
        if (!k->flag) continue;
        key_arg(k, arg, sizeof arg);
        col = put(f, col, 22, item, snprintf(item, sizeof item, "[--%s %s]", k->flag, arg));
        if (k->kind == KEY_DATASET) col = put(f, col, 22, "[--KEY VALUE ...]", 17);
        if (k->kind == KEY_METHOD) col = put(f, col, 22, "[--param K=V ...]", 17);
    }
    put(f, col, 22, "[--scores FILE]", 15);
    fprintf(f, "\n");
}

/* "  --dim N            embedding width: an integer in [1, 4096] (default 16)" */
static void option_help(FILE *f, const key_def *k) {
    char arg[96], text[768];
    key_arg(k, arg, sizeof arg);
    int col = fprintf(f, "  --%s %s", k->flag, arg);
    if (col >= HELP_COL - 1) col = fprintf(f, "\n") - 1;
    col += fprintf(f, "%*s", HELP_COL - col, "");
    const char *words = strchr(k->help, '\n'); /* the default in words */
    size_t n = (size_t)snprintf(text, sizeof text, "%.*s", words ? (int)(words - k->help) : 512, k->help);
    if ((k->kind == KEY_INT || k->kind == KEY_U64 || k->kind == KEY_F64) && n < sizeof text - 2) {
        n += (size_t)snprintf(text + n, sizeof text - n, ": ");
        key_expect(k, NULL, text + n, sizeof text - n);
        n = strlen(text);
    }
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n, " (default%s %s)", words ? ":" : "",
                 words ? words + 1 : k->def ? k->def : "none");
    wrap(f, col, HELP_COL, text);
    fprintf(f, "\n");
}

static void train_usage(FILE *f, int full) {
    usage_line(f);
    if (!full) {
        fprintf(f, "(embsweep train --help for details)\n");
        return;
    }
    fprintf(f,
            "\nTrain and evaluate one cell and print a summary: test AUC, logloss and the\n"
            "Bayes AUC, requested and achieved compression ratio, inference and training\n"
            "bytes, peak RSS, training and inference samples/s, and where a training step's\n"
            "time goes (milliseconds a step by stage, forward / backward). The flags are\n"
            "the keys of a sweep file (harness/sweep/README.md) with '-' for '_', same\n"
            "ranges.\n\n");
    for (int i = 0; i < run_keys_n; i++) {
        if (!run_keys[i].flag) continue;
        option_help(f, &run_keys[i]);
        if (run_keys[i].kind == KEY_METHOD)
            fprintf(f, "  --param K=V%*sa method parameter (`auto` where allowed)\n", HELP_COL - 13, "");
    }
    int col = fprintf(f, "  --scores FILE%*s", HELP_COL - 15, "");
    wrap(f, col, HELP_COL,
         "write the test logits of the selected evaluation and the test labels to FILE, as a sweep keeps them "
         "(harness/sweep/scores.h) (default none)");
    fprintf(f, "\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "embsweep train: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n\n");
    va_end(ap);
    train_usage(stderr, 0);
    return 2;
}

/* parse_param: "k=v" against the method's parameter table into pv. */
static int parse_param(const emb_method *m, const char *kv, double *pv, char *err, size_t errlen) {
    const char *eq = strchr(kv, '=');
    char key[64];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key)
        return hx_error(HX_ERR_PARAM, err, errlen, "--param expects KEY=VALUE, got '%s'", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = 0;
    const char *v = eq + 1;
    int i = emb_param_index(m, key);
    if (i < 0) return hx_error(HX_ERR_PARAM, err, errlen, "method %s has no parameter '%s'", m->name, key);
    const emb_param_desc *d = &m->params[i];
    double x;
    if (d->auto_ok && strcmp(v, "auto") == 0) {
        pv[i] = EMB_AUTO;
    } else if (d->type == EMB_P_ENUM) {
        for (int c = 0; d->choices[c]; c++)
            if (strcmp(v, d->choices[c]) == 0) {
                pv[i] = c;
                return HX_OK;
            }
        return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: '%s' is not one of its choices", m->name, key, v);
    } else if (d->type == EMB_P_BOOL) {
        if (!strcmp(v, "true") || !strcmp(v, "1")) pv[i] = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0")) pv[i] = 0;
        else return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: expected true or false, got '%s'", m->name, key, v);
    } else if (hx_parse_f64(v, &x) == 0) {
        pv[i] = x;
    } else {
        return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: expected a number, got '%s'", m->name, key, v);
    }
    return HX_OK;
}

/* Peak resident set (VmHWM) of this process in bytes, 0 if unknown. */
static double peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    double kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024.0;
}

/* Milliseconds a training step by stage (model_stage); "other" is the step time
 * no stage holds (the loop's bookkeeping). */
static void print_stages(const run_result *r) {
    const double *p = r->stage_s, k = 1e3 / (double)r->steps;
    double sum = 0;
    for (int i = 0; i < MS_N; i++) sum += p[i];
    const double other = r->train_s > sum ? r->train_s - sum : 0; /* never below 0 but for rounding */
    printf("  stages     ms a step, forward / backward: bottom %.3f / %.3f, embeddings %.3f / %.3f,\n"
           "             interaction %.3f / %.3f, top %.3f / %.3f; loader %.3f, loss %.3f,\n"
           "             optimizer step %.3f, other %.3f\n",
           p[MS_BOTTOM_FWD] * k, p[MS_BOTTOM_BWD] * k, p[MS_EMB_FWD] * k, p[MS_EMB_BWD] * k, p[MS_INTER_FWD] * k,
           p[MS_INTER_BWD] * k, p[MS_TOP_FWD] * k, p[MS_TOP_BWD] * k, p[MS_LOADER] * k, p[MS_LOSS] * k,
           p[MS_STEP] * k, other * k);
}

static void print_summary(const run_config *cfg, const run_result *r) {
    const int threads = cfg->train.threads > 1 ? cfg->train.threads : 1;
    char p[256], a[32], b[32], c[32], d[32], e[32];
    emb_params_format(cfg->method, cfg->pv, p, sizeof p);
    printf("embsweep train: %s (%s) dim %d, ratio %g, on %s, seed %llu, model %s\n", cfg->method->name,
           p[0] ? p : "no parameters", cfg->dim, cfg->ratio, cfg->dataset.kind, (unsigned long long)cfg->seed,
           model_arch_names[cfg->model.arch]);
    printf("  data       %lld train / %lld val / %lld test rows\n", (long long)r->n_train,
           (long long)r->n_val, (long long)r->n_test);
    printf("  plan       %s\n", r->knobs);
    printf("  test       AUC %.4f  logloss %.4f  accuracy %.4f   (Bayes AUC %.4f, logloss %.4f)\n",
           r->test_auc, r->test_logloss, r->test_acc, r->bayes_auc, r->bayes_logloss);
    printf("  validation AUC %.4f  logloss %.4f   (selected epoch %d)\n", r->val_auc, r->val_logloss,
           r->best_epoch);
    printf("  ratio      requested %g, achieved %.3f\n", r->ratio_requested, r->ratio_achieved);
    hx_human_bytes((double)r->bytes_infer, a, sizeof a);
    hx_human_bytes((double)r->bytes.infer_index, b, sizeof b);
    hx_human_bytes((double)r->bytes_train, c, sizeof c);
    hx_human_bytes((double)r->bytes.train_optim, d, sizeof d);
    hx_human_bytes((double)r->bytes_dense, e, sizeof e);
    printf("  bytes      inference %s (index %s), training %s (optimizer %s); dense layers %s\n", a,
           b, c, d, e);
    hx_human_bytes(peak_rss(), a, sizeof a);
    printf("  peak RSS   %s (VmHWM)\n", a);
    printf("  speed      train %.0f samples/s, inference %.0f samples/s (%d thread%s)\n",
           r->train_samples_per_s, r->infer_samples_per_s, threads, threads == 1 ? "" : "s");
    printf("  time       wall %.2f s, cpu %.2f s (load %.2f, train %.2f, eval %.2f); %lld steps, "
           "last train loss %.4f\n",
           r->wall_s, r->cpu_s, r->load_s, r->train_s, r->eval_s, (long long)r->steps,
           r->final_train_loss);
    if (r->steps > 0) print_stages(r);
}

/* ---- embsweep train ---- */

typedef struct train_args {
    run_config    cfg;
    unsigned char given[64];              /* per row of run_keys: set by a flag */
    const char   *params[EMB_MAX_PARAMS]; /* --param K=V */
    int           n_params;
    char         *dskv[DS_MAX_KEYS];      /* any other --KEY VALUE: "KEY=VALUE" (owned) */
    int           n_dskv;
    const char   *scores;                 /* --scores FILE, NULL if none */
} train_args;

/* One --FLAG VALUE. Returns 0 or the exit status (2) after the message. */
static int parse_flag(train_args *a, const char *f, const char *v) {
    const key_def *k = flag_key(f + 2);
    if (k) {
        if (key_parse(k, v, &a->cfg) != 0) {
            char ex[256];
            key_expect(k, v, ex, sizeof ex);
            return bad("bad value '%s' for %s: expected %s%s", v, f,
                       k->kind == KEY_WIDTHS ? "comma-separated widths, each " : "", ex);
        }
        a->given[k - run_keys] = 1;
    } else if (!strcmp(f, "--param")) {
        if (a->n_params >= EMB_MAX_PARAMS) return bad("too many --param (at most %d)", EMB_MAX_PARAMS);
        a->params[a->n_params++] = v;
    } else if (!strcmp(f, "--scores")) {
        a->scores = v;
    } else {
        if (a->n_dskv >= DS_MAX_KEYS) return bad("too many dataset keys (at most %d)", DS_MAX_KEYS);
        size_t n = strlen(f + 2) + strlen(v) + 2;
        a->dskv[a->n_dskv] = hx_xmalloc(n);
        snprintf(a->dskv[a->n_dskv++], n, "%s=%s", f + 2, v);
    }
    return 0;
}

/* argv into a. Returns -1 after --help, 0, or the exit status (2). */
static int parse_args(int argc, char **argv, train_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            train_usage(stdout, 1);
            return -1;
        }
        if (strncmp(f, "--", 2) != 0 || !f[2]) return bad("unexpected argument '%s'", f);
        if (i + 1 >= argc) return bad("%s needs a value", f);
        int rc = parse_flag(a, f, argv[++i]);
        if (rc) return rc;
    }
    return 0;
}

/* The method's parameters, the defaults that follow other keys, the dataset spec. */
static int resolve(train_args *a) {
    run_config *cfg = &a->cfg;
    char err[512];
    if (!cfg->method) {
        fprintf(stderr, "embsweep train: method 'full' is not built\n");
        return 2;
    }
    emb_params_default(cfg->method, cfg->pv);
    for (int k = 0; k < a->n_params; k++)
        if (parse_param(cfg->method, a->params[k], cfg->pv, err, sizeof err) != HX_OK) return bad("%s", err);
    if (emb_params_check(cfg->method, cfg->pv, err, sizeof err) != HX_OK) return bad("%s", err);
    if (!a->given[run_key_find("emb_optimizer") - run_keys])
        cfg->train.emb_optimizer = run_default_emb_optimizer(cfg->train.optimizer);
    if (!a->given[run_key_find("bottom_mlp") - run_keys]) cfg->model.bottom[cfg->model.n_bottom - 1] = cfg->dim;
    char kind[sizeof cfg->dataset.kind];
    snprintf(kind, sizeof kind, "%s", cfg->dataset.kind);
    if (ds_spec_from_args(&cfg->dataset, kind, kind, a->n_dskv, a->dskv, err, sizeof err) != HX_OK ||
        ds_spec_validate(&cfg->dataset, "command line", err, sizeof err) != HX_OK)
        return bad("dataset: %s", err);
    return 0;
}

/* --scores FILE: the run's selected test scores saved as they arrive. */
typedef struct scores_out {
    const char *path;
    hx_status   st;
    int64_t     n;
    char        err[512];
} scores_out;

static void on_scores(void *ctx, const float *logits, const float *label, int64_t n) {
    scores_out *o = ctx;
    o->n = n;
    o->st = scores_save(o->path, logits, label, n, o->err, sizeof o->err);
}

/* Train, print the summary, save the scores if asked; the exit status. */
static int train_run(const train_args *a) {
    char err[512];
    run_result res;
    scores_out so = {.path = a->scores};
    run_observer obs = {.ctx = &so, .scores = on_scores};
    hx_status st = run_execute(&a->cfg, a->scores ? &obs : NULL, &res, err, sizeof err);
    if (st != HX_OK) {
        fprintf(stderr, "embsweep train: %s: %s\n", hx_status_str(st), err);
        return st == HX_ERR_PARAM ? 2 : 1;
    }
    print_summary(&a->cfg, &res);
    if (!a->scores) return 0;
    if (so.st != HX_OK) {
        fprintf(stderr, "embsweep train: %s\n", so.err);
        return 1;
    }
    printf("  scores     %lld test logits and labels in %s\n", (long long)so.n, a->scores);
    return 0;
}

int cmd_train(int argc, char **argv) {
    train_args *a = hx_calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "embsweep train: out of memory\n");
        return 1;
    }
    HX_ASSERT(run_keys_n <= (int)sizeof a->given);
    run_config_default(&a->cfg);
    int rc = parse_args(argc, argv, a);
    if (rc == 0) rc = resolve(a);
    if (rc == 0) rc = train_run(a);
    for (int k = 0; k < a->n_dskv; k++) hx_free(a->dskv[k]);
    hx_free(a);
    return rc < 0 ? 0 : rc;
}

static const char *param_type_name(emb_param_type t) {
    switch (t) {
    case EMB_P_INT: return "int";
    case EMB_P_FLOAT: return "float";
    case EMB_P_ENUM: return "enum";
    case EMB_P_BOOL: return "bool";
    }
    return "?";
}

int cmd_methods(int argc, char **argv) {
    if (argc > 1) {
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fprintf(help ? stdout : stderr,
                "%susage: embsweep methods\n\nList every embedding method: its name first on the "
                "line, a description and citation, then its parameters (type, range, default, "
                "help).\n",
                help ? "" : "embsweep methods: takes no arguments\n\n");
        return help ? 0 : 2;
    }
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (m->caps & EMB_CAP_TEST_ONLY) continue;
        if (m->alias) printf("%-10s %s (alias %s)\n", m->name, m->desc, m->alias);
        else printf("%-10s %s\n", m->name, m->desc);
        printf("%-10s cite: %s\n", "", m->cite ? m->cite : "-");
        if (!m->params[0].name) printf("%-10s (no parameters)\n", "");
        for (int k = 0; m->params[k].name; k++) {
            const emb_param_desc *d = &m->params[k];
            char range[96] = "", def[48];
            if (d->type == EMB_P_ENUM) {
                size_t u = 0;
                for (int c = 0; d->choices[c] && u < sizeof range; c++)
                    u += (size_t)snprintf(range + u, sizeof range - u, "%s%s", c ? "|" : "", d->choices[c]);
            } else if (d->type == EMB_P_BOOL) {
                snprintf(range, sizeof range, "true|false");
            } else {
                snprintf(range, sizeof range, "[%g, %g]", d->min, d->max);
            }
            if (d->auto_ok && d->def == EMB_AUTO) snprintf(def, sizeof def, "auto");
            else if (d->type == EMB_P_ENUM) snprintf(def, sizeof def, "%s", d->choices[(int)d->def]);
            else if (d->type == EMB_P_BOOL) snprintf(def, sizeof def, "%s", d->def ? "true" : "false");
            else snprintf(def, sizeof def, "%g", d->def);
            printf("%-10s   %-14s %-5s %-22s default %-9s %s\n", "", d->name, param_type_name(d->type),
                   range, def, d->help ? d->help : "");
        }
    }
    return 0;
}
