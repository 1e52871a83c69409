/* tt.h: the TT-Rec shape helpers of methods/tt.c, exposed for tests. */
#ifndef EMBSWEEP_TT_H
#define EMBSWEEP_TT_H

#include "methods/common/baseline.h"

/* Most balanced ordered triple q1 <= q2 <= q3 with q1 q2 q3 = d. */
void tt_factor_dim(int32_t d, int32_t q[3]);
/* Row factors p1, p2, p3 with p1 p2 p3 >= n, as balanced as ceil() allows. */
void tt_factor_rows(int64_t n, int64_t p[3]);

#endif
