/* int4.c: row-wise int4 post-training quantization, the DLRM inference path
 * (facebookresearch/dlrm dlrm_s_pytorch.py quantize_embedding with
 * --quantize-emb-with-bit 4, calling fbgemm's embedding_bag_4bit_prepack).
 * Trains exactly `full`; finalize() quantizes every row
 * (two codes per byte + fp16 scale + fp16 bias: ceil(d/2) + 4 bytes). The formats and
 * our choices [R] are in rowquant.c.
 */
#include "methods/common/rowquant.h"

static const emb_param_desc int4_params[] = {{.name = NULL}};

static hx_status int4_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    return rq_plan(4, spec, out, err, errlen);
}

static hx_status int4_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    return rq_create(4, spec, state, err, errlen);
}

const emb_method emb_method_int4 = {
    .api_version = EMB_API_VERSION,
    .name = "int4",
    .desc = "train full, then row-wise int4 with a per-row scale and bias (post-training)",
    .cite = "Naumov et al., DLRM (quantize_embedding, fbgemm row-wise prepack), arXiv 1906.00091",
    .params = int4_params,
    .caps = EMB_CAP_POST_TRAIN,
    .plan = int4_plan,
    .create = int4_create,
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
