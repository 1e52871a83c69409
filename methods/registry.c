/* registry.c: the list of methods, from methods.def, plus parameter helpers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "method.h"

/* Strong references: a methods.def line without a matching descriptor is an
 * undefined symbol at link time, never a method that silently goes missing. */
#define EMB_METHOD(x) extern const emb_method emb_method_##x;
#include "methods.def"
#undef EMB_METHOD

static const emb_method *const k_all[] = {
#define EMB_METHOD(x) &emb_method_##x,
#include "methods.def"
#undef EMB_METHOD
};

#define N_ALL (sizeof k_all / sizeof k_all[0])

/* The descriptor rules of method.h: every required pointer is set (tensors and
 * grad, for tests only, come as a pair or not at all), and the parameter table
 * has n_params named entries, then its terminator. */
static void check_descriptor(const emb_method *m) {
    HX_ASSERT(m->api_version == EMB_API_VERSION);
    HX_ASSERT(m->name && m->desc && m->params && m->plan && m->create && m->destroy);
    HX_ASSERT(m->n_params >= 0 && m->n_params <= EMB_MAX_PARAMS);
    for (int i = 0; i < m->n_params; i++) HX_ASSERT(m->params[i].name != NULL);
    HX_ASSERT(m->params[m->n_params].name == NULL);
    HX_ASSERT(m->forward && m->backward && m->step && m->bytes);
    HX_ASSERT((m->tensors == NULL) == (m->grad == NULL));
}

size_t emb_method_count(void) { return N_ALL; }

const emb_method *emb_method_at(size_t i) {
    HX_ASSERT(i < N_ALL);
    check_descriptor(k_all[i]);
    return k_all[i];
}

const emb_method *emb_method_find(const char *name) {
    for (size_t i = 0; i < N_ALL; i++) {
        const emb_method *m = emb_method_at(i);
        if (strcmp(m->name, name) == 0 || (m->alias && strcmp(m->alias, name) == 0)) return m;
    }
    return NULL;
}

int emb_param_index(const emb_method *m, const char *name) {
    for (int i = 0; m->params[i].name; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

void emb_params_default(const emb_method *m, double *pv) {
    for (int i = 0; i < EMB_MAX_PARAMS; i++) pv[i] = 0;
    for (int i = 0; m->params[i].name; i++) {
        HX_ASSERT(i < EMB_MAX_PARAMS);
        pv[i] = m->params[i].def;
    }
}

hx_status emb_params_check(const emb_method *m, const double *pv, char *err, size_t errlen) {
    for (int i = 0; m->params[i].name; i++) {
        const emb_param_desc *d = &m->params[i];
        double v = pv[i];
        if (d->auto_ok && v == EMB_AUTO) continue;
        if (d->type == EMB_P_ENUM) {
            int n = 0;
            while (d->choices[n]) n++;
            if (v < 0 || v >= n || v != floor(v))
                return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: not one of its choices",
                                m->name, d->name);
            continue;
        }
        if (d->type == EMB_P_BOOL && v != 0 && v != 1)
            return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: expected true or false", m->name,
                            d->name);
        if (d->type == EMB_P_INT && v != floor(v))
            return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s: expected an integer, got %g",
                            m->name, d->name, v);
        if (!(v >= d->min && v <= d->max))
            return hx_error(HX_ERR_PARAM, err, errlen, "%s.%s = %g out of range [%g, %g]",
                            m->name, d->name, v, d->min, d->max);
    }
    return HX_OK;
}

double emb_full_bytes(const emb_spec *spec) {
    double s = 0;
    for (int32_t f = 0; f < spec->n_fields; f++) s += 4.0 * (double)spec->card[f] * spec->dim;
    return s;
}

void emb_params_format(const emb_method *m, const double *pv, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; m->params[i].name && used < n; i++) {
        const emb_param_desc *d = &m->params[i];
        const char *sep = used ? " " : "";
        int w;
        if (d->auto_ok && pv[i] == EMB_AUTO) w = snprintf(buf + used, n - used, "%s%s=auto", sep, d->name);
        else if (d->type == EMB_P_ENUM) w = snprintf(buf + used, n - used, "%s%s=%s", sep, d->name, d->choices[(int)pv[i]]);
        else if (d->type == EMB_P_BOOL) w = snprintf(buf + used, n - used, "%s%s=%s", sep, d->name, pv[i] != 0 ? "true" : "false");
        else w = snprintf(buf + used, n - used, "%s%s=%.10g", sep, d->name, pv[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}
