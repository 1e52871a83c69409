/* interact_kernels.h: the dot interaction's two kernels, written once and
 * included by interact.c once per instruction set. Not a header of its own: no
 * guard, no declarations; before each inclusion interact.c defines
 *   IX_SFX   the variant's name suffix (avx512f, avx2, base)
 *   IX_ATTR  its target attribute (or nothing)
 *   IX_VL    the lanes of its vector: 16, 8 or 4 floats, one register wide,
 *   IX_QB    the forward's blocks of IX_VL lanes a step (its sums in registers),
 * and it provides the shared helpers (stack_vec, stack_grad, row_dst, tri,
 * pair_at, BW_GROUP, the v4f type). The vector is the register's own width:
 * GCC lowers a wider vector type piece by piece through the stack, which made
 * the AVX2 build of a 16-lane body several times slower than this one. Sums
 * that share a load or a coefficient are kept apart in registers (the forward's
 * IX_QB blocks, the backward's 16 columns of four rows), so that several adds
 * are in flight at once. Each lane sums in the definition's order at any
 * width, so every variant gives the same bits. */

#define IX_CAT2(a, b) a##_##b
#define IX_CAT(a, b)  IX_CAT2(a, b)
#define IX_(name)     IX_CAT(name, IX_SFX)

typedef float IX_(vec) __attribute__((vector_size(IX_VL * sizeof(float))));

static inline __attribute__((always_inline)) IX_(vec) IX_(vload)(const float *p) {
    IX_(vec) v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline __attribute__((always_inline)) void IX_(vstore)(float *p, IX_(vec) v) { memcpy(p, &v, sizeof v); }

/* Rows i and i + 1 of Z at q blocks of IX_VL j from jb (q <= 4, a constant
 * where inlined): 2q independent sums in registers sharing each load of Tt. */
static inline __attribute__((always_inline)) void IX_(dot_rows2_q)(float *za, float *zb, const float *va,
                                                                   const float *vb, const float *Tt, int np, int D,
                                                                   int jb, const int q) {
    IX_(vec) a[4] = {{0}}, b[4] = {{0}};
    for (int k = 0; k < D; k++) {
        const float *t = Tt + (size_t)k * np + jb;
#pragma GCC unroll 4
        for (int c = 0; c < q; c++) {
            const IX_(vec) tc = IX_(vload)(t + c * IX_VL);
            a[c] += va[k] * tc, b[c] += vb[k] * tc;
        }
    }
#pragma GCC unroll 4
    for (int c = q - 1; c >= 0; c--) IX_(vstore)(za + jb + c * IX_VL, a[c]);
#pragma GCC unroll 4
    for (int c = q - 1; c >= 0; c--) IX_(vstore)(zb + jb + c * IX_VL, b[c]);
}

/* Rows i and i + 1 of Z, nb blocks of IX_VL j each: za[0..IX_VL nb) = <T_i, T_j>
 * and zb likewise for T_{i+1}, with Tt (D, np) the stack transposed, IX_QB
 * blocks at a time (the remainder first). Where za and zb overlap (zb = za + i),
 * za's excess lanes must not land on zb's results: the blocks go from the last
 * down, and within a step row i's before row i + 1's. */
static inline __attribute__((always_inline)) void IX_(dot_rows2)(float *za, float *zb, const float *va,
                                                                 const float *vb, const float *Tt, int np, int D,
                                                                 int nb) {
    int blk = nb - nb % IX_QB;
    switch (nb % IX_QB) {
    case 1: IX_(dot_rows2_q)(za, zb, va, vb, Tt, np, D, blk * IX_VL, 1); break;
    case 2: IX_(dot_rows2_q)(za, zb, va, vb, Tt, np, D, blk * IX_VL, 2); break;
    case 3: IX_(dot_rows2_q)(za, zb, va, vb, Tt, np, D, blk * IX_VL, 3); break;
    default: break;
    }
    for (; blk > 0; blk -= IX_QB) IX_(dot_rows2_q)(za, zb, va, vb, Tt, np, D, (blk - IX_QB) * IX_VL, IX_QB);
}

/* Tt (D, np) <- sample b's stack T (n, D) transposed. */
static inline __attribute__((always_inline)) void IX_(transpose)(float *Tt, const float *x, const float *emb, int b,
                                                                 int F, int D, int Dx, int n, int np) {
    for (int j = 0; j < n; j++) {
        const float *v = stack_vec(x, emb, b, j, F, D, Dx);
        for (int k = 0; k < D; k++) Tt[(size_t)k * np + j] = v[k];
    }
}

/* Z[i][j] for j < i, IX_VL j to a vector: with Tt (D, np) the stack
 * transposed, lane l of a block is sum_k T[i][k] Tt[k][jb + l] = <T_i, T_{jb+l}>,
 * summed over k in order. Rows go in pairs (i, i + 1) with the blocks row i + 1
 * needs; a row's excess lanes land where later rows of the sample write, which
 * they overwrite in order, unless they would pass the sample's last pair. */
IX_ATTR static void IX_(dot_forward)(float *out, const float *x, const float *emb, int B, int F, int D, int Dx,
                                     float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), np = pad16(n), W = interact_dot_width(F, D, Dx);
    /* Tt[2] (D, np) each, lanes j >= n stay 0; z and z2 (np each), the two
     * rows' detours. Sample b + 1 is transposed into one Tt while sample b is
     * read from the other, so the vector loads of a sample's Tt come a whole
     * sample after the scalar stores that wrote it, not right behind them (the
     * forward ran twice as fast so on Zen 3). */
    float *Tt[2] = {scratch, scratch + (size_t)D * np}, *z = scratch + 2 * (size_t)D * np, *z2 = z + np;
    memset(scratch, 0, 2 * (size_t)D * (size_t)np * sizeof(float));
    if (B > 0) IX_(transpose)(Tt[0], x, emb, 0, F, D, Dx, n, np);
    for (int b = 0; b < B; b++) {
        float *const ob = out + (size_t)b * W;
        const float *T = Tt[b & 1];
        if (Dx) memcpy(ob, x + (size_t)b * Dx, (size_t)Dx * sizeof(float));
        if (b + 1 < B) IX_(transpose)(Tt[(b + 1) & 1], x, emb, b + 1, F, D, Dx, n, np);
        for (int i = 1; i < n; i += 2) {
            const int       i2 = i + 1 < n ? i + 1 : i, nb = (i2 + IX_VL - 1) / IX_VL;
            const ptrdiff_t off = Dx + (ptrdiff_t)i * (i - 1) / 2, off2 = off + i;
            float          *za = row_dst(ob + off, off, IX_VL * nb, W, z);
            float          *zb = i2 > i ? row_dst(ob + off2, off2, IX_VL * nb, W, z2) : z2;
            IX_(dot_rows2)(za, zb, stack_vec(x, emb, b, i, F, D, Dx), stack_vec(x, emb, b, i2, F, D, Dx), T, np,
                           D, nb);
            if (za == z) memcpy(ob + off, z, (size_t)i * sizeof(float));
            if (i2 > i && zb == z2) memcpy(ob + off2, z2, (size_t)i2 * sizeof(float));
        }
    }
}

/* Rows i0..i0+3 of dT = S T (BW_GROUP): 16 columns a pass, then IX_VL, then
 * four, then the rest one by one. */
static inline __attribute__((always_inline)) void IX_(bw_rows)(float *const *d, const float *in0, const float *gl,
                                                               const float *T, int n, int i0, int D) {
    const int rv = n - i0 < 4 ? n - i0 : 4;
    int       kb = 0;
    for (; kb + 16 <= D; kb += 16) BW_GROUP(IX_(vec), 16 / IX_VL, IX_(vload), IX_(vstore))
    for (; kb + IX_VL <= D; kb += IX_VL) BW_GROUP(IX_(vec), 1, IX_(vload), IX_(vstore))
    for (; kb + 4 <= D; kb += 4) BW_GROUP(v4f, 1, v4_load, v4_store)
    for (int g = 0; g < rv; g++) /* D % 4 columns */
        for (int k = kb; k < D; k++) {
            const int i = i0 + g;
            float     acc = g == 0 && in0 ? in0[k] : 0.0f;
            for (int j = 0; j < n; j++)
                if (j != i) acc += pair_at(gl, i, j) * T[(size_t)j * D + k];
            if (d[g]) d[g][k] = acc;
        }
}

/* dT = S T with S (n, n) symmetric, S[i][j] = S[j][i] = dout of pair (i, j):
 * row i of dT sums S[i][j] T_j over j != i in ascending j, in groups of four
 * rows (bw_rows). dx starts from the pass-through gradient of x. */
IX_ATTR static void IX_(dot_backward)(float *dx, float *demb, const float *dout, const float *x, const float *emb,
                                      int B, int F, int D, int Dx, float *scratch) {
    HX_ASSERT(Dx == 0 || Dx == D);
    const int n = F + (Dx ? 1 : 0), W = interact_dot_width(F, D, Dx);
    float    *T = scratch; /* T (n, D): the sample's stack */
    for (int b = 0; b < B; b++) {
        const float *gp = dout + (size_t)b * W, *gl = gp + Dx; /* pass-through part (Dx), pairs */
        if (Dx) memcpy(T, x + (size_t)b * Dx, (size_t)D * sizeof(float));
        memcpy(T + (size_t)(n - F) * D, emb + (size_t)b * F * D, (size_t)F * D * sizeof(float));
        float *dxb = dx ? dx + (size_t)b * Dx : NULL, *d[4];
        for (int i0 = 0; i0 < n; i0 += 4) {
            for (int q = 0; q < 4; q++) d[q] = i0 + q < n ? stack_grad(dxb, demb, b, i0 + q, F, D, Dx) : NULL;
            IX_(bw_rows)(d, Dx && i0 == 0 ? gp : NULL, gl, T, n, i0, D);
        }
    }
}

#undef IX_
#undef IX_CAT
#undef IX_CAT2
