/* metrics.h: evaluation metrics on scores (logits or probabilities) and 0/1 labels. */
#ifndef EMBSWEEP_METRICS_H
#define EMBSWEEP_METRICS_H

#include <stdint.h>

/* metrics_auc: exact ROC AUC, ties counted one half (average ranks, the
 * Mann-Whitney U statistic), O(n log n). score (n), label (n) in {0,1}.
 * Returns NAN when one class is absent or memory runs out. */
double metrics_auc(const float *score, const float *label, int64_t n);
/* metrics_logloss: mean BCE of probabilities p clipped to [1e-7, 1 - 1e-7]. */
double metrics_logloss(const float *prob, const float *label, int64_t n);
/* metrics_accuracy: fraction with (p >= 0.5) == label. */
double metrics_accuracy(const float *prob, const float *label, int64_t n);

#endif
