#!/usr/bin/python3
"""bench_ref.py: the PyTorch side of `embsweep bench`. Trains the same model as
the C engine (full embedding tables with sparse gradients, bottom MLP, then per
arch: dlrm dot interaction and top MLP; dcn cross network and deep MLP; deepfm
scalar tables, FM and deep MLP; wdl scalar tables and deep MLP over the raw
dense features; BCE-with-logits, SGD lr 0.1; harness/train/model.h) on the
same batches, and
prints "samples_per_s X" (wall clock) and "cpu_samples_per_s Y" (process CPU
time). Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 tests/reference/bench_ref.py DATA THREADS

DATA (written by harness/bench/bench.c), little-endian:
    char[8]  magic "ESBENCH2"
    int32    n_rows, Dd, F, D, batch, warm, steps, n_bottom, n_top,
             arch (0 dlrm, 1 dcn, 2 deepfm, 3 wdl), cross_layers,
             structure (0 stacked, 1 parallel), rank (0 full)
    int32    bottom[n_bottom], top[n_top]   (top hidden widths; a final 1 follows)
    int64    card[F]
    float32  dense[n_rows * Dd]
    int64    cat[n_rows * F]
    float32  label[n_rows]
Batch b is rows [b*batch, (b+1)*batch); step s uses batch s mod (n_rows / batch).
Timing covers `steps` steps after `warm` untimed ones (wall clock).
"""
import sys
import time

import numpy as np
import torch


def mlp(widths, last_relu):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2 or last_relu:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class DLRM(torch.nn.Module):
    def __init__(self, Dd, card, D, bottom, top):
        super().__init__()
        self.bot = mlp([Dd] + bottom, True)
        self.emb = torch.nn.ModuleList(torch.nn.Embedding(c, D, sparse=True) for c in card)
        n = len(card) + 1
        self.li = torch.tensor([i for i in range(n) for j in range(i)])
        self.lj = torch.tensor([j for i in range(n) for j in range(i)])
        self.top = mlp([D + n * (n - 1) // 2] + top + [1], False)

    def forward(self, dense, cat):
        x = self.bot(dense)
        T = torch.stack([x] + [e(cat[:, f]) for f, e in enumerate(self.emb)], dim=1)
        Z = torch.bmm(T, T.transpose(1, 2))
        return self.top(torch.cat([x, Z[:, self.li, self.lj]], dim=1))[:, 0]


class Cross(torch.nn.Module):
    """DCN-v2 cross layer: x0 * (W x + b) + x, W full or U V at rank r."""

    def __init__(self, W, rank):
        super().__init__()
        self.lin = (torch.nn.Linear(W, W) if not rank else
                    torch.nn.Sequential(torch.nn.Linear(W, rank, bias=False), torch.nn.Linear(rank, W)))

    def forward(self, x0, x):
        return x0 * self.lin(x) + x


class Arch(torch.nn.Module):
    """dcn (stacked or parallel), deepfm and wdl over c = [x, e_0 .. e_{F-1}]."""

    def __init__(self, arch, Dd, card, D, bottom, top, layers, structure, rank):
        super().__init__()
        self.arch, self.parallel = arch, arch == 1 and structure == 1
        self.has_bottom = arch != 3
        self.bot = mlp([Dd] + bottom, True) if self.has_bottom else None
        Dx = bottom[-1] if self.has_bottom else Dd
        self.emb = torch.nn.ModuleList(torch.nn.Embedding(c, D, sparse=True) for c in card)
        Wc = Dx + len(card) * D
        self.cross = torch.nn.ModuleList(Cross(Wc, rank) for _ in range(layers if arch == 1 else 0))
        self.deep = mlp([Wc] + top, True) if self.parallel else mlp([Wc] + top + [1], False)
        self.head = torch.nn.Linear(Wc + top[-1], 1) if self.parallel else None
        self.wide = (torch.nn.ModuleList(torch.nn.Embedding(c, 1, sparse=True) for c in card)
                     if arch in (2, 3) else None)

    def forward(self, dense, cat):
        x = self.bot(dense) if self.has_bottom else dense
        e = [m(cat[:, f]) for f, m in enumerate(self.emb)]
        c = torch.cat([x] + e, dim=1)
        if self.arch == 1:
            xl = c
            for layer in self.cross:
                xl = layer(c, xl)
            if self.parallel:
                return self.head(torch.cat([xl, self.deep(c)], dim=1))[:, 0]
            return self.deep(xl)[:, 0]
        logit = self.deep(c)[:, 0] + sum(m(cat[:, f])[:, 0] for f, m in enumerate(self.wide))
        if self.arch == 2:
            V = torch.stack([x] + e, dim=1)
            s = V.sum(dim=1)
            logit = logit + 0.5 * (s * s - (V * V).sum(dim=1)).sum(dim=1)
        return logit


def main(path, threads):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    raw = open(path, "rb").read()
    if raw[:8] != b"ESBENCH2":
        sys.exit("bench_ref.py: bad magic")
    off = 8

    def take(dtype, n):
        nonlocal off
        a = np.frombuffer(raw, dtype=dtype, count=n, offset=off)
        off += a.nbytes
        return a

    n, Dd, F, D, B, warm, steps, nb, nt, arch, layers, structure, rank = (int(v) for v in take("<i4", 13))
    bottom = [int(v) for v in take("<i4", nb)]
    top = [int(v) for v in take("<i4", nt)]
    card = [int(v) for v in take("<i8", F)]
    dense = torch.from_numpy(take("<f4", n * Dd).reshape(n, Dd).copy())
    cat = torch.from_numpy(take("<i8", n * F).reshape(n, F).copy())
    label = torch.from_numpy(take("<f4", n).copy())
    model = (DLRM(Dd, card, D, bottom, top) if arch == 0 else
             Arch(arch, Dd, card, D, bottom, top, layers, structure, rank))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    lossf = torch.nn.BCEWithLogitsLoss()
    nbatch = n // B
    t0 = None
    for s in range(warm + steps):
        if s == warm:
            t0, c0 = time.perf_counter(), time.process_time()
        b = s % nbatch
        sl = slice(b * B, (b + 1) * B)
        opt.zero_grad()
        loss = lossf(model(dense[sl], cat[sl]), label[sl])
        loss.backward()
        opt.step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("samples_per_s %.1f" % (steps * B / dt))
    print("cpu_samples_per_s %.1f" % (steps * B / dc))
    print("final_loss %.6f" % loss.item())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: /usr/bin/python3 bench_ref.py DATA THREADS")
    main(sys.argv[1], int(sys.argv[2]))
