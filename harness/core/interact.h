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

/* The dot kernels are built for several instruction sets where the compiler can
 * (x86-64: AVX-512F, AVX2 and the baseline; elsewhere the baseline), with the
 * same bits on each: every lane sums in the definition's order, without fused
 * multiply-adds. The two functions above run the first the CPU has
 * (interact_dot_isa); the _isa forms run a given one (tests, benchmarks). */
enum { IX_ISA_AVX512F, IX_ISA_AVX2, IX_ISA_BASE, IX_ISA_N };
const char *interact_dot_isa_name(int isa);
int         interact_dot_isa_usable(int isa); /* built here and the CPU has it */
int         interact_dot_isa(void);           /* the one the two functions above use */
void        interact_dot_forward_isa(int isa, float *out, const float *x, const float *emb, int B, int F, int D,
                                     int Dx, float *scratch);
void        interact_dot_backward_isa(int isa, float *dx, float *demb, const float *dout, const float *x,
                                      const float *emb, int B, int F, int D, int Dx, float *scratch);

/* interact_cat_forward: x (B, Dx) or NULL, emb (B, F, D) -> out (B, Dx + F*D). */
void interact_cat_forward(float *out, const float *x, const float *emb, int B, int F, int D, int Dx);
/* interact_cat_backward: dout (B, Dx + F*D) -> dx (B, Dx), demb (B, F, D). */
void interact_cat_backward(float *dx, float *demb, const float *dout, int B, int F, int D, int Dx);

#endif
