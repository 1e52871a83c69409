/* test_scores.c: the test scores a run keeps (harness/sweep/scores.h, the
 * run_scores table, db_scores_read).
 *   file        a scores file round-trips (logits bit for bit, labels packed
 *               LSB first); each malformed file (short, bad magic, version, row
 *               count, size, stray label bits) is refused with a message that
 *               says what is wrong; a failed save leaves no file
 */
#define _GNU_SOURCE /* memfd_create */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness/core/metrics.h"
#include "harness/sweep/db.h"
#include "harness/sweep/scores.h"

/* ---- the file ---- */

/* A scores file of n rows in a fresh memfd: logit i = i - 0.5, label i = (i % 3
 * == 0). */
static int scores_memfd(int64_t n, float *logits, float *labels) {
    for (int64_t i = 0; i < n; i++) logits[i] = (float)i - 0.5f, labels[i] = i % 3 == 0;
    int fd = memfd_create("test-scores", MFD_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(scores_write_fd(fd, logits, labels, n), 0);
    return fd;
}

Test(scores, file_round_trips) {
    float lg[13], lb[13], lg2[13], lb2[13];
    int fd = scores_memfd(13, lg, lb);
    cr_expect_eq(lseek(fd, 0, SEEK_END), (off_t)scores_file_bytes(13));
    cr_expect_eq(scores_file_bytes(13), 16 + 52 + 2);
    unsigned char h[16];
    cr_assert_eq(pread(fd, h, 16, 0), 16);
    cr_expect(!memcmp(h, "EMBS\1\0\0\0\15\0\0\0\0\0\0\0", 16), "magic, version 1, n = 13, little-endian");
    scores_buf b;
    char err[256] = "";
    cr_assert_eq(scores_read_fd(fd, 13, &b, err, sizeof err), HX_OK, "%s", err);
    cr_expect_eq(b.n, 13);
    /* labels 1,0,0,1,0,0,1,0 | 0,1,0,0,1 -> 0x49, 0x12 */
    cr_expect_eq(b.labels[0], 0x49);
    cr_expect_eq(b.labels[1], 0x12);
    cr_expect(!memcmp(b.logits + 4, "\0\0\0\077", 4), "logit 1 = 0.5f = 0x3f000000, little-endian");
    scores_decode_logits(b.logits, lg2, 13);
    scores_unpack_labels(b.labels, lb2, 13);
    cr_expect(!memcmp(lg, lg2, sizeof lg) && !memcmp(lb, lb2, sizeof lb));
    scores_buf_free(&b);
    cr_expect_eq(scores_read_fd(fd, -1, &b, err, sizeof err), HX_OK, "any row count");
    scores_buf_free(&b);
    close(fd);
}

/* Overwrite bytes of a good 13-row file (or set its size), read it as 13 rows. */
static hx_status read_damaged(off_t at, const void *bytes, size_t k, off_t size, char *err, size_t errlen) {
    float lg[13], lb[13];
    int fd = scores_memfd(13, lg, lb);
    if (k) cr_assert_eq(pwrite(fd, bytes, k, at), (ssize_t)k);
    if (size >= 0) cr_assert_eq(ftruncate(fd, size), 0);
    scores_buf b;
    hx_status rc = scores_read_fd(fd, 13, &b, err, errlen);
    cr_expect(rc != HX_OK || b.mem);
    if (rc != HX_OK) cr_expect(b.mem == NULL && b.n == 0, "nothing returned on failure");
    scores_buf_free(&b);
    close(fd);
    return rc;
}

Test(scores, malformed_files_are_refused_with_a_reason) {
    static const struct {
        off_t       at;
        const char *bytes;
        size_t      k;
        off_t       size;
        const char *want;
    } cases[] = {
        {0, "XMBS", 4, -1, "bad magic"},
        {4, "\2", 1, -1, "version 2"},
        {8, "\14", 1, -1, "holds 12 rows, the test split has 13"},
        {8, "\0", 1, -1, "declares 0 rows"},
        {15, "\200", 1, -1, "declares -"},
        {0, "", 0, 10, "truncated: 10 bytes, shorter than its 16-byte header"},
        {0, "", 0, 69, "truncated: 69 bytes, 70 expected for 13 rows"},
        {0, "", 0, 71, "too long: 71 bytes, 70 expected"},
        {69, "\377", 1, -1, "label bits set past its 13 rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        hx_status rc = read_damaged(cases[i].at, cases[i].bytes, cases[i].k, cases[i].size, err, sizeof err);
        cr_expect_eq(rc, HX_ERR_FORMAT, "case %zu: %s", i, err);
        cr_expect(strstr(err, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

Test(scores, save_writes_whole_files_only) {
    char dir[64], p[128], err[256];
    fx_tmpdir(dir);
    snprintf(p, sizeof p, "%s/s.bin", dir);
    float lg[3] = {1, -2, 3}, lb[3] = {1, 0, 1};
    hx_fault_io(1);
    cr_expect_eq(scores_save(p, lg, lb, 3, err, sizeof err), HX_ERR_IO);
    hx_fault_io(0);
    cr_expect(strstr(err, "cannot write") != NULL, "%s", err);
    cr_expect_neq(access(p, F_OK), 0, "no file after a failed write");
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    cr_expect_neq(access(tmp, F_OK), 0, "no temporary left");
    cr_assert_eq(scores_save(p, lg, lb, 3, err, sizeof err), HX_OK, "%s", err);
    size_t n;
    char *b = fx_read(p, &n);
    cr_expect_eq(n, scores_file_bytes(3));
    cr_expect_eq((unsigned char)b[n - 1], 0x5);
    free(b);
    fx_rmdir(dir);
}
