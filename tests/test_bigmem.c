/* test_bigmem.c: the big-table path (harness/core/util.h: hx_big_calloc, huge
 * pages and prefetch). Its blocks are zeroed, aligned (2 MiB from HX_BIG_MIN on),
 * resized keeping their contents and freed in either mode of the switch; and
 * every method trains to the same bits with the path on and off, on tables large
 * enough to be mapped (whether the kernel grants huge pages there is the
 * machine's setting, so the bits are compared, not the pages). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdint.h>
#include <string.h>

#include "harness/core/util.h"
#include "method_fixture.h"

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

Test(bigmem, blocks_are_zeroed_aligned_and_freed_in_either_mode) {
    static const size_t sizes[] = {0, 1, 100, 4096, (size_t)HX_BIG_MIN - 1, (size_t)HX_BIG_MIN, 5u << 20};
    for (int on = 0; on <= 1; on++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            hx_big_set(on);
            unsigned char *p = hx_big_calloc(sizes[k], 1);
            cr_assert_not_null(p);
            hx_big_populate(p); /* faults a mapping in; leaves a heap block */
            cr_expect(all_zero(p, sizes[k]), "%zu bytes: zeroed", sizes[k]);
            cr_expect_eq((uintptr_t)p % 64, 0, "%zu bytes: 64-byte aligned", sizes[k]);
            if (on && sizes[k] >= HX_BIG_MIN)
                cr_expect_eq((uintptr_t)p % (2u << 20), 0, "%zu bytes: 2 MiB aligned", sizes[k]);
            if (sizes[k]) p[sizes[k] - 1] = 7;
            hx_big_set(!on); /* the other mode frees it */
            hx_big_free(p);
        }
    hx_big_set(1);
    cr_expect_eq(hx_prefetch_ahead(), HX_PREFETCH_AHEAD);
    hx_big_set(0);
    cr_expect_eq(hx_prefetch_ahead(), 0);
    hx_big_set(1);
    hx_big_free(NULL);
    cr_expect_null(hx_big_calloc(SIZE_MAX / 2, 4), "an overflowing size is refused");
}

Test(bigmem, realloc_keeps_the_contents_both_ways) {
    for (int on = 0; on <= 1; on++) {
        hx_big_set(on);
        const size_t big = (size_t)3 << 20, small = 1000;
        unsigned char *p = hx_big_calloc(big, 1);
        cr_assert_not_null(p);
        for (size_t i = 0; i < big; i++) p[i] = (unsigned char)(i * 31 + 7);
        p = hx_big_realloc(p, small); /* shrink (in place when mapped) */
        cr_assert_not_null(p);
        for (size_t i = 0; i < small; i++) cr_assert_eq(p[i], (unsigned char)(i * 31 + 7), "byte %zu", i);
        p = hx_big_realloc(p, big + 12345); /* grow (moves) */
        cr_assert_not_null(p);
        for (size_t i = 0; i < small; i++) cr_assert_eq(p[i], (unsigned char)(i * 31 + 7), "byte %zu", i);
        p[big + 12344] = 1;
        hx_big_free(p);
        unsigned char *q = hx_big_realloc(NULL, 10);
        cr_assert_not_null(q);
        hx_big_free(q);
    }
    hx_big_set(1);
}

Test(bigmem, fails_under_fault_injection) {
    hx_fault_alloc(1);
    void *p = hx_big_calloc((size_t)HX_BIG_MIN, 1);
    hx_fault_alloc(0);
    cr_expect_null(p, "the first checked allocation fails");
    void *q = hx_big_calloc(10, 1);
    cr_assert_not_null(q);
    hx_fault_alloc(1);
    cr_expect_null(hx_big_realloc(q, 20), "realloc is a checked allocation");
    hx_fault_alloc(0);
    hx_big_free(q);
}

/* A few training steps of m on F = 3 fields, one of 40000 rows (2.4 MiB at dim
 * 16: above HX_BIG_MIN), batch 64; the outputs after training into out. */
#define BF 3
#define BB 64
#define BD 16
static const int64_t k_card[BF] = {7, 3000, 40000};

static int train_bits(const emb_method *m, opt_kind k, int fused, float *out) {
    static const double ratios[] = {1, 2, 4, 8, 16, 8.0 / 3, 16.0 / 3};
    emb_spec s;
    emb_plan p;
    char err[256];
    size_t r = 0;
    for (; r < sizeof ratios / sizeof ratios[0]; r++) {
        mt_spec(&s, m, BF, k_card, BD, ratios[r]);
        s.batch = BB;
        s.total_steps = 8;
        s.opt = opt_default(k, 0.05f);
        s.dense_opt = opt_default(k == OPT_ROWWISE_ADAGRAD ? OPT_ADAGRAD : k, 0.05f);
        if (m->plan(&s, &p, err, sizeof err) == HX_OK) break;
    }
    if (r == sizeof ratios / sizeof ratios[0]) return 0;
    void *st = mt_create(m, &s);
    int64_t idx[BB * BF];
    static float dout[BB * BF * BD];
    hx_rng rng;
    hx_rng_seed(&rng, 9);
    for (int it = 1; it <= 8; it++) {
        for (int64_t i = 0; i < BB * BF; i++) idx[i] = (int64_t)hx_rng_below(&rng, (uint64_t)k_card[i % BF]);
        m->forward(st, idx, BB, out);
        for (size_t j = 0; j < sizeof dout / sizeof dout[0]; j++) dout[j] = out[j] - (float)(j % 5) * 0.1f;
        if (fused && m->backward_step) {
            m->backward_step(st, idx, BB, dout, it);
        } else {
            m->backward(st, idx, BB, dout);
            m->step(st, it);
        }
        if (m->on_step) cr_assert_eq(m->on_step(st, it, err, sizeof err), HX_OK, "%s: %s", m->name, err);
    }
    m->forward(st, idx, BB, out);
    m->destroy(st);
    return 1;
}

/* With the path on, a method's backward_step (one pass per table) is checked
 * against its backward and step apart, and both against the path off. */
Test(bigmem, every_method_trains_to_the_same_bits_with_the_path_off) {
    static const opt_kind kinds[] = {OPT_ROWWISE_ADAGRAD, OPT_ADAM};
    static float a[BB * BF * BD], b[BB * BF * BD], c[BB * BF * BD];
    int compared = 0, fused = 0;
    for (size_t i = 0; i < emb_method_count(); i++) {
        const emb_method *m = emb_method_at(i);
        if (m->caps & EMB_CAP_TEST_ONLY) continue;
        for (size_t k = 0; k < 2; k++) {
            hx_big_set(1);
            int ok = train_bits(m, kinds[k], 1, a) && train_bits(m, kinds[k], 0, c);
            hx_big_set(0);
            ok = ok && train_bits(m, kinds[k], 1, b);
            hx_big_set(1);
            if (!ok) continue;
            compared++;
            fused += m->backward_step != NULL;
            cr_expect(memcmp(a, b, sizeof a) == 0, "%s with %s: huge pages and prefetch changed the bits", m->name,
                      opt_kind_name(kinds[k]));
            cr_expect(memcmp(a, c, sizeof a) == 0, "%s with %s: backward_step differs from backward and step",
                      m->name, opt_kind_name(kinds[k]));
        }
    }
    cr_log_info("bigmem: %d method and optimizer pairs compared, %d with backward_step", compared, fused);
    cr_expect_gt(compared, 20, "most methods plan one of the ratios");
    cr_expect_geq(fused, 10, "full, hash, int8, int4 and pq have backward_step");
}
