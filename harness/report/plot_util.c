/* plot_util.c: method styles, the Pareto front, human-unit log ticks, text and
 * database helpers for `embsweep plot`, `query` and `export` (see plot.h).
 *
 * Our own choices [R]: a method's colour and marker are keyed by its name, from a
 * fixed table for the known methods (black for `full`, then Tableau-like colours
 * that stay apart on white), so adding a method recolours nothing; a name not in
 * the table gets a style from a hash of the name alone. Powers-of-two ticks so
 * that every label is a whole number of B/KiB/MiB/GiB/TiB.
 */
#include <math.h>
#include <string.h>

#include "harness/sweep/db.h"
#include "methods/method.h"
#include "plot.h"

static const char *const k_colors[] = {
    "#000000", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#ff1493", "#e7ba52", "#7b4173",
};
/* gnuplot pointtypes, all filled: circle, square, triangle up, triangle down,
 * diamond, pentagon. An open marker means a config not resolved against the
 * baseline (plot_fig.c), so no method is drawn open. */
static const int k_points[] = {7, 5, 9, 11, 13, 15};

#define N_COLORS (sizeof k_colors / sizeof k_colors[0])
#define N_POINTS (sizeof k_points / sizeof k_points[0])

/* The styles the figures have shown since the first methods: no two share both
 * colour and marker. qr and int4 had the open circle until hollow points came to
 * mean "not resolved"; they keep the circle, filled. The test-only fault methods
 * are not here (they take the hash, so black stays `full`'s). */
static const struct {
    const char *name, *color;
    int         point;
} k_known[] = {
    {"full", "#000000", 7},      {"hash", "#1f77b4", 5},        {"mlet", "#d62728", 9},
    {"memcom", "#2ca02c", 11},   {"cqr", "#ff7f0e", 13},        {"fiited", "#9467bd", 15},
    {"qr", "#8c564b", 7},        {"md", "#e377c2", 5},          {"tt", "#17becf", 9},
    {"robe", "#bcbd22", 11},     {"pq", "#7f7f7f", 13},         {"int8", "#393b79", 15},
    {"int4", "#637939", 7},      {"dhe", "#ff1493", 7},         {"cafe", "#e7ba52", 9},
    {"pep", "#7b4173", 11},      {"alpt", "#843c39", 5},        {"adaembed", "#6b6ecf", 15},
};

#define N_KNOWN (sizeof k_known / sizeof k_known[0])

pl_style pl_method_style(const char *method) {
    const emb_method *m = emb_method_find(method);
    const char *name = m ? m->name : method; /* an alias styles as its method */
    size_t n = emb_method_count(), pos = (size_t)-1;
    for (size_t i = 0; i < n; i++)
        if (emb_method_at(i) == m) {
            pos = i;
            break;
        }
    uint64_t h = hx_fnv1a(name, strlen(name), 0) % 1009;
    pl_style s;
    /* legend order: the registry's, names it does not know after every one it does */
    s.order = pos != (size_t)-1 ? pos : n + 1 + (size_t)h;
    /* colour and marker: the table's, else from the hash of the name, never black
     * (black means `full`) */
    for (size_t i = 0; i < N_KNOWN; i++)
        if (!strcmp(k_known[i].name, name)) {
            s.color = k_known[i].color;
            s.point = k_known[i].point;
            return s;
        }
    s.color = k_colors[1 + h % (N_COLORS - 1)];
    s.point = k_points[(h + h / N_POINTS) % N_POINTS];
    return s;
}

size_t pl_pareto(const double *x, const double *y, size_t n, int higher_better,
                 unsigned char *on_front) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        on_front[i] = 0;
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++) {
            if (j == i || !isfinite(x[j]) || !isfinite(y[j])) continue;
            double yi = higher_better ? y[i] : -y[i], yj = higher_better ? y[j] : -y[j];
            if (x[j] <= x[i] && yj >= yi && (x[j] < x[i] || yj > yi)) dominated = 1;
        }
        on_front[i] = (unsigned char)!dominated;
        count += !dominated;
    }
    return count;
}

void pl_bytes_tics(double lo, double hi, char *buf, size_t n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    HX_ASSERT(n > 8);
    if (!(lo > 0) || !(hi >= lo)) {
        snprintf(buf, n, "autofreq");
        return;
    }
    int k0 = (int)floor(log2(lo)), k1 = (int)ceil(log2(hi));
    if (k1 <= k0) k1 = k0 + 1;
    /* a step in powers of two so that there are at most ~8 ticks; steps that divide
     * 10 keep the labels on whole units */
    static const int steps[] = {1, 2, 5, 10, 20, 30};
    int step = 30;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if ((k1 - k0) / steps[i] + 1 <= 8) {
            step = steps[i];
            break;
        }
    int first = (int)(floor((double)k0 / step) * step);
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int k = first; k <= k1 && used < n; k += step) {
        if (k < 0) continue;
        int u = k / 10 > 5 ? 5 : k / 10;
        double v = ldexp(1.0, k - 10 * u);
        int w = snprintf(buf + used, n - used, "%s\"%.0f %s\" %.0f", used > 1 ? ", " : "", v,
                         units[u], ldexp(1.0, k));
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
    if (used + 2 <= n) snprintf(buf + used, n - used, ")");
    else snprintf(buf, n, "autofreq");
}

void pl_sanitize(const char *in, char *out, size_t n) {
    size_t i = 0;
    HX_ASSERT(n > 0);
    for (; in[i] && i + 1 < n; i++) {
        char c = in[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        out[i] = ok && !(i == 0 && c == '.') ? c : '_';
    }
    out[i] = 0;
}

void pl_html_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

hx_status pl_db_open(const char *path, sqlite3 **out, char *err, size_t errlen) {
    return db_open_read(path, out, err, errlen);
}

void pl_list_push(pl_list *l, const char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->s = hx_realloc(l->s, l->cap * sizeof *l->s);
        HX_ASSERT(l->s);
    }
    l->s[l->n++] = hx_strdup(s);
}

void pl_list_free(pl_list *l) {
    for (size_t i = 0; i < l->n; i++) hx_free(l->s[i]);
    hx_free(l->s);
    memset(l, 0, sizeof *l);
}
