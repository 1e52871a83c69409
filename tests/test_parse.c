/* test_parse.c: the fast paths of the text pipeline against their definitions:
 * Criteo's one-pass tokenizer (every spelling it hands to the checking parser
 * must give the same values: '+' signs, leading zeros, upper-case and short
 * hex, '-0', numbers beyond the log1p table) and the radix sort of the
 * vocabularies (ids by train count desc, then key asc, over counts and keys
 * that span several radix digits). Fixtures are written here into a temp dir. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "fixtures.h"

/* Pairs of rows (2i, 2i+1) spelling the same values differently. */
static const char *k_int_pairs[][2] = {{"5", "+5"},       {"7", "0007"},       {"", "-0"},
                                       {"-3", "-0003"},   {"4095", "+4095"},   {"4096", "04096"},
                                       {"123456789", "+123456789"}, {"0", "00"}};
static const char *k_hex_pairs[][2] = {{"000000ab", "ab"},   {"deadbeef", "DEADBEEF"}, {"0000000a", "A"},
                                       {"00000000", "0"},    {"fffffff0", "FfFfFfF0"}, {"", ""},
                                       {"1234abcd", "1234ABCD"}, {"00c0ffee", "c0ffee"}};
#define NPAIRS 8

Test(parse, criteo_spellings_give_the_same_row) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    static char text[65536];
    size_t used = 0;
    for (int i = 0; i < NPAIRS; i++)
        for (int s = 0; s < 2; s++) {
            used += (size_t)snprintf(text + used, sizeof text - used, "%d", i & 1);
            for (int j = 0; j < 13; j++)
                used += (size_t)snprintf(text + used, sizeof text - used, "\t%s", k_int_pairs[(i + j) % NPAIRS][s]);
            for (int j = 0; j < 26; j++)
                used += (size_t)snprintf(text + used, sizeof text - used, "\t%s", k_hex_pairs[(i + j) % NPAIRS][s]);
            used += (size_t)snprintf(text + used, sizeof text - used, s ? "\r\n" : "\n");
        }
    fx_write(dir, "p.tsv", text, path);
    ds_data *d = fx_load("criteo", path, NULL, "test_frac=0.125", "val_frac=0");
    cr_assert_eq(d->n_rows, 2 * NPAIRS);
    cr_assert_eq(d->n_train, 2 * NPAIRS - 2);
    for (int i = 0; i < NPAIRS - 1; i++) {
        cr_assert_eq(d->label[2 * i], d->label[2 * i + 1]);
        for (int j = 0; j < 13; j++) {
            float a = d->dense[(2 * i) * 13 + j], b = d->dense[(2 * i + 1) * 13 + j];
            cr_assert_eq(a, b, "row pair %d I%d: %g vs %g", i, j + 1, a, b);
            double v = atof(k_int_pairs[(i + j) % NPAIRS][0]);
            cr_assert_eq(a, v > 0 ? (float)log1p(v) : 0.0f, "row pair %d I%d", i, j + 1);
        }
        for (int j = 0; j < 26; j++) {
            uint32_t a = d->cat[(2 * i) * 26 + j], b = d->cat[(2 * i + 1) * 26 + j];
            cr_assert_eq(a, b, "row pair %d C%d: id %u vs %u", i, j + 1, a, b);
            cr_assert_lt(a, (uint32_t)d->card[j] - 1, "a train value is not OOV");
        }
    }
    ds_free(d);
    fx_rmdir(dir);
}

/* Value of C1 in row r: "ffffff00" in every 3rd row (a count above 2^11),
 * else one of 2048 values picked by a multiplicative hash of r (counts about
 * 0..8, many ties, so the key order matters); keys span bits 0..31. */
#define ROWS 7200
static uint32_t c1_value(int r) {
    uint32_t k = (uint32_t)r * 2654435761u >> 21;
    return r % 3 == 0 ? 0xffffff00u : k * 2654435761u >> 4;
}

typedef struct { uint64_t key; int count; } kc;
static int cmp_kc(const void *a, const void *b) {
    const kc *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

Test(parse, vocabulary_order_over_many_values) {
    char dir[64], path[128];
    fx_tmpdir(dir);
    size_t cap = (size_t)ROWS * 256, used = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (int r = 0; r < ROWS; r++) {
        used += (size_t)snprintf(text + used, cap - used, "0");
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, cap - used, "\t1");
        used += (size_t)snprintf(text + used, cap - used, "\t%08x", c1_value(r));
        for (int j = 1; j < 26; j++) used += (size_t)snprintf(text + used, cap - used, "\t%x", r % (j + 1));
        used += (size_t)snprintf(text + used, cap - used, "\n");
    }
    fx_write(dir, "v.tsv", text, path);
    free(text);
    ds_data *d = fx_load("criteo", path, NULL, "test_frac=0.1", "val_frac=0");
    int64_t nt = d->n_train;
    cr_assert_eq(nt, ROWS - ROWS / 10);
    /* expected ids: train counts of the distinct keys (key = value + 1), sorted */
    kc *v = calloc((size_t)nt, sizeof *v);
    int nv = 0;
    for (int64_t r = 0; r < nt; r++) {
        uint64_t key = (uint64_t)c1_value((int)r) + 1;
        int i = 0;
        while (i < nv && v[i].key != key) i++;
        if (i == nv) v[nv++] = (kc){key, 0};
        v[i].count++;
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_kc);
    cr_assert_gt(v[0].count, 2048);
    cr_assert_eq(d->card[0], nv + 1);
    for (int64_t r = 0; r < nt; r++) {
        uint64_t key = (uint64_t)c1_value((int)r) + 1;
        int i = 0;
        while (v[i].key != key) i++;
        cr_assert_eq(d->cat[r * 26], (uint32_t)i, "row %lld: id %u, expected %d", (long long)r, d->cat[r * 26], i);
    }
    free(v);
    ds_free(d);
    fx_rmdir(dir);
}

/* A field with fewer distinct values than the radix sort takes (insertion
 * sort): the same order, train count desc, then key asc, with ties. */
Test(parse, vocabulary_order_of_a_small_field) {
    static const uint32_t vals[] = {0x30, 0x10, 0x20, 0x30, 0x50, 0x10, 0x40, 0x30, 0x60, 0x20,
                                    0x70, 0x50, 0x0f, 0x80, 0x90, 0x05, 0x40, 0x30};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    char dir[64], path[128], text[4096];
    size_t used = 0;
    fx_tmpdir(dir);
    for (int r = 0; r < n; r++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "1");
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t");
        for (int j = 0; j < 26; j++)
            used += (size_t)snprintf(text + used, sizeof text - used, "\t%x", j == 1 ? vals[r] : 7u);
        used += (size_t)snprintf(text + used, sizeof text - used, "\n");
    }
    fx_write(dir, "s.tsv", text, path);
    ds_data *d = fx_load("criteo", path, NULL, "test_frac=0.001", "val_frac=0");
    cr_assert_eq(d->n_train, n);
    kc v[32];
    int nv = 0;
    for (int r = 0; r < n; r++) {
        int i = 0;
        while (i < nv && v[i].key != vals[r] + 1u) i++;
        if (i == nv) v[nv++] = (kc){vals[r] + 1u, 0};
        v[i].count++;
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_kc);
    cr_assert_lt(nv, 16);
    cr_assert_eq(d->card[1], nv + 1);
    cr_assert_eq(d->card[0], 2);
    for (int r = 0; r < n; r++) {
        int i = 0;
        while (v[i].key != vals[r] + 1u) i++;
        cr_assert_eq(d->cat[r * 26 + 1], (uint32_t)i, "row %d: id %u, expected %d", r, d->cat[r * 26 + 1], i);
    }
    ds_free(d);
    fx_rmdir(dir);
}

/* The 8-digit fast path of the tokenizer reads a value's 8 bytes at once: a
 * byte next to the hex ranges ('/', ':', '@', 'G', '`', 'g', 0x80, 0xc6) at
 * any of the 8 places of C1 (tab after it) or C26 (the line's end after it)
 * makes the row a bad hex row; one good row keeps the file readable. */
Test(parse, criteo_near_hex_bytes_in_8_digit_values_are_bad) {
    static const unsigned char spoil[] = {'/', ':', '@', 'G', '`', 'g', 0x80, 0xc6};
    char dir[64], path[128];
    static char text[65536];
    fx_tmpdir(dir);
    size_t used = 0;
    for (int r = 0; r < 1 + 2 * 8 * 8; r++) {
        char c1[9] = "a0B1c2D3", c26[9] = "0f9e8d7c";
        if (r > 0) { /* r - 1 = field (C1 or C26), place, byte */
            const int k = r - 1;
            (k >= 64 ? c26 : c1)[k / 8 % 8] = (char)spoil[k % 8];
        }
        used += (size_t)snprintf(text + used, sizeof text - used, "0");
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t1");
        used += (size_t)snprintf(text + used, sizeof text - used, "\t%s", c1);
        for (int j = 1; j < 25; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%08x", j);
        used += (size_t)snprintf(text + used, sizeof text - used, "\t%s\n", c26);
    }
    fx_write(dir, "h.tsv", text, path);
    char err[2048];
    ds_data *d = NULL;
    hx_status st = fx_try("criteo", path, NULL, err, sizeof err, &d, "test_frac=0.5");
    cr_assert_eq(st, HX_ERR_FORMAT);
    cr_assert(strstr(err, "128 of 129 rows are bad (128 bad hex;"), "%s", err);
    fx_rmdir(dir);
}
