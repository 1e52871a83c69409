/* hotsketch.h: CAFE's HotSketch (Zhang et al., SIGMOD 2024), the structure that
 * decides which ids are hot and which hot-table row each hot id owns.
 *
 *   nb buckets of 4 slots; a slot holds (id uint32, score float, hot int32) = 12 B,
 *   so a bucket is 48 B, as in the reference layout (HugoZHL/CAFE sketch.cpp).
 *   An id lives in bucket h(id) (seeded hash [R]; the reference takes id mod nb).
 *   A tracked id's slot moves up past lower scores after an update.
 *
 * insert(id, v), as the reference:
 *   - id present: score += v; if score >= threshold, the id is not hot yet and a hot
 *     row is free, it takes the oldest free row (FIFO) and insert returns that row
 *     (the caller copies the id's hashed row into it); the slot bubbles up;
 *   - else an empty slot (score 0) takes it with score v;
 *   - else SpaceSaving: the last slot, unless it is hot, takes the id and adds v to
 *     the score it inherits (an id is only promoted on a later insert).
 * Decay, as the reference: before a batch of inserts, once the scores added since
 * the last decay exceed 10 * nb * threshold, every score is multiplied by `decay`
 * and hot ids whose decayed score falls below the threshold lose their row (it
 * goes back to the free queue).
 * The hot rows are 0 .. nb-1 (the reference hands out 1 .. nb-1 and leaves row 0
 * unused [R]).
 */
#ifndef EMBSWEEP_HOTSKETCH_H
#define EMBSWEEP_HOTSKETCH_H

#include <stdint.h>

#include "harness/core/util.h"

#define HS_SLOTS 4
#define HS_BUCKET_BYTES 48 /* 4 x (uint32 id + float score + int32 hot) */

typedef struct hs_bucket {
    uint32_t id[HS_SLOTS];
    float    score[HS_SLOTS];
    int32_t  hot[HS_SLOTS]; /* hot row + 1, 0 = not hot */
} hs_bucket;
_Static_assert(sizeof(hs_bucket) == HS_BUCKET_BYTES, "hs_bucket: the reference's 48-byte bucket");

typedef struct hotsketch {
    int64_t    nb;          /* buckets = hot rows */
    hs_bucket *b;           /* (nb) */
    int32_t   *freeq;       /* (nb) FIFO ring of free hot rows */
    int64_t    qhead, qlen;
    float      threshold, decay;
    double     added;       /* scores inserted since the last decay */
    uint64_t   seed;
    int64_t    n_hot, n_decays;
} hotsketch;

hx_status hs_init(hotsketch *s, int64_t nb, float threshold, float decay, uint64_t seed, char *err, size_t errlen);
void      hs_free(hotsketch *s);
/* Decay if due (call once before each batch of inserts). */
void      hs_maybe_decay(hotsketch *s);
/* Insert one occurrence with score v > 0. Returns the hot row the id was just
 * given, or -1. */
int64_t   hs_insert(hotsketch *s, uint32_t id, float v);
/* The id's hot row, or -1 when it is not hot. */
int64_t   hs_query(const hotsketch *s, uint32_t id);
/* The id's tracked score (0 when not tracked). */
float     hs_score(const hotsketch *s, uint32_t id);
/* Bytes held in training beyond the buckets: the free queue. */
static inline uint64_t hs_queue_bytes(int64_t nb) { return 4ull * (uint64_t)nb; }

#endif
