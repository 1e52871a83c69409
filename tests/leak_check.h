/* leak_check.h: expect_no_leaks() for the tests that check their error paths free
 * everything. Not a test file itself. */
#ifndef EMBSWEEP_TEST_LEAK_CHECK_H
#define EMBSWEEP_TEST_LEAK_CHECK_H

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* Under ASan a leak only shows when the test's process exits, after its
 * verdict: ask LeakSanitizer now. */
static inline void expect_no_leaks(const char *what) {
    cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "%s: memory leaked (the report is above)", what);
}
#else
static inline void expect_no_leaks(const char *what) { (void)what; }
#endif

#endif
