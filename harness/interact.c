/* interact.c: dot and cat interactions. See interact.h; the dot layout follows
 * facebookresearch/dlrm interact_features (arch_interaction_op "dot", self
 * interaction off: pairs (i, j) with j < i, ordered by i then j). */
#include "interact.h"

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

static inline float dotf(const float *a, const float *c, int D) {
    float s = 0.0f;
    for (int j = 0; j < D; j++) s += a[j] * c[j];
    return s;
}

void interact_dot_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx);
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * W;
        if (Dx) memcpy(o, x + (size_t)b * Dx, (size_t)Dx * sizeof(float));
        o += Dx;
        for (int i = 1; i < n; i++) {
            const float *vi = stack_vec(x, emb, b, i, F, D, Dx);
            int j = 0;
            /* four dot products at once: independent accumulators hide the add
             * latency; each still sums k = 0..D-1 in order, as dotf does */
            for (; j + 4 <= i; j += 4) {
                const float *v0 = stack_vec(x, emb, b, j, F, D, Dx);
                const float *v1 = stack_vec(x, emb, b, j + 1, F, D, Dx);
                const float *v2 = stack_vec(x, emb, b, j + 2, F, D, Dx);
                const float *v3 = stack_vec(x, emb, b, j + 3, F, D, Dx);
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
                for (int k = 0; k < D; k++) {
                    s0 += vi[k] * v0[k];
                    s1 += vi[k] * v1[k];
                    s2 += vi[k] * v2[k];
                    s3 += vi[k] * v3[k];
                }
                o[0] = s0, o[1] = s1, o[2] = s2, o[3] = s3;
                o += 4;
            }
            for (; j < i; j++) *o++ = dotf(vi, stack_vec(x, emb, b, j, F, D, Dx), D);
        }
    }
}

/* di += g vj and dj += g vi. The gradient buffers never alias each other (i != j)
 * nor the vectors (other arrays), which restrict tells the compiler so the loop
 * vectorises. */
static inline void axpy2(float *restrict di, float *restrict dj, const float *restrict vi,
                         const float *restrict vj, float g, int D) {
    for (int k = 0; k < D; k++) {
        di[k] += g * vj[k];
        dj[k] += g * vi[k];
    }
}

void interact_dot_backward(float *dx, float *demb, const float *dout, const float *x,
                           const float *emb, int B, int F, int D, int Dx) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx);
    memset(demb, 0, (size_t)B * F * D * sizeof(float));
    for (int b = 0; b < B; b++) {
        const float *g = dout + (size_t)b * W;
        float *dxb = dx ? dx + (size_t)b * Dx : NULL;
        if (Dx && dxb) memcpy(dxb, g, (size_t)Dx * sizeof(float));
        g += Dx;
        for (int i = 1; i < n; i++) {
            const float *vi = stack_vec(x, emb, b, i, F, D, Dx);
            float *di = stack_grad(dxb, demb, b, i, F, D, Dx);
            for (int j = 0; j < i; j++) {
                const float gz = *g++;
                const float *vj = stack_vec(x, emb, b, j, F, D, Dx);
                float *dj = stack_grad(dxb, demb, b, j, F, D, Dx);
                if (dj) axpy2(di, dj, vi, vj, gz, D);
                else
                    for (int k = 0; k < D; k++) di[k] += gz * vj[k];
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
