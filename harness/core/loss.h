/* loss.h: sigmoid + binary cross-entropy from logits, numerically stable. */
#ifndef EMBSWEEP_LOSS_H
#define EMBSWEEP_LOSS_H

/* bce_forward: logits (B), labels (B) in {0,1} -> mean over B of
 *   max(z, 0) - z*y + log(1 + exp(-|z|))   (= -y log s(z) - (1-y) log(1 - s(z))).
 * Accumulated in double. */
double bce_forward(const float *logits, const float *labels, int B);
/* bce_backward: dlogits (B) = (sigmoid(z) - y) / B, the gradient of the mean. */
void bce_backward(float *dlogits, const float *logits, const float *labels, int B);
/* sigmoid without overflow for any finite z. */
double sigmoid_stable(double z);

#endif
