/* int8.c: row-wise int8 post-training quantization, the DLRM inference path
 * (facebookresearch/dlrm dlrm_s_pytorch.py quantize_embedding with
 * --quantize-emb-with-bit 8, calling fbgemm's embedding_bag_byte_prepack).
 * Trains exactly `full`; finalize() quantizes every row
 * (d uint8 + fp32 scale + fp32 bias: d + 8 bytes). The formats and
 * our choices [R] are in rowquant.c.
 */
#include "methods/common/rowquant.h"

static const emb_param_desc int8_params[] = {{.name = NULL}};

static hx_status int8_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    return rq_plan(8, spec, out, err, errlen);
}

static hx_status int8_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    return rq_create(8, spec, state, err, errlen);
}

const emb_method emb_method_int8 = {
    .api_version = EMB_API_VERSION,
    .name = "int8",
    .desc = "train full, then row-wise int8 with a per-row scale and bias (post-training)",
    .cite = "Naumov et al., DLRM (quantize_embedding, fbgemm row-wise prepack), arXiv 1906.00091",
    .params = int8_params,
    .caps = EMB_CAP_POST_TRAIN,
    .plan = int8_plan,
    .create = int8_create,
    .destroy = rq_destroy,
    .forward = rq_forward,
    .backward = bl_post_backward,
    .step = emb_fields_state_step,
    .backward_step = bl_post_backward_step,
    .finalize = rq_finalize,
    .bytes = bl_post_bytes,
    .tensors = emb_fields_state_tensors,
    .grad = emb_fields_state_grad,
};
