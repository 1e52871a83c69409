/* hotsketch.c: see hotsketch.h. */
#include "hotsketch.h"

#include <string.h>

hx_status hs_init(hotsketch *s, int64_t nb, float threshold, float decay, uint64_t seed, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    HX_ASSERT(nb >= 1 && nb <= INT32_MAX);
    s->nb = nb;
    s->threshold = threshold;
    s->decay = decay;
    s->seed = seed;
    s->b = hx_calloc((size_t)nb, sizeof(hs_bucket));
    s->freeq = hx_calloc((size_t)nb, sizeof(int32_t));
    if (!s->b || !s->freeq) {
        hs_free(s);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for a sketch of %lld buckets", (long long)nb);
    }
    for (int64_t r = 0; r < nb; r++) s->freeq[r] = (int32_t)r;
    s->qlen = nb;
    return HX_OK;
}

void hs_free(hotsketch *s) {
    hx_free(s->b);
    hx_free(s->freeq);
    memset(s, 0, sizeof *s);
}

static hs_bucket *bucket_of(const hotsketch *s, uint32_t id) {
    return &s->b[hx_hash_index(id, s->seed, (uint64_t)s->nb)];
}

static void free_row(hotsketch *s, int32_t row) {
    HX_ASSERT(s->qlen < s->nb);
    s->freeq[(s->qhead + s->qlen) % s->nb] = row;
    s->qlen++;
    s->n_hot--;
}

static int32_t take_row(hotsketch *s) {
    HX_ASSERT(s->qlen > 0);
    int32_t r = s->freeq[s->qhead];
    s->qhead = (s->qhead + 1) % s->nb;
    s->qlen--;
    s->n_hot++;
    return r;
}

void hs_maybe_decay(hotsketch *s) {
    if (!(s->added > 10.0 * (double)s->nb * s->threshold)) return;
    for (int64_t k = 0; k < s->nb; k++) {
        hs_bucket *b = &s->b[k];
        for (int i = 0; i < HS_SLOTS; i++) {
            if (b->hot[i] && b->score[i] * s->decay < s->threshold) {
                free_row(s, b->hot[i] - 1);
                b->hot[i] = 0;
            }
            b->score[i] *= s->decay;
        }
    }
    s->added = 0;
    s->n_decays++;
}

static void swap_slots(hs_bucket *b, int i, int j) {
    uint32_t id = b->id[i];
    float sc = b->score[i];
    int32_t h = b->hot[i];
    b->id[i] = b->id[j];
    b->score[i] = b->score[j];
    b->hot[i] = b->hot[j];
    b->id[j] = id;
    b->score[j] = sc;
    b->hot[j] = h;
}

int64_t hs_insert(hotsketch *s, uint32_t id, float v) {
    s->added += v;
    hs_bucket *b = bucket_of(s, id);
    for (int i = 0; i < HS_SLOTS; i++) {
        if (b->score[i] == 0 || b->id[i] != id) continue;
        int64_t got = -1;
        b->score[i] += v;
        if (b->score[i] >= s->threshold && !b->hot[i] && s->qlen > 0) {
            got = take_row(s);
            b->hot[i] = (int32_t)got + 1;
        }
        for (; i > 0 && b->score[i] > b->score[i - 1]; i--) swap_slots(b, i, i - 1);
        return got;
    }
    for (int i = 0; i < HS_SLOTS; i++)
        if (b->score[i] == 0) {
            b->score[i] = v;
            b->id[i] = id;
            return -1;
        }
    if (!b->hot[HS_SLOTS - 1]) { /* SpaceSaving: the newcomer inherits the last score */
        b->score[HS_SLOTS - 1] += v;
        b->id[HS_SLOTS - 1] = id;
    }
    return -1;
}

int64_t hs_query(const hotsketch *s, uint32_t id) {
    const hs_bucket *b = bucket_of(s, id);
    for (int i = 0; i < HS_SLOTS; i++)
        if (b->score[i] != 0 && b->id[i] == id) return b->hot[i] ? b->hot[i] - 1 : -1;
    return -1;
}

float hs_score(const hotsketch *s, uint32_t id) {
    const hs_bucket *b = bucket_of(s, id);
    for (int i = 0; i < HS_SLOTS; i++)
        if (b->score[i] != 0 && b->id[i] == id) return b->score[i];
    return 0;
}
