/* fiited_select.c: a FIITED round's selection (methods/fiited.c explains the
 * method): the live (id, chunk) set of most utility under the byte budget, by a
 * threshold tau on the prefix-closed utilities and the ties at tau in a seeded
 * order. */
#include <math.h>

#include "fiited_impl.h"

/* eff(g, j) = min over j' <= j of u(g, j'), where u is a live chunk's own utility
 * (cu) and, for every missing chunk, the id's one counter (cnt): non-increasing in
 * j, so any threshold on it keeps a prefix of chunks. sl: the id's slots (NULL
 * when it has none). Writes eff(g, 0 .. C-1) into e. */
static void eff_of(const fiited_state *st, int64_t g, const uint32_t *sl, float *e) {
    float m = INFINITY;
    for (int32_t j = 0; j < st->C; j++) {
        float u = j < st->len[g] ? st->cu[sl[j]] : st->cnt[g];
        m = u < m ? u : m;
        e[j] = m;
    }
}

/* The slots of a live id (len[g] > 0: it is in the table). */
uint32_t *fiited_live_slots(const fiited_state *st, int64_t g) {
    int64_t p = vhpi_find(&st->ht, (uint64_t)g);
    HX_ASSERT(p >= 0);
    return vhpi_slots(&st->ht, p);
}

static float eff_at(const fiited_state *st, int64_t g, int32_t j) {
    if (!st->len[g]) return st->cnt[g];
    float e[128];
    eff_of(st, g, fiited_live_slots(st, g), e);
    return e[j];
}

static int fits(const fiited_state *st, int64_t K, int64_t L) { return fiited_bytes_at(st->s, st->C, K, L) <= st->target; }

#define TIE 0x80 /* newlen flag during a selection: eff(g, newlen) == tau */

/* Chunks (K) and ids (L) with eff > tau; with newlen, also each id's count, with
 * TIE when its next chunk ties. Live ids are walked through the hash table, the
 * others through their counter. */
static void count_above(fiited_state *st, float tau, uint8_t *newlen, int64_t *K, int64_t *L) {
    int64_t k = 0, l = 0;
    float e[128];
    for (int64_t p = 0; p < st->ht.cap; p++) {
        if (st->ht.keys[p] == VHPI_EMPTY) continue;
        int64_t g = (int64_t)st->ht.keys[p];
        eff_of(st, g, vhpi_slots(&st->ht, p), e);
        int32_t n = 0;
        while (n < st->C && e[n] > tau) n++;
        k += n;
        l += n > 0;
        if (newlen) newlen[g] = (uint8_t)(n | (n < st->C && e[n] == tau ? TIE : 0));
    }
    for (int64_t g = 0; g < st->N; g++) {
        if (st->len[g]) continue;
        int n = st->cnt[g] > tau ? st->C : 0;
        k += n;
        l += n > 0;
        if (newlen) newlen[g] = (uint8_t)(n | (st->cnt[g] == tau ? TIE : 0));
    }
    *K = k;
    *L = l;
}

/* The bit pattern of a float and back (the selection bisects over patterns). */
static float bits_to_float(uint32_t b) { float f; memcpy(&f, &b, sizeof f); return f; }
static uint32_t float_to_bits(float f) { uint32_t b; memcpy(&b, &f, sizeof b); return b; }

static inline void hist_add(fiited_hist *h, float e, uint32_t k, int first) {
    uint32_t u = float_to_bits(e);
    if (h->shift + h->width < 32 && u >> (h->shift + h->width) != h->prefix) return;
    uint32_t b = (u >> h->shift) & ((1u << h->width) - 1);
    h->hk[b] += k;
    h->hl[b] += (uint32_t)first;
}

static void eff_hist(const fiited_state *st, fiited_hist *h) {
    float e[128];
    memset(h->hk, 0, sizeof h->hk);
    memset(h->hl, 0, sizeof h->hl);
    for (int64_t p = 0; p < st->ht.cap; p++) {
        if (st->ht.keys[p] == VHPI_EMPTY) continue;
        eff_of(st, (int64_t)st->ht.keys[p], vhpi_slots(&st->ht, p), e);
        for (int32_t j = 0; j < st->C; j++) hist_add(h, e[j], 1, j == 0);
    }
    for (int64_t g = 0; g < st->N; g++)
        if (!st->len[g]) hist_add(h, st->cnt[g], (uint32_t)st->C, 1);
}

/* The smallest tau (in float order) whose set {eff > tau} fits the budget, when
 * the whole set does not. */
static float select_tau(const fiited_state *st, fiited_hist *h) {
    static const int shifts[3] = {21, 10, 0}, widths[3] = {11, 11, 10};
    int64_t K = 0, L = 0; /* chunks and ids above the current bucket range */
    h->prefix = 0;
    for (int lv = 0; lv < 3; lv++) {
        h->shift = shifts[lv];
        h->width = widths[lv];
        eff_hist(st, h);
        int64_t b = (1 << h->width) - 1;
        for (; b >= 0; b--) {
            if (!fits(st, K + h->hk[b], L + h->hl[b])) break;
            K += h->hk[b];
            L += h->hl[b];
        }
        HX_ASSERT(b >= 0); /* the whole range did not fit one level up */
        h->prefix = (h->prefix << h->width) | (uint32_t)b;
    }
    return bits_to_float(h->prefix);
}

/* The tie order: q -> ((q * PERM_PRIME + perm_off) mod 2^64) mod N for q = 0, 1,
 * ..., walked without a division a step: g moves by PERM_PRIME mod N, and by
 * -2^64 mod N more where the uint64 sum wraps. */
enum { PERM_AHEAD = 16 }; /* ids the tie walk fetches ahead (the order has no locality) */
typedef struct perm_walk {
    uint64_t v, g, n, step, wrap;
} perm_walk;

static void perm_start(perm_walk *w, uint64_t off, uint64_t n) {
    HX_ASSERT(n >= 1 && n < (1ull << 62));
    w->v = off;
    w->n = n;
    w->g = off % n;
    w->step = PERM_PRIME % n;
    w->wrap = (n - (UINT64_MAX % n + 1) % n) % n; /* -2^64 mod n */
}

static inline void perm_next(perm_walk *w) {
    const uint64_t v = w->v + PERM_PRIME;
    w->g += w->step;
    if (w->g >= w->n) w->g -= w->n;
    if (v < w->v) { /* wrapped */
        w->g += w->wrap;
        if (w->g >= w->n) w->g -= w->n;
    }
    w->v = v;
}

/* fiited_select: newlen[g] = live chunks of id g under the budget; returns K, L. */
void fiited_select(fiited_state *st, int64_t *Kout, int64_t *Lout) {
    const int32_t C = st->C;
    int64_t K, L;
    if (fits(st, st->N * C, st->N)) {
        memset(st->newlen, C, (size_t)st->N);
        *Kout = st->N * C;
        *Lout = st->N;
        return;
    }
    float tau = select_tau(st, &st->hist);
    count_above(st, tau, st->newlen, &K, &L);
    /* ties eff == tau: position by position, ids in a seeded permutation (q <
     * N); a position's walk may end once it has met every id tied there (an
     * id met twice was refused, and then every later one is: fits() depends on
     * K and L only) */
    int64_t ties[129] = {0}; /* ids tied at each position (C <= 127) */
    for (int64_t g = 0; g < st->N; g++)
        if (st->newlen[g] & TIE) ties[st->newlen[g] & ~TIE]++;
    perm_walk w, lead; /* lead: PERM_AHEAD ids in front, fetching their newlen */
    for (int32_t j = 0; j < C; j++) {
        if (!ties[j]) continue;
        perm_start(&w, st->perm_off, (uint64_t)st->N);
        lead = w;
        for (int k = 0; k < PERM_AHEAD; k++) perm_next(&lead);
        for (int64_t q = 0, left = ties[j]; q < st->N && left > 0; q++, perm_next(&w), perm_next(&lead)) {
            __builtin_prefetch(st->newlen + lead.g, 0, 3);
            const int64_t g = (int64_t)w.g;
            if (st->newlen[g] != (TIE | j)) continue;
            left--;
            if (!fits(st, K + 1, L + (j == 0))) continue;
            const int tie_next = j + 1 < C && eff_at(st, g, j + 1) == tau;
            st->newlen[g] = (uint8_t)((j + 1) | (tie_next ? TIE : 0));
            ties[j + 1] += tie_next;
            K++;
            L += j == 0;
        }
    }
    for (int64_t g = 0; g < st->N; g++) st->newlen[g] &= (uint8_t)~TIE;
    *Kout = K;
    *Lout = L;
}

uint64_t fiited_perm_check(uint64_t off, uint64_t n, uint64_t count) {
    perm_walk w;
    perm_start(&w, off, n);
    for (uint64_t q = 0; q < count; q++, perm_next(&w))
        if (w.g != (q * PERM_PRIME + off) % n) return q;
    return count;
}
