/* plot_util.c: method styles, the Pareto front, human-unit log ticks, text and
 * database helpers for `embsweep plot`, `query` and `export` (see plot.h).
 *
 * Our own choices [R]: the palette (black for the first registry entry, `full`, then
 * Tableau-like colours that stay apart on white), 16 colours x 7 markers so that the
 * first 112 registry positions all differ; powers-of-two ticks so that every label is
 * a whole number of B/KiB/MiB/GiB/TiB.
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
/* gnuplot pointtypes: filled circle, square, triangle up, triangle down, diamond,
 * pentagon, open circle */
static const int k_points[] = {7, 5, 9, 11, 13, 15, 6};

#define N_COLORS (sizeof k_colors / sizeof k_colors[0])
#define N_POINTS (sizeof k_points / sizeof k_points[0])

pl_style pl_method_style(const char *method) {
    size_t n = emb_method_count(), pos = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const emb_method *m = emb_method_at(i);
        if (!strcmp(m->name, method) || (m->alias && !strcmp(m->alias, method))) {
            pos = i;
            break;
        }
    }
    pl_style s;
    /* unknown names: after every registered one, spread by a hash of the name, and
     * never black (black means `full`) */
    if (pos == (size_t)-1) pos = n + 1 + hx_fnv1a(method, strlen(method), 0) % 1009;
    s.order = pos;
    s.color = k_colors[pos % N_COLORS];
    if (pos >= n && pos % N_COLORS == 0) s.color = k_colors[1 + pos % (N_COLORS - 1)];
    /* the marker cycle advances by one each lap of the 7 markers, so positions 6
     * and 13 (qr, dhe) do not share the open circle */
    s.point = k_points[(pos + pos / N_POINTS) % N_POINTS];
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
