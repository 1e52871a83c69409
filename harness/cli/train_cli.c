/* train_cli.c: `embsweep train` (one cell from flags, a one-screen summary) and
 * `embsweep methods` (the method registry with its parameter tables).
 * Exit status: 0 ok, 1 a run failure (divergence, I/O), 2 bad usage or values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness/core/pool.h"
#include "harness/train/run.h"

static void train_usage(FILE *f, int full) {
    fprintf(f,
            "usage: embsweep train [--dataset KIND] [--KEY VALUE ...] [--method NAME] [--dim N]\n"
            "                      [--ratio R] [--epochs E] [--seed S] [--param K=V ...]\n"
            "                      [--batch N] [--eval-batch N] [--lr X] [--emb-lr X]\n"
            "                      [--optimizer sgd|adagrad|adam]\n"
            "                      [--emb-optimizer sgd|rowwise_adagrad|adagrad|adam]\n"
            "                      [--bottom W,W,...] [--top W,W,...] [--interaction dot|cat]\n"
            "                      [--threads N] [--log-every N] [--cache DIR]\n");
    if (!full) {
        fprintf(f, "(embsweep train --help for details)\n");
        return;
    }
    fprintf(f,
            "\nTrain and evaluate one cell and print a summary: test AUC, logloss and the\n"
            "Bayes AUC, requested and achieved compression ratio, inference and training\n"
            "bytes, peak RSS, training and inference samples/s.\n\n"
            "  --dataset KIND     dataset kind (default synthetic); any other --KEY VALUE\n"
            "                     is a dataset key, e.g. --rows 20000 --fields 8 --dense 4\n"
            "  --method NAME      embedding method (default full; see `embsweep methods`)\n"
            "  --dim N            embedding width (default 16)\n"
            "  --ratio R          requested compression ratio (default 1)\n"
            "  --epochs E         epochs, may be fractional (default 1)\n"
            "  --seed S           seed for init, hashing and shuffling (default 1)\n"
            "  --param K=V        a method parameter (`auto` where allowed)\n"
            "  --batch N          training batch (default 256)\n"
            "  --lr X             learning rate (default 0.003); --emb-lr X for embeddings\n"
            "  --optimizer O      dense optimizer (default adam); embeddings default to\n"
            "                     rowwise_adagrad for adagrad, else the same optimizer\n"
            "  --bottom W,...     bottom MLP widths (default 64,DIM); last = dim for dot\n"
            "  --top W,...        top MLP hidden widths (default 64,32); a final 1 is implied\n"
            "  --interaction I    dot (default) or cat\n"
            "  --threads N        engine threads (default 1): batch rows, weight-gradient\n"
            "                     rows and embedding fields are split across them; the\n"
            "                     same seed and thread count give the same bits\n");
}

static int bad(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "embsweep train: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n\n");
    train_usage(stderr, 0);
    return 2;
}

static int parse_widths(const char *s, int32_t *w, int32_t *n) {
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (*n >= RUN_MAX_LAYERS || hx_parse_i64(tok, &v) || v < 1 || v > 65536) return -1;
        w[(*n)++] = (int32_t)v;
    }
    return *n > 0 ? 0 : -1;
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

static void print_summary(const run_config *cfg, const run_result *r) {
    const int threads = cfg->train.threads > 1 ? cfg->train.threads : 1;
    char p[256], a[32], b[32], c[32], d[32], e[32];
    emb_params_format(cfg->method, cfg->pv, p, sizeof p);
    printf("embsweep train: %s (%s) dim %d, ratio %g, on %s, seed %llu\n", cfg->method->name,
           p[0] ? p : "no parameters", cfg->dim, cfg->ratio, cfg->dataset.kind,
           (unsigned long long)cfg->seed);
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
    printf("  bytes      inference %s (index %s), training %s (optimizer %s); dense MLPs %s\n", a,
           b, c, d, e);
    hx_human_bytes(peak_rss(), a, sizeof a);
    printf("  peak RSS   %s (VmHWM)\n", a);
    printf("  speed      train %.0f samples/s, inference %.0f samples/s (%d thread%s)\n",
           r->train_samples_per_s, r->infer_samples_per_s, threads, threads == 1 ? "" : "s");
    printf("  time       wall %.2f s, cpu %.2f s (load %.2f, train %.2f, eval %.2f); %lld steps, "
           "last train loss %.4f\n",
           r->wall_s, r->cpu_s, r->load_s, r->train_s, r->eval_s, (long long)r->steps,
           r->final_train_loss);
}

int cmd_train(int argc, char **argv) {
    run_config cfg;
    run_config_default(&cfg);
    const char *kind = "synthetic";
    const char *params[EMB_MAX_PARAMS];
    char *dskv[DS_MAX_KEYS];
    int n_params = 0, n_dskv = 0, bottom_given = 0, emb_opt_given = 0, rc = 2;
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            train_usage(stdout, 1);
            rc = 0;
            goto out;
        }
        if (strncmp(f, "--", 2) != 0 || !f[2]) {
            rc = bad("unexpected argument '%s'%s", f, "");
            goto out;
        }
        if (i + 1 >= argc) {
            rc = bad("%s needs a value%s", f, "");
            goto out;
        }
        const char *v = argv[++i];
        int64_t iv = 0;
        double dv = 0;
        int ok = 1;
        if (!strcmp(f, "--dataset")) kind = v;
        else if (!strcmp(f, "--method")) {
            cfg.method = emb_method_find(v);
            if (!cfg.method) {
                rc = bad("unknown method '%s'%s (see `embsweep methods`)", v, "");
                goto out;
            }
            emb_params_default(cfg.method, cfg.pv);
        } else if (!strcmp(f, "--dim")) ok = !hx_parse_i64(v, &iv) && iv >= 1 && iv <= 4096, cfg.dim = (int32_t)iv;
        else if (!strcmp(f, "--ratio")) ok = !hx_parse_f64(v, &dv) && dv >= 1, cfg.ratio = dv;
        else if (!strcmp(f, "--epochs")) ok = !hx_parse_f64(v, &dv) && dv > 0 && dv <= 1e4, cfg.train.epochs = dv;
        else if (!strcmp(f, "--seed")) ok = !hx_parse_i64(v, &iv) && iv >= 0, cfg.seed = (uint64_t)iv;
        else if (!strcmp(f, "--batch")) ok = !hx_parse_i64(v, &iv) && iv >= 1 && iv <= 1 << 20, cfg.train.batch = (int32_t)iv;
        else if (!strcmp(f, "--eval-batch")) ok = !hx_parse_i64(v, &iv) && iv >= 1 && iv <= 1 << 20, cfg.train.eval_batch = (int32_t)iv;
        else if (!strcmp(f, "--lr")) ok = !hx_parse_f64(v, &dv) && dv > 0, cfg.train.lr = dv;
        else if (!strcmp(f, "--emb-lr")) ok = !hx_parse_f64(v, &dv) && dv > 0, cfg.train.emb_lr = dv;
        else if (!strcmp(f, "--threads")) ok = !hx_parse_i64(v, &iv) && iv >= 0 && iv <= HX_POOL_MAX, cfg.train.threads = (int32_t)iv;
        else if (!strcmp(f, "--log-every")) ok = !hx_parse_i64(v, &iv) && iv >= 1, cfg.train.log_every = (int32_t)iv;
        else if (!strcmp(f, "--cache")) cfg.cache_dir = v;
        else if (!strcmp(f, "--optimizer"))
            ok = !opt_kind_parse(v, &cfg.train.optimizer) && cfg.train.optimizer != OPT_ROWWISE_ADAGRAD;
        else if (!strcmp(f, "--emb-optimizer")) ok = !opt_kind_parse(v, &cfg.train.emb_optimizer), emb_opt_given = 1;
        else if (!strcmp(f, "--bottom")) ok = !parse_widths(v, cfg.model.bottom, &cfg.model.n_bottom), bottom_given = 1;
        else if (!strcmp(f, "--top")) ok = !parse_widths(v, cfg.model.top, &cfg.model.n_top);
        else if (!strcmp(f, "--interaction")) {
            if (!strcmp(v, "dot")) cfg.model.interaction = INTERACT_DOT;
            else if (!strcmp(v, "cat")) cfg.model.interaction = INTERACT_CAT;
            else ok = 0;
        } else if (!strcmp(f, "--param")) {
            if (n_params >= EMB_MAX_PARAMS) ok = 0;
            else params[n_params++] = v;
        } else {
            if (n_dskv >= DS_MAX_KEYS) {
                rc = bad("too many dataset keys (at most %d)%s", "32", "");
                goto out;
            }
            size_t n = strlen(f + 2) + strlen(v) + 2;
            dskv[n_dskv] = hx_xmalloc(n);
            snprintf(dskv[n_dskv++], n, "%s=%s", f + 2, v);
        }
        if (!ok) {
            rc = bad("bad value '%s' for %s", v, f);
            goto out;
        }
    }
    if (!cfg.method) {
        fprintf(stderr, "embsweep train: method 'full' is not built\n");
        goto out;
    }
    for (int k = 0; k < n_params; k++)
        if (parse_param(cfg.method, params[k], cfg.pv, err, sizeof err) != HX_OK) {
            rc = bad("%s%s", err, "");
            goto out;
        }
    if (emb_params_check(cfg.method, cfg.pv, err, sizeof err) != HX_OK) {
        rc = bad("%s%s", err, "");
        goto out;
    }
    if (!emb_opt_given) cfg.train.emb_optimizer = run_default_emb_optimizer(cfg.train.optimizer);
    if (!bottom_given) cfg.model.bottom[cfg.model.n_bottom - 1] = cfg.dim;
    if (ds_spec_from_args(&cfg.dataset, kind, kind, n_dskv, dskv, err, sizeof err) != HX_OK ||
        ds_spec_validate(&cfg.dataset, "command line", err, sizeof err) != HX_OK) {
        rc = bad("dataset: %s%s", err, "");
        goto out;
    }
    run_result res;
    hx_status st = run_execute(&cfg, NULL, &res, err, sizeof err);
    if (st != HX_OK) {
        fprintf(stderr, "embsweep train: %s: %s\n", hx_status_str(st), err);
        rc = st == HX_ERR_PARAM ? 2 : 1;
        goto out;
    }
    print_summary(&cfg, &res);
    rc = 0;
out:
    for (int k = 0; k < n_dskv; k++) hx_free(dskv[k]);
    return rc;
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
