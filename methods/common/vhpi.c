/* vhpi.c: see vhpi.h. */
#include "vhpi.h"

#include <string.h>

int64_t vhpi_cap_for(int64_t L) {
    int64_t c = L + (L + 2) / 3 + 1;
    return c < 8 ? 8 : c;
}

uint64_t vhpi_bytes_for(int64_t cap, int32_t C) { return (uint64_t)cap * (8ull + 4ull * (uint64_t)C); }

static inline int64_t home(const vhpi_table *t, uint64_t key) { return (int64_t)(hx_splitmix64(key) % (uint64_t)t->cap); }

hx_status vhpi_init(vhpi_table *t, int64_t cap, int32_t C, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    HX_ASSERT(cap >= 1 && C >= 1);
    t->keys = hx_big_calloc((size_t)cap, sizeof(uint64_t)); /* huge pages when large (util.h) */
    t->slots = hx_big_calloc((size_t)cap * (size_t)C, sizeof(uint32_t));
    if (!t->keys || !t->slots) {
        vhpi_free(t);
        return hx_error(HX_ERR_NOMEM, err, errlen, "vhpi: out of memory for %lld entries", (long long)cap);
    }
    memset(t->keys, 0xff, (size_t)cap * sizeof(uint64_t));
    memset(t->slots, 0xff, (size_t)cap * (size_t)C * sizeof(uint32_t));
    t->cap = cap;
    t->C = C;
    return HX_OK;
}

void vhpi_free(vhpi_table *t) {
    hx_big_free(t->keys);
    hx_big_free(t->slots);
    memset(t, 0, sizeof *t);
}

int64_t vhpi_home(const vhpi_table *t, uint64_t key) { return home(t, key); }

int64_t vhpi_find(const vhpi_table *t, uint64_t key) { return vhpi_find_from(t, key, home(t, key)); }

int64_t vhpi_find_from(const vhpi_table *t, uint64_t key, int64_t h) {
    HX_ASSERT(key != VHPI_EMPTY && h >= 0 && h < t->cap);
    for (int64_t p = h;; p = p + 1 == t->cap ? 0 : p + 1) {
        if (t->keys[p] == key) return p;
        if (t->keys[p] == VHPI_EMPTY) return -1;
    }
}

int64_t vhpi_insert(vhpi_table *t, uint64_t key) {
    HX_ASSERT(key != VHPI_EMPTY);
    for (int64_t p = home(t, key);; p = p + 1 == t->cap ? 0 : p + 1) {
        if (t->keys[p] == key) return p;
        if (t->keys[p] == VHPI_EMPTY) {
            HX_ASSERT(t->count + 1 < t->cap); /* one empty position must remain */
            t->keys[p] = key;
            t->count++;
            return p;
        }
    }
}

int vhpi_erase(vhpi_table *t, uint64_t key) {
    int64_t i = vhpi_find(t, key);
    if (i < 0) return 0;
    const size_t sb = (size_t)t->C * sizeof(uint32_t);
    /* backward shift: pull later entries of the probe run into the hole when their
     * home position does not lie cyclically in (i, j] */
    for (int64_t j = i;;) {
        j = j + 1 == t->cap ? 0 : j + 1;
        if (t->keys[j] == VHPI_EMPTY) break;
        int64_t k = home(t, t->keys[j]);
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        t->keys[i] = t->keys[j];
        memcpy(vhpi_slots(t, i), vhpi_slots(t, j), sb);
        i = j;
    }
    t->keys[i] = VHPI_EMPTY;
    memset(vhpi_slots(t, i), 0xff, sb);
    t->count--;
    return 1;
}

hx_status vhpi_resize(vhpi_table *t, int64_t cap, char *err, size_t errlen) {
    HX_ASSERT(cap > t->count);
    vhpi_table n;
    hx_status rc = vhpi_init(&n, cap, t->C, err, errlen);
    if (rc != HX_OK) return rc;
    for (int64_t p = 0; p < t->cap; p++) {
        if (t->keys[p] == VHPI_EMPTY) continue;
        int64_t q = vhpi_insert(&n, t->keys[p]);
        memcpy(vhpi_slots(&n, q), vhpi_slots(t, p), (size_t)t->C * sizeof(uint32_t));
    }
    vhpi_free(t);
    *t = n;
    return HX_OK;
}
