/* bitpack.h: arrays of b-bit unsigned values (1 <= b <= 32) packed end to end in
 * uint64 words: value q occupies bits [q b, q b + b), low bits first, and may
 * straddle two words. CQR's stored pointers (methods/cqr.c). The accessors are
 * inline: they sit in the lookup loops. */
#ifndef EMBSWEEP_BITPACK_H
#define EMBSWEEP_BITPACK_H

#include <stdint.h>

/* Words holding n values of b bits. */
static inline uint64_t bitpack_words(uint64_t n, int bits) { return (n * (uint64_t)bits + 63) / 64; }

static inline uint32_t bitpack_get(const uint64_t *w, int bits, uint64_t q) {
    uint64_t pos = q * (uint64_t)bits, i = pos >> 6, off = pos & 63;
    uint64_t v = w[i] >> off;
    if (off + (uint64_t)bits > 64) v |= w[i + 1] << (64 - off);
    return (uint32_t)(v & ((1ull << bits) - 1));
}

static inline void bitpack_set(uint64_t *w, int bits, uint64_t q, uint32_t v) {
    uint64_t pos = q * (uint64_t)bits, i = pos >> 6, off = pos & 63, mask = (1ull << bits) - 1;
    w[i] = (w[i] & ~(mask << off)) | ((uint64_t)v << off);
    if (off + (uint64_t)bits > 64) {
        uint64_t hi = 64 - off;
        w[i + 1] = (w[i + 1] & ~(mask >> hi)) | ((uint64_t)v >> hi);
    }
}

#endif
