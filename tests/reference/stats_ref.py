#!/usr/bin/python3
"""stats_ref.py: an independent numpy/scipy implementation of harness/core/stats.c,
used by tests/test_stats.c. Run with Debian's /usr/bin/python3 (python3-scipy).

    /usr/bin/python3 tests/reference/stats_ref.py IN OUT

The t and normal distributions are scipy.stats.t and scipy.stats.norm; the
paired tests are scipy.stats.ttest_rel; intervals are scipy.stats.t.interval.
DeLong's test is computed from its definition (DeLong, DeLong and
Clarke-Pearson, Biometrics 1988) with the m x n Mann-Whitney kernel
psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise, not by midranks as the C
code does, so that the two implementations share no algorithm.

IN (written by the C test): text, one case per line, fields separated by
blanks, numbers as printed by %.17g (doubles) or %.9g (float32 scores):
    norm_cdf NAME z
    norm_q   NAME p
    t_cdf    NAME t df
    t_q      NAME p df q       q: the C quantile, sent back through scipy's cdf
    mean_ci  NAME alpha n x[n]
    paired   NAME alpha n a[n] b[n]
    tost     NAME margin n a[n] b[n]
    mdd      NAME sd n alpha power
    seeds    NAME sd delta alpha power max_n
    delong   NAME n score_a[n] score_b[n] label[n]
    combine  NAME k NAME_1 .. NAME_k    (earlier delong cases)
OUT (written by this script): one value per line, "NAME KEY VALUE", VALUE by
repr (so "nan" where undefined). Keys per kind:
    norm_cdf: cdf    norm_q: q    t_cdf: cdf
    t_q: q, tail (scipy's P(T < q) for p < 1/2, P(T > q) above, at the C quantile)
    mean_ci: mean sd ci_lo ci_hi
    paired: mean sd ci_lo ci_hi t df p
    tost: p_lower p_upper p
    mdd: mdd    seeds: n
    delong, combine: auc_a auc_b var_a var_b cov var_diff z p
"""
import sys

import numpy as np
from scipy import stats


def mean_ci(x, alpha):
    n = len(x)
    mean, sd = np.mean(x), np.std(x, ddof=1)
    lo, hi = stats.t.interval(1 - alpha, n - 1, loc=mean, scale=sd / np.sqrt(n))
    return {"mean": mean, "sd": sd, "ci_lo": lo, "ci_hi": hi}


def paired(a, b, alpha):
    out = mean_ci(a - b, alpha)
    res = stats.ttest_rel(a, b)
    out.update(t=res.statistic, df=len(a) - 1, p=res.pvalue)
    return out


def tost(a, b, margin):
    lower = stats.ttest_rel(a + margin, b, alternative="greater").pvalue
    upper = stats.ttest_rel(a - margin, b, alternative="less").pvalue
    return {"p_lower": lower, "p_upper": upper, "p": max(lower, upper)}


def mdd(sd, n, alpha, power):
    return (stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)) * sd / np.sqrt(n)


def seeds(sd, delta, alpha, power, max_n):
    for n in range(2, max_n + 1):
        if mdd(sd, n, alpha, power) <= delta:
            return n
    return max_n + 1


def components(x, y):
    """V10 (m) and V01 (n) of positives x against negatives y, in row blocks."""
    v10, v01 = np.empty(len(x)), np.zeros(len(y))
    for s in range(0, len(x), 256):
        xs = x[s:s + 256, None]
        psi = (xs > y[None, :]) + 0.5 * (xs == y[None, :])
        v10[s:s + 256] = psi.mean(axis=1)
        v01 += psi.sum(axis=0)
    return v10, v01 / len(x)


def delong(sa, sb, label):
    pos, neg = label > 0.5, label <= 0.5
    m, n = pos.sum(), neg.sum()
    v10, v01, auc = [], [], []
    for s in (sa, sb):
        c10, c01 = components(s[pos], s[neg])
        v10.append(c10)
        v01.append(c01)
        auc.append(c10.mean())  # theta = 1/(mn) sum_ij psi
    # S10_rs = 1/(m-1) sum_i (V10_r - theta_r)(V10_s - theta_s), likewise S01
    d10 = np.array([v - t for v, t in zip(v10, auc)])
    d01 = np.array([v - t for v, t in zip(v01, auc)])
    S = d10 @ d10.T / ((m - 1) * m) + d01 @ d01.T / ((n - 1) * n)
    L = np.array([1.0, -1.0])
    var_diff = L @ S @ L
    z = (auc[0] - auc[1]) / np.sqrt(var_diff)
    return {"auc_a": auc[0], "auc_b": auc[1], "var_a": S[0, 0], "var_b": S[1, 1], "cov": S[0, 1],
            "var_diff": var_diff, "z": z, "p": 2 * stats.norm.sf(abs(z))}


def combine(ds):
    k = len(ds)
    out = {key: sum(d[key] for d in ds) / k for key in ("auc_a", "auc_b")}
    for key in ("var_a", "var_b", "cov", "var_diff"):
        out[key] = sum(d[key] for d in ds) / k**2
    out["z"] = (out["auc_a"] - out["auc_b"]) / np.sqrt(out["var_diff"])
    out["p"] = 2 * stats.norm.sf(abs(out["z"]))
    return out


def arrays(tok, n, count, dtype=np.float64):
    v = np.array(tok[:n * count], dtype=np.float64)
    if dtype is np.float32:
        v = v.astype(np.float32).astype(np.float64)  # exactly the C floats
    return [v[i * n:(i + 1) * n] for i in range(count)]


def run_case(kind, tok, done):
    f = [float(t) for t in tok[:5]] if kind not in ("delong", "combine") else None
    if kind == "norm_cdf":
        return {"cdf": stats.norm.cdf(f[0])}
    if kind == "norm_q":
        return {"q": stats.norm.ppf(f[0])}
    if kind == "t_cdf":
        return {"cdf": stats.t.cdf(f[0], f[1])}
    if kind == "t_q":
        p, df, q = f[0], f[1], f[2]
        tail = stats.t.cdf(q, df) if p < 0.5 else stats.t.sf(q, df)
        return {"q": stats.t.ppf(p, df), "tail": tail}
    if kind == "mean_ci":
        return mean_ci(*arrays(tok[2:], int(tok[1]), 1), f[0])
    if kind == "paired":
        return paired(*arrays(tok[2:], int(tok[1]), 2), f[0])
    if kind == "tost":
        return tost(*arrays(tok[2:], int(tok[1]), 2), f[0])
    if kind == "mdd":
        return {"mdd": mdd(f[0], int(tok[1]), f[2], f[3])}
    if kind == "seeds":
        return {"n": seeds(f[0], f[1], f[2], f[3], int(tok[4]))}
    if kind == "delong":
        n = int(tok[0])
        sa, sb = arrays(tok[1:], n, 2, np.float32)
        label = np.array(tok[1 + 2 * n:1 + 3 * n], dtype=np.float64)
        return delong(sa, sb, label)
    if kind == "combine":
        return combine([done[name] for name in tok[1:1 + int(tok[0])]])
    raise ValueError("unknown case kind " + kind)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: stats_ref.py IN OUT")
    done = {}
    with open(sys.argv[1]) as fin, open(sys.argv[2], "w") as fout:
        for line in fin:
            tok = line.split()
            if not tok or tok[0].startswith("#"):
                continue
            kind, name = tok[0], tok[1]
            done[name] = run_case(kind, tok[2:], done)
            for key, value in done[name].items():
                fout.write("%s %s %r\n" % (name, key, float(value)))


if __name__ == "__main__":
    main()
