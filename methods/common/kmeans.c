/* kmeans.c: see kmeans.h.
 *
 * Follows the standard algorithms exactly:
 *   - k-means++ seeding: first centroid uniform, each next one drawn with
 *     probability proportional to D(x)^2, the squared distance to the nearest
 *     centroid chosen so far (Arthur & Vassilvitskii 2007);
 *   - Lloyd: assign each point to its nearest centroid, move each centroid to the
 *     mean of its points; stop after niter rounds or when no assignment changes.
 * Our choices [R]:
 *   - sums are accumulated in double in point order, so results are bit-identical
 *     for a given seed;
 *   - an empty cluster takes the point farthest from its own centroid (one point
 *     per empty cluster, farthest first);
 *   - n <= k: centroids are the points, the rest N(0, 1/dim) noise (the CCE
 *     reference's rule, cce/_tools.py KMeans.fit).
 */
#include "kmeans.h"

#include <math.h>
#include <string.h>

static float dist2(const float *a, const float *b, int32_t dim) {
    float s = 0;
    for (int32_t j = 0; j < dim; j++) {
        float t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

int32_t kmeans_nearest(const float *C, int32_t k, int32_t dim, const float *x, float *d2) {
    int32_t best = 0;
    float bd = INFINITY;
    for (int32_t c = 0; c < k; c++) {
        float d = dist2(x, C + (size_t)c * dim, dim);
        if (d < bd) {
            bd = d;
            best = c;
        }
    }
    if (d2) *d2 = bd;
    return best;
}

/* ---- k-d tree over centroids ---- */

#define KT_LEAF 8

static int64_t kt_nodes(int32_t k) {
    int64_t n = 1;
    while (n * KT_LEAF < k) n <<= 1;
    return 2 * n;
}

uint64_t kmeans_tree_bytes(int32_t k) { return 4ull * (uint64_t)k + 8ull * (uint64_t)kt_nodes(k); }

/* Quickselect perm[lo, hi) so that perm[mid] has the median coordinate sd. */
static void kt_select(const float *C, int32_t dim, int32_t *perm, int32_t lo, int32_t hi, int32_t mid, int32_t sd) {
    while (hi - lo > 1) {
        float pv = C[(size_t)perm[lo + (hi - lo) / 2] * dim + sd];
        int32_t i = lo, j = hi - 1;
        while (i <= j) {
            while (C[(size_t)perm[i] * dim + sd] < pv) i++;
            while (C[(size_t)perm[j] * dim + sd] > pv) j--;
            if (i <= j) {
                int32_t t = perm[i];
                perm[i++] = perm[j];
                perm[j--] = t;
            }
        }
        if (mid <= j) hi = j + 1;
        else if (mid >= i) lo = i;
        else return;
    }
}

static void kt_build(kmeans_tree *t, int64_t node, int32_t lo, int32_t hi) {
    HX_ASSERT(node < t->nodes);
    if (hi - lo <= KT_LEAF) {
        t->sd[node] = -1;
        return;
    }
    int32_t sd = 0;
    float spread = -1;
    for (int32_t j = 0; j < t->dim; j++) {
        float mn = INFINITY, mx = -INFINITY;
        for (int32_t q = lo; q < hi; q++) {
            float v = t->C[(size_t)t->perm[q] * t->dim + j];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (mx - mn > spread) {
            spread = mx - mn;
            sd = j;
        }
    }
    int32_t mid = lo + (hi - lo) / 2;
    kt_select(t->C, t->dim, t->perm, lo, hi, mid, sd);
    t->sd[node] = sd;
    t->val[node] = t->C[(size_t)t->perm[mid] * t->dim + sd];
    kt_build(t, 2 * node + 1, lo, mid);
    kt_build(t, 2 * node + 2, mid, hi);
}

hx_status kmeans_tree_build(kmeans_tree *t, const float *C, int32_t k, int32_t dim, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->C = C;
    t->k = k;
    t->dim = dim;
    t->nodes = kt_nodes(k);
    t->perm = hx_malloc((size_t)k * sizeof(int32_t));
    t->sd = hx_malloc((size_t)t->nodes * sizeof(int32_t));
    t->val = hx_malloc((size_t)t->nodes * sizeof(float));
    if (!t->perm || !t->sd || !t->val) {
        kmeans_tree_free(t);
        return hx_error(HX_ERR_NOMEM, err, errlen, "k-means: out of memory for a %d-centroid tree", k);
    }
    for (int32_t c = 0; c < k; c++) t->perm[c] = c;
    kt_build(t, 0, 0, k);
    return HX_OK;
}

void kmeans_tree_free(kmeans_tree *t) {
    hx_free(t->perm);
    hx_free(t->sd);
    hx_free(t->val);
    memset(t, 0, sizeof *t);
}

static void kt_query(const kmeans_tree *t, int64_t node, int32_t lo, int32_t hi, const float *x, int32_t *bi,
                     float *bd) {
    if (t->sd[node] < 0) {
        for (int32_t q = lo; q < hi; q++) {
            int32_t c = t->perm[q];
            float d = dist2(x, t->C + (size_t)c * t->dim, t->dim);
            if (d < *bd || (d == *bd && c < *bi)) {
                *bd = d;
                *bi = c;
            }
        }
        return;
    }
    int32_t mid = lo + (hi - lo) / 2;
    float diff = x[t->sd[node]] - t->val[node];
    if (diff < 0) {
        kt_query(t, 2 * node + 1, lo, mid, x, bi, bd);
        if (diff * diff <= *bd) kt_query(t, 2 * node + 2, mid, hi, x, bi, bd);
    } else {
        kt_query(t, 2 * node + 2, mid, hi, x, bi, bd);
        if (diff * diff <= *bd) kt_query(t, 2 * node + 1, lo, mid, x, bi, bd);
    }
}

int32_t kmeans_tree_nearest(const kmeans_tree *t, const float *x, float *d2) {
    return kmeans_tree_nearest_hint(t, x, -1, d2);
}

int32_t kmeans_tree_nearest_hint(const kmeans_tree *t, const float *x, int32_t hint, float *d2) {
    int32_t bi = INT32_MAX;
    float bd = INFINITY;
    if (hint >= 0 && hint < t->k) { /* a tight starting bound prunes more; same result */
        bi = hint;
        bd = dist2(x, t->C + (size_t)hint * t->dim, t->dim);
    }
    kt_query(t, 0, 0, t->k, x, &bi, &bd);
    if (d2) *d2 = bd;
    return bi;
}

/* Seeding scratch: points kept in one linked list per nearest chosen centroid. */
typedef struct pp_lists {
    int32_t *head;  /* (k) first point of each centroid's list, -1 if empty */
    int32_t *next;  /* (n) next point in the same list, -1 at the end */
    float   *rmax;  /* (k) largest D(x)^2 in the list */
    double  *mass;  /* (k) sum of D(x)^2 in the list (in list order) */
    float   *cd2;   /* (k) squared distance from the new centroid to each chosen one */
} pp_lists;

uint64_t kmeans_scratch_bytes(int64_t n, int32_t dim, int32_t k) {
    uint64_t lloyd = 8ull * (uint64_t)k * (uint64_t)dim + 8ull * (uint64_t)k + kmeans_tree_bytes(k) + 4ull * (uint64_t)n;
    uint64_t seed = 4ull * (uint64_t)n + 20ull * (uint64_t)k;
    return 4ull * (uint64_t)n + (lloyd > seed ? lloyd : seed);
}

/* pp_draw: a point with probability D(x)^2 / total: the list by its mass, then the
 * point inside it (both by running sums); falls back to the last positive one. */
static int64_t pp_draw(const pp_lists *L, const float *d2, int32_t m, double total, double u01) {
    double u = u01 * total;
    int32_t lastj = -1;
    for (int32_t j = 0; j < m; j++) {
        if (L->mass[j] <= 0) continue;
        lastj = j;
        if (u >= L->mass[j]) {
            u -= L->mass[j];
            continue;
        }
        double acc = 0;
        for (int32_t i = L->head[j]; i >= 0; i = L->next[i]) {
            acc += d2[i];
            if (acc > u && d2[i] > 0) return i;
        }
    }
    int64_t last = -1;
    if (lastj >= 0)
        for (int32_t i = L->head[lastj]; i >= 0; i = L->next[i])
            if (d2[i] > 0) last = i;
    return last;
}

/* seed_pp: k-means++ seeding into C; d2 (n) ends holding D(x)^2.
 * Each new centroid c costs O(m dim) for its distances to the m chosen ones plus
 * one O(dim) distance per point in the lists it can affect: a point x nearest to
 * c_j cannot get closer to c when |c - c_j| >= 2 max_x|x - c_j| (triangle
 * inequality), so such a list is skipped whole [R: an exact acceleration, the
 * distribution drawn from is the k-means++ one]. */
static void seed_pp(const float *X, int64_t n, int32_t dim, int32_t k, hx_rng *rng, float *C,
                    float *d2, const pp_lists *L) {
    int64_t first = (int64_t)hx_rng_below(rng, (uint64_t)n);
    memcpy(C, X + (size_t)first * dim, (size_t)dim * sizeof(float));
    double total = 0;
    float rmax = 0;
    for (int64_t i = n - 1; i >= 0; i--) {
        d2[i] = dist2(X + (size_t)i * dim, C, dim);
        L->next[i] = i == n - 1 ? -1 : (int32_t)(i + 1);
        rmax = d2[i] > rmax ? d2[i] : rmax;
    }
    for (int64_t i = 0; i < n; i++) total += d2[i];
    L->head[0] = 0;
    L->rmax[0] = rmax;
    L->mass[0] = total;
    for (int32_t c = 1; c < k; c++) {
        int64_t pick = total > 0 ? pp_draw(L, d2, c, total, hx_rng_uniform(rng)) : -1;
        if (pick < 0) pick = (int64_t)hx_rng_below(rng, (uint64_t)n); /* all points coincide */
        float *cc = C + (size_t)c * dim;
        memcpy(cc, X + (size_t)pick * dim, (size_t)dim * sizeof(float));
        for (int32_t j = 0; j < c; j++) L->cd2[j] = dist2(cc, C + (size_t)j * dim, dim);
        int32_t newhead = -1;
        float newmax = 0;
        total = 0;
        for (int32_t j = 0; j < c; j++) {
            /* skip when cd2 >= 4 rmax, with a margin for float rounding */
            if (L->cd2[j] > 4.0f * L->rmax[j] * 1.0001f + 1e-30f) {
                total += L->mass[j];
                continue;
            }
            int32_t *link = &L->head[j];
            float jmax = 0;
            double jmass = 0;
            for (int32_t i = *link; i >= 0; i = *link) {
                float d = dist2(X + (size_t)i * dim, cc, dim);
                if (d < d2[i]) { /* moves to the new centroid's list */
                    d2[i] = d;
                    *link = L->next[i];
                    L->next[i] = newhead;
                    newhead = i;
                    newmax = d > newmax ? d : newmax;
                } else {
                    jmax = d2[i] > jmax ? d2[i] : jmax;
                    jmass += d2[i];
                    link = &L->next[i];
                }
            }
            L->rmax[j] = jmax;
            L->mass[j] = jmass;
            total += jmass;
        }
        double cmass = 0;
        for (int32_t i = newhead; i >= 0; i = L->next[i]) cmass += d2[i];
        L->head[c] = newhead;
        L->rmax[c] = newmax;
        L->mass[c] = cmass;
        total += cmass;
    }
}

/* Max-heap of point ids for re-seeding empty clusters: farthest (largest d2)
 * first, ties to the lowest id; built in O(n), popped in O(log n). */
static int far_before(const float *d2, int32_t a, int32_t b) {
    return d2[a] > d2[b] || (d2[a] == d2[b] && a < b);
}

static void far_sift(int32_t *h, int64_t n, int64_t at, const float *d2) {
    for (;;) {
        int64_t l = 2 * at + 1, r = l + 1, top = at;
        if (l < n && far_before(d2, h[l], h[top])) top = l;
        if (r < n && far_before(d2, h[r], h[top])) top = r;
        if (top == at) return;
        int32_t t = h[at];
        h[at] = h[top];
        h[top] = t;
        at = top;
    }
}

/* seed_random: k distinct points drawn uniformly (partial Fisher-Yates on ids). */
static void seed_random(const float *X, int64_t n, int32_t dim, int32_t k, hx_rng *rng, float *C,
                        int32_t *perm) {
    /* perm (n) is the caller's assign array, reused as scratch */
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (int32_t c = 0; c < k; c++) {
        int64_t j = c + (int64_t)hx_rng_below(rng, (uint64_t)(n - c));
        int32_t t = perm[c];
        perm[c] = perm[j];
        perm[j] = t;
        memcpy(C + (size_t)c * dim, X + (size_t)perm[c] * dim, (size_t)dim * sizeof(float));
    }
}

/* n <= k: the centroids are the points, the other k - n rows N(0, 1/dim) noise. */
static void fit_few_points(const float *X, int64_t n, int32_t dim, int32_t k, hx_rng *rng, float *C, int32_t *assign) {
    float sd = 1.0f / sqrtf((float)dim);
    memcpy(C, X, (size_t)n * dim * sizeof(float));
    for (size_t j = (size_t)n * dim; j < (size_t)k * dim; j++) C[j] = sd * (float)hx_rng_normal(rng);
    for (int64_t i = 0; i < n; i++) assign[i] = (int32_t)i;
}

/* The initial centroids: k-means++ (its list scratch allocated here) or k
 * distinct points; d2 is scratch (n). */
static hx_status seed_centroids(const float *X, int64_t n, int32_t dim, int32_t k, kmeans_init init, hx_rng *rng,
                                float *C, float *d2, int32_t *assign, char *err, size_t errlen) {
    if (init != KMEANS_INIT_PP) {
        seed_random(X, n, dim, k, rng, C, assign);
        return HX_OK;
    }
    pp_lists L = {.head = hx_malloc((size_t)k * sizeof(int32_t)),
                  .next = hx_malloc((size_t)n * sizeof(int32_t)),
                  .rmax = hx_malloc((size_t)k * sizeof(float)),
                  .mass = hx_malloc((size_t)k * sizeof(double)),
                  .cd2 = hx_malloc((size_t)k * sizeof(float))};
    int ok = L.head && L.next && L.rmax && L.mass && L.cd2;
    if (ok) seed_pp(X, n, dim, k, rng, C, d2, &L);
    hx_free(L.head);
    hx_free(L.next);
    hx_free(L.rmax);
    hx_free(L.mass);
    hx_free(L.cd2);
    if (!ok) return hx_error(HX_ERR_NOMEM, err, errlen, "k-means: out of memory seeding (n=%lld, k=%d)", (long long)n, k);
    return HX_OK;
}

/* Lloyd's scratch: squared distances, centroid sums and counts, the heap of
 * points for re-seeding empty clusters (kmeans_scratch_bytes counts it). */
typedef struct lloyd_scratch {
    float   *d2;     /* (n) squared distance of each point to its centroid */
    double  *sums;   /* (k, dim) */
    int64_t *count;  /* (k) */
    int32_t *heap;   /* (n) */
} lloyd_scratch;

/* Assignment step: every point to its nearest centroid (the previous one as the
 * search hint); returns how many changed, *inertia the sum of d2. */
static hx_status lloyd_assign(const float *X, int64_t n, int32_t dim, int32_t k, const float *C, int32_t *assign,
                              float *d2, int64_t *changed, double *inertia, char *err, size_t errlen) {
    kmeans_tree tree;
    hx_status rc = kmeans_tree_build(&tree, C, k, dim, err, errlen);
    if (rc != HX_OK) return rc;
    *changed = 0;
    *inertia = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t a = kmeans_tree_nearest_hint(&tree, X + (size_t)i * dim, assign[i], &d2[i]);
        *changed += a != assign[i];
        assign[i] = a;
        *inertia += d2[i];
    }
    kmeans_tree_free(&tree);
    return HX_OK;
}

/* Empty cluster c takes the point farthest from its centroid whose own cluster
 * keeps at least one point; points are ranked once per iteration (*ranked),
 * farthest first, ties by index, and popped from the heap (*left remain). */
static void reseed_empty(const float *X, int64_t n, int32_t dim, int32_t c, float *cc, int32_t *assign,
                         lloyd_scratch *w, int *ranked, int64_t *left) {
    if (!*ranked) {
        for (int64_t i = 0; i < n; i++) w->heap[i] = (int32_t)i;
        for (int64_t i = n / 2 - 1; i >= 0; i--) far_sift(w->heap, n, i, w->d2);
        *ranked = 1;
        *left = n;
    }
    int64_t far = -1;
    while (*left > 0 && far < 0) { /* pop; keep it if its cluster can spare it */
        int32_t top = w->heap[0];
        w->heap[0] = w->heap[--*left];
        far_sift(w->heap, *left, 0, w->d2);
        if (w->count[assign[top]] > 1) far = top;
    }
    if (far < 0) return;
    w->count[assign[far]]--;
    w->count[c] = 1;
    assign[far] = c;
    w->d2[far] = 0;
    memcpy(cc, X + (size_t)far * dim, (size_t)dim * sizeof(float));
}

/* Update step: each centroid to the mean of its points (sums in double, in point
 * order); empty ones re-seeded. */
static void lloyd_update(const float *X, int64_t n, int32_t dim, int32_t k, float *C, int32_t *assign,
                         lloyd_scratch *w) {
    memset(w->sums, 0, (size_t)k * dim * sizeof(double));
    memset(w->count, 0, (size_t)k * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        double *s = w->sums + (size_t)assign[i] * dim;
        const float *x = X + (size_t)i * dim;
        for (int32_t j = 0; j < dim; j++) s[j] += x[j];
        w->count[assign[i]]++;
    }
    int ranked = 0;
    int64_t left = 0;
    for (int32_t c = 0; c < k; c++) {
        float *cc = C + (size_t)c * dim;
        if (w->count[c] > 0) {
            for (int32_t j = 0; j < dim; j++) cc[j] = (float)(w->sums[(size_t)c * dim + j] / (double)w->count[c]);
            continue;
        }
        reseed_empty(X, n, dim, c, cc, assign, w, &ranked, &left);
    }
}

hx_status kmeans_fit(const float *X, int64_t n, int32_t dim, int32_t k, int niter,
                     kmeans_init init, uint64_t seed, float *C, int32_t *assign,
                     kmeans_result *res, char *err, size_t errlen) {
    HX_ASSERT(n >= 1 && dim >= 1 && k >= 1 && niter >= 0);
    HX_ASSERT(n < INT32_MAX);
    hx_rng rng;
    hx_rng_seed(&rng, seed);
    memset(res, 0, sizeof *res);
    if (n <= k) {
        fit_few_points(X, n, dim, k, &rng, C, assign);
        return HX_OK;
    }
    hx_status rc = HX_OK;
    lloyd_scratch w = {.d2 = hx_malloc((size_t)n * sizeof(float)),
                       .sums = hx_malloc((size_t)k * dim * sizeof(double)),
                       .count = hx_malloc((size_t)k * sizeof(int64_t)),
                       .heap = hx_malloc((size_t)n * sizeof(int32_t))};
    if (!w.d2 || !w.sums || !w.count || !w.heap) {
        rc = hx_error(HX_ERR_NOMEM, err, errlen, "k-means: out of memory (n=%lld, k=%d)", (long long)n, k);
        goto done;
    }
    if ((rc = seed_centroids(X, n, dim, k, init, &rng, C, w.d2, assign, err, errlen)) != HX_OK) goto done;
    for (int64_t i = 0; i < n; i++) assign[i] = -1;
    for (int it = 0; it <= niter; it++) { /* the last pass only assigns and measures */
        int64_t changed;
        if ((rc = lloyd_assign(X, n, dim, k, C, assign, w.d2, &changed, &res->inertia, err, errlen)) != HX_OK) goto done;
        if (it == niter || changed == 0) break;
        res->iters = it + 1;
        lloyd_update(X, n, dim, k, C, assign, &w);
    }
done:
    hx_free(w.d2);
    hx_free(w.sums);
    hx_free(w.count);
    hx_free(w.heap);
    return rc;
}
