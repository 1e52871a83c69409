/* optim.c: see optim.h. Formulas follow torch.optim.{SGD,Adagrad,Adam} (no weight
 * decay, no momentum) and facebookresearch/dlrm optim/rwsadagrad.py for the row-wise
 * variant. */
#include "optim.h"

#include <math.h>
#include <string.h>

#include "util.h"

static const char *const k_names[] = {"sgd", "adagrad", "adam", "rowwise_adagrad"};

const char *opt_kind_name(opt_kind k) {
    HX_ASSERT((unsigned)k < 4);
    return k_names[k];
}

int opt_kind_parse(const char *s, opt_kind *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, k_names[i]) == 0) {
            *out = (opt_kind)i;
            return 0;
        }
    return -1;
}

size_t opt_state_floats(opt_kind k, size_t w) {
    switch (k) {
    case OPT_SGD: return 0;
    case OPT_ADAGRAD: return w;
    case OPT_ADAM: return 2 * w;
    case OPT_ROWWISE_ADAGRAD: return 1;
    }
    HX_ASSERT(0);
    return 0;
}

opt_cfg opt_default(opt_kind k, float lr) {
    opt_cfg c = {.kind = k, .lr = lr, .eps = 1e-10f, .beta1 = 0.9f, .beta2 = 0.999f};
    if (k == OPT_ADAM) c.eps = 1e-8f;
    return c;
}

opt_bias opt_bias_at(const opt_cfg *c, int64_t t) {
    opt_bias b = {1.0f, 1.0f};
    if (c->kind == OPT_ADAM) {
        HX_ASSERT(t >= 1);
        b.bc1 = 1.0f - powf(c->beta1, (float)t);
        b.bc2 = 1.0f - powf(c->beta2, (float)t);
    }
    return b;
}

void opt_row_step(const opt_cfg *c, float *p, const float *g, float *state, size_t w, int64_t t) {
    opt_row_step_b(c, opt_bias_at(c, t), p, g, state, w);
}

void opt_row_step_b(const opt_cfg *c, opt_bias bias, float *p, const float *g, float *state, size_t w) {
    const float lr = c->lr;
    switch (c->kind) {
    case OPT_SGD:
        for (size_t i = 0; i < w; i++) p[i] -= lr * g[i];
        break;
    case OPT_ADAGRAD:
        for (size_t i = 0; i < w; i++) {
            state[i] += g[i] * g[i];
            p[i] -= lr * g[i] / (sqrtf(state[i]) + c->eps);
        }
        break;
    case OPT_ROWWISE_ADAGRAD: {
        float ss = 0.0f;
        for (size_t i = 0; i < w; i++) ss += g[i] * g[i];
        state[0] += ss / (float)w;
        float scale = lr / (sqrtf(state[0]) + c->eps);
        for (size_t i = 0; i < w; i++) p[i] -= scale * g[i];
        break;
    }
    case OPT_ADAM: {
        float *m = state, *v = state + w;
        const float bc1 = bias.bc1, bc2 = bias.bc2;
        for (size_t i = 0; i < w; i++) {
            m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g[i];
            v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g[i] * g[i];
            float mh = m[i] / bc1, vh = v[i] / bc2;
            p[i] -= lr * mh / (sqrtf(vh) + c->eps);
        }
        break;
    }
    }
}

void opt_dense_step(const opt_cfg *c, float *p, float *g, float *state, size_t n, int64_t t) {
    /* A dense tensor is one row; OPT_ROWWISE_ADAGRAD would share one accumulator
     * across the tensor, so the model never asks for it here. */
    HX_ASSERT(c->kind != OPT_ROWWISE_ADAGRAD);
    opt_row_step(c, p, g, state, n, t);
    memset(g, 0, n * sizeof(float));
}
