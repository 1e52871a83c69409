/* dataset_cli.c: `embsweep dataset` - inspect datasets and their kinds.
 *   embsweep dataset info NAME|FILE [--kind K] [--cache DIR] [key=value ...]
 *   embsweep dataset kinds
 *   embsweep dataset bench FILE [--kind K] [key=value ...]
 *   embsweep dataset gen FILE [key=value ...]
 * NAME is a kind (synthetic ...); FILE is a path whose kind is guessed from its
 * name unless --kind is given. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "datasets/ds_text.h"

static void usage(FILE *f) {
    fprintf(f, "usage: embsweep dataset info NAME|FILE [--kind K] [--cache DIR] [key=value ...]\n"
               "       embsweep dataset kinds\n"
               "       embsweep dataset bench FILE [--kind K] [key=value ...]\n"
               "       embsweep dataset gen FILE [key=value ...]\n\n"
               "info loads (or builds and caches) a dataset and prints rows per split, per-field\n"
               "cardinalities, positive rates and the recipe. NAME is a kind such as synthetic;\n"
               "a FILE's kind is guessed from its name (.tsv[.gz] criteo, .csv[.gz] avazu,\n"
               "a directory or ratings.dat movielens, .libfm/.libsvm libfm) unless --kind.\n"
               "key=value pairs are the dataset's parameters (see `embsweep dataset kinds`).\n"
               "bench times one full build of FILE (parse, vocabularies, cache write, in a temp\n"
               "dir) and prints the text throughput in MB/s of uncompressed text on one core.\n"
               "gen generates the criteo_synth dataset of the key=value pairs (scale=1: Criteo\n"
               "Kaggle's 45.8M rows and 26 cardinalities) and writes it as Criteo Kaggle text\n"
               "to FILE (gzip when FILE ends in .gz), train rows first, so that the criteo\n"
               "loader can be run and timed on it; the split fractions carry over with the\n"
               "criteo kind's sequential split.\n");
}

static const char *guess_kind(const char *path) {
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) return "movielens";
    if (strstr(path, ".tsv")) return "criteo";
    if (strstr(path, ".csv")) return "avazu";
    if (strstr(path, "ratings.dat") || strstr(path, "u.data")) return "movielens";
    if (strstr(path, ".libfm") || strstr(path, ".libsvm") || strstr(path, ".svm")) return "libfm";
    return NULL;
}

static void print_kinds(void) {
    for (size_t i = 0; i < ds_kind_count(); i++) {
        const ds_kind *k = ds_kind_find(ds_kind_name(i));
        printf("%s  %s\n", k->name, k->help);
        for (const ds_param *p = k->params; p->name; p++)
            printf("    %-14s %-38s (default %s)\n", p->name, p->help, *p->def ? p->def : "empty");
    }
}

/* This process's peak resident set (VmHWM) in bytes, 0 if unknown. */
static double peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    return kb * 1024;
}

static void print_info(const ds_data *d, double secs) {
    printf("dataset   %s (kind %s)\n", d->id, d->kind);
    printf("rows      %lld: train %lld, validation %lld, test %lld\n", (long long)d->n_rows,
           (long long)d->n_train, (long long)d->n_val, (long long)d->n_test);
    printf("positive  train %.4f, test %.4f\n", d->pos_rate_train, d->pos_rate_test);
    if (!isnan(d->bayes_auc))
        printf("bayes     test AUC %.4f, logloss %.4f (from the planted probabilities)\n", d->bayes_auc,
               d->bayes_logloss);
    printf("dense     %d features\n", d->n_dense);
    printf("fields    %d:", d->n_fields);
    long long total = 0;
    for (int32_t f = 0; f < d->n_fields; f++) {
        printf(" %s=%lld", d->field_names ? d->field_names[f] : "?", (long long)d->card[f]);
        total += d->card[f];
    }
    printf("\n          %lld ids in all\n", total);
    printf("recipe    %s\n", d->recipe);
    printf("loaded    in %.2f s, peak RSS %.0f MiB\n", secs, peak_rss() / 1048576.0);
}

/* Uncompressed text bytes of path (a directory: its u.data or ratings.dat). */
static double text_bytes(const char *path, const char *kind, double *secs) {
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s", path);
    if (!strcmp(kind, "movielens") && !stat(path, &st) && S_ISDIR(st.st_mode)) {
        snprintf(p, sizeof p, "%s/ratings.dat", path);
        if (stat(p, &st)) snprintf(p, sizeof p, "%s/u.data", path);
    }
    ds_reader r;
    char err[512], *line;
    size_t len;
    double t0 = hx_now();
    if (ds_reader_open(&r, p, "text", err, sizeof err) != HX_OK) return -1;
    while (ds_reader_next(&r, &line, &len) != DS_LINE_EOF) {
    }
    double b = (double)r.bytes;
    ds_reader_close(&r);
    *secs = hx_now() - t0;
    return b;
}

/* Progress on a terminal only (a log gets the summary line). */
static void gen_progress(void *arg, int64_t done, int64_t total) {
    if (!isatty(STDERR_FILENO)) return;
    fprintf(stderr, "\rembsweep dataset gen: %s: %lld of %lld rows written", (const char *)arg, (long long)done,
            (long long)total);
    if (done * 20 / total >= 20) fputc('\n', stderr);
}

/* The value of key in a canonical recipe "k=v;k=v;...", into out. */
static const char *recipe_value(const char *recipe, const char *key, char *out, size_t n) {
    char pat[64];
    snprintf(pat, sizeof pat, ";%s=", key);
    const char *p = strstr(recipe, pat);
    snprintf(out, n, "%.*s", p ? (int)strcspn(p + strlen(pat), ";") : 0, p ? p + strlen(pat) : "");
    return out;
}

static int gen(int argc, char **argv) {
    const char *path = argv[2];
    ds_spec s;
    char err[2048];
    if (ds_spec_from_args(&s, "criteo_synth", "criteo_synth", argc - 3, argv + 3, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep dataset gen: %s\n", err);
        return 2;
    }
    ds_data *d = NULL;
    double t0 = hx_now();
    hx_status st = ds_load(&s, NULL, &d, err, sizeof err);
    if (st == HX_OK) {
        fprintf(stderr, "embsweep dataset gen: generated %lld rows in %.1f s\n", (long long)d->n_rows,
                hx_now() - t0);
        st = ds_write_criteo(d, path, gen_progress, (void *)path, err, sizeof err);
    }
    if (st != HX_OK) {
        fprintf(stderr, "embsweep dataset gen: %s\n", err);
        ds_free(d);
        return st == HX_ERR_PARAM ? 2 : 1;
    }
    printf("wrote     %s: %lld rows (train %lld, validation %lld, test %lld) of %s in %.1f s, peak RSS %.0f MiB\n",
           path, (long long)d->n_rows, (long long)d->n_train, (long long)d->n_val, (long long)d->n_test, d->id,
           hx_now() - t0, peak_rss() / 1048576.0);
    if (!isnan(d->bayes_auc))
        printf("bayes     test AUC %.4f, logloss %.4f (the planted model's ceiling on the test rows)\n", d->bayes_auc,
               d->bayes_logloss);
    char vf[32], tf[32];
    printf("load it   embsweep dataset info %s val_frac=%s test_frac=%s\n", path,
           recipe_value(d->recipe, "val_frac", vf, sizeof vf), recipe_value(d->recipe, "test_frac", tf, sizeof tf));
    ds_free(d);
    return 0;
}

static int bench(const ds_spec *s, const char *path) {
    double read_s = 0, bytes = text_bytes(path, s->kind, &read_s);
    if (bytes < 0) {
        fprintf(stderr, "embsweep dataset: cannot read '%s'\n", path);
        return 1;
    }
    char err[2048];
    ds_data *d = NULL;
    double t0 = hx_now(), c0 = hx_cpu_time();
    hx_status st = ds_load(s, NULL, &d, err, sizeof err);
    double wall = hx_now() - t0, cpu = hx_cpu_time() - c0;
    if (st != HX_OK) {
        fprintf(stderr, "embsweep dataset: %s\n", err);
        return 1;
    }
    printf("file      %s (%s)\n", path, s->kind);
    printf("text      %.1f MB uncompressed, %lld rows\n", bytes / 1e6, (long long)d->n_rows);
    printf("read      %.2f s (decompress + split lines only): %.0f MB/s\n", read_s, bytes / 1e6 / read_s);
    printf("build     %.2f s wall, %.2f s CPU (parse, vocabularies, cache write)\n", wall, cpu);
    printf("speed     %.0f MB/s of text per CPU second, %.0f MB/s wall (wall includes I/O waits)\n",
           bytes / 1e6 / cpu, bytes / 1e6 / wall);
    ds_free(d);
    return 0;
}

int cmd_dataset(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 2; i < argc; i++) /* `dataset gen --help` must not write a file named --help */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    if (!strcmp(argv[1], "kinds")) {
        print_kinds();
        return 0;
    }
    if (!strcmp(argv[1], "gen")) {
        if (argc < 3 || strchr(argv[2], '=') || argv[2][0] == '-') {
            fprintf(stderr, "embsweep dataset gen: expected FILE first, got %s\n\n", argc < 3 ? "nothing" : argv[2]);
            usage(stderr);
            return 2;
        }
        return gen(argc, argv);
    }
    int is_bench = !strcmp(argv[1], "bench");
    if ((strcmp(argv[1], "info") && !is_bench) || argc < 3) {
        fprintf(stderr, "embsweep dataset: unknown or incomplete subcommand\n\n");
        usage(stderr);
        return 2;
    }
    const char *target = argv[2], *kind = NULL, *cache = NULL;
    char *kv[DS_MAX_KEYS + 1];
    int nkv = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--kind") && i + 1 < argc) kind = argv[++i];
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
        else if (strchr(argv[i], '=') && nkv < DS_MAX_KEYS + 1) kv[nkv++] = argv[i];
        else {
            fprintf(stderr, "embsweep dataset: unexpected argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char pathkv[600];
    const char *name = target;
    if (ds_kind_find(target) && !kind) {
        kind = target;
    } else {
        if (!kind) kind = guess_kind(target);
        if (!kind) {
            fprintf(stderr, "embsweep dataset: cannot tell the kind of '%s'; give --kind\n", target);
            return 2;
        }
        snprintf(pathkv, sizeof pathkv, "path=%s", target);
        if (nkv < DS_MAX_KEYS + 1) kv[nkv++] = pathkv;
        name = kind;
    }
    ds_spec s;
    char err[2048];
    if (ds_spec_from_args(&s, name, kind, nkv, kv, err, sizeof err) != HX_OK) {
        fprintf(stderr, "embsweep dataset: %s\n", err);
        return 2;
    }
    if (is_bench) return bench(&s, target);
    ds_data *d = NULL;
    double t0 = hx_now();
    hx_status st = ds_load(&s, cache, &d, err, sizeof err);
    if (st != HX_OK) {
        fprintf(stderr, "embsweep dataset: %s\n", err);
        return st == HX_ERR_PARAM ? 2 : 1;
    }
    print_info(d, hx_now() - t0);
    ds_free(d);
    return 0;
}
