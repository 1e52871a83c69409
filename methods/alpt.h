/* alpt.h: test hook of the ALPT method (methods/alpt.c); the method itself is
 * reached through emb_method_alpt like every other. */
#ifndef EMBSWEEP_ALPT_H
#define EMBSWEEP_ALPT_H

#include "method.h"

/* Row r of field f de-quantised into y (D floats), and its step Delta. */
void alpt_row(const void *state, int32_t f, int64_t r, float *y, float *step);

#endif
