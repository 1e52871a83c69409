/* fiited.h: test hooks of the FIITED method (methods/fiited.c); the method itself is
 * reached through emb_method_fiited like every other. */
#ifndef EMBSWEEP_FIITED_H
#define EMBSWEEP_FIITED_H

#include "method.h"

/* Change the byte budget to full/ratio and run one prune/grow round now. */
hx_status fiited_rebudget(void *state, double ratio, char *err, size_t errlen);
/* Live chunks (pool rows), live ids (hash entries) and the byte budget. */
void      fiited_live(const void *state, int64_t *chunks, int64_t *ids, double *budget);
/* The first q < count where the selection's tie order, walked step by step,
 * differs from (q * PERM_PRIME + off) mod 2^64 mod n; count if none. */
uint64_t  fiited_perm_check(uint64_t off, uint64_t n, uint64_t count);
/* Live chunks of id i of field f (0: not stored). */
int       fiited_len(const void *state, int32_t f, int64_t i);

#endif
