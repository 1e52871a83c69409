/* fiited.c: FIITED, fine-grained in-training embedding dimension optimization.
 *
 * Paper: Luo, Wang, Zhang, Lai, Mao, Wei, Song, Tsai, Yang, Hu, Qian, "Fine-Grained
 * Embedding Dimension Optimization During Training for Recommender Systems",
 * arXiv 2401.04408. No public code exists.
 *
 * What the paper states (abstract, v1 and v2) and this file follows:
 *   - each embedding VECTOR's dimension is adjusted during training, important
 *     embeddings keep more dimensions; the aim is the memory footprint of
 *     TRAINING (v1: "aiming to reduce the memory footprint of training");
 *   - importance = dimensions with higher access frequency and gradients; a
 *     third-party summary of the paper gives the chunk utility as
 *     u(t) = gamma*u(t-1) + a(t)*g(t) (a: accessed, g: gradient size);
 *   - each vector is split into chunks; storage is a virtually-hashed
 *     physically-indexed (VHPI) hash table so that pruning really frees memory
 *     (methods/common/vhpi.c).
 *   How the paper keeps utilities and optimizer state of PRUNED chunks could not
 *   be read (the stored copies of the paper stop at the introduction); the
 *   training-memory layout below is ours.
 * Everything below is our reconstruction [R] (the paper is silent or unverified):
 *   - a vector of width D is stored as a PREFIX of chunks of `chunk` dims (C = D /
 *     chunk chunks); missing chunks read as 0 (zero padding to D);
 *   - utility on every access of the id (not coalesced): a LIVE chunk j earns
 *     ||dout_j||_2 into its own counter, kept next to the chunk in the pool (cu,
 *     one float per live chunk, moved and freed with it); an id's MISSING chunks
 *     share ONE counter per id (cnt) that earns min_{j>=len} ||dout_j||_2, the
 *     smallest norm of the gradient a zero-padded chunk receives (the prefix
 *     minimum, as if each missing chunk had its own counter), so missing chunks
 *     earn utility to grow without a counter per (id, chunk); u *= gamma every
 *     `interval` steps (AdaEmbed-style decay);
 *   - every `interval` steps after `warmup`, keep the live (id, chunk) set that
 *     maximizes utility under the byte budget B = full / ratio, counting the pool
 *     AND the hash table: with eff(id, j) = min_{j' <= j} u(id, j') (prefix-closed;
 *     u of a missing chunk = the id's cnt), take every chunk with eff > tau for the
 *     smallest tau that fits, then ties eff == tau chunk position by position
 *     (j = 0 first) in a seeded permutation of ids while they fit;
 *   - pruned chunks go to a free list, the first pruned chunk's utility becomes
 *     the id's cnt; grown chunks take a free slot (or new pool rows), start at
 *     ZERO (the output is unchanged when a chunk grows) with zeroed optimizer state
 *     and the utility cnt earned for them; an id with no chunk leaves the hash
 *     table (embedding 0);
 *   - after each prune/grow the pool is compacted (tail slots move into holes) and
 *     realloc'ed down to exactly the live chunks, the hash table is rebuilt at
 *     vhpi_cap_for(live ids) from a list of the live slots (4 bytes a chunk) after
 *     the old table is freed, so two tables never coexist: the memory is returned
 *     (large pools are mappings, hx_big_realloc unmaps their tail pages and RSS
 *     drops);
 *   - the budget holds from create(): the initial live set is the zero-utility
 *     selection (breadth first: one chunk for as many ids as fit, in the seeded
 *     permutation, then second chunks, ...), initial chunks U(+-sqrt(1/N_f)) as DLRM;
 *   - optimizer state is sized to the pool: one state row per live chunk (row-wise
 *     Adagrad: one accumulator per chunk), moved and freed with it; a pruned
 *     chunk's state is dropped, a grown one starts at zero;
 *   - no finalize: every round (and create) leaves the pool compacted and the hash
 *     table at its exact capacity within the budget, so the training structure IS
 *     the inference representation at any step (the harness may then select any
 *     epoch's evaluation, as for full).
 * Bytes: inference = 4*chunk*(live chunks) + vhpi_bytes (cap * (8 + 4C)), at most
 *   the budget; training (peaks) = the budget plus, per live chunk, its optimizer
 *   state and its utility (4 bytes), plus 6 bytes per id (cnt, the length and the
 *   selection's scratch length), the gradient slots, the rehash list and the free
 *   list. The plan predicts the state after create(); a round may raise the pool
 *   rows within the budget (a test holds training within plan + one budget).
 */
#include <math.h>

#include "fiited_impl.h"

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

#define FIITED_ID_BYTES 6ull      /* per id: cnt (float), len and newlen (bytes) */

/* ---- budget arithmetic (fiited_bytes_at, fiited_impl.h, is shared with the selection) ---- */

/* The zero-utility (initial) selection: L ids with one chunk, then more chunks
 * round by round. Mirrors fiited_select on all-zero utility. */
static void initial_counts(double T, int32_t s, int32_t C, int64_t N, int64_t *K, int64_t *L) {
    if (fiited_bytes_at(s, C, N * C, N) <= T) {
        *K = N * C;
        *L = N;
        return;
    }
    int64_t lo = 0, hi = N; /* largest l with fiited_bytes_at(l, l) <= T */
    while (lo < hi) {
        int64_t m = lo + (hi - lo + 1) / 2;
        if (fiited_bytes_at(s, C, m, m) <= T) lo = m;
        else hi = m - 1;
    }
    int64_t extra = (int64_t)floor((T - fiited_bytes_at(s, C, lo, lo)) / (4.0 * s));
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
    if (C > 127)
        return hx_error(HX_ERR_PARAM, err, errlen, "fiited: %d chunks per vector exceed 127 (raise chunk)", C);
    int64_t N = total_ids(spec);
    if (N >= (int64_t)PERM_PRIME || N >= (int64_t)UINT32_MAX / C)
        return hx_error(HX_ERR_PARAM, err, errlen, "fiited: %lld ids exceed the 32-bit slot space", (long long)N);
    double full = emb_full_bytes(spec), T = full / spec->ratio;
    double lo = full / fiited_bytes_at(s, C, N * C, N), hi = full / fiited_bytes_at(s, C, 1, 1);
    if (T < fiited_bytes_at(s, C, 1, 1)) return emb_plan_unreachable(spec, "fiited", lo, hi, err, errlen);
    initial_counts(T, s, C, N, K, L);
    if (!emb_plan_within(spec->ratio, full / fiited_bytes_at(s, C, *K, *L)))
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
    out->train_other = emb_table_predict_grad(cap, s) + FIITED_ID_BYTES * (uint64_t)N + 4ull * pk->rows + pk->ht +
                       4ull * pk->free + sizeof(fiited_hist);
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
    float *cu = hx_big_realloc(st->cu, (size_t)rows * sizeof(float));
    if (!cu) return hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for chunk utilities");
    st->cu = cu;
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
    st->cu[to] = st->cu[from];
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

/* Chunks of id g in the table during a round: before the grow step, what the
 * prune left (min of the old and new length); after it, the new length. */
static inline int32_t chunks_now(const fiited_state *st, int64_t g, int grown) {
    int32_t a = st->len[g], b = st->newlen[g];
    return grown ? b : (a < b ? a : b);
}

/* ht_rebuild: the hash table at capacity cap, rebuilt from a list of its nslots
 * live slots (id order) so that the old and the new table never coexist: the peak
 * is the larger table plus 4 bytes per live chunk, not both tables. */
static hx_status ht_rebuild(fiited_state *st, int64_t cap, int64_t nslots, int grown, char *err, size_t errlen) {
    const int64_t count = st->ht.count;
    uint32_t *list = hx_calloc((size_t)(nslots > 0 ? nslots : 1), sizeof(uint32_t));
    if (!list) return hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for the rehash list");
    const uint64_t list_bytes = 4ull * (uint64_t)nslots;
    int64_t q = 0;
    for (int64_t g = 0; g < st->N; g++) {
        int32_t n = chunks_now(st, g, grown);
        if (!n) continue;
        memcpy(list + q, fiited_live_slots(st, g), (size_t)n * sizeof(uint32_t));
        q += n;
    }
    HX_ASSERT(q == nslots);
    note_peaks(st, list_bytes); /* the old table and the list */
    vhpi_free(&st->ht);
    memset(&st->ht, 0, sizeof st->ht);
    hx_status rc = vhpi_init(&st->ht, cap, st->C, err, errlen);
    if (rc == HX_OK) {
        note_peaks(st, list_bytes); /* the new table and the list */
        q = 0;
        for (int64_t g = 0; g < st->N; g++) {
            int32_t n = chunks_now(st, g, grown);
            if (!n) continue;
            memcpy(vhpi_slots(&st->ht, vhpi_insert(&st->ht, (uint64_t)g)), list + q, (size_t)n * sizeof(uint32_t));
            q += n;
        }
        HX_ASSERT(st->ht.count == count);
    }
    hx_free(list);
    return rc;
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
        const int64_t g = (int64_t)st->ht.keys[p];
        for (int32_t j = 0; j < C; j++) {
            if (sl[j] == VHPI_NONE) continue;
            if (j < st->newlen[g]) {
                used++;
                continue;
            }
            if (j == st->newlen[g]) st->cnt[g] = st->cu[sl[j]]; /* the new first missing chunk */
            if ((rc = free_push(st, sl[j], err, errlen)) != HX_OK) return rc;
            sl[j] = VHPI_NONE;
        }
    }
    /* 2. ids without chunks leave the table */
    for (int64_t g = 0; g < st->N; g++)
        if (st->len[g] && !st->newlen[g]) vhpi_erase(&st->ht, (uint64_t)g);
    /* 3. room for the new ids */
    int64_t cap = vhpi_cap_for(L);
    if (cap > st->ht.cap && (rc = ht_rebuild(st, cap, used, 0, err, errlen)) != HX_OK) return rc;
    /* 4. new pool rows when the holes do not suffice */
    int64_t need = K - used - st->nfree;
    if (need > 0) {
        int64_t old = st->pool.rows;
        if ((rc = pool_resize(st, old + need, err, errlen)) != HX_OK) return rc;
        for (int64_t r = old + need - 1; r >= old; r--)
            if ((rc = free_push(st, (uint32_t)r, err, errlen)) != HX_OK) return rc;
    }
    /* 5. grow: zero chunks with zero optimizer state; each starts with the utility
     * its id's counter earned for it */
    emb_table *t = &st->pool;
    for (int64_t g = 0; g < st->N; g++) {
        if (st->newlen[g] <= st->len[g]) continue;
        int64_t p = vhpi_find(&st->ht, (uint64_t)g);
        if (p < 0) p = vhpi_insert(&st->ht, (uint64_t)g);
        uint32_t *sl = vhpi_slots(&st->ht, p);
        for (int32_t j = 0; j < st->newlen[g]; j++) {
            if (sl[j] != VHPI_NONE) continue;
            HX_ASSERT(st->nfree > 0);
            uint32_t r = st->freel[--st->nfree];
            memset(emb_table_row(t, r), 0, (size_t)t->width * sizeof(float));
            if (t->state_w) memset(t->state + (size_t)r * t->state_w, 0, t->state_w * sizeof(float));
            st->cu[r] = st->cnt[g];
            sl[j] = r;
        }
    }
    /* 6. exact table capacity, 7. compact the pool */
    if (cap < st->ht.cap && (rc = ht_rebuild(st, cap, K, 1, err, errlen)) != HX_OK) return rc;
    HX_ASSERT(st->ht.count == L);
    memcpy(st->len, st->newlen, (size_t)st->N);
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
    hx_big_free(st->cu);
    hx_big_free(st->cnt);
    hx_free(st->len);
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
    st->cnt = hx_big_calloc((size_t)st->N, sizeof(float));
    st->len = hx_calloc((size_t)st->N, 1);
    st->newlen = hx_calloc((size_t)st->N, 1);
    st->cu = hx_big_calloc((size_t)K, sizeof(float));
    if (!st->off || !st->cnt || !st->len || !st->newlen || !st->cu) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "fiited: out of memory for %lld ids", (long long)st->N);
        goto fail;
    }
    for (int32_t f = 0; f < st->F; f++) st->off[f + 1] = st->off[f] + spec.card[f];
    int64_t K2, L2;
    fiited_select(st, &K2, &L2); /* zero utility, empty table: the initial, planned live set */
    HX_ASSERT(K2 == K && L2 == L);
    memcpy(st->len, st->newlen, (size_t)st->N);
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

/* The lead walk of the forward and the backward (the big-table path; none with
 * it off): entry e of idx (B, F) is taken in two stages before its turn. a1
 * entries ahead its probe's home goes into the ring and the table's key and
 * slots start coming (in the backward the id's len and cnt too); a2 = a1 / 2
 * ahead it is found from that home and its live chunks start coming (the
 * forward's pool rows, the backward's utilities and gradient map slots). The
 * ring holds FZ_RING entries: a power of two above HX_PREFETCH_AHEAD. The
 * walk runs for a hash table from HX_BIG_MIN bytes (where the pool's huge
 * pages start): a smaller one sits in the caches, and there the walk only adds
 * work. Only loads move earlier; what each entry computes, and in which order,
 * is the same with the walk or without it. */
enum { FZ_RING = 32 };

typedef struct fz_walk {
    int64_t home[FZ_RING], pos[FZ_RING];
    int32_t a1, a2; /* the stages' distances, 0 without the lead walk */
    int     backward;
} fz_walk;

static inline int64_t entry_id(const fiited_state *st, const int64_t *idx, int64_t e) {
    const int64_t i = idx[e];
    HX_ASSERT(i >= 0 && i < st->off[e % st->F + 1] - st->off[e % st->F]);
    return st->off[e % st->F] + i;
}

static void lead_home(const fiited_state *st, const int64_t *idx, fz_walk *w, int64_t e) {
    const int64_t g = entry_id(st, idx, e), h = vhpi_home(&st->ht, (uint64_t)g);
    w->home[e & (FZ_RING - 1)] = h;
    vhpi_prefetch(&st->ht, h);
    if (w->backward) {
        __builtin_prefetch(st->len + g, 0, 3);
        __builtin_prefetch(st->cnt + g, 1, 3);
    }
}

static void lead_find(const fiited_state *st, const int64_t *idx, fz_walk *w, int64_t e) {
    const int64_t p = vhpi_find_from(&st->ht, (uint64_t)entry_id(st, idx, e), w->home[e & (FZ_RING - 1)]);
    w->pos[e & (FZ_RING - 1)] = p;
    if (p < 0) return;
    const uint32_t *sl = vhpi_slots(&st->ht, p);
    for (int32_t j = 0; j < st->C; j++) {
        if (sl[j] == VHPI_NONE) continue;
        if (w->backward) {
            __builtin_prefetch(st->cu + sl[j], 1, 3);
            emb_table_grad_prefetch(&st->pool, sl[j]);
        } else {
            __builtin_prefetch(emb_table_row(&st->pool, sl[j]), 0, 3);
        }
    }
}

static void walk_start(const fiited_state *st, const int64_t *idx, int64_t n, int backward, fz_walk *w) {
    w->a1 = vhpi_bytes(&st->ht) >= (uint64_t)HX_BIG_MIN ? st->pool.ahead : 0;
    w->a2 = w->a1 / 2;
    w->backward = backward;
    HX_ASSERT(w->a1 < FZ_RING);
    for (int64_t e = 0; e < w->a1 && e < n; e++) lead_home(st, idx, w, e);
    for (int64_t e = 0; e < w->a2 && e < n; e++) lead_find(st, idx, w, e);
}

/* Entry e's position in the table (-1: absent), the walk moved on. Without the
 * lead walk it is looked up here; need 0 says the caller will not use it. */
static inline int64_t walk_at(const fiited_state *st, const int64_t *idx, fz_walk *w, int64_t e, int64_t n,
                              int need) {
    if (!w->a1) return need ? vhpi_find(&st->ht, (uint64_t)entry_id(st, idx, e)) : -1;
    if (e + w->a1 < n) lead_home(st, idx, w, e + w->a1);
    if (e + w->a2 < n) lead_find(st, idx, w, e + w->a2);
    return w->pos[e & (FZ_RING - 1)];
}

/* idx (B, F) -> out (B, F, D): live chunks, zeros for missing ones. */
static void fiited_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    fiited_state *st = state;
    const int32_t D = st->D, s = st->s;
    const int64_t n = B * st->F;
    fz_walk w;
    walk_start(st, idx, n, 0, &w);
    for (int64_t e = 0; e < n; e++) {
        float *o = out + (size_t)e * D;
        const int64_t p = walk_at(st, idx, &w, e, n, 1);
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
    const int32_t D = st->D, s = st->s;
    const int64_t n_e = B * st->F;
    fz_walk w;
    walk_start(st, idx, n_e, 1, &w);
    for (int64_t e = 0; e < n_e; e++) {
        const int64_t g = entry_id(st, idx, e);
        const float *d = dout + (size_t)e * D;
        const int32_t n = st->len[g];
        const int64_t p = walk_at(st, idx, &w, e, n_e, n > 0);
        HX_ASSERT(!n || p >= 0); /* a live id is in the table */
        const uint32_t *sl = n ? vhpi_slots(&st->ht, p) : NULL;
        double miss2 = INFINITY; /* smallest squared norm of a missing chunk's gradient */
        for (int32_t j = 0; j < st->C; j++) {
            double n2 = 0;
            for (int32_t k = 0; k < s; k++) n2 += (double)d[j * s + k] * d[j * s + k];
            if (j >= n) {
                miss2 = n2 < miss2 ? n2 : miss2;
                continue;
            }
            st->cu[sl[j]] += (float)sqrt(n2);
            float *gr = emb_table_grad_row(&st->pool, sl[j]);
            for (int32_t k = 0; k < s; k++) gr[k] += d[j * s + k];
        }
        if (n < st->C) st->cnt[g] += (float)sqrt(miss2);
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
    for (int64_t g = 0; g < st->N; g++) st->cnt[g] *= st->gamma;
    for (int64_t r = 0; r < st->pool.rows; r++) st->cu[r] *= st->gamma;
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
    if (full / ratio < fiited_bytes_at(st->s, st->C, 1, 1))
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
