/* vhpi.h: the "virtually-hashed, physically-indexed" table of FIITED (methods/fiited.c).
 *
 * FIITED (Luo et al., arXiv 2401.04408) names a VHPI hash table as its storage but
 * publishes no code; this structure is our interpretation [R]:
 * an open-addressing hash table keyed by the virtual address of an embedding (a
 * 64-bit key; fiited uses the global id off_f + i, a bijection of (field, id)),
 * whose entry holds C physical slot indices into a chunk pool, VHPI_NONE for a
 * chunk that is not stored.
 *
 *   keys  (cap)      key or VHPI_EMPTY
 *   slots (cap, C)   physical chunk slots
 *
 * Linear probing; deletion by backward shift (no tombstones); the capacity is any
 * integer >= 1 (not a power of two) so its bytes can follow the live count exactly.
 * Entry bytes: 8 + 4*C.
 */
#ifndef EMBSWEEP_VHPI_H
#define EMBSWEEP_VHPI_H

#include <stdint.h>

#include "harness/core/util.h"

#define VHPI_EMPTY UINT64_MAX
#define VHPI_NONE UINT32_MAX

typedef struct vhpi_table {
    uint64_t *keys;   /* (cap) */
    uint32_t *slots;  /* (cap, C) */
    int64_t   cap;    /* positions */
    int64_t   count;  /* live entries, < cap */
    int32_t   C;      /* slots per entry */
} vhpi_table;

/* Capacity for L live entries at load factor <= 3/4 (and at least 8). */
int64_t   vhpi_cap_for(int64_t L);
/* Bytes of a table with this capacity and C slots per entry. */
uint64_t  vhpi_bytes_for(int64_t cap, int32_t C);
static inline uint64_t vhpi_bytes(const vhpi_table *t) { return vhpi_bytes_for(t->cap, t->C); }

hx_status vhpi_init(vhpi_table *t, int64_t cap, int32_t C, char *err, size_t errlen);
void      vhpi_free(vhpi_table *t);                       /* safe on a zeroed table */
/* Position of key, or -1. */
int64_t   vhpi_find(const vhpi_table *t, uint64_t key);
/* Where the probe for key starts; vhpi_find_from(t, key, vhpi_home(t, key)) is
 * vhpi_find(t, key). A walk that knows its keys ahead takes the home early,
 * starts fetching its position (vhpi_prefetch) and finds from it later. */
int64_t   vhpi_home(const vhpi_table *t, uint64_t key);
int64_t   vhpi_find_from(const vhpi_table *t, uint64_t key, int64_t home);
static inline void vhpi_prefetch(const vhpi_table *t, int64_t home) {
    __builtin_prefetch(t->keys + home, 0, 3);
    __builtin_prefetch(t->slots + (size_t)home * (size_t)t->C, 0, 3);
}
/* Position of key, inserting it (all slots VHPI_NONE) if absent. The caller keeps
 * count < cap (vhpi_resize first). */
int64_t   vhpi_insert(vhpi_table *t, uint64_t key);
/* Remove key; returns 1 if it was present. */
int       vhpi_erase(vhpi_table *t, uint64_t key);
/* Rehash into a table of capacity cap (> count). On failure t is unchanged. */
hx_status vhpi_resize(vhpi_table *t, int64_t cap, char *err, size_t errlen);

static inline uint32_t *vhpi_slots(const vhpi_table *t, int64_t pos) { return t->slots + (size_t)pos * (size_t)t->C; }

#endif
