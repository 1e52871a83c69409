/* loss.c: see loss.h. The stable form max(z,0) - z*y + log1p(exp(-|z|)) is the
 * one torch.nn.BCEWithLogitsLoss uses; it never exponentiates a positive number. */
#include "loss.h"

#include <math.h>

double sigmoid_stable(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double bce_forward(const float *logits, const float *labels, int B) {
    double s = 0.0;
    for (int i = 0; i < B; i++) {
        double z = logits[i], y = labels[i];
        s += (z > 0 ? z : 0.0) - z * y + log1p(exp(-fabs(z)));
    }
    return B > 0 ? s / B : 0.0;
}

void bce_backward(float *dlogits, const float *logits, const float *labels, int B) {
    for (int i = 0; i < B; i++)
        dlogits[i] = (float)((sigmoid_stable(logits[i]) - labels[i]) / B);
}
