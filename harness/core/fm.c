/* fm.c: the FM second-order term. See fm.h. Sums run over i in order, in
 * float, as a scalar loop would: the same bits at any split of the rows. */
#include "fm.h"

#include <stddef.h>

void fm_forward(float *out, const float *v, int B, int n, int D) {
    for (int b = 0; b < B; b++) {
        const float *vb = v + (size_t)b * n * D;
        float acc = 0.0f;
        for (int k = 0; k < D; k++) {
            float s = 0.0f, q = 0.0f;
            for (int i = 0; i < n; i++) {
                const float x = vb[(size_t)i * D + k];
                s += x;
                q += x * x;
            }
            acc += s * s - q;
        }
        out[b] = 0.5f * acc;
    }
}

void fm_backward(float *dv, const float *dout, const float *v, int B, int n, int D, float *scratch) {
    for (int b = 0; b < B; b++) {
        const float *vb = v + (size_t)b * n * D;
        float *db = dv + (size_t)b * n * D;
        for (int k = 0; k < D; k++) scratch[k] = 0.0f;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < D; k++) scratch[k] += vb[(size_t)i * D + k];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < D; k++) db[(size_t)i * D + k] += dout[b] * (scratch[k] - vb[(size_t)i * D + k]);
    }
}
