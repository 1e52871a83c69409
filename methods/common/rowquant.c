/* rowquant.c: see rowquant.h. The quantization steps follow fbgemm's row-wise
 * prepack (our reading of its semantics):
 *   8 bit: scale = (max - min) / 255, bias = min,
 *          q = round((x - min) * 255 / (max - min + 1e-8));
 *   4 bit: bias = fp16(min); scale = fp16((max - bias) / 15) (1 if the range or the
 *          fp16 scale is 0); q = clamp(round((x - bias) / scale), 0, 15).
 * Our choices [R]: every field is quantized (DLRM quantizes all tables), so the
 * ratio is fixed by d: 4d / (d + 8) for int8, 4d / (ceil(d/2) + 4) for int4.
 */
#include "rowquant.h"

#include <math.h>

size_t rq_row_bytes(int bits, int32_t d) {
    HX_ASSERT(bits == 8 || bits == 4);
    return bits == 8 ? (size_t)d + 8 : ((size_t)d + 1) / 2 + 4;
}

uint16_t rq_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    int32_t e = (int32_t)(absx >> 23) - 127 + 15;
    uint32_t m = absx & 0x7fffffu;
    if (e <= 0) { /* subnormal half (or zero) */
        if (e < -10) return sign;
        m |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (m >> 13), rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* may carry into the exponent */
    return (uint16_t)(sign | h);
}

float rq_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0x1f) x = sign | 0x7f800000u | (m << 13);
    else if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    } else x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static void row_minmax(const float *x, int32_t d, float *mn, float *mx) {
    *mn = *mx = x[0];
    for (int32_t j = 1; j < d; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

void rq_quantize(int bits, const float *x, int32_t d, uint8_t *dst) {
    float mn, mx;
    row_minmax(x, d, &mn, &mx);
    if (bits == 8) {
        float scale = (mx - mn) / 255.0f, inv = 255.0f / (mx - mn + 1e-8f);
        for (int32_t j = 0; j < d; j++) {
            long q = lrintf((x[j] - mn) * inv);
            dst[j] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
        memcpy(dst + d, &scale, 4);
        memcpy(dst + d + 4, &mn, 4);
        return;
    }
    uint16_t hb = rq_float_to_half(mn);
    float bias = rq_half_to_float(hb);
    float range = mx - bias, scale = range > 0 ? range / 15.0f : 1.0f;
    uint16_t hs = rq_float_to_half(scale);
    scale = rq_half_to_float(hs);
    if (scale == 0 || isinf(1.0f / scale)) {
        hs = rq_float_to_half(1.0f);
        scale = 1.0f;
    }
    float inv = 1.0f / scale;
    size_t nb = ((size_t)d + 1) / 2;
    memset(dst, 0, nb);
    for (int32_t j = 0; j < d; j++) {
        long q = lrintf((x[j] - bias) * inv);
        q = q < 0 ? 0 : q > 15 ? 15 : q;
        dst[j / 2] |= (uint8_t)(q << ((j % 2) * 4));
    }
    memcpy(dst + nb, &hs, 2);
    memcpy(dst + nb + 2, &hb, 2);
}

void rq_dequantize(int bits, const uint8_t *src, int32_t d, float *y) {
    if (bits == 8) {
        float scale, bias;
        memcpy(&scale, src + d, 4);
        memcpy(&bias, src + d + 4, 4);
        for (int32_t j = 0; j < d; j++) y[j] = (float)src[j] * scale + bias;
        return;
    }
    size_t nb = ((size_t)d + 1) / 2;
    uint16_t hs, hb;
    memcpy(&hs, src + nb, 2);
    memcpy(&hb, src + nb + 2, 2);
    float scale = rq_half_to_float(hs), bias = rq_half_to_float(hb);
    for (int32_t j = 0; j < d; j++) y[j] = (float)((src[j / 2] >> ((j % 2) * 4)) & 0xf) * scale + bias;
}

/* ---- the method ---- */

typedef struct rq_form {
    int       bits;
    size_t    row_bytes;
    uint8_t **rows; /* (F) each (N_f, row_bytes) */
} rq_form;

static void rq_infer_bytes(int bits, const emb_spec *spec, emb_bytes *b) {
    memset(b, 0, sizeof *b);
    for (int32_t f = 0; f < spec->n_fields; f++)
        b->infer_params += (uint64_t)spec->card[f] * rq_row_bytes(bits, spec->dim);
    snprintf(b->index_desc, sizeof b->index_desc, "none (row-wise int%d)", bits);
}

hx_status rq_plan(int bits, emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    emb_bytes inf;
    rq_infer_bytes(bits, spec, &inf);
    double r = emb_full_bytes(spec) / (double)inf.infer_params;
    if (!emb_plan_within(spec->ratio, r))
        return emb_plan_unreachable(spec, bits == 8 ? "int8" : "int4", r, r, err, errlen);
    bl_post_account(spec, &inf, &out->bytes);
    out->ratio = r;
    snprintf(out->knobs, sizeof out->knobs, "row-wise int%d, %zu bytes per row", bits, rq_row_bytes(bits, spec->dim));
    return HX_OK;
}

hx_status rq_create(int bits, const emb_spec *spec, void **state, char *err, size_t errlen) {
    bl_post *s = NULL;
    hx_status rc = bl_post_create(spec, &s, err, errlen);
    if (rc != HX_OK) return rc;
    rq_form *q = hx_calloc(1, sizeof *q);
    if (q) q->rows = hx_calloc((size_t)spec->n_fields, sizeof(uint8_t *));
    s->q = q;
    if (!q || !q->rows) {
        rq_destroy(s);
        return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    }
    q->bits = bits;
    q->row_bytes = rq_row_bytes(bits, spec->dim);
    rq_infer_bytes(bits, spec, &s->infer);
    *state = s;
    return HX_OK;
}

void rq_destroy(void *state) {
    bl_post *s = state;
    if (!s) return;
    rq_form *q = s->q;
    if (q) {
        for (int32_t f = 0; q->rows && f < s->fs.F; f++) hx_free(q->rows[f]);
        hx_free(q->rows);
        hx_free(q);
    }
    bl_post_free(s);
}

void rq_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    bl_post *s = state;
    const int32_t F = s->fs.F, D = s->fs.D;
    if (!s->done) {
        emb_fields_forward(&s->fs, idx, B, out);
        return;
    }
    rq_form *q = s->q;
    for (int64_t k = 0; k < B * F; k++)
        rq_dequantize(q->bits, q->rows[k % F] + (size_t)idx[k] * q->row_bytes, D, out + (size_t)k * D);
}

hx_status rq_finalize(void *state, char *err, size_t errlen) {
    bl_post *s = state;
    rq_form *q = s->q;
    for (int32_t f = 0; f < s->fs.F; f++) {
        const emb_table *t = &s->fs.tabs[f];
        if (!q->rows[f]) q->rows[f] = hx_malloc((size_t)t->rows * q->row_bytes);
        if (!q->rows[f]) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
        for (int64_t r = 0; r < t->rows; r++)
            rq_quantize(q->bits, emb_table_row(t, r), t->width, q->rows[f] + (size_t)r * q->row_bytes);
    }
    s->done = 1;
    return HX_OK;
}
