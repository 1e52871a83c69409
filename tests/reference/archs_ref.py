#!/usr/bin/python3
"""archs_ref.py: an independent PyTorch implementation of embsweep's dcn, deepfm
and wdl archs (harness/train/model.h), used by tests/test_reference.c to
cross-check logits, loss and every gradient. Run with Debian's /usr/bin/python3
(python3-torch):

    /usr/bin/python3 tests/reference/archs_ref.py IN OUT [plant]

With `plant`, each arch's own backward gets a typical bug while its forward stays
exact (a .detach() on one path): dcn loses the gradient through the x0 factor of
every cross layer, deepfm the gradient of the FM term through its second
operand, wdl the gradient of the scalar tables. tests/test_reference.c checks
that the comparison then fails, i.e. that it can see a broken backward.

The models, c = [x, e_0, ..., e_{F-1}] (x the bottom MLP output, ReLU after every
layer; for wdl x = the raw dense features; no x when Dd = 0):
    dcn     x_{l+1} = c * (W_l x_l + b_l) + x_l, x_0 = c (W_l = U_l V_l at rank > 0)
            stacked:  logit = deep(x_L)
            parallel: logit = head([x_L, deep_hidden(c)])
    deepfm  logit = sum_f s_f[id_f] + sum_{i<j} <v_i, v_j> (v: x, e_0 ..) + deep(c)
    wdl     logit = sum_f s_f[id_f] + deep(c)
deep(z): ReLU between layers, none after the final width-1 layer; deep_hidden:
ReLU after every layer, no final layer. loss = mean BCE-with-logits.
Everything is computed in float64 from the float32 inputs.

File format, all little-endian.
IN (written by the C test):
    char[8]  magic "ESARCIN1"
    int32    B, Dd, F, D, n_bottom, n_top, arch (1 dcn, 2 deepfm, 3 wdl),
             cross_layers, structure (0 stacked, 1 parallel), rank (0 full)
    int32    bottom widths[n_bottom], top widths[n_top]
    int64    card[F]
    float32  dense[B * Dd], int64 idx[B * F], float32 label[B]   (row-major)
    tensors, float32, each torch.nn.Linear layout (out, in) then bias (out):
        bottom layers (none for wdl or Dd = 0); deep layers (n_top, plus the final
        width-1 layer unless dcn parallel); dcn parallel: the head layer;
        dcn: per cross layer W (Wc, Wc) then b (Wc), or at rank r V (r, Wc),
        U (Wc, r), b (Wc); deepfm, wdl: per field its scalar table s_f[card[f]];
        then per field its embedding table (card[f], D)
OUT (written by this script):
    char[8]  magic "ESARCOUT"
    float64  logits[B], loss, then the gradient of every IN tensor in IN order
"""
import struct
import sys

import numpy as np
import torch

from dlrm_ref import Reader

F64 = torch.float64


def main(path_in, path_out, plant=False):
    with open(path_in, "rb") as f:
        r = Reader(f.read())
    if bytes(r.take(np.uint8, 8)) != b"ESARCIN1":
        sys.exit("archs_ref.py: bad magic in " + path_in)
    B, Dd, F, D, nb, nt, arch, L, structure, rank = (int(v) for v in r.take("<i4", 10))
    bottom = [int(v) for v in r.take("<i4", nb)]
    top = [int(v) for v in r.take("<i4", nt)]
    card = [int(v) for v in r.take("<i8", F)]
    dense = torch.tensor(r.take("<f4", B * Dd).reshape(B, Dd), dtype=F64)
    idx = torch.tensor(r.take("<i8", B * F).reshape(B, F))
    label = torch.tensor(r.take("<f4", B), dtype=F64)
    params = []

    def cut_if(a):  # the planted bug of arch a: a path without gradient
        return (lambda t: t.detach()) if plant and arch == a else (lambda t: t)

    def tensor(*shape):
        n = int(np.prod(shape))
        t = torch.tensor(r.take("<f4", n).reshape(*shape), dtype=F64, requires_grad=True)
        params.append(t)
        return t

    def layers(widths, fan_in):
        out = []
        for w in widths:
            out.append((tensor(w, fan_in), tensor(w)))
            fan_in = w
        return out

    def run(lays, z, relu_last):
        for k, (W, b) in enumerate(lays):
            z = torch.nn.functional.linear(z, W, b)
            if k < len(lays) - 1 or relu_last:
                z = torch.relu(z)
        return z

    has_bottom = Dd > 0 and arch != 3
    bot = layers(bottom, Dd) if has_bottom else []
    Dx = bottom[-1] if has_bottom else (Dd if arch == 3 else 0)
    Wc = Dx + F * D
    parallel = arch == 1 and structure == 1
    deep = layers(top if parallel else top + [1], Wc)
    head = layers([1], Wc + top[-1]) if parallel else []
    cross = []
    for _ in range(L if arch == 1 else 0):
        if rank:
            cross.append((tensor(rank, Wc), tensor(Wc, rank), tensor(Wc)))
        else:
            cross.append((tensor(Wc, Wc), tensor(Wc)))
    scalars = [tensor(c) for c in card] if arch in (2, 3) else []
    tables = [tensor(c, D) for c in card]

    x = run(bot, dense, True) if has_bottom else dense
    emb = [tables[f][idx[:, f]] for f in range(F)]
    vecs = ([x] if Dx else []) + emb
    c = torch.cat(vecs, dim=1)
    if arch == 1:
        xl = c
        for p in cross:
            if rank:
                V, U, b = p
                xw = (xl @ V.T) @ U.T + b
            else:
                W, b = p
                xw = xl @ W.T + b
            xl = cut_if(1)(c) * xw + xl
        if parallel:
            logits = run(head, torch.cat([xl, run(deep, c, True)], dim=1), False)[:, 0]
        else:
            logits = run(deep, xl, False)[:, 0]
    else:
        wide = sum(cut_if(3)(scalars[f])[idx[:, f]] for f in range(F))
        logits = run(deep, c, False)[:, 0] + wide
        if arch == 2:
            V = torch.stack(vecs, dim=1)  # (B, n, D)
            n = V.shape[1]
            fm = sum((V[:, i] * cut_if(2)(V[:, j])).sum(dim=1) for i in range(n) for j in range(i + 1, n))
            logits = logits + fm
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, label)
    loss.backward()
    if r.off != len(r.data):
        sys.exit("archs_ref.py: %d trailing bytes in %s" % (len(r.data) - r.off, path_in))
    with open(path_out, "wb") as f:
        f.write(b"ESARCOUT")
        f.write(logits.detach().numpy().astype("<f8").tobytes())
        f.write(struct.pack("<d", loss.item()))
        for t in params:  # a tensor the planted bug cut off has no gradient: zeros
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            f.write(g.numpy().astype("<f8").tobytes())


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "plant"):
        sys.exit("usage: /usr/bin/python3 archs_ref.py IN OUT [plant]")
    main(sys.argv[1], sys.argv[2], len(sys.argv) == 4)
