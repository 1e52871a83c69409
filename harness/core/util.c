/* util.c: see util.h. */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

const char *hx_status_str(hx_status s) {
    switch (s) {
    case HX_OK: return "ok";
    case HX_ERR_NOMEM: return "out of memory";
    case HX_ERR_PARAM: return "bad parameter";
    case HX_ERR_IO: return "i/o error";
    case HX_ERR_FORMAT: return "bad format";
    case HX_ERR_UNSUPPORTED: return "unsupported";
    case HX_ERR_DIVERGED: return "diverged";
    case HX_ERR_INTERNAL: return "internal error";
    case HX_ERR_BUSY: return "busy";
    }
    return "unknown status";
}

hx_status hx_error(hx_status s, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return s;
}

void hx_abort(const char *file, int line, const char *expr) {
    fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}

/* Fault injection: the nth checked allocation after hx_fault_alloc(n) fails
 * (n = 0: none). One relaxed load per allocation when off. */
static atomic_long g_alloc_seen, g_alloc_fail_at;

void hx_fault_alloc(long nth) {
    atomic_store(&g_alloc_seen, 0);
    atomic_store(&g_alloc_fail_at, nth);
}

long hx_fault_alloc_seen(void) { return atomic_load(&g_alloc_seen); }

static int alloc_fails(void) {
    long at = atomic_load_explicit(&g_alloc_fail_at, memory_order_relaxed);
    return at > 0 && atomic_fetch_add(&g_alloc_seen, 1) + 1 == at;
}

/* I/O fault injection: the nth hx_io_fails() check after hx_fault_io(n) says
 * yes, with errno = EIO. */
static atomic_long g_io_seen, g_io_fail_at;

void hx_fault_io(long nth) {
    atomic_store(&g_io_seen, 0);
    atomic_store(&g_io_fail_at, nth);
}

long hx_fault_io_seen(void) { return atomic_load(&g_io_seen); }

int hx_io_fails(void) {
    long at = atomic_load_explicit(&g_io_fail_at, memory_order_relaxed);
    if (at <= 0 || atomic_fetch_add(&g_io_seen, 1) + 1 != at) return 0;
    errno = EIO;
    return 1;
}

void *hx_malloc(size_t n) { return alloc_fails() ? NULL : malloc(n ? n : 1); }

void *hx_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return alloc_fails() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *hx_realloc(void *p, size_t n) { return alloc_fails() ? NULL : realloc(p, n ? n : 1); }

void hx_free(void *p) { free(p); }

void *hx_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1); /* outside fault injection: its callers cannot recover */
    if (!p) {
        fprintf(stderr, "embsweep: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

char *hx_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = hx_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* ---- big arrays ----
 * Every block starts 64 bytes after a header that says how to give it back: a
 * heap block is freed whole, a mapping unmapped whole (its header sits at the end
 * of the 4 KiB page just below the 2 MiB-aligned start). */
#define BIG_HEAP 0x6865617062696731ll /* "heapbig1" */
#define BIG_MAP 0x6d61706269673131ll  /* "mapbig11" */
enum { BIG_HDR = 64, HUGE_2M = 2 << 20 };
typedef struct big_hdr {
    long long kind; /* BIG_HEAP or BIG_MAP */
    void     *base; /* what calloc or mmap returned */
    size_t    len;  /* the mapping's length */
    size_t    n;    /* the block's bytes */
} big_hdr;
_Static_assert(sizeof(big_hdr) <= BIG_HDR, "the header fits before the block");

static atomic_int g_big_off; /* 0: the big-table path is on */

void hx_big_set(int on) { atomic_store(&g_big_off, !on); }

int hx_prefetch_ahead(void) { return atomic_load_explicit(&g_big_off, memory_order_relaxed) ? 0 : HX_PREFETCH_AHEAD; }

/* A zeroed mapping of n bytes whose start is 2 MiB-aligned, advised
 * MADV_HUGEPAGE; NULL when the kernel refuses the mapping. */
static void *big_map(size_t n) {
    const size_t page = 4096, body = (n + page - 1) / page * page;
    if (body > SIZE_MAX - HUGE_2M - page) return NULL;
    const size_t len = page + HUGE_2M + body;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *p = (char *)(((uintptr_t)raw + page + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
    /* keep [p - page, p + body): the header's page and the block */
    size_t head = (size_t)(p - page - raw), tail = len - head - page - body;
    if (head) munmap(raw, head);
    if (tail) munmap(p + body, tail);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, body, MADV_HUGEPAGE); /* refused (THP off, old kernel): small pages */
#endif
    *(big_hdr *)(p - BIG_HDR) = (big_hdr){.kind = BIG_MAP, .base = p - page, .len = page + body, .n = n};
    return p;
}

static void *big_alloc(size_t n) {
    if (n >= HX_BIG_MIN && !atomic_load(&g_big_off)) {
        void *p = big_map(n);
        if (p) return p;
    }
    if (n > SIZE_MAX - 2 * BIG_HDR) return NULL;
    char *raw = calloc(1, 2 * BIG_HDR + n);
    if (!raw) return NULL;
    char *p = (char *)(((uintptr_t)raw + 2 * BIG_HDR - 1) & ~(uintptr_t)(BIG_HDR - 1)); /* 64-aligned */
    *(big_hdr *)(p - BIG_HDR) = (big_hdr){.kind = BIG_HEAP, .base = raw, .n = n};
    return p;
}

void *hx_big_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return alloc_fails() ? NULL : big_alloc(count * size);
}

void *hx_big_realloc(void *p, size_t n) {
    if (!p) return hx_big_calloc(1, n);
    if (alloc_fails()) return NULL;
    big_hdr *h = (big_hdr *)((char *)p - BIG_HDR);
    if (h->kind == BIG_MAP && n <= h->n) { /* shrink in place: unmap the whole pages past n */
        const size_t page = 4096, keep = page + (n + page - 1) / page * page;
        if (keep < h->len) munmap((char *)h->base + keep, h->len - keep);
        if (keep < h->len) h->len = keep;
        h->n = n;
        return p;
    }
    void *q = big_alloc(n);
    if (!q) return NULL;
    memcpy(q, p, n < h->n ? n : h->n);
    hx_big_free(p);
    return q;
}

void hx_big_populate(void *p) {
    if (!p) return;
    const big_hdr *h = (const big_hdr *)((char *)p - BIG_HDR);
    if (h->kind != BIG_MAP || !h->n) return;
#ifdef MADV_POPULATE_WRITE
    if (madvise(p, (h->n + 4095) / 4096 * 4096, MADV_POPULATE_WRITE) == 0) return;
#endif
    for (size_t i = 0; i < h->n; i += 4096) ((volatile char *)p)[i] = 0; /* older kernels: one write a page */
}

void hx_big_free(void *p) {
    if (!p) return;
    big_hdr h = *(big_hdr *)((char *)p - BIG_HDR);
    HX_ASSERT(h.kind == BIG_HEAP || h.kind == BIG_MAP); /* not from hx_big_calloc */
    if (h.kind == BIG_HEAP) free(h.base);
    else munmap(h.base, h.len);
}

/* ---- RNG ---- */

uint64_t hx_splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void hx_rng_seed(hx_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        r->s[i] = hx_splitmix64(x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hx_rng_u64(hx_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hx_rng_uniform(hx_rng *r) { return (double)(hx_rng_u64(r) >> 11) * 0x1.0p-53; }

float hx_rng_uniformf(hx_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)hx_rng_uniform(r);
}

double hx_rng_normal(hx_rng *r) {
    double u1 = hx_rng_uniform(r), u2 = hx_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t hx_rng_below(hx_rng *r, uint64_t n) {
    HX_ASSERT(n > 0);
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = hx_rng_u64(r); while (x >= lim);
    return x % n;
}

uint64_t hx_fnv1a(const void *data, size_t n, uint64_t h) {
    const unsigned char *p = data;
    if (h == 0) h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- time ---- */

double hx_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double hx_cpu_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- directories ---- */

hx_status hx_mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[4096];
    const size_t n = strlen(path);
    if (n == 0) return HX_OK;
    if (n >= sizeof buf) return hx_error(HX_ERR_PARAM, err, errlen, "path too long: %.100s...", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
        if (*p && *p != '/') continue;
        const char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return hx_error(HX_ERR_IO, err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
        if (!c) break;
        *p = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return hx_error(HX_ERR_IO, err, errlen, "cannot create directory %s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return hx_error(HX_ERR_IO, err, errlen, "cannot create directory %s: a file of that name is in the way", path);
    return HX_OK;
}

hx_status hx_mkdir_parent(const char *file, char *err, size_t errlen) {
    const char *slash = strrchr(file, '/');
    if (!slash || slash == file) return HX_OK; /* a bare name, or a file in / */
    char dir[4096];
    if ((size_t)(slash - file) >= sizeof dir)
        return hx_error(HX_ERR_PARAM, err, errlen, "path too long: %.100s...", file);
    memcpy(dir, file, (size_t)(slash - file));
    dir[slash - file] = 0;
    return hx_mkdir_p(dir, err, errlen);
}

/* ---- parsing and formatting ---- */

int hx_parse_i64(const char *s, int64_t *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = (int64_t)v;
    return 0;
}

int hx_parse_f64(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

void hx_human_bytes(double bytes, char *buf, size_t n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    if (u == 0) snprintf(buf, n, "%.0f %s", bytes, units[u]);
    else snprintf(buf, n, "%.*f %s", bytes < 10 ? 2 : (bytes < 100 ? 1 : 0), bytes, units[u]);
}

int hx_levenshtein(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    int row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = prev + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}
