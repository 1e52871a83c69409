/* full.c: the uncompressed embedding table, the baseline every ratio is measured
 * against. One N_f x D fp32 table per field, initialised U(+-sqrt(1/N_f)) as in
 * facebookresearch/dlrm (dlrm_s_pytorch.py, create_emb), trained with sparse
 * updates on the looked-up rows only.
 *
 * Bytes: inference 4 * sum_f N_f * D; training adds the optimizer state and the
 * per-step gradient slots of the touched rows.
 */
#include "methods/common/table.h"

typedef struct full_state {
    emb_fields fs;
    emb_spec   spec; /* kept for full_account */
} full_state;
EMB_FIELDS_FIRST(full_state);

static const emb_param_desc full_params[] = {{.name = NULL}};

/* The accounting of plan() and bytes(): one N_f x D table per field. */
static void full_account(const emb_spec *spec, emb_bytes *out) {
    memset(out, 0, sizeof *out);
    emb_fields_predict_add(spec, spec->card, out);
}

static hx_status full_plan(emb_spec *spec, emb_plan *out, char *err, size_t errlen) {
    if (!emb_plan_within(spec->ratio, 1.0)) return emb_plan_unreachable(spec, "full", 1, 1, err, errlen);
    memset(out, 0, sizeof *out);
    full_account(spec, &out->bytes);
    out->ratio = emb_full_bytes(spec) / (double)emb_bytes_infer(&out->bytes);
    snprintf(out->knobs, sizeof out->knobs, "uncompressed");
    return HX_OK;
}

static void full_destroy(void *state) {
    full_state *s = state;
    if (!s) return;
    emb_fields_free(&s->fs);
    emb_spec_kept_free(&s->spec);
    hx_free(s);
}

static hx_status full_create(const emb_spec *spec, void **state, char *err, size_t errlen) {
    full_state *s = hx_calloc(1, sizeof *s);
    if (!s) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory");
    hx_rng rng;
    hx_rng_seed(&rng, spec->seed);
    hx_status rc = emb_spec_keep(&s->spec, spec, err, errlen);
    if (rc == HX_OK) rc = emb_fields_init(&s->fs, spec, spec->card, &rng, err, errlen);
    if (rc != HX_OK) {
        full_destroy(s);
        return rc;
    }
    *state = s;
    return HX_OK;
}

static void full_forward(void *state, const int64_t *idx, int64_t B, float *out) {
    full_state *s = state;
    emb_fields_forward(&s->fs, idx, B, out);
}

static void full_backward(void *state, const int64_t *idx, int64_t B, const float *dout) {
    full_state *s = state;
    emb_fields_backward(&s->fs, idx, B, dout);
}

static void full_bytes(const void *state, emb_bytes *out) { full_account(&((const full_state *)state)->spec, out); }

const emb_method emb_method_full = {
    .api_version = EMB_API_VERSION,
    .name = "full",
    .desc = "uncompressed fp32 table per field (the baseline)",
    .cite = "Naumov et al., DLRM, arXiv 1906.00091 (2019)",
    .params = full_params,
    .caps = EMB_CAP_TRAINABLE,
    .plan = full_plan,
    .create = full_create,
    .destroy = full_destroy,
    .forward = full_forward,
    .backward = full_backward,
    .step = emb_fields_state_step,
    .backward_step = emb_fields_state_backward_step,
    .bytes = full_bytes,
    .tensors = emb_fields_state_tensors,
    .grad = emb_fields_state_grad,
};
