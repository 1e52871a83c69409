/* libfuzzer.c: libFuzzer's entry point for one target, chosen at build time
 * with -DFUZZ_TARGET=fuzz_<name> (tests/fuzz/fuzz.mk builds it once per target). */
#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=fuzz_<name>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return FUZZ_TARGET(data, size); }
