/* fm.h: the second-order factorization-machine term of DeepFM (Guo et al.,
 * IJCAI 2017, eq. 3; Rendle, ICDM 2010, lemma 3.1), in O(n * D) per row:
 *
 *   out[b] = 1/2 sum_k [ (sum_i v[b,i,k])^2 - sum_i v[b,i,k]^2 ]
 *          = sum_{i < j} <v[b,i], v[b,j]>
 *
 * Shape legend: B batch rows, n vectors per row, D their width.
 * Rows are independent: a caller may split B across threads.
 */
#ifndef EMBSWEEP_FM_H
#define EMBSWEEP_FM_H

/* fm_forward: v (B, n, D) -> out (B), OVERWRITTEN. */
void fm_forward(float *out, const float *v, int B, int n, int D);
/* fm_backward: dout (B) -> dv (B, n, D) ACCUMULATED:
 *   dv[b,i,k] += dout[b] * (sum_j v[b,j,k] - v[b,i,k]).
 * scratch: D floats. */
void fm_backward(float *dv, const float *dout, const float *v, int B, int n, int D, float *scratch);

#endif
