/* compare_cli.c: `embsweep compare`, its options and usage; the work is
 * vd_compare in harness/report/verdict_out.c (the pair mode: verdict_pair.c). Exit 0 ok, 1 a database or I/O
 * failure, 2 bad usage or nothing to compare. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "harness/report/verdict.h"

#define DEFAULT_DB "results/results.db"

static void compare_usage(FILE *f) {
    fprintf(f,
            "usage: embsweep compare [--db PATH] [--sweep NAME] [--dataset NAME] [--dim N]\n"
            "                        [--baseline METHOD[@RATIO|@same]] [--baseline-params 'K=V ...']\n"
            "                        [--margin AUC] [--alpha A] [--csv]\n"
            "       embsweep compare [--db PATH] [--sweep NAME] [--dataset NAME]\n"
            "                        --config 'K=V ...' --against 'K=V ...'\n"
            "                        [--config 'K=V ...' --against 'K=V ...']...\n"
            "                        [--margin AUC] [--alpha A] [--csv]\n"
            "Judges every (method, ratio) of each (sweep, dataset, dim) against a baseline,\n"
            "runs paired by seed: mean test AUC with its confidence interval over seeds,\n"
            "the paired difference to the baseline with its interval and t-test p, DeLong's\n"
            "p on the shared test rows (combined over seeds), and a verdict: better, worse,\n"
            "equivalent within the margin, or not resolved (with the seeds it would take).\n"
            "The pair mode judges any config against any other, across dims, settings or\n"
            "methods: one row per --config/--against pair, the two selectors first.\n"
            "results/README.md explains each column and rule.\n\n"
            "  --db PATH            results database (default %s), opened read-only\n"
            "  --sweep NAME         one sweep (default: every one)\n"
            "  --dataset NAME       one dataset (default: every one)\n"
            "  --dim N              one embedding dim (default: every one)\n"
            "  --baseline M[@R]     the baseline method, at ratio R (default full at its\n"
            "                       smallest ratio); M@same: at each row's own ratio\n"
            "                       (the same memory budget)\n"
            "  --baseline-params P  the baseline's parameters include these (\"hash=mod\")\n"
            "  --margin AUC         equivalence margin (default 0.001)\n"
            "  --alpha A            test level, intervals are 1 - A (default 0.05)\n"
            "  --csv                CSV instead of aligned columns\n"
            "  --config SEL         pair mode: the config judged; SEL is space-separated K=V\n"
            "                       terms that must pick one config (its runs over seeds):\n"
            "                       method, dim, ratio, dataset, arch, a training key (lr,\n"
            "                       emb_lr, optimizer, ...), model.NAME, params.NAME; numbers\n"
            "                       compare as numbers. e.g. 'method=mlet dim=4'\n"
            "  --against SEL        the config it is judged against (the pair's baseline),\n"
            "                       e.g. 'method=full dim=16'; follows each --config\n",
            DEFAULT_DB);
}

/* A number in (lo, hi) from an option's value; 0 on success. */
static int parse_num(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > lo && v < hi)) {
        fprintf(stderr, "embsweep compare: %s: expected a number in (%g, %g), got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* METHOD or METHOD@RATIO into o->v.baseline (a copy kept in buf). */
static int parse_baseline(const char *s, char *buf, size_t n, vd_compare_opts *o) {
    snprintf(buf, n, "%s", s);
    char *at = strchr(buf, '@');
    if (at) {
        *at = 0;
        if (!strcmp(at + 1, "same")) o->v.baseline_ratio = -1;
        else if (parse_num("--baseline", at + 1, 0, INFINITY, &o->v.baseline_ratio)) return -1;
    }
    if (!buf[0]) {
        fprintf(stderr, "embsweep compare: --baseline: expected a method name\n");
        return -1;
    }
    o->v.baseline = buf;
    return 0;
}

/* The selectors of the pair mode: each --config followed by its --against. */
typedef struct pairs {
    const char **config, **against;
    size_t       n;
    int          open; /* a --config waits for its --against */
} pairs;

static int parse_pair(const char *a, const char *v, pairs *p) {
    int cfg = !strcmp(a, "--config");
    if (cfg == p->open) {
        fprintf(stderr, "embsweep compare: %s\n",
                cfg ? "--config follows a --config without its --against" : "--against without a --config before it");
        return -1;
    }
    if (cfg) p->config[p->n] = v;
    else p->against[p->n++] = v;
    p->open = cfg;
    return 0;
}

static int parse_opt(const char *a, const char *v, vd_compare_opts *o, char *base, size_t n) {
    double d;
    if (!strcmp(a, "--db")) o->db = v;
    else if (!strcmp(a, "--sweep")) o->sweep = v;
    else if (!strcmp(a, "--dataset")) o->dataset = v;
    else if (!strcmp(a, "--dim")) {
        if (parse_num(a, v, 0, 1e6, &d)) return -1;
        if (d != floor(d)) {
            fprintf(stderr, "embsweep compare: --dim: expected a whole number, got '%s'\n", v);
            return -1;
        }
        o->dim = (int64_t)d;
    } else if (!strcmp(a, "--baseline")) return parse_baseline(v, base, n, o);
    else if (!strcmp(a, "--baseline-params")) o->v.baseline_params = v;
    else if (!strcmp(a, "--margin")) return parse_num(a, v, 0, 1, &o->v.margin);
    else if (!strcmp(a, "--alpha")) return parse_num(a, v, 0, 1, &o->v.alpha);
    else {
        fprintf(stderr, "embsweep compare: unexpected argument '%s'\n", a);
        return -1;
    }
    return 0;
}

static int takes_value(const char *a) {
    static const char *const k[] = {"--db",     "--sweep",  "--dataset", "--dim",    "--baseline", "--baseline-params",
                                     "--margin", "--alpha", "--config",  "--against"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(a, k[i])) return 1;
    return 0;
}

/* The pair mode's selectors are complete and come without the group mode's options. */
static int pairs_check(const pairs *p, const vd_compare_opts *o) {
    if (p->open) {
        fprintf(stderr, "embsweep compare: --config needs its --against\n");
        return -1;
    }
    if (p->n && (o->dim || o->v.baseline_ratio || o->v.baseline_params || strcmp(o->v.baseline, "full"))) {
        fprintf(stderr, "embsweep compare: --dim, --baseline and --baseline-params do not apply to --config"
                        " pairs (put dim=N in the selectors)\n");
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, vd_compare_opts *o, pairs *p, char *base, size_t n) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--csv")) o->fmt = PL_FMT_CSV;
        else if (takes_value(a) && i + 1 >= argc) {
            fprintf(stderr, "embsweep compare: %s needs a value\n", a);
            return -1;
        } else if (!strcmp(a, "--config") || !strcmp(a, "--against")) {
            if (parse_pair(a, argv[++i], p)) return -1;
        } else if (parse_opt(a, takes_value(a) ? argv[++i] : "", o, base, n)) return -1;
    }
    return pairs_check(p, o);
}

int cmd_compare(int argc, char **argv) {
    vd_compare_opts o = {.db = DEFAULT_DB, .fmt = PL_FMT_TABLE};
    vd_opts_default(&o.v);
    char base[PL_NAME + 32];
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            compare_usage(stdout);
            return 0;
        }
    pairs p = {.config = hx_xmalloc((size_t)argc * sizeof *p.config),
               .against = hx_xmalloc((size_t)argc * sizeof *p.against)};
    int bad = parse_args(argc, argv, &o, &p, base, sizeof base);
    hx_status st = HX_ERR_PARAM;
    char err[4096];
    size_t rows = 0;
    if (bad) compare_usage(stderr);
    else {
        o.config = p.config, o.against = p.against, o.n_pairs = p.n;
        st = vd_compare(&o, stdout, &rows, err, sizeof err);
        if (st != HX_OK) fprintf(stderr, "embsweep compare: %s\n", err);
    }
    hx_free(p.config);
    hx_free(p.against);
    return cli_exit_status(st);
}
