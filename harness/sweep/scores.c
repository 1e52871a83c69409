/* scores.c: writing, reading and checking scores files (the layout is in
 * scores.h). Every number is encoded byte by byte, so the bytes are the same on
 * any host; the writer goes through one 4 KiB stack buffer. */
#include "scores.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows a scores file may declare: its byte count must fit an int64. */
#define SCORES_MAX_ROWS (INT64_MAX / 8)

uint64_t scores_label_bytes(int64_t n) { return ((uint64_t)n + 7) / 8; }

uint64_t scores_file_bytes(int64_t n) { return SCORES_HEADER + 4 * (uint64_t)n + scores_label_bytes(n); }

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_i64(unsigned char *p, int64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)((uint64_t)v >> (8 * i));
}

static int64_t get_i64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return (int64_t)v;
}

/* ---- writing ---- */

typedef struct wbuf {
    int           fd;
    size_t        used;
    unsigned char b[4096];
} wbuf;

static int wflush(wbuf *w) {
    const unsigned char *p = w->b;
    while (w->used) {
        if (hx_io_fails()) return -1;
        ssize_t k = write(w->fd, p, w->used);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            return -1;
        }
        p += k, w->used -= (size_t)k;
    }
    return 0;
}

/* Room for k more bytes (k <= sizeof b), flushing when needed. */
static unsigned char *wroom(wbuf *w, size_t k) {
    if (w->used + k > sizeof w->b && wflush(w) != 0) return NULL;
    unsigned char *p = w->b + w->used;
    w->used += k;
    return p;
}

int scores_write_fd(int fd, const float *logits, const float *label, int64_t n) {
    HX_ASSERT(n >= 1 && n <= SCORES_MAX_ROWS);
    wbuf w = {.fd = fd};
    unsigned char *p = wroom(&w, SCORES_HEADER);
    memcpy(p, SCORES_MAGIC, 4);
    put_u32(p + 4, SCORES_VERSION);
    put_i64(p + 8, n);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &logits[i], sizeof u);
        if (!(p = wroom(&w, 4))) return -1;
        put_u32(p, u);
    }
    for (int64_t i = 0; i < n; i += 8) {
        unsigned byte = 0;
        for (int b = 0; b < 8 && i + b < n; b++) byte |= (unsigned)(label[i + b] != 0.0f) << b;
        if (!(p = wroom(&w, 1))) return -1;
        *p = (unsigned char)byte;
    }
    return wflush(&w);
}

hx_status scores_save(const char *path, const float *logits, const float *label, int64_t n, char *err,
                      size_t errlen) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return hx_error(HX_ERR_PARAM, err, errlen, "scores file name too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return hx_error(HX_ERR_IO, err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    int bad = scores_write_fd(fd, logits, label, n);
    int e = errno;
    if (close(fd) != 0 && !bad) bad = 1, e = errno;
    if (!bad && rename(tmp, path) != 0) bad = 1, e = errno;
    if (!bad) return HX_OK;
    unlink(tmp);
    return hx_error(HX_ERR_IO, err, errlen, "cannot write %s: %s", path, strerror(e));
}

/* ---- reading ---- */

static int pread_full(int fd, void *buf, size_t n, off_t off) {
    char *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO; /* shrank since fstat */
            return -1;
        }
        p += k, n -= (size_t)k, off += k;
    }
    return 0;
}

/* The header of a file of size bytes against the rows expected (n < 0: any);
 * its row count into *rows. */
static hx_status check_header(const unsigned char *h, uint64_t size, int64_t n, int64_t *rows, char *err,
                              size_t errlen) {
    if (memcmp(h, SCORES_MAGIC, 4) != 0)
        return hx_error(HX_ERR_FORMAT, err, errlen, "not a scores file: bad magic %02x%02x%02x%02x (expected \"%s\")",
                        h[0], h[1], h[2], h[3], SCORES_MAGIC);
    uint32_t v = get_u32(h + 4);
    if (v != SCORES_VERSION)
        return hx_error(HX_ERR_FORMAT, err, errlen, "scores file version %u, this embsweep reads version %u", v,
                        SCORES_VERSION);
    int64_t hn = get_i64(h + 8);
    if (hn < 1 || hn > SCORES_MAX_ROWS)
        return hx_error(HX_ERR_FORMAT, err, errlen, "the scores file's header declares %lld rows", (long long)hn);
    if (n >= 0 && hn != n)
        return hx_error(HX_ERR_FORMAT, err, errlen, "the scores file holds %lld rows, the test split has %lld",
                        (long long)hn, (long long)n);
    uint64_t want = scores_file_bytes(hn);
    if (size != want)
        return hx_error(HX_ERR_FORMAT, err, errlen, "the scores file is %s: %llu bytes, %llu expected for %lld rows",
                        size < want ? "truncated" : "too long", (unsigned long long)size, (unsigned long long)want,
                        (long long)hn);
    *rows = hn;
    return HX_OK;
}

hx_status scores_read_fd(int fd, int64_t n, scores_buf *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct stat st;
    unsigned char h[SCORES_HEADER];
    if (fstat(fd, &st) != 0) return hx_error(HX_ERR_IO, err, errlen, "scores file: %s", strerror(errno));
    if (st.st_size < SCORES_HEADER)
        return hx_error(HX_ERR_FORMAT, err, errlen, "the scores file is truncated: %lld bytes, shorter than its "
                        "%d-byte header", (long long)st.st_size, SCORES_HEADER);
    if (pread_full(fd, h, sizeof h, 0) != 0)
        return hx_error(HX_ERR_IO, err, errlen, "reading the scores file: %s", strerror(errno));
    int64_t rows = 0;
    hx_status rc = check_header(h, (uint64_t)st.st_size, n, &rows, err, errlen);
    if (rc != HX_OK) return rc;
    size_t body = (size_t)(scores_file_bytes(rows) - SCORES_HEADER), lb = (size_t)scores_label_bytes(rows);
    unsigned char *mem = hx_malloc(body);
    if (!mem) return hx_error(HX_ERR_NOMEM, err, errlen, "out of memory for %lld scores", (long long)rows);
    if (pread_full(fd, mem, body, SCORES_HEADER) != 0) {
        rc = hx_error(HX_ERR_IO, err, errlen, "reading the scores file: %s", strerror(errno));
    } else if (rows % 8 && mem[body - 1] >> (rows % 8)) {
        rc = hx_error(HX_ERR_FORMAT, err, errlen, "the scores file has label bits set past its %lld rows",
                      (long long)rows);
    }
    if (rc != HX_OK) {
        hx_free(mem);
        return rc;
    }
    *out = (scores_buf){.n = rows, .logits = mem, .labels = mem + body - lb, .mem = mem};
    return HX_OK;
}

void scores_buf_free(scores_buf *b) {
    hx_free(b->mem);
    memset(b, 0, sizeof *b);
}

void scores_decode_logits(const unsigned char *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = get_u32(src + 4 * i);
        memcpy(&dst[i], &u, sizeof u);
    }
}

void scores_unpack_labels(const unsigned char *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = (float)(src[i / 8] >> (i % 8) & 1);
}
