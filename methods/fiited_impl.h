/* fiited_impl.h: FIITED's state, shared by its two files: fiited.c (the method:
 * plan, create, forward, backward, the rounds' pool and hash table) and
 * fiited_select.c (a round's selection of the live chunks under the budget).
 * Not for other code: the method is reached through emb_method_fiited. */
#ifndef EMBSWEEP_FIITED_IMPL_H
#define EMBSWEEP_FIITED_IMPL_H

#include "fiited.h"
#include "methods/common/table.h"
#include "methods/common/vhpi.h"

#define PERM_PRIME 2654435761ull /* prime > any N we index: q -> q*P mod N is a bijection */

/* The training peaks: pool rows, hash table bytes (both tables while one is
 * rehashed), free-list capacity. */
typedef struct fiited_peaks {
    uint64_t rows, ht, free;
} fiited_peaks;

/* The selection finds tau with three histogram passes over the eff values' float
 * bit patterns (11, 11 and 10 bits; non-negative floats order like their
 * patterns), each narrowing to the bucket where the set {eff > tau} stops
 * fitting; the exact result of a bisection, in 3 passes instead of 32. */
typedef struct fiited_hist {
    uint32_t prefix;     /* pattern bits above this level's bucket bits */
    int      shift, width;
    uint32_t hk[2048], hl[2048]; /* chunks and first chunks per bucket */
} fiited_hist;

typedef struct fiited_state {
    int32_t    F, D, s, C;
    int64_t    N;          /* sum_f N_f */
    int64_t   *off;        /* (F+1) global id of (f, 0) */
    double     target;     /* byte budget */
    int64_t    interval, warmup;
    float      gamma;
    uint64_t   perm_off;   /* seeded offset of the tie permutation */
    opt_cfg    opt;
    vhpi_table ht;         /* global id -> C chunk slots */
    emb_table  pool;       /* (rows, s) live chunks, optimizer state, gradient slots */
    uint32_t  *freel;      /* free slots (stack) */
    int64_t    nfree, freecap;
    float     *cu;         /* (pool rows) utility of each live chunk, moves with it */
    float     *cnt;        /* (N) utility of an id's missing chunks (one shared value) */
    uint8_t   *len;        /* (N) live chunks of each id (0: not in the hash table) */
    uint8_t   *newlen;     /* (N) selection scratch */
    fiited_peaks peak;     /* training peaks so far */
    fiited_hist hist;      /* the selection's histograms */
} fiited_state;

/* Bytes of K live chunks of s dims and L live ids (pool and hash table). */
static inline double fiited_bytes_at(int32_t s, int32_t C, int64_t K, int64_t L) {
    return 4.0 * s * (double)K + (double)vhpi_bytes_for(vhpi_cap_for(L), C);
}

/* The slots of a live id (len[g] > 0: it is in the table). */
uint32_t *fiited_live_slots(const fiited_state *st, int64_t g);
/* newlen[g] = live chunks of id g under the budget; K, L the chunks and ids. */
void      fiited_select(fiited_state *st, int64_t *K, int64_t *L);

#endif
