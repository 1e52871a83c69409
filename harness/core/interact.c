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

/* Four floats as one GCC/Clang vector (an SSE register on x86-64, NEON on
 * arm64). Loads and stores go through memcpy, so no alignment is assumed.
 * Scalar * vector broadcasts. Multiply and add stay separate (ISO C: no contraction), so each
 * lane sums k = 0..D-1 in order, exactly as a scalar loop would. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f v4_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }

static inline int pad4(int n) { return (n + 3) & ~3; }

size_t interact_dot_scratch(int F, int D, int Dx) {
    size_t n = (size_t)(F + (Dx ? 1 : 0)), np = (size_t)pad4((int)n);
    return np * (size_t)D + np + n * n + n * (size_t)D;
}

/* z[0..4*NA) = <vi, T_j> for the NA blocks of four j at Tt (already offset to the
 * first block; rows np apart), with NA independent accumulators in registers so
 * one block's adds never wait on another's. */
static inline void dot_blocks4(float *z, const float *vi, const float *Tt, int np, int D) {
    v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int k = 0; k < D; k++) {
        const float *t = Tt + (size_t)k * np, s = vi[k];
        a0 += s * v4_load(t);
        a1 += s * v4_load(t + 4);
        a2 += s * v4_load(t + 8);
        a3 += s * v4_load(t + 12);
    }
    v4_store(z, a0), v4_store(z + 4, a1), v4_store(z + 8, a2), v4_store(z + 12, a3);
}

static inline void dot_blocks2(float *z, const float *vi, const float *Tt, int np, int D) {
    v4f a0 = {0}, a1 = {0};
    for (int k = 0; k < D; k++) {
        const float *t = Tt + (size_t)k * np, s = vi[k];
        a0 += s * v4_load(t);
        a1 += s * v4_load(t + 4);
    }
    v4_store(z, a0), v4_store(z + 4, a1);
}

static inline void dot_blocks1(float *z, const float *vi, const float *Tt, int np, int D) {
    v4f a0 = {0};
    for (int k = 0; k < D; k++) a0 += vi[k] * v4_load(Tt + (size_t)k * np);
    v4_store(z, a0);
}

/* Z[i][j] for j < i, four j to a vector: with Tt (D, np) the stack transposed,
 * lane l of a block's accumulator is sum_k T[i][k] Tt[k][jb + l] = <T_i, T_{jb+l}>,
 * summed over k in order. */
void interact_dot_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                          float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), np = pad4(n), W = interact_dot_width(F, D, Dx);
    float *Tt = scratch, *z = scratch + (size_t)D * np; /* Tt (D, np), lanes j >= n stay 0; z (np) */
    memset(Tt, 0, (size_t)D * (size_t)np * sizeof(float));
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * W;
        if (Dx) memcpy(o, x + (size_t)b * Dx, (size_t)Dx * sizeof(float));
        o += Dx;
        for (int j = 0; j < n; j++) {
            const float *v = stack_vec(x, emb, b, j, F, D, Dx);
            for (int k = 0; k < D; k++) Tt[(size_t)k * np + j] = v[k];
        }
        for (int i = 1; i < n; i++) {
            /* Row i fills o[0, i) but its blocks write up to the next multiple of 4:
             * the excess lands where later rows of this sample write, unless it
             * would pass the sample's last pair; then the row goes through z. */
            float *zi = (o - out) - (ptrdiff_t)b * W + pad4(i) <= W ? o : z;
            const float *vi = stack_vec(x, emb, b, i, F, D, Dx);
            int jb = 0, nb = (i + 3) / 4;
            for (; nb >= 4; nb -= 4, jb += 16) dot_blocks4(zi + jb, vi, Tt + jb, np, D);
            for (; nb >= 2; nb -= 2, jb += 8) dot_blocks2(zi + jb, vi, Tt + jb, np, D);
            if (nb) dot_blocks1(zi + jb, vi, Tt + jb, np, D);
            if (zi == z) memcpy(o, z, (size_t)i * sizeof(float));
            o += i;
        }
    }
}

/* d[0..4*NA) = init + sum_{j != i} si[j] T_j[0..4*NA) for T (already offset to
 * the first column; rows D apart), NA accumulators in registers. */
static inline void axpy_blocks4(float *d, const float *init, const float *si, const float *T, int n, int i,
                                int D) {
    v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    if (init) a0 = v4_load(init), a1 = v4_load(init + 4), a2 = v4_load(init + 8), a3 = v4_load(init + 12);
    for (int j = 0; j < n; j++) {
        if (j == i) continue;
        const float *t = T + (size_t)j * D, s = si[j];
        a0 += s * v4_load(t);
        a1 += s * v4_load(t + 4);
        a2 += s * v4_load(t + 8);
        a3 += s * v4_load(t + 12);
    }
    v4_store(d, a0), v4_store(d + 4, a1), v4_store(d + 8, a2), v4_store(d + 12, a3);
}

static inline void axpy_blocks1(float *d, const float *init, const float *si, const float *T, int n, int i,
                                int D) {
    v4f a0 = init ? v4_load(init) : (v4f){0};
    for (int j = 0; j < n; j++)
        if (j != i) a0 += si[j] * v4_load(T + (size_t)j * D);
    v4_store(d, a0);
}

/* dT = S T with S (n, n) symmetric, S[i][j] = S[j][i] = dout of pair (i, j), zero
 * diagonal: row i of dT sums S[i][j] T_j over j != i in ascending j, four
 * columns k to a vector (a scalar loop finishes D % 4). dx starts from the
 * pass-through gradient of x. */
void interact_dot_backward(float *dx, float *demb, const float *dout, const float *x,
                           const float *emb, int B, int F, int D, int Dx, float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx), D4 = D & ~3;
    float *S = scratch, *T = scratch + (size_t)n * n; /* S (n, n); T (n, D) the stack */
    for (int b = 0; b < B; b++) {
        const float *g = dout + (size_t)b * W;
        const float *gp = g; /* pass-through part, Dx wide */
        g += Dx;
        for (int i = 0; i < n; i++) S[(size_t)i * n + i] = 0.0f;
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++) S[(size_t)i * n + j] = S[(size_t)j * n + i] = *g++;
        if (Dx) memcpy(T, x + (size_t)b * Dx, (size_t)D * sizeof(float));
        memcpy(T + (size_t)(n - F) * D, emb + (size_t)b * F * D, (size_t)F * D * sizeof(float));
        float *dxb = dx ? dx + (size_t)b * Dx : NULL;
        for (int i = 0; i < n; i++) {
            float *di = stack_grad(dxb, demb, b, i, F, D, Dx);
            if (!di) continue;
            const float *si = S + (size_t)i * n, *init = Dx && i == 0 ? gp : NULL;
            int kb = 0;
            for (; kb + 16 <= D4; kb += 16) axpy_blocks4(di + kb, init ? init + kb : NULL, si, T + kb, n, i, D);
            for (; kb < D4; kb += 4) axpy_blocks1(di + kb, init ? init + kb : NULL, si, T + kb, n, i, D);
            for (int k = D4; k < D; k++) {
                float acc = init ? init[k] : 0.0f;
                for (int j = 0; j < n; j++)
                    if (j != i) acc += si[j] * T[(size_t)j * D + k];
                di[k] = acc;
            }
        }
    }
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
