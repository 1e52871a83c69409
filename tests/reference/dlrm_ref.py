#!/usr/bin/python3
"""dlrm_ref.py: an independent PyTorch implementation of embsweep's DLRM-style
model, used by tests/test_reference.c to cross-check logits, loss and every
gradient. Run with Debian's /usr/bin/python3 (python3-torch), not a pyenv python.

    /usr/bin/python3 tests/reference/dlrm_ref.py IN OUT

The model (facebookresearch/dlrm dlrm_s_pytorch.py semantics):
    x = bottom MLP(dense), ReLU after every layer (skipped when Dd = 0)
    e[:, f] = table_f[idx[:, f]]
    dot: T = [x, e_0 .. e_{F-1}], Z = T T^T, z = [x, Z[i, j] for i > j (i-major)]
    cat: z = [x, e_0, ..., e_{F-1}]
    logit = top MLP(z), ReLU between layers, none after the last (width 1)
    loss = mean BCE-with-logits(logit, label)
Everything is computed in float64 from the float32 inputs.

File format, all little-endian.
IN (written by the C test):
    char[8]  magic "ESREFIN1"
    int32    B, Dd, F, D, n_bottom, n_top, interaction (0 dot, 1 cat)
    int32    bottom widths[n_bottom]   (the bottom MLP input width is Dd)
    int32    top widths[n_top]         (hidden; a final layer of width 1 follows)
    int64    card[F]
    float32  dense[B * Dd]             row-major
    int64    idx[B * F]                row-major
    float32  label[B]
    for each bottom layer, then each top layer (n_top + 1 of them):
        float32 W[out * in] (torch.nn.Linear layout), float32 b[out]
    for each field f: float32 table_f[card[f] * D]
OUT (written by this script):
    char[8]  magic "ESREFOUT"
    float64  logits[B], loss
    float64  gradients, in the IN order of the parameters: every W then b of each
             layer (bottom, then top), then each table (dense, card[f] * D)
"""
import struct
import sys

import numpy as np
import torch


class Reader:
    def __init__(self, data):
        self.data, self.off = data, 0

    def take(self, dtype, n):
        a = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.off)
        self.off += a.nbytes
        return a


def main(path_in, path_out):
    with open(path_in, "rb") as f:
        r = Reader(f.read())
    if bytes(r.take(np.uint8, 8)) != b"ESREFIN1":
        sys.exit("dlrm_ref.py: bad magic in " + path_in)
    B, Dd, F, D, nb, nt, inter = (int(v) for v in r.take("<i4", 7))
    bottom = [int(v) for v in r.take("<i4", nb)]
    top = [int(v) for v in r.take("<i4", nt)] + [1]
    card = [int(v) for v in r.take("<i8", F)]
    dense = torch.tensor(r.take("<f4", B * Dd).reshape(B, Dd), dtype=torch.float64)
    idx = torch.tensor(r.take("<i8", B * F).reshape(B, F))
    label = torch.tensor(r.take("<f4", B), dtype=torch.float64)

    def layers(widths, fan_in):
        out = []
        for w in widths:
            W = torch.tensor(r.take("<f4", w * fan_in).reshape(w, fan_in), dtype=torch.float64, requires_grad=True)
            b = torch.tensor(r.take("<f4", w), dtype=torch.float64, requires_grad=True)
            out.append((W, b))
            fan_in = w
        return out

    bot = layers(bottom, Dd) if Dd > 0 else []
    Dx = bottom[-1] if Dd > 0 else 0
    n = F + (1 if Dd > 0 else 0)
    width_in = Dx + (n * (n - 1) // 2 if inter == 0 else F * D)
    tops = layers(top, width_in)
    tables = [torch.tensor(r.take("<f4", c * D).reshape(c, D), dtype=torch.float64, requires_grad=True)
              for c in card]

    x = dense
    for W, b in bot:
        x = torch.relu(torch.nn.functional.linear(x, W, b))
    emb = [torch.nn.functional.embedding(idx[:, f], tables[f]) for f in range(F)]
    vecs = ([x] if Dd > 0 else []) + emb
    if inter == 0:
        T = torch.stack(vecs, dim=1)                      # (B, n, D)
        Z = torch.bmm(T, T.transpose(1, 2))               # (B, n, n)
        li = [i for i in range(n) for j in range(i)]
        lj = [j for i in range(n) for j in range(i)]
        z = torch.cat(([x] if Dd > 0 else []) + [Z[:, li, lj]], dim=1)
    else:
        z = torch.cat(vecs, dim=1)
    for k, (W, b) in enumerate(tops):
        z = torch.nn.functional.linear(z, W, b)
        if k < len(tops) - 1:
            z = torch.relu(z)
    logits = z[:, 0]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, label)
    loss.backward()

    with open(path_out, "wb") as f:
        f.write(b"ESREFOUT")
        f.write(logits.detach().numpy().astype("<f8").tobytes())
        f.write(struct.pack("<d", loss.item()))
        for W, b in bot + tops:
            f.write(W.grad.numpy().astype("<f8").tobytes())
            f.write(b.grad.numpy().astype("<f8").tobytes())
        for t in tables:
            f.write(t.grad.numpy().astype("<f8").tobytes())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: /usr/bin/python3 dlrm_ref.py IN OUT")
    main(sys.argv[1], sys.argv[2])
