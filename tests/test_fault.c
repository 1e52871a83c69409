/* test_fault.c: allocation failure at every site, as SQLite's fault loops do.
 * For n = 1, 2, ... the nth checked allocation (hx_malloc, hx_calloc,
 * hx_realloc) fails; the operation must end with a clean error (a status and a
 * message, no crash), leave nothing half-written, and free what it took (the
 * sanitizer build's leak check fails the test otherwise). The loop ends at the
 * first n that the whole operation no longer reaches; the count of sites tried
 * is printed. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <string.h>

#include "datasets/dataset.h"
#include "fixtures.h"
#include "harness/core/util.h"
#include "harness/sweep/config.h"

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int k = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        k += e->d_name[0] != '.' && !(len > 5 && !strcmp(e->d_name + len - 5, ".lock")); /* builders' lock */
    }
    closedir(d);
    return k;
}

/* Dataset build from text into the cache: every failure leaves no cache and no
 * temporary file behind (the builders' lock file stays, as after a success).
 * io = 0 fails allocations, 1 writes. Returns the number of sites failed. */
static long build_loop(int io) {
    char dir[64], path[128], cache[160], err[1024];
    fx_tmpdir(dir);
    static char text[8192];
    size_t used = 0;
    for (int r = 0; r < 40; r++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "%d", r % 2);
        for (int j = 0; j < 13; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%d", r * j);
        for (int j = 0; j < 26; j++) used += (size_t)snprintf(text + used, sizeof text - used, "\t%x", (r + j) % 5);
        text[used++] = '\n';
    }
    text[used] = 0;
    fx_write(dir, "c.tsv", text, path);
    long n = 1;
    for (;; n++) {
        snprintf(cache, sizeof cache, "%s/cache%ld", dir, n);
        ds_data *d = NULL;
        io ? hx_fault_io(n) : hx_fault_alloc(n);
        hx_status rc = fx_try("criteo", path, cache, err, sizeof err, &d);
        long seen = io ? hx_fault_io_seen() : hx_fault_alloc_seen();
        hx_fault_io(0), hx_fault_alloc(0);
        if (seen < n) { /* the failure was never reached: the build is whole */
            cr_assert_eq(rc, HX_OK, "%s", err);
            cr_assert_eq(d->n_rows, 40);
            ds_free(d);
            break;
        }
        cr_expect_eq(rc, io ? HX_ERR_IO : HX_ERR_NOMEM, "site %ld failed, yet: %s", n, rc == HX_OK ? "ok" : err);
        cr_expect_null(d, "site %ld", n);
        cr_expect(err[0], "site %ld: the failure says why", n);
        cr_expect_eq(count_entries(cache), 0, "site %ld: nothing left in the cache folder", n);
        ds_free(d);
    }
    fx_rmdir(dir);
    return n - 1;
}

Test(fault, dataset_build_fails_cleanly_at_every_allocation) {
    long n = build_loop(0);
    cr_log_info("dataset build: %ld allocation sites failed in turn", n);
    cr_expect_gt(n, 10, "the loop reached the allocations");
}

Test(fault, dataset_build_fails_cleanly_at_every_write) {
    long n = build_loop(1);
    cr_log_info("dataset build: %ld write sites failed in turn", n);
    cr_expect_gt(n, 10, "the loop reached the writes");
}
