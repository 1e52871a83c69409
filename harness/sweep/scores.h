/* scores.h: the test scores of one run as bytes: what a worker hands the sweep
 * parent (fd 4, worker.h), what `embsweep train --scores FILE` writes, and what
 * the run_scores table holds (results/README.md).
 *
 * A scores file, every number little-endian:
 *
 *   offset  size            field
 *   0       4               magic "EMBS"
 *   4       4               uint32 version (1)
 *   8       8               int64 n, the test rows (>= 1)
 *   16      4 n             float32 logits, in test-row order (the evaluation
 *                           selected on validation AUC; logits, not
 *                           probabilities, so that no ties are made)
 *   16+4n   ceil(n / 8)     labels, bit-packed: bit (i % 8) of byte i / 8 is the
 *                           label of row i; the bits past n are 0
 *
 * The database keeps the two arrays as they are in the file (format 'f32le'):
 * 4 + 1/8 bytes per test row.
 */
#ifndef EMBSWEEP_SCORES_H
#define EMBSWEEP_SCORES_H

#include <stdint.h>

#include "harness/core/util.h"

#define SCORES_MAGIC "EMBS"
#define SCORES_VERSION 1u
#define SCORES_HEADER 16
#define SCORES_FORMAT "f32le" /* run_scores.format */

/* Bytes of the packed labels of n rows, and of a whole scores file. */
uint64_t scores_label_bytes(int64_t n);
uint64_t scores_file_bytes(int64_t n);

/* scores_write_fd: a scores file (header, logits, packed labels) to fd at its
 * current offset, through a fixed buffer on the stack (no allocation). label:
 * (n) 0/1 values. 0, or -1 with errno set (each write asks hx_io_fails()). */
int scores_write_fd(int fd, const float *logits, const float *label, int64_t n);

/* scores_save: the same into the file path, written to path.tmp and renamed,
 * so a failure leaves no partial file. */
hx_status scores_save(const char *path, const float *logits, const float *label, int64_t n, char *err,
                      size_t errlen);

/* The arrays of a scores file, as the database stores them. */
typedef struct scores_buf {
    int64_t              n;
    const unsigned char *logits; /* 4 n bytes, float32 little-endian */
    const unsigned char *labels; /* scores_label_bytes(n) bytes */
    void                *mem;    /* owned; scores_buf_free */
} scores_buf;

/* scores_read_fd: read and check the scores file open at fd (pread from offset
 * 0; the offset is left alone). n >= 1: the rows it must hold; n < 0: any.
 * HX_ERR_FORMAT with a message that says what is wrong (short header, bad magic
 * or version, another row count, a size that disagrees with the header, label
 * bits set past n); HX_ERR_NOMEM; HX_ERR_IO when the file cannot be read. On
 * failure *out is empty. */
hx_status scores_read_fd(int fd, int64_t n, scores_buf *out, char *err, size_t errlen);
void      scores_buf_free(scores_buf *b);

/* The arrays as floats: logits (4 n bytes, f32le) -> dst (n); labels (packed)
 * -> dst (n) of 0.0f / 1.0f. */
void scores_decode_logits(const unsigned char *src, float *dst, int64_t n);
void scores_unpack_labels(const unsigned char *src, float *dst, int64_t n);

#endif
