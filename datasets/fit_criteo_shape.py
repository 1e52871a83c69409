#!/usr/bin/python3
"""fit_criteo_shape.py: recompute the fitted constants of the criteo_synth kind
(datasets/criteo_synth.c) from a Criteo Kaggle file in train.txt format.
Prints the two tables as C initialisers plus a summary; embeds no row of the
input and writes nothing.

  datasets/fit_criteo_shape.py FILE[.gz]

Prints, and embeds no row of the input:
  - per categorical field C1..C26, the Zipf exponent s of a Zipf law over the
    field's full Criteo Kaggle cardinality N (CARD): the values are ranked by
    count (an empty value is a value of its own, as in the loader); the top K
    ranks (count >= MIN_COUNT, at most MAX_RANKS) are taken as the law's ranks
    1..K, every other row as "somewhere below rank K", and s maximises that
    censored multinomial likelihood (golden section on [0, 8]);
  - per dense feature I1..I13: the missing share (empty), the share of present
    values <= 0 (log1p(max(I, 0)) = 0 in the loader), and the mean and
    standard deviation of log(I) over the values > 0;
  - the label mean.
"""
import gzip
import math
import sys

MIN_COUNT = 3
MAX_RANKS = 1000


def open_any(path):
    with open(path, 'rb') as f:
        magic = f.read(2)
    return gzip.open(path, 'rt') if magic == b'\x1f\x8b' else open(path, 'rt')


CARD = [1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
        27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572]


def zeta_n(n, s):
    """sum_{i=1}^{n} i^-s: exact to 1000, Euler-Maclaurin beyond."""
    m = min(n, 1000)
    h = sum(i ** -s for i in range(1, m + 1))
    if n > m:
        integral = math.log(n / m) if abs(s - 1) < 1e-12 else (n ** (1 - s) - m ** (1 - s)) / (1 - s)
        h += integral + (n ** -s - m ** -s) / 2 + s / 12 * (m ** (-s - 1) - n ** (-s - 1))
    return h


def zipf_mle(counts, n_ids):
    """Censored Zipf MLE: ids of rank r <= K (the values seen at least MIN_COUNT
    times, at most MAX_RANKS) have p_r = r^-s / H(n_ids, s); every other row
    falls in the rest, probability 1 - sum_{r<=K} p_r. Golden section on s."""
    c = sorted(counts, reverse=True)
    top = [x for x in c if x >= MIN_COUNT][:MAX_RANKS] or c[:1]
    rest = sum(c) - sum(top)
    k = len(top)

    def nll(s):
        h = zeta_n(n_ids, s)
        head = sum(i ** -s for i in range(1, k + 1)) / h
        ll = sum(x * (-s * math.log(r + 1) - math.log(h)) for r, x in enumerate(top))
        if rest:
            ll += rest * math.log(max(1 - head, 1e-300))
        return -ll

    lo, hi = 0.0, 8.0
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    while hi - lo > 1e-6:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return (lo + hi) / 2, k


def mean_sd(v):
    if not v:
        return 0.0, 0.0
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / len(v))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    cats = [dict() for _ in range(26)]
    dense = [[0, 0, 0, []] for _ in range(13)]  # rows, missing, <=0, log(I>0)
    n = pos = 0
    with open_any(sys.argv[1]) as f:
        for line in f:
            col = line.rstrip('\r\n').split('\t')
            if len(col) != 40:
                continue
            n += 1
            pos += col[0] == '1'
            for j in range(13):
                d = dense[j]
                d[0] += 1
                if col[1 + j] == '':
                    d[1] += 1
                elif int(col[1 + j]) <= 0:
                    d[2] += 1
                else:
                    d[3].append(math.log(int(col[1 + j])))
            for j in range(26):
                v = col[14 + j]
                cats[j][v] = cats[j].get(v, 0) + 1
    print('/* rows %d, label mean %.4f */' % (n, pos / n))
    print('/* field: distinct in the file, top value share, ranks fitted, top share implied at N */')
    print('static const double k_zipf[26] = {')
    for j, c in enumerate(cats):
        s, k = zipf_mle(list(c.values()), CARD[j])
        p0 = 1 / zeta_n(CARD[j], s)
        print('    %.4f, /* C%d: %d, %.4f, %d, %.4f */' % (s, j + 1, len(c), max(c.values()) / n, k, p0))
    print('};')
    print('/* feature: {missing, zero share of present, mu, sigma of log(I > 0)}; log1p mean, sd of present */')
    print('static const syn_dense k_dense[13] = {')
    for j, (rows, miss, zero, logs) in enumerate(dense):
        present = rows - miss
        mu, sd = mean_sd(logs)
        l1p = [math.log1p(math.exp(x)) for x in logs] + [0.0] * zero
        lm, ls = mean_sd(l1p)
        print('    {%.4f, %.4f, %.4f, %.4f}, /* I%d: %.4f, %.4f */'
              % (miss / rows, zero / present if present else 0, mu, sd, j + 1, lm, ls))
    print('};')


if __name__ == '__main__':
    main()
