/* interact.h: feature interaction between the bottom-MLP output and the field
 * embeddings (facebookresearch/dlrm dlrm_s_pytorch.py, interact_features).
 *
 * Shape legend: B batch rows, F fields, D embedding width, Dx width of the bottom
 * output x (0 when the dataset has no dense features, then x is NULL).
 *
 * dot: stack T = [x, e_0, ..., e_{F-1}] (n = F + (x ? 1 : 0) vectors of width D;
 *      Dx must equal D), Z = T T^T, and output
 *      out (B, Dx + n(n-1)/2) = [x, Z[i][j] for i = 1..n-1, j = 0..i-1]
 *      i.e. the strictly lower triangle in DLRM's (li, lj) order, after x.
 * cat: out (B, Dx + F*D) = [x, e_0, ..., e_{F-1}].
 *
 * Backward functions OVERWRITE dx (B, Dx) (skipped when NULL) and demb (B, F, D).
 * Rows are independent: a caller may split B across threads (model.c), each part
 * with its own scratch of interact_dot_scratch floats.
 */
#ifndef EMBSWEEP_INTERACT_H
#define EMBSWEEP_INTERACT_H

#include <stddef.h>
#include <stdint.h>

/* Output width of each interaction. */
int interact_dot_width(int F, int D, int Dx);
int interact_cat_width(int F, int D, int Dx);

/* Floats of scratch the dot functions need (per concurrent caller). */
size_t interact_dot_scratch(int F, int D, int Dx);

/* interact_dot_forward: x (B, Dx) or NULL, emb (B, F, D) -> out (B, interact_dot_width). */
void interact_dot_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                          float *scratch);
/* interact_dot_backward: dout (B, W) -> dx (B, Dx), demb (B, F, D). */
void interact_dot_backward(float *dx, float *demb, const float *dout, const float *x,
                           const float *emb, int B, int F, int D, int Dx, float *scratch);

/* interact_cat_forward: x (B, Dx) or NULL, emb (B, F, D) -> out (B, Dx + F*D). */
void interact_cat_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx);
/* interact_cat_backward: dout (B, Dx + F*D) -> dx (B, Dx), demb (B, F, D). */
void interact_cat_backward(float *dx, float *demb, const float *dout, int B, int F, int D, int Dx);

#endif
