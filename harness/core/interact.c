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

/* Four floats as a GCC/Clang vector (each kernel variant adds its own register-
 * wide one, interact_kernels.h). Loads and stores go through memcpy, so no
 * alignment is assumed. Scalar * vector broadcasts. Multiply and add stay
 * separate (ISO C: no contraction), so each lane sums k = 0..D-1 (or
 * j = 0..n-1) in order, exactly as a scalar loop would: the bits do not depend
 * on the vector width of the variant the CPU runs (see IX_X86). */
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

static inline __attribute__((always_inline)) v4f v4_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline __attribute__((always_inline)) void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }

/* On x86-64 the two dot kernels are compiled three times, for AVX-512F (16
 * lanes a vector), AVX2 (8) and the baseline (4), and the public entry points
 * call the first the CPU has (interact_dot_isa_usable); elsewhere once, for the
 * baseline. */
#if defined(__x86_64__) && defined(__GNUC__)
#define IX_X86 1
#else
#define IX_X86 0
#endif

static inline int pad16(int n) { return (n + 15) & ~15; }

size_t interact_dot_scratch(int F, int D, int Dx) {
    size_t n = (size_t)(F + (Dx ? 1 : 0)), np = (size_t)pad16((int)n);
    const size_t fwd = 2 * np * (size_t)D + 2 * np, bwd = n * (size_t)D;
    return fwd > bwd ? fwd : bwd;
}

/* Row i's output starts at o (offset off in its sample's row of width W) and
 * its kernel writes len floats (at most pad16(n)): past the sample's row it
 * goes through z. */
static inline float *row_dst(float *o, ptrdiff_t off, int len, int W, float *z) {
    return off + len <= W ? o : z;
}

/* Where pair (i, j), j < i, sits in a sample's row of pairs. */
static inline int tri(int i) { return i * (i - 1) / 2; }

/* dout of pair (i, j) for i != j (the symmetric matrix S of the backward). */
static inline float pair_at(const float *gl, int i, int j) { return i > j ? gl[tri(i) + j] : gl[tri(j) + i]; }

/* Rows i0..i0+3 of dT = S T, columns kb..kb+NV*V (NV vectors of VT, V lanes
 * each; NV a constant): d_g = init_g + sum_{j != i0+g} S[i0+g][j] T_j, j
 * ascending, 4 NV sums in registers sharing each coefficient and each load of
 * T_j. S is read from the pairs gl: below the group, row g's coefficients are
 * contiguous at tri(i0+g); above it, the four rows' are contiguous at
 * tri(j) + i0; only the group's own four j test for the skipped diagonal. Rows
 * past n (rv of them valid) compute on row i0's coefficients and are not
 * stored. */
#define BW_GROUP(VT, NV, LOAD, STORE)                                                             \
    {                                                                                             \
        enum { W_ = sizeof(VT) / sizeof(float) };                                                 \
        VT a[4][NV] = {{{0}}};                                                                    \
        if (in0)                                                                                  \
            for (int v = 0; v < (NV); v++) a[0][v] = LOAD(in0 + kb + v * W_);                     \
        const float *r[4];                                                                        \
        for (int g = 0; g < 4; g++) r[g] = gl + tri(g < rv ? i0 + g : i0);                       \
        for (int j = 0; j < i0; j++) {                                                            \
            _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) {                              \
                const VT t = LOAD(T + (size_t)j * D + kb + v * W_);                               \
                a[0][v] += r[0][j] * t, a[1][v] += r[1][j] * t;                                   \
                a[2][v] += r[2][j] * t, a[3][v] += r[3][j] * t;                                   \
            }                                                                                     \
        }                                                                                         \
        for (int j = i0; j < i0 + rv; j++) {                                                      \
            _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) {                              \
                const VT t = LOAD(T + (size_t)j * D + kb + v * W_);                               \
                if (j != i0) a[0][v] += pair_at(gl, i0, j) * t;                                   \
                if (j != i0 + 1 && rv > 1) a[1][v] += pair_at(gl, i0 + 1, j) * t;                 \
                if (j != i0 + 2 && rv > 2) a[2][v] += pair_at(gl, i0 + 2, j) * t;                 \
                if (j != i0 + 3 && rv > 3) a[3][v] += pair_at(gl, i0 + 3, j) * t;                 \
            }                                                                                     \
        }                                                                                         \
        for (int j = i0 + 4; j < n; j++) {                                                        \
            const float *c = gl + tri(j) + i0;                                                    \
            _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) {                              \
                const VT t = LOAD(T + (size_t)j * D + kb + v * W_);                               \
                a[0][v] += c[0] * t, a[1][v] += c[1] * t, a[2][v] += c[2] * t, a[3][v] += c[3] * t; \
            }                                                                                     \
        }                                                                                         \
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) if (g < rv && d[g])                   \
            _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++) STORE(d[g] + kb + v * W_, a[g][v]); \
    }

/* The kernels, once per instruction set (interact_kernels.h). */
#define IX_SFX  base
#define IX_ATTR
#define IX_VL   4
#define IX_QB   4
#include "interact_kernels.h"
#undef IX_SFX
#undef IX_ATTR
#undef IX_VL
#undef IX_QB
#if IX_X86
#define IX_SFX  avx2
#define IX_ATTR __attribute__((target("avx2")))
#define IX_VL   8
#define IX_QB   4
#include "interact_kernels.h"
#undef IX_SFX
#undef IX_ATTR
#undef IX_VL
#undef IX_QB
#define IX_SFX  avx512f
#define IX_ATTR __attribute__((target("avx512f")))
#define IX_VL   16
#define IX_QB   2
#include "interact_kernels.h"
#undef IX_SFX
#undef IX_ATTR
#undef IX_VL
#undef IX_QB
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
