/* fiited.c: FIITED, fine-grained in-training embedding dimension optimization.
 *
 * Paper: Luo, Wang, Zhang, Lai, Mao, Wei, Song, Tsai, Yang, Hu, Qian, "Fine-Grained
 * Embedding Dimension Optimization During Training for Recommender Systems",
 * arXiv 2401.04408. No public code exists.
 *
 * What the paper states (abstract) and this file follows:
 *   - each embedding VECTOR's dimension is adjusted during training, important
 *     embeddings keep more dimensions;
 *   - importance = dimensions with higher access frequency and gradients;
 *   - storage is a virtually-hashed physically-indexed (VHPI) hash table so that
 *     pruning really frees memory (methods/common/vhpi.c).
 * Everything below is our reconstruction [R] (the paper is silent or unverified):
 *   - a vector of width D is stored as a PREFIX of chunks of `chunk` dims (C = D /
 *     chunk chunks); missing chunks read as 0 (zero padding to D);
 *   - utility u(id, j) += ||dout_j||_2 on every access of the id (not coalesced),
 *     for every chunk j, live or not: the gradient the zero-padded dims would
 *     receive is the same dout, so missing chunks earn utility to grow;
 *     u *= gamma every `interval` steps (AdaEmbed-style decay);
 *   - every `interval` steps after `warmup`, keep the live (id, chunk) set that
 *     maximizes utility under the byte budget B = full / ratio, counting the pool
 *     AND the hash table: with eff(id, j) = min_{j' <= j} u(id, j') (prefix-closed),
 *     take every chunk with eff > tau for the smallest tau that fits, then ties
 *     eff == tau chunk position by position (j = 0 first) in a seeded permutation
 *     of ids while they fit;
 *   - pruned chunks go to a free list; grown chunks take a free slot (or new pool
 *     rows), start at ZERO (the output is unchanged when a chunk grows) with zeroed
 *     optimizer state; an id with no chunk leaves the hash table (embedding 0);
 *   - after each prune/grow the pool is compacted (tail slots move into holes) and
 *     realloc'ed down to exactly the live chunks, the hash table is rehashed to
 *     vhpi_cap_for(live ids): the memory is returned (large pools are mappings,
 *     hx_big_realloc unmaps their tail pages and RSS drops);
 *   - the budget holds from create(): the initial live set is the zero-utility
 *     selection (breadth first: one chunk for as many ids as fit, in the seeded
 *     permutation, then second chunks, ...), initial chunks U(+-sqrt(1/N_f)) as DLRM;
 *   - the pool's optimizer state is per chunk row (row-wise Adagrad: one
 *     accumulator per chunk);
 *   - no finalize: every round (and create) leaves the pool compacted and the hash
 *     table at its exact capacity within the budget, so the training structure IS
 *     the inference representation at any step (the harness may then select any
 *     epoch's evaluation, as for full).
 * Bytes: inference = 4*chunk*(live chunks) + vhpi_bytes (cap * (8 + 4C));
 *   training (peaks) adds optimizer state of the pool, gradient slots, utility
 *   counters 4*N*C, a per-id scratch byte, transient hash tables while rehashing,
 *   and the free list.
 */
#include <math.h>

#include "fiited.h"
#include "methods/common/table.h"
#include "methods/common/vhpi.h"

enum { P_CHUNK, P_INTERVAL, P_WARMUP, P_GAMMA, P_COUNT };
static const emb_param_desc fiited_params[] = {
    [P_CHUNK] = {.name = "chunk", .type = EMB_P_INT, .min = 1, .max = 4096, .def = 4,
                 .help = "dims per chunk s; the dim must be divisible by s"},
    [P_INTERVAL] = {.name = "interval", .type = EMB_P_INT, .min = 1, .max = 1e15, .def = EMB_AUTO, .auto_ok = 1,
                    .help = "steps between prune/grow rounds (auto: total_steps/20 in [1, 1024])"},
    [P_WARMUP] = {.name = "warmup", .type = EMB_P_INT, .min = 0, .max = 1e15, .def = EMB_AUTO, .auto_ok = 1,
                  .help = "steps before the first prune/grow (auto: 10% of an epoch)"},
    [P_GAMMA] = {.name = "gamma", .type = EMB_P_FLOAT, .min = 0, .max = 1, .def = 0.9,
                 .help = "utility decay per interval"},
    [P_COUNT] = {.name = NULL},
};
EMB_PARAMS_CHECK(fiited_params, P_COUNT);

#define PERM_PRIME 2654435761ull /* prime > any N we index: q -> q*P mod N is a bijection */

/* The training peaks: pool rows, hash table bytes (both tables while one is
 * rehashed), free-list capacity. */
typedef struct fiited_peaks {
    uint64_t rows, ht, free;
} fiited_peaks;

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
    float     *util;       /* (N, C) utility */
    uint8_t   *newlen;     /* (N) selection scratch */
    fiited_peaks peak;     /* training peaks so far */
} fiited_state;

/* ---- budget arithmetic (shared by plan and the selection) ---- */

static double bytes_at(int32_t s, int32_t C, int64_t K, int64_t L) {
    return 4.0 * s * (double)K + (double)vhpi_bytes_for(vhpi_cap_for(L), C);
}

/* The zero-utility (initial) selection: L ids with one chunk, then more chunks
 * round by round. Mirrors fiited_select on all-zero utility. */
static void initial_counts(double T, int32_t s, int32_t C, int64_t N, int64_t *K, int64_t *L) {
    if (bytes_at(s, C, N * C, N) <= T) {
        *K = N * C;
        *L = N;
        return;
    }
    int64_t lo = 0, hi = N; /* largest l with bytes_at(l, l) <= T */
    while (lo < hi) {
        int64_t m = lo + (hi - lo + 1) / 2;
        if (bytes_at(s, C, m, m) <= T) lo = m;
        else hi = m - 1;
    }
    int64_t extra = (int64_t)floor((T - bytes_at(s, C, lo, lo)) / (4.0 * s));
    if (extra > (C - 1) * lo) extra = (C - 1) * lo;
    *K = lo + (extra > 0 ? extra : 0);
    *L = lo;
}

static int64_t total_ids(const emb_spec *spec) {
    int64_t n = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) n += spec->card[f];
    return n;
}

static hx_status fiited_check(const emb_spec *spec, int64_t *K, int64_t *L, char *err, size_t errlen) {
    int32_t s = (int32_t)spec->pv[P_CHUNK];
    if (spec->dim % s != 0)
        return hx_error(HX_ERR_PARAM, err, errlen, "fiited: dim %d is not divisible by chunk %d", spec->dim, s);
    int32_t C = spec->dim / s;
    int64_t N = total_ids(spec);
    if (N >= (int64_t)PERM_PRIME || N >= (int64_t)UINT32_MAX / C)
        return hx_error(HX_ERR_PARAM, err, errlen, "fiited: %lld ids exceed the 32-bit slot space", (long long)N);
    double full = emb_full_bytes(spec), T = full / spec->ratio;
    double lo = full / bytes_at(s, C, N * C, N), hi = full / bytes_at(s, C, 1, 1);
    if (T < bytes_at(s, C, 1, 1)) return emb_plan_unreachable(spec, "fiited", lo, hi, err, errlen);
    initial_counts(T, s, C, N, K, L);
    if (!emb_plan_within(spec->ratio, full / bytes_at(s, C, *K, *L)))
        return emb_plan_unreachable(spec, "fiited", lo, hi, err, errlen);
    return HX_OK;
}

static void fiited_auto(emb_spec *spec) {
    if (spec->pv[P_INTERVAL] == EMB_AUTO) {
        int64_t t = spec->total_steps / 20;
        spec->pv[P_INTERVAL] = (double)(t < 1 ? 1 : (t > 1024 ? 1024 : t));
    }
    if (spec->pv[P_WARMUP] == EMB_AUTO) spec->pv[P_WARMUP] = (double)(spec->steps_per_epoch / 10);
}

/* Gradient-slot capacity of the pool: every lookup's C chunks may be distinct. */
static int64_t pool_cap(const emb_spec *spec, int32_t C) { return (int64_t)spec->batch * spec->n_fields * C; }

/* The accounting of plan() and bytes() (the file comment's Bytes): the live pool
 * rows and table bytes ht, and the peaks; right after create() a peak is the size. */
static void fiited_account(int32_t s, int32_t C, int64_t N, int64_t cap, opt_kind kind, uint64_t rows, uint64_t ht,
                           const fiited_peaks *pk, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    out->infer_params = 4ull * (uint64_t)s * rows;
    out->infer_index = ht;
    out->train_params = 4ull * (uint64_t)s * pk->rows;
    out->train_optim = 4ull * (uint64_t)opt_state_floats(kind, (size_t)s) * pk->rows;
    out->train_other = emb_table_predict_grad(cap, s) + 4ull * (uint64_t)N * (uint64_t)C + (uint64_t)N + pk->ht +
                       4ull * pk->free;
    snprintf(out->index_desc, sizeof out->index_desc, "vhpi hash, %d-byte entries", 8 + 4 * C);
}

static hx_status fiited_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    fiited_auto(spec);
    int64_t K, L;
    hx_status rc = fiited_check(spec, &K, &L, err, errlen);
    if (rc != HX_OK) return rc;
    int32_t s = (int32_t)spec->pv[P_CHUNK], C = spec->dim / s;
    int64_t N = total_ids(spec);
    uint64_t ht = vhpi_bytes_for(vhpi_cap_for(L), C);
    fiited_account(s, C, N, pool_cap(spec, C), spec->opt.kind, (uint64_t)K, ht,
                   &(fiited_peaks){.rows = (uint64_t)K, .ht = ht}, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs,
             "budget %.0f B; start: %lld of %lld ids live, %lld of %lld chunks (s=%d); interval %g, warmup %g",
             emb_full_bytes(spec) / spec->ratio, (long long)L, (long long)N, (long long)K, (long long)N * C, s,
             spec->pv[P_INTERVAL], spec->pv[P_WARMUP]);
    return HX_OK;
}

/* ---- selection ---- */

/* eff(g, j) = min over j' <= j of u(g, j'): non-increasing in j, so any threshold
 * on it keeps a prefix of chunks. */
static inline float eff_at(const fiited_state *st, int64_t g, int32_t j) {
    const float *u = st->util + (size_t)g * st->C;
    float e = u[0];
    for (int32_t q = 1; q <= j; q++) e = u[q] < e ? u[q] : e;
    return e;
}

static int fits(const fiited_state *st, int64_t K, int64_t L) { return bytes_at(st->s, st->C, K, L) <= st->target; }

/* Chunks (K) and ids (L) with eff > tau. */
static void count_above(const fiited_state *st, float tau, int64_t *K, int64_t *L) {
    int64_t k = 0, l = 0;
    for (int64_t g = 0; g < st->N; g++) {
        const float *u = st->util + (size_t)g * st->C;
        float e = u[0];
        for (int32_t j = 0; j < st->C; j++) {
            e = u[j] < e ? u[j] : e;
            if (!(e > tau)) break;
            k++;
            l += j == 0;
        }
    }
    *K = k;
    *L = l;
}

/* The bit pattern of a float and back (the selection bisects over patterns). */
static float bits_to_float(uint32_t b) { float f; memcpy(&f, &b, sizeof f); return f; }
static uint32_t float_to_bits(float f) { uint32_t b; memcpy(&b, &f, sizeof b); return b; }

/* fiited_select: newlen[g] = live chunks of id g under the budget; returns K, L. */
static void fiited_select(fiited_state *st, int64_t *Kout, int64_t *Lout) {
    const int32_t C = st->C;
    int64_t K, L;
    if (fits(st, st->N * C, st->N)) {
        memset(st->newlen, C, (size_t)st->N);
        *Kout = st->N * C;
        *Lout = st->N;
        return;
    }
    /* smallest tau >= 0 (in float order) whose strict set fits; utilities are >= 0 so
     * non-negative float bit patterns are ordered like the floats */
    float maxu = 0;
    for (int64_t g = 0; g < st->N; g++) maxu = st->util[(size_t)g * C] > maxu ? st->util[(size_t)g * C] : maxu;
    uint32_t lo = 0, hi = float_to_bits(maxu);
    count_above(st, 0.0f, &K, &L);
    if (!fits(st, K, L)) {
        while (hi - lo > 1) { /* fits(hi) holds, fits(lo) does not */
            uint32_t mid = lo + (hi - lo) / 2;
            count_above(st, bits_to_float(mid), &K, &L);
            if (fits(st, K, L)) hi = mid;
            else lo = mid;
        }
    } else {
        hi = 0;
    }
    float tau = bits_to_float(hi);
    K = L = 0;
    for (int64_t g = 0; g < st->N; g++) {
        uint8_t n = 0;
        while (n < C && eff_at(st, g, n) > tau) n++;
        st->newlen[g] = n;
        K += n;
        L += n > 0;
    }
    /* ties eff == tau: position by position, ids in a seeded permutation */
    for (int32_t j = 0; j < C; j++)
        for (int64_t q = 0; q < st->N; q++) {
            int64_t g = (int64_t)(((uint64_t)q * PERM_PRIME + st->perm_off) % (uint64_t)st->N);
            if (st->newlen[g] != j || eff_at(st, g, j) != tau) continue;
            if (!fits(st, K + 1, L + (j == 0))) continue;
            st->newlen[g]++;
            K++;
            L += j == 0;
        }
    *Kout = K;
    *Lout = L;
}

/* ---- pool and free list ---- */

static void note_peaks(fiited_state *st, uint64_t extra_ht) {
    if ((uint64_t)st->pool.rows > st->peak.rows) st->peak.rows = (uint64_t)st->pool.rows;
    uint64_t ht = vhpi_bytes(&st->ht) + extra_ht;
    if (ht > st->peak.ht) st->peak.ht = ht;
    if ((uint64_t)st->freecap > st->peak.free) st->peak.free = (uint64_t)st->freecap;
}

/* Resize the pool to rows (parameters and optimizer state). */
static hx_status pool_resize(fiited_state *st, int64_t rows, char *err, size_t errlen) {
    emb_table *t = &st->pool;
    HX_ASSERT(rows >= 1 && t->n_touched == 0);
    float *w = hx_big_realloc(t->w, (size_t)rows * (size_t)t->width * sizeof(float));
    if (!w) return hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for %lld chunks", (long long)rows);
    t->w = w;
    if (t->state_w) {
        float *s = hx_big_realloc(t->state, (size_t)rows * t->state_w * sizeof(float));
        if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for optimizer state");
        t->state = s;
    }
    t->rows = rows;
    note_peaks(st, 0);
    return HX_OK;
}

static hx_status free_push(fiited_state *st, uint32_t slot, char *err, size_t errlen) {
    if (st->nfree == st->freecap) {
        int64_t cap = st->freecap ? 2 * st->freecap : 64;
        uint32_t *p = hx_realloc(st->freel, (size_t)cap * sizeof(uint32_t));
        if (!p) return hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for the free list");
        st->freel = p;
        st->freecap = cap;
        note_peaks(st, 0);
    }
    st->freel[st->nfree++] = slot;
    return HX_OK;
}

static void chunk_move(fiited_state *st, uint32_t from, uint32_t to) {
    emb_table *t = &st->pool;
    memcpy(emb_table_row(t, to), emb_table_row(t, from), (size_t)t->width * sizeof(float));
    if (t->state_w) memcpy(t->state + (size_t)to * t->state_w, t->state + (size_t)from * t->state_w, t->state_w * sizeof(float));
}

/* Compact: move every live slot >= K into a hole < K, then shrink the pool to K rows. */
static hx_status pool_compact(fiited_state *st, int64_t K, char *err, size_t errlen) {
    int64_t nh = 0;
    for (int64_t q = 0; q < st->nfree; q++)
        if (st->freel[q] < (uint64_t)K) st->freel[nh++] = st->freel[q];
    for (int64_t p = 0; p < st->ht.cap && nh > 0; p++) {
        if (st->ht.keys[p] == VHPI_EMPTY) continue;
        uint32_t *sl = vhpi_slots(&st->ht, p);
        for (int32_t j = 0; j < st->C; j++)
            if (sl[j] != VHPI_NONE && sl[j] >= (uint64_t)K) {
                uint32_t h = st->freel[--nh];
                chunk_move(st, sl[j], h);
                sl[j] = h;
            }
    }
    HX_ASSERT(nh == 0);
    st->nfree = 0;
    hx_free(st->freel); /* the list is empty between rounds: give it back */
    st->freel = NULL;
    st->freecap = 0;
    return K == st->pool.rows ? HX_OK : pool_resize(st, K, err, errlen);
}

/* fiited_apply: make the live set equal newlen (prune, grow, compact, rehash). */
static hx_status fiited_apply(fiited_state *st, int64_t K, int64_t L, char *err, size_t errlen) {
    const int32_t C = st->C;
    hx_status rc;
    /* 1. prune chunks beyond the new length */
    int64_t used = 0;
    for (int64_t p = 0; p < st->ht.cap; p++) {
        if (st->ht.keys[p] == VHPI_EMPTY) continue;
        uint32_t *sl = vhpi_slots(&st->ht, p);
        for (int32_t j = 0; j < C; j++) {
            if (sl[j] == VHPI_NONE) continue;
            if (j < st->newlen[st->ht.keys[p]]) {
                used++;
                continue;
            }
            if ((rc = free_push(st, sl[j], err, errlen)) != HX_OK) return rc;
            sl[j] = VHPI_NONE;
        }
    }
    /* 2. ids without chunks leave the table */
    for (int64_t g = 0; g < st->N; g++)
        if (!st->newlen[g] && st->ht.count) vhpi_erase(&st->ht, (uint64_t)g);
    /* 3. room for the new ids */
    int64_t cap = vhpi_cap_for(L);
    if (cap > st->ht.cap) {
        note_peaks(st, vhpi_bytes_for(cap, C)); /* both tables exist while rehashing */
        if ((rc = vhpi_resize(&st->ht, cap, err, errlen)) != HX_OK) return rc;
    }
    /* 4. new pool rows when the holes do not suffice */
    int64_t need = K - used - st->nfree;
    if (need > 0) {
        int64_t old = st->pool.rows;
        if ((rc = pool_resize(st, old + need, err, errlen)) != HX_OK) return rc;
        for (int64_t r = old + need - 1; r >= old; r--)
            if ((rc = free_push(st, (uint32_t)r, err, errlen)) != HX_OK) return rc;
    }
    /* 5. grow: zero chunks with zero optimizer state */
    emb_table *t = &st->pool;
    for (int64_t g = 0; g < st->N; g++) {
        if (!st->newlen[g]) continue;
        int64_t p = vhpi_find(&st->ht, (uint64_t)g);
        if (p < 0) p = vhpi_insert(&st->ht, (uint64_t)g);
        uint32_t *sl = vhpi_slots(&st->ht, p);
        for (int32_t j = 0; j < st->newlen[g]; j++) {
            if (sl[j] != VHPI_NONE) continue;
            HX_ASSERT(st->nfree > 0);
            uint32_t r = st->freel[--st->nfree];
            memset(emb_table_row(t, r), 0, (size_t)t->width * sizeof(float));
            if (t->state_w) memset(t->state + (size_t)r * t->state_w, 0, t->state_w * sizeof(float));
            sl[j] = r;
        }
    }
    /* 6. exact table capacity, 7. compact the pool */
    if (cap < st->ht.cap) {
        note_peaks(st, vhpi_bytes_for(cap, C));
        if ((rc = vhpi_resize(&st->ht, cap, err, errlen)) != HX_OK) return rc;
    }
    HX_ASSERT(st->ht.count == L);
    return pool_compact(st, K, err, errlen);
}

/* ---- method ---- */

static void fiited_destroy(void *state) {
    fiited_state *st = state;
    if (!st) return;
    vhpi_free(&st->ht);
    emb_table_free(&st->pool);
    hx_free(st->off);
    hx_free(st->freel);
    hx_free(st->util);
    hx_free(st->newlen);
    hx_free(st);
}

static hx_status fiited_create(const emb_spec *spec0, void **state, char *err, size_t errlen) {
    emb_spec spec = *spec0;
    fiited_auto(&spec);
    int64_t K, L;
    hx_status rc = fiited_check(&spec, &K, &L, err, errlen);
    if (rc != HX_OK) return rc;
    fiited_state *st = hx_calloc(1, sizeof *st);
    if (!st) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    st->F = spec.n_fields;
    st->D = spec.dim;
    st->s = (int32_t)spec.pv[P_CHUNK];
    st->C = st->D / st->s;
    st->N = total_ids(&spec);
    st->target = emb_full_bytes(&spec) / spec.ratio;
    st->interval = (int64_t)spec.pv[P_INTERVAL];
    st->warmup = (int64_t)spec.pv[P_WARMUP];
    st->gamma = (float)spec.pv[P_GAMMA];
    st->perm_off = hx_splitmix64(spec.seed ^ 0x666969746564ull);
    st->opt = spec.opt;
    st->off = hx_calloc((size_t)st->F + 1, sizeof(int64_t));
    st->util = hx_calloc((size_t)st->N * (size_t)st->C, sizeof(float));
    st->newlen = hx_calloc((size_t)st->N, 1);
    if (!st->off || !st->util || !st->newlen) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for %lld ids", (long long)st->N);
        goto fail;
    }
    for (int32_t f = 0; f < st->F; f++) st->off[f + 1] = st->off[f] + spec.card[f];
    int64_t K2, L2;
    fiited_select(st, &K2, &L2); /* zero utility: the initial, planned live set */
    HX_ASSERT(K2 == K && L2 == L);
    rc = vhpi_init(&st->ht, vhpi_cap_for(L), st->C, err, errlen);
    if (rc == HX_OK)
        rc = emb_table_init(&st->pool, K, st->s, pool_cap(&spec, st->C), spec.opt.kind, err, errlen);
    if (rc != HX_OK) goto fail;
    hx_rng rng;
    hx_rng_seed(&rng, spec.seed);
    uint32_t r = 0;
    for (int32_t f = 0; f < st->F; f++) {
        float a = sqrtf(1.0f / (float)spec.card[f]);
        for (int64_t g = st->off[f]; g < st->off[f + 1]; g++) {
            if (!st->newlen[g]) continue;
            uint32_t *sl = vhpi_slots(&st->ht, vhpi_insert(&st->ht, (uint64_t)g));
            for (int32_t j = 0; j < st->newlen[g]; j++, r++) {
                sl[j] = r;
                float *w = emb_table_row(&st->pool, r);
                for (int32_t e = 0; e < st->s; e++) w[e] = hx_rng_uniformf(&rng, -a, a);
            }
        }
    }
    HX_ASSERT(r == (uint64_t)K);
    note_peaks(st, 0);
    *state = st;
    return HX_OK;
fail:
    fiited_destroy(st);
    return rc;
}

/* idx (B, F) -> out (B, F, D): live chunks, zeros for missing ones. */
static void fiited_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    fiited_state *st = state;
    const int32_t F = st->F, D = st->D, s = st->s;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t i = idx[b * F + f];
            HX_ASSERT(i >= 0 && i < st->off[f + 1] - st->off[f]);
            float *o = out + ((size_t)b * F + f) * D;
            int64_t p = vhpi_find(&st->ht, (uint64_t)(st->off[f] + i));
            const uint32_t *sl = p >= 0 ? vhpi_slots(&st->ht, p) : NULL;
            for (int32_t j = 0; j < st->C; j++) {
                if (sl && sl[j] != VHPI_NONE) memcpy(o + j * s, emb_table_row(&st->pool, sl[j]), (size_t)s * sizeof(float));
                else memset(o + j * s, 0, (size_t)s * sizeof(float));
            }
        }
}

/* dout (B, F, D): gradients of live chunks; utility of every chunk. */
static void fiited_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    fiited_state *st = state;
    const int32_t F = st->F, D = st->D, s = st->s;
    for (int64_t b = 0; b < B; b++)
        for (int32_t f = 0; f < F; f++) {
            int64_t g = st->off[f] + idx[b * F + f];
            const float *d = dout + ((size_t)b * F + f) * D;
            for (int32_t j = 0; j < st->C; j++) {
                double n2 = 0;
                for (int32_t e = 0; e < s; e++) n2 += (double)d[j * s + e] * d[j * s + e];
                st->util[(size_t)g * st->C + j] += (float)sqrt(n2);
            }
            int64_t p = vhpi_find(&st->ht, (uint64_t)g);
            if (p < 0) continue;
            const uint32_t *sl = vhpi_slots(&st->ht, p);
            for (int32_t j = 0; j < st->C && sl[j] != VHPI_NONE; j++) {
                float *gr = emb_table_grad_row(&st->pool, sl[j]);
                for (int32_t e = 0; e < s; e++) gr[e] += d[j * s + e];
            }
        }
}

static void fiited_step(void *state, int64_t t) {
    fiited_state *st = state;
    emb_table_step(&st->pool, &st->opt, t);
}

/* One prune/grow round under the current budget. */
static hx_status fiited_round(fiited_state *st, char *err, size_t errlen) {
    int64_t K, L;
    fiited_select(st, &K, &L);
    return fiited_apply(st, K, L, err, errlen);
}

static hx_status fiited_on_step(void *state, int64_t t, char *err, size_t errlen) {
    fiited_state *st = state;
    if (t % st->interval != 0) return HX_OK;
    if (t >= st->warmup) {
        hx_status rc = fiited_round(st, err, errlen);
        if (rc != HX_OK) return rc;
    }
    size_t n = (size_t)st->N * (size_t)st->C;
    for (size_t q = 0; q < n; q++) st->util[q] *= st->gamma;
    return HX_OK;
}

static void fiited_bytes(const void *state, emb_bytes *out) {
    const fiited_state *st = state;
    fiited_account(st->s, st->C, st->N, st->pool.cap, st->opt.kind, (uint64_t)st->pool.rows, vhpi_bytes(&st->ht),
                   &st->peak, out);
}

/* One tensor: the chunk pool, (live chunks, s). */
static emb_table *fiited_table_at(void *state, int i, const char **name) {
    *name = "pool";
    return i == 0 ? &((fiited_state *)state)->pool : NULL;
}

EMB_TABLES_TENSORS(fiited, fiited_table_at)

/* ---- test hooks (fiited.h) ---- */

hx_status fiited_rebudget(void *state, double ratio, char *err, size_t errlen) {
    fiited_state *st = state;
    double full = 0;
    for (int32_t f = 0; f < st->F; f++) full += 4.0 * (double)(st->off[f + 1] - st->off[f]) * st->D;
    if (full / ratio < bytes_at(st->s, st->C, 1, 1))
        return hx_error(HX_ERR_PARAM, err, errlen, "fiited: ratio %g leaves no chunk", ratio);
    st->target = full / ratio;
    return fiited_round(st, err, errlen);
}

void fiited_live(const void *state, int64_t *chunks, int64_t *ids, double *budget) {
    const fiited_state *st = state;
    *chunks = st->pool.rows;
    *ids = st->ht.count;
    *budget = st->target;
}

int fiited_len(const void *state, int32_t f, int64_t i) {
    const fiited_state *st = state;
    int64_t p = vhpi_find(&st->ht, (uint64_t)(st->off[f] + i));
    if (p < 0) return 0;
    int n = 0;
    while (n < st->C && vhpi_slots(&st->ht, p)[n] != VHPI_NONE) n++;
    return n;
}

const emb_method emb_method_fiited = {
    .api_version = EMB_API_VERSION,
    .name = "fiited",
    .desc = "per-vector dimension pruning/growth in training, chunked, VHPI hash storage (our reconstruction)",
    .cite = "Luo et al., Fine-Grained Embedding Dimension Optimization During Training for Recommender Systems, arXiv 2401.04408",
    .params = fiited_params,
    .n_params = P_COUNT,
    .caps = EMB_CAP_TRAINABLE | EMB_CAP_DYNAMIC,
    .plan = fiited_plan,
    .create = fiited_create,
    .destroy = fiited_destroy,
    .forward = fiited_forward,
    .backward = fiited_backward,
    .step = fiited_step,
    .on_step = fiited_on_step,
    .bytes = fiited_bytes,
    .tensors = fiited_tensors,
    .grad = fiited_grad,
};
