/* rowquant.h: row-wise post-training quantization shared by int8.c and int4.c,
 * with the row formats of fbgemm's embedding_bag_byte_prepack (8 bit) and
 * embedding_bag_4bit_prepack (4 bit), which facebookresearch/dlrm calls from
 * quantize_embedding (--quantize-emb-with-bit).
 *
 *   8 bit: d uint8 codes, then fp32 scale, fp32 bias        d + 8 bytes per row
 *   4 bit: ceil(d/2) bytes (two codes per byte, element j in byte j/2, low nibble
 *          first), then fp16 scale, fp16 bias               ceil(d/2) + 4 bytes
 * Decode: x = q * scale + bias.
 */
#ifndef EMBSWEEP_ROWQUANT_H
#define EMBSWEEP_ROWQUANT_H

#include "baseline.h"

/* Bytes of one quantized row of width d at `bits` (8 or 4). */
size_t rq_row_bytes(int bits, int32_t d);

/* Quantize row x (d) into dst (rq_row_bytes); decode src into y (d). */
void rq_quantize(int bits, const float *x, int32_t d, uint8_t *dst);
void rq_dequantize(int bits, const uint8_t *src, int32_t d, float *y);

/* IEEE binary16 conversion (round to nearest even, subnormals kept). */
uint16_t rq_float_to_half(float f);
float    rq_half_to_float(uint16_t h);

/* The method pieces shared by int8 and int4 (bits from the descriptor's name). */
hx_status rq_plan(int bits, emb_spec *spec, emb_plan *out, char *err, size_t errlen);
hx_status rq_create(int bits, const emb_spec *spec, void **state, char *err, size_t errlen);
void      rq_destroy(void *state);
void      rq_forward(void *state, const int64_t *idx, int64_t B, float *out);
hx_status rq_finalize(void *state, char *err, size_t errlen);

#endif
