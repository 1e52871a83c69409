/* table.c: see table.h. */
#include "table.h"

#include <math.h>
#include <string.h>

static uint64_t map_size_for(int64_t cap) {
    uint64_t n = 16;
    while (n < (uint64_t)cap * 2) n <<= 1;
    return n;
}

hx_status emb_table_init(emb_table *t, int64_t rows, int32_t width, int64_t cap,
                         opt_kind kind, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    HX_ASSERT(rows >= 1 && width >= 1 && cap >= 1);
    t->rows = rows;
    t->width = width;
    t->kind = kind;
    t->state_w = opt_state_floats(kind, (size_t)width);
    t->cap = cap;
    uint64_t msize = map_size_for(cap);
    t->map_mask = msize - 1;
    t->ahead = hx_prefetch_ahead();
    t->w = hx_big_calloc((size_t)rows * (size_t)width, sizeof(float));
    if (t->state_w) t->state = hx_big_calloc((size_t)rows * t->state_w, sizeof(float));
    t->touched = hx_calloc((size_t)cap, sizeof(int64_t));
    t->gbuf = hx_calloc((size_t)cap * (size_t)width, sizeof(float));
    t->map_key = hx_malloc(msize * sizeof(int64_t));
    t->map_val = hx_calloc(msize, sizeof(int32_t));
    if (!t->w || (t->state_w && !t->state) || !t->touched || !t->gbuf || !t->map_key ||
        !t->map_val) {
        emb_table_free(t);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for a %lld x %d table",
                        (long long)rows, width);
    }
    memset(t->map_key, 0xff, msize * sizeof(int64_t)); /* all -1 */
    hx_big_populate(t->state); /* the parameters are written by the method's init */
    return HX_OK;
}

void emb_table_free(emb_table *t) {
    hx_big_free(t->w);
    hx_big_free(t->state);
    hx_free(t->touched);
    hx_free(t->gbuf);
    hx_free(t->map_key);
    hx_free(t->map_val);
    memset(t, 0, sizeof *t);
}

void emb_table_fill_uniform(emb_table *t, hx_rng *r, float lo, float hi) {
    size_t n = (size_t)t->rows * (size_t)t->width;
    for (size_t i = 0; i < n; i++) t->w[i] = hx_rng_uniformf(r, lo, hi);
}

/* The map slot where the probe for row r starts (grad_row, its prefetch and
 * map_clear must agree on it). */
static inline uint64_t map_home(const emb_table *t, int64_t r) { return hx_splitmix64((uint64_t)r) & t->map_mask; }

float *emb_table_grad_row(emb_table *t, int64_t r) {
    HX_ASSERT(r >= 0 && r < t->rows);
    uint64_t h = map_home(t, r);
    for (;;) {
        int64_t k = t->map_key[h];
        if (k == r) return t->gbuf + (size_t)t->map_val[h] * (size_t)t->width;
        if (k < 0) break;
        h = (h + 1) & t->map_mask;
    }
    HX_ASSERT(t->n_touched < t->cap); /* cap sized by the method for its batch */
    int64_t slot = t->n_touched++;
    t->map_key[h] = r;
    t->map_val[h] = (int32_t)slot;
    t->touched[slot] = r;
    if (t->ahead) { /* the step will update the row and its state: start fetching both */
        emb_prefetch(emb_table_row(t, r), (size_t)t->width, 1);
        if (t->state_w) emb_prefetch(t->state + (size_t)r * t->state_w, t->state_w, 1);
    }
    float *g = t->gbuf + (size_t)slot * (size_t)t->width;
    memset(g, 0, (size_t)t->width * sizeof(float));
    return g;
}

void emb_table_grad_prefetch(const emb_table *t, int64_t r) {
    const uint64_t h = map_home(t, r);
    __builtin_prefetch(t->map_key + h, 1, 3);
    __builtin_prefetch(t->map_val + h, 1, 3);
}

static void map_clear(emb_table *t) {
    /* Every key in the map was inserted since the last step, so clearing exactly
     * those keys empties it (no tombstones needed); with many keys, one memset
     * of the whole map is cheaper than finding each. */
    if ((uint64_t)t->n_touched * 8 >= t->map_mask + 1) {
        memset(t->map_key, 0xff, (t->map_mask + 1) * sizeof(int64_t));
        t->n_touched = 0;
        return;
    }
    for (int64_t s = 0; s < t->n_touched; s++) {
        uint64_t h = map_home(t, t->touched[s]);
        while (t->map_key[h] != t->touched[s]) h = (h + 1) & t->map_mask;
        t->map_key[h] = -1;
    }
    t->n_touched = 0;
}

void emb_table_step(emb_table *t, const opt_cfg *c, int64_t step) {
    HX_ASSERT(c->kind == t->kind);
    if (t->n_touched == 0) return; /* the map is already empty */
    const opt_bias bias = opt_bias_at(c, step);
    for (int64_t s = 0; s < t->n_touched; s++) {
        if (t->ahead && s + t->ahead < t->n_touched) {
            const int64_t ra = t->touched[s + t->ahead];
            emb_prefetch(emb_table_row(t, ra), (size_t)t->width, 1);
            if (t->state_w) emb_prefetch(t->state + (size_t)ra * t->state_w, t->state_w, 1);
        }
        int64_t r = t->touched[s];
        float *st = t->state_w ? t->state + (size_t)r * t->state_w : NULL;
        opt_row_step_b(c, bias, emb_table_row(t, r), t->gbuf + (size_t)s * (size_t)t->width, st,
                       (size_t)t->width);
    }
    map_clear(t);
}

uint64_t emb_table_predict_grad(int64_t cap, int32_t width) {
    uint64_t msize = map_size_for(cap);
    return (uint64_t)cap * 8 + (uint64_t)cap * (uint64_t)width * 4 + msize * 12;
}

void emb_table_account(int64_t rows, int32_t width, int64_t cap, opt_kind kind, emb_bytes *out) {
    uint64_t p = 4ull * (uint64_t)rows * (uint64_t)width;
    out->infer_params += p;
    out->train_params += p;
    out->train_optim += 4ull * (uint64_t)rows * (uint64_t)opt_state_floats(kind, (size_t)width);
    out->train_other += emb_table_predict_grad(cap, width);
}

hx_status emb_spec_keep(emb_spec *dst, const emb_spec *src, char *err, size_t errlen) {
    *dst = *src;
    dst->pool = NULL;
    int64_t *card = hx_malloc((size_t)src->n_fields * sizeof(int64_t));
    dst->card = card;
    if (!card) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    memcpy(card, src->card, (size_t)src->n_fields * sizeof(int64_t));
    return HX_OK;
}

void emb_spec_kept_free(emb_spec *s) {
    hx_free((void *)s->card);
    s->card = NULL;
}

void emb_table_grad_dense(const emb_table *t, float *dense) {
    memset(dense, 0, (size_t)t->rows * (size_t)t->width * sizeof(float));
    for (int64_t s = 0; s < t->n_touched; s++)
        memcpy(dense + (size_t)t->touched[s] * (size_t)t->width,
               t->gbuf + (size_t)s * (size_t)t->width, (size_t)t->width * sizeof(float));
}

double emb_plan_small_fields(const emb_spec *spec, int64_t threshold, int64_t *big_rows) {
    double small = 0;
    int64_t big = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) {
        if (spec->card[f] <= threshold) small += 4.0 * (double)spec->card[f] * spec->dim;
        else big += spec->card[f];
    }
    if (big_rows) *big_rows = big;
    return small;
}

hx_status emb_plan_unreachable(const emb_spec *spec, const char *method, double lo, double hi,
                               char *err, size_t errlen) {
    return hx_error(HX_ERR_PARAM, err, errlen,
                    "ratio %g unreachable for %s at dim %d: reachable range [%.3g, %.3g]",
                    spec->ratio, method, spec->dim, lo, hi);
}

hx_status emb_plan_fixed_unreachable(const emb_spec *spec, const char *method, const char *knob, double value,
                                     double achieved, char *err, size_t errlen) {
    return hx_error(HX_ERR_PARAM, err, errlen,
                    "ratio %g unreachable for %s at dim %d with %s=%.10g: it gives ratio %.3g (leave %s auto to "
                    "plan it from the ratio)",
                    spec->ratio, method, spec->dim, knob, value, achieved, knob);
}

int emb_plan_within(double requested, double achieved) {
    return achieved >= requested * 0.95 && achieved <= requested * 1.05;
}

/* Work split across the pool (hx_pool_for). The gather only reads the tables, so
 * it is cut into pieces of batch rows (each piece's output block is its own).
 * Gradient coalescing and row updates change per-table state, so there a piece
 * is one field, taken in fs->order (largest tables first, so the small ones even
 * out the end): each field's slots and first-touch order are touched by one
 * thread only, in batch order, and the result is the same at any thread count. */
typedef struct fields_job {
    emb_fields    *fs;
    const int64_t *rows;
    int64_t        B;
    float         *out;
    const float   *dout;
    int64_t        t;     /* optimizer step */
} fields_job;

enum { GATHER_GRAIN = 32 }; /* rows a gather piece takes at least */

/* Copies the rows of batch rows [lo, hi); while at entry i of rows (B, F) it
 * prefetches entry i + ahead (of any batch row: the batch's entries are all valid). */
static void gather_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const fields_job *j = arg;
    const int32_t F = j->fs->F, D = j->fs->D, ahead = j->fs->tabs[0].ahead;
    const int64_t end = j->B * F;
    int64_t pi = lo * F + ahead;
    int32_t pf = (int32_t)(pi % F);
    for (int64_t b = lo; b < hi; b++)
        for (int32_t f = 0; f < F; f++) {
            if (ahead && pi < end) {
                const emb_table *pt = &j->fs->tabs[pf];
                emb_prefetch(emb_table_row(pt, j->rows[pi]), (size_t)D, 0);
                pi++;
                if (++pf == F) pf = 0;
            }
            memcpy(j->out + ((size_t)b * F + (size_t)f) * D, emb_table_row(&j->fs->tabs[f], j->rows[b * F + f]),
                   (size_t)D * sizeof(float));
        }
}

/* Coalesces each field of the piece; with a step (j->t > 0), updates the
 * field's table right after, while its rows and their state are in cache. */
static void coalesce_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const fields_job *j = arg;
    const int32_t F = j->fs->F, D = j->fs->D;
    for (int64_t i = lo; i < hi; i++) {
        const int32_t f = j->fs->order[i];
        emb_table *tab = &j->fs->tabs[f];
        for (int64_t b = 0; b < j->B; b++) {
            float *g = emb_table_grad_row(tab, j->rows[b * F + f]);
            const float *d = j->dout + ((size_t)b * F + (size_t)f) * D;
            for (int32_t k = 0; k < D; k++) g[k] += d[k];
        }
        if (j->t > 0) emb_table_step(tab, &j->fs->opt, j->t);
    }
}

static void step_range(void *arg, int64_t lo, int64_t hi, int task) {
    (void)task;
    const fields_job *j = arg;
    for (int64_t i = lo; i < hi; i++) emb_table_step(&j->fs->tabs[j->fs->order[i]], &j->fs->opt, j->t);
}

/* One piece per field with a pool, one call for all fields without. */
static int field_pieces(const emb_fields *fs) { return hx_pool_threads(fs->pool) == 1 ? 1 : fs->F; }

void emb_fields_forward(emb_fields *fs, const int64_t *rows, int64_t B, float *out) {
    fields_job j = {.fs = fs, .rows = rows, .B = B, .out = out};
    hx_pool_for(fs->pool, B, hx_pool_chunks(fs->pool, B, GATHER_GRAIN), gather_range, &j);
}

void emb_fields_backward(emb_fields *fs, const int64_t *rows, int64_t B, const float *dout) {
    fields_job j = {.fs = fs, .rows = rows, .B = B, .dout = dout};
    hx_pool_for(fs->pool, fs->F, field_pieces(fs), coalesce_range, &j);
}

void emb_fields_backward_step(emb_fields *fs, const int64_t *rows, int64_t B, const float *dout, int64_t t) {
    HX_ASSERT(t >= 1);
    if (!fs->tabs[0].ahead) { /* the big-table path off: the two passes of before */
        emb_fields_backward(fs, rows, B, dout);
        emb_fields_step(fs, t);
        return;
    }
    fields_job j = {.fs = fs, .rows = rows, .B = B, .dout = dout, .t = t};
    hx_pool_for(fs->pool, fs->F, field_pieces(fs), coalesce_range, &j);
}

hx_status emb_fields_init(emb_fields *fs, const emb_spec *spec, const int64_t *rows_per_field,
                          hx_rng *rng, char *err, size_t errlen) {
    memset(fs, 0, sizeof *fs);
    fs->F = spec->n_fields;
    fs->D = spec->dim;
    fs->opt = spec->opt;
    fs->pool = spec->pool;
    fs->tabs = hx_calloc((size_t)fs->F, sizeof(emb_table));
    fs->rows = hx_calloc((size_t)spec->batch * (size_t)fs->F, sizeof(int64_t));
    fs->order = hx_calloc((size_t)fs->F, sizeof(int32_t));
    if (!fs->tabs || !fs->rows || !fs->order) {
        emb_fields_free(fs);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    for (int32_t f = 0; f < fs->F; f++) {
        int64_t cap = spec->batch < rows_per_field[f] ? spec->batch : rows_per_field[f];
        hx_status rc = emb_table_init(&fs->tabs[f], rows_per_field[f], fs->D, cap, spec->opt.kind,
                                      err, errlen);
        if (rc != HX_OK) {
            emb_fields_free(fs);
            return rc;
        }
        float a = sqrtf(1.0f / (float)rows_per_field[f]);
        emb_table_fill_uniform(&fs->tabs[f], rng, -a, a);
    }
    /* insertion sort by rows, largest first (stable: ties keep field order) */
    for (int32_t f = 0; f < fs->F; f++) {
        int32_t i = f;
        for (; i > 0 && rows_per_field[fs->order[i - 1]] < rows_per_field[f]; i--) fs->order[i] = fs->order[i - 1];
        fs->order[i] = f;
    }
    return HX_OK;
}

void emb_fields_free(emb_fields *fs) {
    if (fs->tabs)
        for (int32_t f = 0; f < fs->F; f++) emb_table_free(&fs->tabs[f]);
    hx_free(fs->tabs);
    hx_free(fs->rows);
    hx_free(fs->order);
    memset(fs, 0, sizeof *fs);
}

void emb_fields_step(emb_fields *fs, int64_t t) {
    fields_job j = {.fs = fs, .t = t};
    hx_pool_for(fs->pool, fs->F, field_pieces(fs), step_range, &j);
}


int emb_tables_tensors(void *state, emb_table_at at, emb_tensor *out, int max) {
    int n = 0;
    const char *name;
    emb_table *t;
    while (n < max && (t = at(state, n, &name)) != NULL) {
        out[n] = (emb_tensor){.name = name, .data = t->w, .n = (size_t)t->rows * (size_t)t->width};
        n++;
    }
    return n;
}

void emb_tables_grad(void *state, emb_table_at at, int i, float *dense) {
    const char *name;
    emb_table *t = at(state, i, &name);
    HX_ASSERT(t != NULL);
    emb_table_grad_dense(t, dense);
}

static emb_table *fields_table_at(void *state, int i, const char **name) {
    emb_fields *fs = state; /* the state begins with it (EMB_FIELDS_FIRST) */
    if (i < 0 || i >= fs->F) return NULL;
    *name = "table";
    return &fs->tabs[i];
}

void emb_fields_state_step(void *state, int64_t t) { emb_fields_step(state, t); }

void emb_fields_state_backward_step(void *state, const int64_t *idx, int64_t B, const float *dout, int64_t t) {
    emb_fields_backward_step(state, idx, B, dout, t);
}

int emb_fields_state_tensors(void *state, emb_tensor *out, int max) {
    return emb_tables_tensors(state, fields_table_at, out, max);
}

void emb_fields_state_grad(void *state, int i, float *dense) { emb_tables_grad(state, fields_table_at, i, dense); }

void emb_fields_predict_add(const emb_spec *spec, const int64_t *rows_per_field, emb_bytes *out) {
    for (int32_t f = 0; f < spec->n_fields; f++) {
        int64_t cap = spec->batch < rows_per_field[f] ? spec->batch : rows_per_field[f]; /* as emb_fields_init */
        emb_table_account(rows_per_field[f], spec->dim, cap, spec->opt.kind, out);
    }
}
