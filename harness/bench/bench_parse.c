/* bench_parse.c: the dataset parse benchmark of `embsweep bench` (target: parse
 * speed of at least 100 MB/s of text on one core). Writes Criteo-format text
 * (label, I1..I13, C1..C26, tab-separated) from a seeded generator into a temp
 * dir, then times one full build of each file through ds_load (parse,
 * vocabularies, temp file, cache write and its verification), the same path a
 * sweep takes. Reports MB of text per process-CPU second (the steady figure on a
 * shared machine) and per wall second.
 *
 * Cases (our own choice [R]; value v of field j is floor(u^3 * spread * (j+1)),
 * u uniform, written as 8-digit hex of v * 2654435761 mod 2^32; ints are empty
 * with probability 0.2, else floor(u1 * u2 * 1000); label 1 with probability 0.25):
 *   criteo_plain  spread 400: about 60k distinct values, as the Criteo sample
 *   criteo_gzip   the same text gzip-compressed (zlib level 1)
 *   criteo_vocab  spread 40000: about 10x the distinct values per MB of the
 *                 full Criteo file (the large-vocabulary worst case)
 * The numbers are only as quiet as the machine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/dataset.h"
#include "bench_parse.h"

/* One generated row (newline included) into buf (>= 512 bytes); its length. */
static size_t gen_row(hx_rng *r, double spread, char *buf) {
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    *p++ = hx_rng_uniform(r) < 0.25 ? '1' : '0';
    for (int j = 0; j < 13; j++) {
        *p++ = '\t';
        if (hx_rng_uniform(r) < 0.2) continue;
        p += sprintf(p, "%d", (int)(hx_rng_uniform(r) * hx_rng_uniform(r) * 1000));
    }
    for (int j = 0; j < 26; j++) {
        double u = hx_rng_uniform(r);
        uint32_t v = (uint32_t)((uint64_t)(u * u * u * spread * (j + 1)) * 2654435761u);
        *p++ = '\t';
        for (int k = 7; k >= 0; k--) *p++ = hex[v >> (4 * k) & 15];
    }
    *p++ = '\n';
    return (size_t)(p - buf);
}

int bench_gen_criteo(const char *path, double mb, double spread, uint64_t seed, int gzip) {
    FILE *f = gzip ? NULL : fopen(path, "wb");
    gzFile g = gzip ? gzopen(path, "wb1") : NULL;
    if (!f && !g) return -1;
    if (g) gzbuffer(g, 1 << 20);
    hx_rng r;
    hx_rng_seed(&r, seed);
    char row[512];
    int ok = 1;
    for (double bytes = 0; ok && bytes < mb * 1e6;) {
        size_t n = gen_row(&r, spread, row);
        ok = g ? gzwrite(g, row, (unsigned)n) == (int)n : fwrite(row, 1, n, f) == n;
        bytes += (double)n;
    }
    if (g) return gzclose(g) == Z_OK && ok ? 0 : -1;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Time one build of path; MB/s of text (text_mb) per wall and CPU second. */
static int time_build(const char *path, double text_mb, double *wall_rate, double *cpu_rate,
                      int64_t *rows) {
    char err[1024], arg[600];
    snprintf(arg, sizeof arg, "path=%s", path);
    char *kv[1] = {arg};
    ds_spec spec;
    ds_data *d = NULL;
    if (ds_spec_from_args(&spec, "bench", "criteo", 1, kv, err, sizeof err) != HX_OK) goto fail;
    double t0 = hx_now(), c0 = hx_cpu_time();
    if (ds_load(&spec, NULL, &d, err, sizeof err) != HX_OK) goto fail;
    *wall_rate = text_mb / (hx_now() - t0);
    *cpu_rate = text_mb / (hx_cpu_time() - c0);
    *rows = d->n_rows;
    ds_free(d);
    return 0;
fail:
    fprintf(stderr, "embsweep bench: %s\n", err);
    return -1;
}

int bench_parse(sqlite3 *db, const char *host, double mb, uint64_t seed) {
    static const struct { const char *name; double spread; int gzip; } cases[] = {
        {"criteo_plain", 400, 0}, {"criteo_gzip", 400, 1}, {"criteo_vocab", 40000, 0}};
    const char *t = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/embsweep-parse-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "embsweep bench: cannot create a temp dir: %s\n", strerror(errno));
        return -1;
    }
    int rc = 0;
    printf("\nparse: one full dataset build (ds_load: parse, vocabularies, cache) of %.0f MB of\n"
           "generated Criteo-format text per case (seed %llu)\n",
           mb, (unsigned long long)seed);
    printf("%-14s %10s %12s %16s\n", "case", "rows", "MB/s wall", "MB/s per CPU s");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s.tsv%s", dir, cases[i].name, cases[i].gzip ? ".gz" : "");
        if (bench_gen_criteo(path, mb, cases[i].spread, seed, cases[i].gzip)) {
            fprintf(stderr, "embsweep bench: cannot write %s\n", path);
            rc = -1;
            break;
        }
        /* text size: generation stops at the first row past mb; measure it exactly */
        FILE *f = NULL;
        double text = 0;
        if (!cases[i].gzip) {
            f = fopen(path, "rb");
            if (f && !fseek(f, 0, SEEK_END)) text = (double)ftell(f) / 1e6;
            if (f) fclose(f);
        } else {
            gzFile g = gzopen(path, "rb");
            static char buf[1 << 16];
            int n;
            while (g && (n = gzread(g, buf, sizeof buf)) > 0) text += n / 1e6;
            if (g) gzclose(g);
        }
        double wall = 0, cpu = 0;
        int64_t rows = 0;
        char name[64];
        if (text <= 0 || time_build(path, text, &wall, &cpu, &rows)) {
            rc = -1;
            break;
        }
        printf("%-14s %10lld %12.0f %16.0f\n", cases[i].name, (long long)rows, wall, cpu);
        snprintf(name, sizeof name, "parse_%s_MBps", cases[i].name);
        if (bench_db_store(db, name, 1, wall, -1, -1, cpu, host)) {
            fprintf(stderr, "embsweep bench: %s\n", sqlite3_errmsg(db));
            rc = -1;
        }
        unlink(path);
    }
    rmdir(dir);
    if (rc == 0) printf("parse rows stored as parse_<case>_MBps: samples_per_s = MB/s wall, "
                        "cpu_samples_per_s = MB/s per CPU second\n");
    return rc;
}
