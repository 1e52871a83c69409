/* test_real_samples.c: integration tests on samples of Criteo, Avazu and
 * MovieLens-100k kept outside the repository (../shared/data, or $EMBSWEEP_DATA;
 * never committed). Each loads a sample and compares rows per split, positive
 * rates, per-field distinct counts (card - 1: the OOV id) and a dense checksum
 * with values computed independently by /usr/bin/python3 over the raw file.
 * Skipped (cr_skip_test, with the reason) when the data is absent. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "datasets/dataset.h"
#include "fixtures.h"

static const char *data_dir(void) {
    static const char *cands[] = {"../shared/data", "../../shared/data"};
    const char *env = getenv("EMBSWEEP_DATA");
    struct stat st;
    if (env && !stat(env, &st)) return env;
    for (size_t i = 0; i < 2; i++)
        if (!stat(cands[i], &st) && S_ISDIR(st.st_mode)) return cands[i];
    return NULL;
}

/* Run a python script; parse its whitespace-separated numbers. */
static int run_python(const char *script, double *out, int cap) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 - <<'PYEOF'\n%s\nPYEOF\n", script);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = 0;
    while (n < cap && fscanf(p, "%lf", &out[n]) == 1) n++;
    cr_assert_eq(pclose(p), 0, "python failed");
    return n;
}

static const char *k_common =
    "def split(rows):\n"
    "    N = len(rows); nt = int(N * 0.1 + 0.5); nv = int(N * 0.1 + 0.5)\n"
    "    return N, rows[:N - nt - nv], nv, rows[N - nt:]\n"
    "def out(N, tr, nv, te, lab, cols, dense):\n"
    "    vals = [N, len(tr), nv, len(te), sum(map(lab, tr)) / len(tr), sum(map(lab, te)) / len(te), dense]\n"
    "    vals += [len(set(c(r) for r in tr)) for c in cols]\n"
    "    print(' '.join(repr(float(v)) for v in vals))\n";

static void check(const ds_data *d, const double *v, int nv, int n_fields) {
    cr_assert_eq(nv, 7 + n_fields, "python printed %d numbers", nv);
    cr_assert_eq(d->n_rows, (int64_t)v[0]);
    cr_assert_eq(d->n_train, (int64_t)v[1]);
    cr_assert_eq(d->n_val, (int64_t)v[2]);
    cr_assert_eq(d->n_test, (int64_t)v[3]);
    cr_assert_float_eq(d->pos_rate_train, v[4], 1e-9);
    cr_assert_float_eq(d->pos_rate_test, v[5], 1e-9);
    double dsum = 0;
    for (int64_t i = 0; i < d->n_train * d->n_dense; i++) dsum += d->dense[i];
    cr_assert_float_eq(dsum, v[6], 1e-3 * (1 + fabs(v[6])), "dense sum %f vs %f", dsum, v[6]);
    cr_assert_eq(d->n_fields, n_fields);
    for (int f = 0; f < n_fields; f++)
        cr_assert_eq(d->card[f], (int64_t)v[7 + f] + 1, "field %d (%s): card %lld, python %g distinct + OOV", f,
                     d->field_names[f], (long long)d->card[f], v[7 + f]);
}

Test(real_samples, criteo_avazu_movielens) {
    const char *dir = data_dir();
    if (!dir) cr_skip_test("no ../shared/data (set EMBSWEEP_DATA to the samples dir)");
    char path[512], script[6000], tmp[64], cache[128];
    double v[64];
    fx_tmpdir(tmp);
    snprintf(cache, sizeof cache, "%s/cache", tmp);

    snprintf(path, sizeof path, "%s/criteo_sample.tsv.gz", dir);
    ds_data *d = fx_load("criteo", path, cache);
    snprintf(script, sizeof script,
             "import gzip, math\n%s"
             "rows = [l.rstrip('\\n').split('\\t') for l in gzip.open('%s', 'rt')]\n"
             "N, tr, nv, te = split(rows)\n"
             "dense = sum(math.log1p(max(int(x), 0)) for r in tr for x in r[1:14] if x != '')\n"
             "out(N, tr, nv, te, lambda r: r[0] == '1', [lambda r, j=j: r[14 + j] for j in range(26)], dense)\n",
             k_common, path);
    int n = run_python(script, v, 64);
    cr_assert_eq(v[0], 10000);
    check(d, v, n, 26);
    ds_free(d);

    snprintf(path, sizeof path, "%s/avazu_sample.csv.gz", dir);
    d = fx_load("avazu", path, cache);
    snprintf(script, sizeof script,
             "import gzip, datetime\n%s"
             "lines = [l.rstrip('\\r\\n').split(',') for l in gzip.open('%s', 'rt')]\n"
             "head, rows = lines[0], lines[1:]\n"
             "N, tr, nv, te = split(rows)\n"
             "hod = lambda r: r[2][6:8]\n"
             "wd = lambda r: datetime.date(2000 + int(r[2][:2]), int(r[2][2:4]), int(r[2][4:6])).weekday()\n"
             "cols = [hod, wd] + [lambda r, j=j: r[j] for j in range(3, len(head))]\n"
             "out(N, tr, nv, te, lambda r: r[1] == '1', cols, 0)\n",
             k_common, path);
    n = run_python(script, v, 64);
    cr_assert_eq(v[0], 9999);
    check(d, v, n, 23);
    ds_free(d);

    snprintf(path, sizeof path, "%s/ml-100k", dir);
    d = fx_load("movielens", path, cache);
    snprintf(script, sizeof script,
             "%s"
             "D = '%s'\n"
             "users = {l.split('|')[0]: l.rstrip('\\n').split('|') for l in open(D + '/u.user', encoding='latin-1')}\n"
             "items = {l.split('|')[0]: '|'.join(l.rstrip('\\n').split('|')[5:]) for l in open(D + '/u.item', encoding='latin-1')}\n"
             "rows = [l.split('\\t') for l in open(D + '/u.data')]\n"
             "N, tr, nv, te = split(rows)\n"
             "cols = [lambda r: r[0], lambda r: r[1]] + [lambda r, j=j: users[r[0]][j] for j in range(1, 5)]\n"
             "cols.append(lambda r: items[r[1]])\n"
             "out(N, tr, nv, te, lambda r: int(r[2]) >= 4, cols, 0)\n",
             k_common, path);
    n = run_python(script, v, 64);
    cr_assert_eq(v[0], 100000);
    check(d, v, n, 7);
    ds_free(d);
    fx_rmdir(tmp);
}
