#!/bin/sh
# bench.sh: parse-speed benchmark of the real-data loaders (figures in
# datasets/README.md). Builds the benchmark texts in a temp dir (never in the
# repository: the samples are licensed), then times one full build of each with
# `embsweep dataset bench`. Run from the repository root after `make`:
#   datasets/bench.sh [DATA_DIR]     (default ../shared/data)
set -eu
DATA=${1:-../shared/data}
BIN=${EMBSWEEP_BIN:-./embsweep}
T=$(mktemp -d "${TMPDIR:-/tmp}/embsweep-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
if [ -f "$DATA/criteo_sample.tsv.gz" ]; then
    gzip -dc "$DATA/criteo_sample.tsv.gz" > "$T/c1.tsv"
    for i in $(seq 40); do cat "$T/c1.tsv"; done > "$T/c40.tsv"
    "$BIN" dataset bench "$T/c40.tsv"
    gzip -1 -c "$T/c40.tsv" > "$T/c40.tsv.gz"
    "$BIN" dataset bench "$T/c40.tsv.gz"
fi
if [ -f "$DATA/avazu_sample.csv.gz" ]; then
    gzip -dc "$DATA/avazu_sample.csv.gz" > "$T/a1.csv"
    { head -1 "$T/a1.csv"; for i in $(seq 60); do tail -n +2 "$T/a1.csv"; done; } > "$T/a60.csv"
    "$BIN" dataset bench "$T/a60.csv"
fi
# Criteo format with a huge vocabulary (random values): the worst case.
awk 'BEGIN { srand(7); for (r = 0; r < 400000; r++) { line = (rand() < 0.25 ? 1 : 0);
    for (j = 0; j < 13; j++) line = line "\t" (rand() < 0.2 ? "" : int(rand() * rand() * 1000));
    for (j = 0; j < 26; j++) { u = rand(); line = line "\t" sprintf("%08x", int(u * u * u * (j + 1) * 40000) * 2654435761 % 4294967296) }
    print line } }' > "$T/big.tsv"
"$BIN" dataset bench "$T/big.tsv"
