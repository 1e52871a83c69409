/* interact.c: dot and cat interactions. See interact.h; the dot layout follows
 * facebookresearch/dlrm interact_features (arch_interaction_op "dot", self
 * interaction off: pairs (i, j) with j < i, ordered by i then j). */
#include "interact.h"

#include <stddef.h>
#include <string.h>

#include "util.h"

int interact_dot_width(int F, int D, int Dx) {
    int n = F + (Dx ? 1 : 0);
    (void)D;
    return Dx + n * (n - 1) / 2;
}

int interact_cat_width(int F, int D, int Dx) { return Dx + F * D; }

/* Vector k of sample b in the stack T = [x, e_0, ...]. */
static inline const float *stack_vec(const float *x, const float *emb, int b, int k, int F, int D,
                                     int Dx) {
    if (Dx) {
        if (k == 0) return x + (size_t)b * D;
        k--;
    }
    return emb + ((size_t)b * F + k) * D;
}

/* Gradient slot of vector k (dxb is sample b's row of dx, may be NULL). */
static inline float *stack_grad(float *dxb, float *demb, int b, int k, int F, int D, int Dx) {
    if (Dx) {
        if (k == 0) return dxb;
        k--;
    }
    return demb + ((size_t)b * F + k) * D;
}

/* Sixteen and four floats as GCC/Clang vectors. Loads and stores go through
 * memcpy, so no alignment is assumed. Scalar * vector broadcasts. Multiply and
 * add stay separate (ISO C: no contraction), so each lane sums k = 0..D-1 (or
 * j = 0..n-1) in order, exactly as a scalar loop would: the bits do not depend
 * on the vector width the compiler picks for the CPU (see IX_X86). */
typedef float v16f __attribute__((vector_size(64)));
#if defined(__clang__)
/* Clang may fuse a multiply and an add (-ffp-contract=on) where the CPU has FMA,
 * as the AVX-512 variant does: not here. GCC never does under -std=c11. */
#pragma STDC FP_CONTRACT OFF
#endif
/* GCC and Clang warn that a 64-byte vector passed by value has another ABI
 * without AVX-512; the helpers taking or returning one are static and inlined. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float v4f __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) v16f v16_load(const float *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline __attribute__((always_inline)) void v16_store(float *p, v16f v) { memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) v4f v4_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline __attribute__((always_inline)) void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }

/* On x86-64 the two dot kernels are compiled three times, for AVX-512F, AVX2
 * and the baseline (a v16f is one register, two or four), and the public entry
 * points call the first the CPU has (interact_dot_isa_usable); elsewhere once,
 * for the baseline. The bodies are always inlined into each variant. */
#if defined(__x86_64__) && defined(__GNUC__)
#define IX_X86 1
#else
#define IX_X86 0
#endif
#define IX_BODY static inline __attribute__((always_inline))

static inline int pad16(int n) { return (n + 15) & ~15; }

size_t interact_dot_scratch(int F, int D, int Dx) {
    size_t n = (size_t)(F + (Dx ? 1 : 0)), np = (size_t)pad16((int)n);
    const size_t fwd = np * (size_t)D + 2 * np, bwd = n * (size_t)D;
    return fwd > bwd ? fwd : bwd;
}

/* Rows i and i + 1 of Z, nb blocks of 16 j each: za[0..16 nb) = <T_i, T_j> and
 * zb likewise for T_{i+1}, with Tt (D, np) the stack transposed. The two rows
 * share each load of Tt and keep up to four independent sums in registers.
 * Where za and zb overlap (zb = za + i), za's excess lanes must not land on
 * zb's results: the blocks go from the last down, row i's before row i + 1's. */
static inline __attribute__((always_inline)) void dot_rows2(float *za, float *zb, const float *va, const float *vb,
                                                            const float *Tt, int np, int D, int nb) {
    int blk = nb;
    if (blk & 1) {
        const int jb = (blk - 1) * 16;
        v16f a = {0}, b = {0};
        for (int k = 0; k < D; k++) {
            const v16f t = v16_load(Tt + (size_t)k * np + jb);
            a += va[k] * t;
            b += vb[k] * t;
        }
        v16_store(za + jb, a), v16_store(zb + jb, b);
        blk--;
    }
    for (; blk > 0; blk -= 2) {
        const int jb = (blk - 2) * 16;
        v16f a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
        for (int k = 0; k < D; k++) {
            const float *t = Tt + (size_t)k * np + jb;
            const v16f t0 = v16_load(t), t1 = v16_load(t + 16);
            a0 += va[k] * t0, b0 += vb[k] * t0;
            a1 += va[k] * t1, b1 += vb[k] * t1;
        }
        v16_store(za + jb + 16, a1), v16_store(za + jb, a0);
        v16_store(zb + jb + 16, b1), v16_store(zb + jb, b0);
    }
}

/* Row i's output starts at o (offset off in its sample's row of width W) and
 * its kernel writes 16 nb floats: past the sample's row it goes through z. */
static inline float *row_dst(float *o, ptrdiff_t off, int nb, int W, float *z) {
    return off + 16 * nb <= W ? o : z;
}

/* Z[i][j] for j < i, sixteen j to a vector: with Tt (D, np) the stack
 * transposed, lane l of a block is sum_k T[i][k] Tt[k][jb + l] = <T_i, T_{jb+l}>,
 * summed over k in order. Rows go in pairs (i, i + 1) with the blocks row i + 1
 * needs; a row's excess lanes land where later rows of the sample write, which
 * they overwrite in order, unless they would pass the sample's last pair. */
IX_BODY void dot_forward_body(float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                              float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), np = pad16(n), W = interact_dot_width(F, D, Dx);
    /* Tt (D, np), lanes j >= n stay 0; z and z2 (np each), the two rows' detours */
    float *Tt = scratch, *z = scratch + (size_t)D * np, *z2 = z + np;
    memset(Tt, 0, (size_t)D * (size_t)np * sizeof(float));
    for (int b = 0; b < B; b++) {
        float *const ob = out + (size_t)b * W;
        if (Dx) memcpy(ob, x + (size_t)b * Dx, (size_t)Dx * sizeof(float));
        for (int j = 0; j < n; j++) {
            const float *v = stack_vec(x, emb, b, j, F, D, Dx);
            for (int k = 0; k < D; k++) Tt[(size_t)k * np + j] = v[k];
        }
        for (int i = 1; i < n; i += 2) {
            const int i2 = i + 1 < n ? i + 1 : i, nb = (i2 + 15) / 16;
            const ptrdiff_t off = Dx + (ptrdiff_t)i * (i - 1) / 2, off2 = off + i;
            float *za = row_dst(ob + off, off, nb, W, z);
            float *zb = i2 > i ? row_dst(ob + off2, off2, nb, W, z2) : z2;
            dot_rows2(za, zb, stack_vec(x, emb, b, i, F, D, Dx), stack_vec(x, emb, b, i2, F, D, Dx), Tt, np, D,
                      nb);
            if (za == z) memcpy(ob + off, z, (size_t)i * sizeof(float));
            if (i2 > i && zb == z2) memcpy(ob + off2, z2, (size_t)i2 * sizeof(float));
        }
    }
}

/* Where pair (i, j), j < i, sits in a sample's row of pairs. */
static inline int tri(int i) { return i * (i - 1) / 2; }

/* dout of pair (i, j) for i != j (the symmetric matrix S of the backward). */
static inline float pair_at(const float *gl, int i, int j) { return i > j ? gl[tri(i) + j] : gl[tri(j) + i]; }

/* Rows i0..i0+3 of dT = S T, columns kb..kb+V (V the lanes of VT): d_g =
 * init_g + sum_{j != i0+g} S[i0+g][j] T_j, j ascending, four sums in registers
 * sharing each load of T_j. S is read from the pairs gl: below the group,
 * row g's coefficients are contiguous at tri(i0+g); above it, the four rows'
 * are contiguous at tri(j) + i0; only the group's own four j test for the
 * skipped diagonal. Rows past n (rv of them valid) compute on row i0's
 * coefficients and are not stored. */
#define BW_GROUP4(VT, LOAD, STORE)                                                                \
    VT a0 = in0 ? LOAD(in0 + kb) : (VT){0}, a1 = {0}, a2 = {0}, a3 = {0};                         \
    const float *r0 = gl + tri(i0), *r1 = rv > 1 ? gl + tri(i0 + 1) : r0;                         \
    const float *r2 = rv > 2 ? gl + tri(i0 + 2) : r0, *r3 = rv > 3 ? gl + tri(i0 + 3) : r0;      \
    for (int j = 0; j < i0; j++) {                                                                \
        const VT t = LOAD(T + (size_t)j * D + kb);                                                \
        a0 += r0[j] * t, a1 += r1[j] * t, a2 += r2[j] * t, a3 += r3[j] * t;                       \
    }                                                                                             \
    for (int j = i0; j < i0 + rv; j++) {                                                          \
        const VT t = LOAD(T + (size_t)j * D + kb);                                                \
        if (j != i0) a0 += pair_at(gl, i0, j) * t;                                                \
        if (j != i0 + 1 && rv > 1) a1 += pair_at(gl, i0 + 1, j) * t;                              \
        if (j != i0 + 2 && rv > 2) a2 += pair_at(gl, i0 + 2, j) * t;                              \
        if (j != i0 + 3 && rv > 3) a3 += pair_at(gl, i0 + 3, j) * t;                              \
    }                                                                                             \
    for (int j = i0 + 4; j < n; j++) {                                                            \
        const VT t = LOAD(T + (size_t)j * D + kb);                                                \
        const float *c = gl + tri(j) + i0;                                                        \
        a0 += c[0] * t, a1 += c[1] * t, a2 += c[2] * t, a3 += c[3] * t;                           \
    }                                                                                             \
    if (d[0]) STORE(d[0] + kb, a0);                                                               \
    if (rv > 1 && d[1]) STORE(d[1] + kb, a1);                                                     \
    if (rv > 2 && d[2]) STORE(d[2] + kb, a2);                                                     \
    if (rv > 3 && d[3]) STORE(d[3] + kb, a3);

static inline __attribute__((always_inline)) void bw_rows(float *const *d, const float *in0, const float *gl,
                                                          const float *T, int n, int i0, int D) {
    const int rv = n - i0 < 4 ? n - i0 : 4;
    int kb = 0;
    for (; kb + 16 <= D; kb += 16) {
        BW_GROUP4(v16f, v16_load, v16_store)
    }
    for (; kb + 4 <= D; kb += 4) {
        BW_GROUP4(v4f, v4_load, v4_store)
    }
    for (int g = 0; g < rv; g++) /* D % 4 columns */
        for (int k = kb; k < D; k++) {
            const int i = i0 + g;
            float acc = g == 0 && in0 ? in0[k] : 0.0f;
            for (int j = 0; j < n; j++)
                if (j != i) acc += pair_at(gl, i, j) * T[(size_t)j * D + k];
            if (d[g]) d[g][k] = acc;
        }
}

/* dT = S T with S (n, n) symmetric, S[i][j] = S[j][i] = dout of pair (i, j):
 * row i of dT sums S[i][j] T_j over j != i in ascending j, in groups of four
 * rows (bw_rows). dx starts from the pass-through gradient of x. */
IX_BODY void dot_backward_body(float *dx, float *demb, const float *dout, const float *x, const float *emb,
                               int B, int F, int D, int Dx, float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx);
    float *T = scratch; /* T (n, D): the sample's stack */
    for (int b = 0; b < B; b++) {
        const float *gp = dout + (size_t)b * W, *gl = gp + Dx; /* pass-through part (Dx), pairs */
        if (Dx) memcpy(T, x + (size_t)b * Dx, (size_t)D * sizeof(float));
        memcpy(T + (size_t)(n - F) * D, emb + (size_t)b * F * D, (size_t)F * D * sizeof(float));
        float *dxb = dx ? dx + (size_t)b * Dx : NULL, *d[4];
        for (int i0 = 0; i0 < n; i0 += 4) {
            for (int q = 0; q < 4; q++) d[q] = i0 + q < n ? stack_grad(dxb, demb, b, i0 + q, F, D, Dx) : NULL;
            bw_rows(d, Dx && i0 == 0 ? gp : NULL, gl, T, n, i0, D);
        }
    }
}

/* One variant of the two kernels, compiled with ATTR (a target attribute or none). */
#define IX_VARIANT(sfx, ATTR)                                                                                    \
    ATTR static void dot_forward_##sfx(float *out, const float *x, const float *emb, int B, int F, int D, int Dx, \
                                       float *scratch) {                                                         \
        dot_forward_body(out, x, emb, B, F, D, Dx, scratch);                                                     \
    }                                                                                                            \
    ATTR static void dot_backward_##sfx(float *dx, float *demb, const float *dout, const float *x,               \
                                        const float *emb, int B, int F, int D, int Dx, float *scratch) {         \
        dot_backward_body(dx, demb, dout, x, emb, B, F, D, Dx, scratch);                                         \
    }
IX_VARIANT(base, )
#if IX_X86
IX_VARIANT(avx2, __attribute__((target("avx2"))))
IX_VARIANT(avx512f, __attribute__((target("avx512f"))))
#endif

typedef void (*dot_fwd_fn)(float *, const float *, const float *, int, int, int, int, float *);
typedef void (*dot_bwd_fn)(float *, float *, const float *, const float *, const float *, int, int, int, int,
                           float *);
static const struct {
    const char *name;
    dot_fwd_fn  fwd; /* NULL: not built for this architecture */
    dot_bwd_fn  bwd;
} ix_isas[IX_ISA_N] = {
#if IX_X86
    [IX_ISA_AVX512F] = {"avx512f", dot_forward_avx512f, dot_backward_avx512f},
    [IX_ISA_AVX2] = {"avx2", dot_forward_avx2, dot_backward_avx2},
#else
    [IX_ISA_AVX512F] = {"avx512f", NULL, NULL},
    [IX_ISA_AVX2] = {"avx2", NULL, NULL},
#endif
    [IX_ISA_BASE] = {"baseline", dot_forward_base, dot_backward_base},
};

const char *interact_dot_isa_name(int isa) {
    HX_ASSERT(isa >= 0 && isa < IX_ISA_N);
    return ix_isas[isa].name;
}

int interact_dot_isa_usable(int isa) {
    HX_ASSERT(isa >= 0 && isa < IX_ISA_N);
    if (!ix_isas[isa].fwd) return 0;
#if IX_X86
    if (isa == IX_ISA_AVX512F) return __builtin_cpu_supports("avx512f") != 0;
    if (isa == IX_ISA_AVX2) return __builtin_cpu_supports("avx2") != 0;
#endif
    return 1;
}

int interact_dot_isa(void) {
    int isa = 0;
    while (!interact_dot_isa_usable(isa)) isa++; /* the baseline always is */
    return isa;
}

void interact_dot_forward_isa(int isa, float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                              float *scratch) {
    HX_ASSERT(interact_dot_isa_usable(isa));
    ix_isas[isa].fwd(out, x, emb, B, F, D, Dx, scratch);
}

void interact_dot_backward_isa(int isa, float *dx, float *demb, const float *dout, const float *x, const float *emb,
                               int B, int F, int D, int Dx, float *scratch) {
    HX_ASSERT(interact_dot_isa_usable(isa));
    ix_isas[isa].bwd(dx, demb, dout, x, emb, B, F, D, Dx, scratch);
}

void interact_dot_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                          float *scratch) {
    interact_dot_forward_isa(interact_dot_isa(), out, x, emb, B, F, D, Dx, scratch);
}

void interact_dot_backward(float *dx, float *demb, const float *dout, const float *x, const float *emb, int B,
                           int F, int D, int Dx, float *scratch) {
    interact_dot_backward_isa(interact_dot_isa(), dx, demb, dout, x, emb, B, F, D, Dx, scratch);
}

void interact_cat_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx) {
    const int W = interact_cat_width(F, D, Dx);
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * W;
        if (Dx) memcpy(o, x + (size_t)b * Dx, (size_t)Dx * sizeof(float));
        memcpy(o + Dx, emb + (size_t)b * F * D, (size_t)F * D * sizeof(float));
    }
}

void interact_cat_backward(float *dx, float *demb, const float *dout, int B, int F, int D, int Dx) {
    const int W = interact_cat_width(F, D, Dx);
    for (int b = 0; b < B; b++) {
        const float *g = dout + (size_t)b * W;
        if (Dx && dx) memcpy(dx + (size_t)b * Dx, g, (size_t)Dx * sizeof(float));
        memcpy(demb + (size_t)b * F * D, g + Dx, (size_t)F * D * sizeof(float));
    }
}
