/* adaembed.h: test hooks of the AdaEmbed method (methods/adaembed.c); the method
 * itself is reached through emb_method_adaembed like every other. */
#ifndef EMBSWEEP_ADAEMBED_H
#define EMBSWEEP_ADAEMBED_H

#include "method.h"

/* Row of id i of field f: its hot row or -1 (cold) in a compressed field, i in an
 * uncompressed one. */
int64_t adaembed_row(const void *state, int32_t f, int64_t i);
/* Importance score of id i of field f (0 in an uncompressed field). */
float   adaembed_score(const void *state, int32_t f, int64_t i);
/* Ids holding a row, compressed ids, and the reallocations done so far. */
void    adaembed_sizes(const void *state, int64_t *held, int64_t *compressed, int64_t *reallocs);

#endif
