/* util.h: assertions, checked allocation, status codes, RNG and hashing shared by
 * every module (harness, methods, datasets).
 *
 * Two tiers of error, as in ggml and SQLite:
 *   - programmer bugs hit HX_ASSERT, which stays on in release builds and aborts
 *     with file:line;
 *   - expected failures (bad input, missing file, no memory) return an hx_status
 *     and write a message into a caller buffer; the function cleans up in one place.
 * Only main() and the worker entry may exit().
 */
#ifndef EMBSWEEP_UTIL_H
#define EMBSWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    HX_OK = 0,
    HX_ERR_NOMEM = -1,     /* allocation failed */
    HX_ERR_PARAM = -2,     /* a value out of range, an unreachable ratio */
    HX_ERR_IO = -3,        /* open/read/write failed */
    HX_ERR_FORMAT = -4,    /* malformed input file */
    HX_ERR_UNSUPPORTED = -5,
    HX_ERR_DIVERGED = -6,  /* non-finite loss */
    HX_ERR_INTERNAL = -7,
    HX_ERR_BUSY = -8       /* held by another process (the results database's writer) */
} hx_status;

const char *hx_status_str(hx_status s);

/* hx_error: the one place an error status is created (a breakpoint target, as
 * SQLite's *_BKPT and squash_error). Formats msg into err[0..errlen) and returns s. */
hx_status hx_error(hx_status s, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void hx_abort(const char *file, int line, const char *expr) __attribute__((noreturn));
#define HX_ASSERT(x) do { if (!(x)) hx_abort(__FILE__, __LINE__, #x); } while (0)

/* Checked allocation. hx_malloc returns NULL on failure (callers return
 * HX_ERR_NOMEM); sizes are overflow-checked. hx_calloc zeroes. */
void *hx_malloc(size_t n);
void *hx_calloc(size_t count, size_t size);
void *hx_realloc(void *p, size_t n);
void  hx_free(void *p);
/* Allocation that the caller cannot recover from: aborts with a message. Used only
 * for small bookkeeping in main-side code, never in methods. */
void *hx_xmalloc(size_t n);
char *hx_strdup(const char *s);
/* Fault injection for the tests (as SQLite's FAULT_INSTALL): after
 * hx_fault_alloc(n), the nth call of hx_malloc, hx_calloc or hx_realloc
 * returns NULL (n = 0 turns it off); hx_fault_alloc_seen() counts the calls
 * since. hx_xmalloc and hx_strdup are outside it. */
void hx_fault_alloc(long nth);
long hx_fault_alloc_seen(void);
/* The same for writes: each write site of the cache builder and the results
 * database asks hx_io_fails() first; after hx_fault_io(n) the nth ask fails
 * with errno = EIO (n = 0: never). */
void hx_fault_io(long nth);
long hx_fault_io_seen(void);
int  hx_io_fails(void);

/* ---- big arrays: embedding tables, their optimizer state, large scratch ----
 * hx_big_calloc is hx_calloc for arrays that are read and written at random rows.
 * From HX_BIG_MIN bytes on it maps anonymous memory aligned to 2 MiB and advises
 * MADV_HUGEPAGE, so that Linux backs it with transparent huge pages (Debian's
 * default THP mode, `madvise`, gives them only to memory that asks): one TLB entry
 * covers 2 MiB instead of 4 KiB, and a random row costs one cache miss instead of
 * a miss and a page walk. Where the kernel refuses the advice the memory stays in
 * small pages, quietly; the same bytes and the same results either way. Smaller
 * arrays come from the heap, 64-byte aligned. Zeroed, under hx_fault_alloc like
 * hx_calloc; free with hx_big_free (NULL is a no-op), never with hx_free. */
enum { HX_BIG_MIN = 2 << 20, HX_PREFETCH_AHEAD = 16 };
void *hx_big_calloc(size_t count, size_t size);
void  hx_big_free(void *p);
/* Faults a mapped block's pages in now (MADV_POPULATE_WRITE, or a write a page on
 * older kernels), so that their zeroing is paid at creation rather than in the
 * first training steps that touch them; heap blocks are left as they are. */
void  hx_big_populate(void *p);
/* Resizes to n bytes keeping the first min(old, n) (the rest is not zeroed); a
 * mapping shrinks in place and gives its tail pages back to the system. NULL on
 * failure, p then untouched. */
void *hx_big_realloc(void *p, size_t n);
/* The switch of the big-table path, process-wide, for benchmarks and tests that
 * compare it with the plain one: on (the default), hx_big_calloc maps huge pages
 * and hx_prefetch_ahead() is HX_PREFETCH_AHEAD, the rows ahead a table walk
 * prefetches; off, hx_big_calloc takes the heap and hx_prefetch_ahead() is 0
 * (and per-field tables step in a pass of their own, emb_fields_backward_step).
 * Memory allocated in one mode is freed correctly in the other. */
void hx_big_set(int on);
int  hx_prefetch_ahead(void);

/* ---- deterministic RNG: splitmix64-seeded xoshiro256** ---- */
typedef struct { uint64_t s[4]; } hx_rng;
void     hx_rng_seed(hx_rng *r, uint64_t seed);
uint64_t hx_rng_u64(hx_rng *r);
double   hx_rng_uniform(hx_rng *r);                  /* [0, 1) */
float    hx_rng_uniformf(hx_rng *r, float lo, float hi);
double   hx_rng_normal(hx_rng *r);                   /* N(0,1), Box-Muller */
uint64_t hx_rng_below(hx_rng *r, uint64_t n);        /* uniform in [0, n), unbiased */

/* ---- hashing ---- */
uint64_t hx_splitmix64(uint64_t x);                  /* a strong 64-bit mixer */
uint64_t hx_fnv1a(const void *data, size_t n, uint64_t h); /* h = 0 starts fresh */
/* hx_hash_index: a seeded universal-style hash of (id) into [0, m). */
static inline uint64_t hx_hash_index(uint64_t id, uint64_t seed, uint64_t m) {
    return hx_splitmix64(id ^ hx_splitmix64(seed)) % m;
}

/* ---- time ---- */
double hx_now(void);        /* CLOCK_MONOTONIC seconds */
double hx_cpu_time(void);   /* process CPU seconds (user + system) */

/* ---- directories ---- */
/* hx_mkdir_p: path and its missing parents as directories (mode 0777 less the
 * umask), as mkdir -p; a directory already there is fine, anything else there
 * is an error. hx_mkdir_parent: the same for the folder a file path names
 * (nothing for a bare file name). */
hx_status hx_mkdir_p(const char *path, char *err, size_t errlen);
hx_status hx_mkdir_parent(const char *file, char *err, size_t errlen);

/* ---- small helpers ---- */
int    hx_parse_i64(const char *s, int64_t *out);  /* 0 on success, whole string */
int    hx_parse_f64(const char *s, double *out);   /* 0 on success, finite */
void   hx_human_bytes(double bytes, char *buf, size_t n); /* "1.5 MiB" */
int    hx_levenshtein(const char *a, const char *b);

#endif
