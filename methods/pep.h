/* pep.h: test hooks of the PEP method (methods/pep.c); the method itself is
 * reached through emb_method_pep like every other. */
#ifndef EMBSWEEP_PEP_H
#define EMBSWEEP_PEP_H

#include "method.h"

/* 1 while v and s train (stage 1), 2 once the mask is fixed (stage 2). */
int      pep_stage(const void *state);
/* Entries the mask keeps (stage 2) or that the soft threshold passes now
 * (stage 1); *target = the entries the ratio allows, *nnz_at_switch = the
 * threshold's count at the step that ended stage 1 (-1 before). */
int64_t  pep_kept(const void *state, int64_t *target, int64_t *nnz_at_switch);
/* 1 if entry j of id i of field f is kept by the mask (stage 2 only). */
int      pep_mask_at(const void *state, int32_t f, int64_t i, int32_t j);
/* The threshold parameters s, their count, and their pending gradient (dense,
 * overwritten). */
float   *pep_threshold(void *state, size_t *n);
void     pep_threshold_grad(void *state, float *dense);
/* After writing s through pep_threshold: recompute g(s). */
void     pep_threshold_set(void *state);
/* The initial table entry (the stage-2 rewind point). */
float    pep_initial_at(const void *state, int32_t f, int64_t i, int32_t j);
/* End stage 1 now (as when the target is reached). */
hx_status pep_switch(void *state, char *err, size_t errlen);

#endif
