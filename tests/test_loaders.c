/* test_loaders.c: the real-data loaders on tiny fixtures written here into a temp
 * dir: Criteo (plain, gzip, truncated gzip, every bad-row kind), Avazu (header,
 * CRLF, uint64 id, hour -> hour_of_day/weekday), MovieLens 100K and 1M, libFM;
 * the recipe (train-only vocabularies, min_count/OOV, max_ind_range, id order, splits,
 * down-sampling, row limit) and error messages for missing or wrong files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/dataset.h"
#include "fixtures.h"

/* 10 good Criteo rows: C1 takes 'aa' x4 (rows 0-3), 'bb' x2, '' x1, 'cc' x1 in
 * train (rows 0-7); the test rows 8-9 hold 'bb' and 'dd' (unseen in train). */
static void criteo_rows(char *buf, size_t n, const char *extra) {
    static const char *c1[10] = {"000000aa", "000000aa", "000000aa", "000000aa", "000000bb",
                                 "000000bb", "",         "000000cc", "000000bb", "000000dd"};
    size_t used = 0;
    for (int r = 0; r < 10; r++) {
        used += (size_t)snprintf(buf + used, n - used, "%d", r % 3 == 0);
        for (int j = 0; j < 13; j++) {
            if (j == 1) used += (size_t)snprintf(buf + used, n - used, "\t%d", r == 0 ? -5 : r);
            else if (j == 2) used += (size_t)snprintf(buf + used, n - used, "\t");
            else used += (size_t)snprintf(buf + used, n - used, "\t%d", j);
        }
        used += (size_t)snprintf(buf + used, n - used, "\t%s", c1[r]);
        for (int j = 1; j < 26; j++) used += (size_t)snprintf(buf + used, n - used, "\t%08x", j * 7 + (r & 1));
        used += (size_t)snprintf(buf + used, n - used, "\n");
        if (r == 4 && extra) used += (size_t)snprintf(buf + used, n - used, "%s", extra);
    }
}

Test(criteo, values_vocab_and_split) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    static char text[16384];
    criteo_rows(text, sizeof text, NULL);
    fx_write(dir, "c.tsv", text, path);
    ds_data *d = fx_load("criteo", path, NULL, "test_frac=0.2", "val_frac=0");
    cr_assert_eq(d->n_rows, 10);
    cr_assert_eq(d->n_train, 8);
    cr_assert_eq(d->n_val, 0);
    cr_assert_eq(d->n_test, 2);
    cr_assert_eq(d->n_fields, 26);
    cr_assert_eq(d->n_dense, 13);
    cr_assert_null(d->prob);
    cr_assert(isnan(d->bayes_auc));
    /* labels: r % 3 == 0 */
    for (int r = 0; r < 10; r++) cr_assert_eq(d->label[r], r % 3 == 0 ? 1.0f : 0.0f);
    cr_assert_float_eq(d->pos_rate_train, 3.0 / 8.0, 1e-12);
    /* dense: I2 = -5 -> 0, I2 = r -> log1p(r), I3 empty -> 0, I1 = 0 -> 0 */
    cr_assert_eq(d->dense[0 * 13 + 1], 0.0f);
    cr_assert_float_eq(d->dense[3 * 13 + 1], (float)log1p(3.0), 1e-6);
    cr_assert_eq(d->dense[3 * 13 + 2], 0.0f);
    cr_assert_eq(d->dense[3 * 13 + 0], 0.0f);
    cr_assert_float_eq(d->dense[3 * 13 + 12], (float)log1p(12.0), 1e-6);
    /* C1 vocabulary on train: aa (4) -> 0, bb (2) -> 1, then '' and cc (1 each,
     * by key: '' is key 0) -> 2, 3; OOV = 4, card 5 */
    cr_assert_eq(d->card[0], 5);
    cr_assert_eq(d->cat[0 * 26], 0u);
    cr_assert_eq(d->cat[4 * 26], 1u);
    cr_assert_eq(d->cat[6 * 26], 2u);
    cr_assert_eq(d->cat[7 * 26], 3u);
    cr_assert_eq(d->cat[8 * 26], 1u, "test 'bb' seen in train");
    cr_assert_eq(d->cat[9 * 26], 4u, "test 'dd' unseen in train -> OOV");
    /* C2 alternates between two values, 4 each in train: the smaller key first */
    cr_assert_eq(d->card[1], 3);
    cr_assert_eq(d->cat[0 * 26 + 1], 0u);
    cr_assert_eq(d->cat[1 * 26 + 1], 1u);
    cr_assert_str_eq(d->field_names[0], "C1");
    cr_assert_str_eq(d->field_names[25], "C26");
    ds_free(d);

    /* min_count 2: '' and cc become OOV (id 2 of card 3) */
    d = fx_load("criteo", path, NULL, "test_frac=0.2", "val_frac=0", "min_count=2");
    cr_assert_eq(d->card[0], 3);
    cr_assert_eq(d->cat[6 * 26], 2u);
    cr_assert_eq(d->cat[7 * 26], 2u);
    cr_assert_eq(d->cat[9 * 26], 2u);
    ds_free(d);
    fx_rmdir(dir);
}

/* max_ind_range R reduces raw keys modulo R before the vocabulary (DLRM's
 * --max-ind-range); left at 0 it is absent from the recipe, so the ids of
 * datasets that never set it do not move. */
Test(criteo, max_ind_range_folds_keys_and_stays_out_of_the_default_recipe) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    static char text[16384];
    criteo_rows(text, sizeof text, NULL);
    fx_write(dir, "c.tsv", text, path);
    ds_data *plain = fx_load("criteo", path, NULL, "test_frac=0.2", "val_frac=0");
    ds_data *off = fx_load("criteo", path, NULL, "test_frac=0.2", "val_frac=0", "max_ind_range=0");
    cr_assert_str_eq(plain->id, off->id, "0 = off: the same dataset id");
    cr_assert_str_eq(plain->recipe, off->recipe);
    cr_assert_null(strstr(plain->recipe, "max_ind_range"), "%s", plain->recipe);
    /* keys are hex + 1 ('' is 0): aa 171, bb 188, cc 205, dd 222 are all 1 mod 17 */
    ds_data *d = fx_load("criteo", path, NULL, "test_frac=0.2", "val_frac=0", "max_ind_range=17");
    cr_assert(strstr(d->recipe, "max_ind_range=17"), "%s", d->recipe);
    cr_assert_str_neq(d->id, plain->id);
    cr_assert_eq(d->card[0], 3, "C1: key 1 (7 train rows), '' (1), OOV");
    cr_assert_eq(d->cat[0 * 26], 0u);
    cr_assert_eq(d->cat[4 * 26], 0u, "bb folds onto aa");
    cr_assert_eq(d->cat[6 * 26], 1u, "'' stays apart");
    cr_assert_eq(d->cat[9 * 26], 0u, "test 'dd' folds onto a train key: not OOV");
    for (int f = 0; f < 26; f++) cr_assert_leq(d->card[f], 17 + 1);
    cr_assert(!memcmp(d->dense, plain->dense, (size_t)d->n_rows * 13 * 4), "dense untouched");
    ds_free(plain), ds_free(off), ds_free(d);
    char err[1024];
    cr_assert_eq(fx_try("criteo", path, NULL, err, sizeof err, &d, "max_ind_range=-1"), HX_ERR_PARAM);
    cr_assert(strstr(err, "max_ind_range"), "%s", err);
    fx_rmdir(dir);
}

Test(criteo, bad_rows_counted_skipped_and_limited) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    static char text[200000], extra[100000];
    size_t e = 0;
    e += (size_t)snprintf(extra + e, sizeof extra - e, "1\t2\t3\n");                               /* columns */
    e += (size_t)snprintf(extra + e, sizeof extra - e, "0\tx1%s\n", "\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12"
                          "\ta\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\tm\tn\to\tp\tq\tr\ts\tt\tu\tv\tw\tx\ty\tz"); /* int */
    criteo_rows(text, sizeof text, extra);
    /* a bad hex row and an over-long line at the end */
    size_t used = strlen(text);
    char *row = strchr(text, '\n') + 1; /* copy row 1 and spoil C5 */
    size_t rl = (size_t)(strchr(row, '\n') - row) + 1;
    memcpy(text + used, row, rl);
    memcpy(strstr(text + used, "\t0000001d"), "\t0000zz1d", 9);
    used += rl;
    memset(text + used, 'x', 70000);
    used += 70000;
    text[used++] = '\n';
    text[used] = 0;
    fx_write(dir, "bad.tsv", text, path);
    char err[2048];
    ds_data *d = NULL;
    hx_status st = fx_try("criteo", path, NULL, err, sizeof err, &d, "test_frac=0.2");
    cr_assert_eq(st, HX_ERR_FORMAT, "default max_bad_frac rejects 4 bad of 14");
    cr_assert(strstr(err, "4 of 14 rows are bad"), "%s", err);
    cr_assert(strstr(err, "1 wrong column count") && strstr(err, "1 non-numeric integer") &&
                  strstr(err, "1 bad hex") && strstr(err, "1 over-long line"), "%s", err);
    cr_assert(strstr(err, "bad.tsv:6: 3 columns, expected 40"), "first bad row with file:line: %s", err);
    cr_assert(strstr(err, "Criteo Kaggle TSV"), "%s", err);
    d = fx_load("criteo", path, NULL, "test_frac=0.2", "max_bad_frac=0.5");
    cr_assert_eq(d->n_rows, 10, "only the good rows");
    ds_free(d);
    fx_rmdir(dir);
}

Test(criteo, gzip_equals_plain_and_truncated_gzip) {
    char dir[64], plain[128], gz[128], cut[128];
    fx_tmpdir(dir);
    static char text[16384];
    criteo_rows(text, sizeof text, NULL);
    fx_write(dir, "c.tsv", text, plain);
    fx_write_gz(dir, "c.tsv.gz", text, strlen(text), gz);
    ds_data *a = fx_load("criteo", plain, NULL, "test_frac=0.2"), *b = fx_load("criteo", gz, NULL, "test_frac=0.2");
    cr_assert_eq(a->n_rows, b->n_rows);
    cr_assert(!memcmp(a->cat, b->cat, (size_t)a->n_rows * 26 * 4));
    cr_assert(!memcmp(a->dense, b->dense, (size_t)a->n_rows * 13 * 4));
    ds_free(a), ds_free(b);
    /* drop the gzip trailer and some data: zlib reports an early end */
    size_t n;
    char *bytes = fx_read(gz, &n);
    cr_assert_gt(n, 100);
    fx_write_bytes(dir, "cut.tsv.gz", bytes, n - 40, cut);
    free(bytes);
    /* a stream error is fatal whatever max_bad_frac allows: never fewer rows */
    char err[2048];
    ds_data *d = NULL;
    cr_assert_eq(fx_try("criteo", cut, NULL, err, sizeof err, &d, "test_frac=0.2", "max_bad_frac=0.5"),
                 HX_ERR_FORMAT);
    cr_assert_null(d);
    cr_assert(strstr(err, "cut.tsv.gz:") && strstr(err, "truncated or corrupt"), "%s", err);
    /* a flipped byte inside the deflate data: a bad block or a bad CRC */
    bytes = fx_read(gz, &n);
    bytes[n / 2] ^= 0x55;
    char bad[128];
    fx_write_bytes(dir, "crc.tsv.gz", bytes, n, bad);
    free(bytes);
    cr_assert_eq(fx_try("criteo", bad, NULL, err, sizeof err, &d, "test_frac=0.2", "max_bad_frac=0.9"),
                 HX_ERR_FORMAT);
    cr_assert_null(d);
    cr_assert(strstr(err, "crc.tsv.gz:") && strstr(err, "truncated or corrupt"), "%s", err);
    fx_rmdir(dir);
}

Test(criteo, missing_file_and_wrong_format) {
    char err[2048];
    ds_data *d = NULL;
    cr_assert_eq(fx_try("criteo", "/nonexistent/train.txt", NULL, err, sizeof err, &d), HX_ERR_IO);
    cr_assert(strstr(err, "'/nonexistent/train.txt'") && strstr(err, "No such file") &&
                  strstr(err, "expected a Criteo Kaggle TSV"), "%s", err);
    char dir[64], path[128];
    fx_tmpdir(dir);
    fx_write(dir, "a.csv", "id,click,hour\n1,0,14102100\n2,1,14102100\n", path);
    cr_assert_eq(fx_try("criteo", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "3 of 3 rows are bad") && strstr(err, "expected 40") &&
                  strstr(err, "Expected a Criteo Kaggle TSV"), "%s", err);
    fx_rmdir(dir);
}

Test(avazu, header_crlf_id_and_hour) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    const char *text = "id,click,hour,C1,site_id,C20\r\n"
                       "18446744073709551615,0,14102100,1005,1fbe01fe,-1\r\n"
                       "10000169349117863715,1,14102813,1005,1fbe01fe,100084\r\n"
                       "1000009418151094273,0,14102513,1002,fe8cc448,-1\r\n"
                       "1000009418151094274,0,14102100,1005,fe8cc448,-1\r\n"
                       "18446744073709551616,0,14102100,1005,fe8cc448,-1\r\n" /* id > UINT64_MAX */
                       "5,1,14102100,1005,1fbe01fe,-1\r\n";
    fx_write(dir, "a.csv", text, path);
    ds_data *d = fx_load("avazu", path, NULL, "test_frac=0.2", "val_frac=0", "max_bad_frac=0.5");
    cr_assert_eq(d->n_rows, 5);
    cr_assert_eq(d->n_fields, 5); /* hour_of_day, weekday, C1, site_id, C20 */
    cr_assert_eq(d->n_dense, 0);
    cr_assert_null(d->dense);
    cr_assert_str_eq(d->field_names[0], "hour_of_day");
    cr_assert_str_eq(d->field_names[1], "weekday");
    cr_assert_str_eq(d->field_names[4], "C20");
    /* train = first 4 good rows: hours 00, 13, 13, 00 -> 2 values + OOV */
    cr_assert_eq(d->card[0], 3);
    /* 2014-10-21 and 2014-10-28 are Tuesdays, 2014-10-25 a Saturday */
    cr_assert_eq(d->card[1], 3);
    cr_assert_eq(d->cat[0 * 5 + 1], d->cat[1 * 5 + 1]);
    cr_assert_neq(d->cat[0 * 5 + 1], d->cat[2 * 5 + 1]);
    cr_assert_eq(d->label[1], 1.0f);
    cr_assert_eq(d->label[4], 1.0f);
    /* C20 "-1" x3 in train -> id 0 */
    cr_assert_eq(d->cat[0 * 5 + 4], 0u);
    ds_free(d);

    fx_write(dir, "b.csv", "id,hour,C1\n1,14102100,5\n", path);
    char err[1024];
    cr_assert_eq(fx_try("avazu", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "no click column"), "%s", err);
    fx_rmdir(dir);
}

/* A 64-column header without id, click and hour once overran the field-name
 * table; a duplicated column once named a field "(null)". Both are refused. */
Test(avazu, header_validated) {
    char dir[64], path[128], err[1024];
    fx_tmpdir(dir);
    static char text[4096];
    size_t n = 0;
    for (int i = 0; i < 64; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%sc%d", i ? "," : "", i);
    snprintf(text + n, sizeof text - n, "\n");
    fx_write(dir, "wide.csv", text, path);
    ds_data *d = NULL;
    cr_assert_eq(fx_try("avazu", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "no id column"), "%s", err);
    fx_write(dir, "dup.csv", "id,click,hour,C1,C1\n1,0,14102100,5,6\n", path);
    cr_assert_eq(fx_try("avazu", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "'C1' appears twice (columns 4 and 5)"), "%s", err);
    fx_write(dir, "dup2.csv", "id,click,hour,click,C1\n1,0,14102100,1,6\n", path);
    cr_assert_eq(fx_try("avazu", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "'click' appears twice"), "%s", err);
    n = 0;
    for (int i = 0; i < 65; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%sc%d", i ? "," : "", i);
    snprintf(text + n, sizeof text - n, "\n");
    fx_write(dir, "wider.csv", text, path);
    cr_assert_eq(fx_try("avazu", path, NULL, err, sizeof err, &d), HX_ERR_FORMAT);
    cr_assert(strstr(err, "65 columns, at most 64"), "%s", err);
    fx_rmdir(dir);
}

Test(movielens, ml100k_join_label_and_genres) {
    char dir[64], p[128];
    fx_tmpdir(dir);
    fx_write(dir, "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|24|M|writer|3206A\n", p);
    char item[1024] = "";
    const char *flags[3] = {"0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0", "0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0",
                            "0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0"};
    for (int i = 0; i < 3; i++)
        snprintf(item + strlen(item), sizeof item - strlen(item), "%d|Movie %d (1995)|01-Jan-1995||http://x|%s\n",
                 i + 1, i + 1, flags[i]);
    fx_write(dir, "u.item", item, p);
    fx_write(dir, "u.data", "1\t1\t5\t881250949\n2\t2\t3\t891717742\n3\t3\t4\t878887116\n1\t2\t1\t880606923\n"
                            "2\t1\t4\t886397596\n", p);
    ds_data *d = fx_load("movielens", dir, NULL, "test_frac=0.2", "val_frac=0");
    cr_assert_eq(d->n_rows, 5);
    cr_assert_eq(d->n_fields, 7);
    cr_assert_str_eq(d->field_names[6], "genres");
    float want[5] = {1, 0, 1, 0, 1};
    for (int r = 0; r < 5; r++) cr_assert_eq(d->label[r], want[r], "rating >= 4");
    /* items 1 and 3 share the genre flags; item 2 differs */
    cr_assert_eq(d->cat[0 * 7 + 6], d->cat[2 * 7 + 6]);
    cr_assert_neq(d->cat[0 * 7 + 6], d->cat[1 * 7 + 6]);
    /* users 1 and 3 share age 24 and gender M */
    cr_assert_eq(d->cat[0 * 7 + 2], d->cat[2 * 7 + 2]);
    cr_assert_eq(d->cat[0 * 7 + 3], d->cat[2 * 7 + 3]);
    cr_assert_neq(d->cat[0 * 7 + 3], d->cat[1 * 7 + 3]);
    cr_assert_eq(d->card[3], 3); /* M, F + OOV */
    ds_free(d);
    d = fx_load("movielens", dir, NULL, "test_frac=0.2", "threshold=5");
    cr_assert_eq(d->label[0], 1.0f);
    cr_assert_eq(d->label[2], 0.0f);
    ds_free(d);
    fx_rmdir(dir);
}

Test(movielens, ml1m_double_colon_and_missing_side_file) {
    char dir[64], p[128], err[1024];
    fx_tmpdir(dir);
    fx_write(dir, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n", p);
    ds_data *d = NULL;
    cr_assert_eq(fx_try("movielens", dir, NULL, err, sizeof err, &d), HX_ERR_IO);
    cr_assert(strstr(err, "users.dat") && strstr(err, "MovieLens"), "%s", err);
    fx_write(dir, "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n", p);
    fx_write(dir, "movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                                "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n", p);
    d = fx_load("movielens", p, NULL, "test_frac=0.34"); /* path may be a file in the dir */
    cr_assert_eq(d->n_rows, 3);
    cr_assert_eq(d->label[0], 1.0f);
    cr_assert_eq(d->label[1], 0.0f);
    cr_assert_eq(d->label[2], 1.0f);
    cr_assert_eq(d->card[6], 3, "two genre sets + OOV");
    ds_free(d);
    fx_rmdir(dir);
}

Test(libfm, fields_from_ranges_and_labels) {
    char dir[64], p[128];
    fx_tmpdir(dir);
    fx_write(dir, "f.libfm", "-1 0:1 10:1 20:1\r\n1 1:1 11:1 20:1\r\n1 0:1 12:1\r\n-1 0:1 10:1 11:1\r\n"
                             "0 2:1 10:1 21:1\r\n", p);
    ds_data *d = fx_load("libfm", p, NULL, "field_starts=0,10,20", "field_names=u,i,c", "test_frac=0.25",
                         "val_frac=0", "max_bad_frac=0.5");
    cr_assert_eq(d->n_rows, 4, "the row with two features in field i is bad");
    cr_assert_eq(d->n_fields, 3);
    cr_assert_str_eq(d->field_names[1], "i");
    float want[4] = {0, 1, 1, 0};
    for (int r = 0; r < 4; r++) cr_assert_eq(d->label[r], want[r]);
    /* field c: 20 x2 in train, missing x1 -> 20 is id 0 */
    cr_assert_eq(d->cat[0 * 3 + 2], 0u);
    cr_assert_eq(d->cat[2 * 3 + 2], 1u);
    cr_assert_eq(d->cat[3 * 3 + 2], 2u, "21 unseen in train -> OOV");
    ds_free(d);
    char err[1024];
    ds_spec s;
    char *bad[] = {"path=x", "field_starts=0,20,10"};
    cr_assert_eq(ds_spec_from_args(&s, "f", "libfm", 2, bad, err, sizeof err), HX_ERR_PARAM);
    cr_assert(strstr(err, "strictly ascending"), "%s", err);
    fx_rmdir(dir);
}

Test(recipe, random_split_downsampling_and_row_limit) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    static char text[400000];
    size_t used = 0;
    for (int r = 0; r < 1000; r++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "%d", r % 4 == 0);
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%d", r);
        for (int j = 0; j < 26; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%08x", (r * 31 + j) % 50);
        text[used++] = '\n';
    }
    text[used] = 0;
    fx_write(dir, "r.tsv", text, path);
    ds_data *seq = fx_load("criteo", path, NULL);
    /* sequential: the last 100 rows are test, in file order */
    cr_assert_eq(seq->n_test, 100);
    cr_assert_eq(seq->n_val, 100);
    cr_assert_float_eq(seq->dense[(seq->n_rows - 1) * 13], (float)log1p(999.0), 1e-5);
    ds_data *rnd = fx_load("criteo", path, NULL, "split=random", "split_seed=3");
    ds_data *rnd2 = fx_load("criteo", path, NULL, "split=random", "split_seed=3");
    cr_assert_eq(rnd->n_rows, 1000);
    cr_assert(rnd->n_test > 60 && rnd->n_test < 140, "test %lld", (long long)rnd->n_test);
    cr_assert_eq(rnd->n_test, rnd2->n_test);
    cr_assert(!memcmp(rnd->dense, rnd2->dense, 1000 * 13 * 4), "same seed, same split");
    cr_assert(memcmp(rnd->dense, seq->dense, 1000 * 13 * 4) != 0);
    cr_assert_str_neq(rnd->id, seq->id);
    ds_data *neg = fx_load("criteo", path, NULL, "neg_rate=0.5", "neg_seed=9");
    int64_t pos = 0, negs = 0;
    for (int64_t i = 0; i < neg->n_train; i++) pos += neg->label[i] > 0.5f, negs += neg->label[i] < 0.5f;
    cr_assert_eq(pos, 200, "positives kept");
    cr_assert(negs > 240 && negs < 360, "about half of 600 train negatives: %lld", (long long)negs);
    cr_assert_eq(neg->n_test, 100, "validation and test untouched");
    cr_assert_eq(neg->n_val, 100);
    ds_data *lim = fx_load("criteo", path, NULL, "rows=50");
    cr_assert_eq(lim->n_rows, 50);
    cr_assert_eq(lim->n_test, 5);
    ds_free(seq), ds_free(rnd), ds_free(rnd2), ds_free(neg), ds_free(lim);
    fx_rmdir(dir);
}
