/* cqr.h: test hooks of the CQR/CCE method (methods/cqr.c); the method itself is
 * reached through emb_method_cqr like every other. */
#ifndef EMBSWEEP_CQR_H
#define EMBSWEEP_CQR_H

#include "method.h"

/* Run one clustering round on every compressed field now (what on_step does at
 * its scheduled steps). */
hx_status cqr_cluster(void *state, char *err, size_t errlen);
/* The stored clustered pointer a_j(i) of field f. */
uint32_t  cqr_pointer_a(const void *state, int32_t f, int64_t i, int32_t j);

#endif
