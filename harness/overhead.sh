#!/bin/sh
# overhead.sh: the sweep harness's own time per run, measured with trivial runs.
#   harness/overhead.sh [BIN] [N]      (defaults: ./embsweep, 50 runs)
# Runs N cells whose training is nearly empty (200 rows, 0.01 epochs) with one
# worker, then reports (invocation wall time - sum of the runs' own wall time
# measured inside the worker) / N: fork + exec + process start, the pipe
# protocol, /proc sampling, the per-run transaction, and the per-invocation
# validation and database setup amortised over N.
set -eu
BIN=${1:-./embsweep}
N=${2:-50}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seeds=$(seq -s, 1 "$N")
cat > "$tmp/overhead.yaml" <<YAML
name: overhead
datasets:
  tiny: {kind: synthetic, rows: 200, fields: 2, cardinality: 10, dense: 1}
model: {bottom_mlp: [4], top_mlp: [], interaction: dot}
train: {epochs: 0.01, batch: 32, eval_batch: 64}
matrix:
  method: [full]
  dim: [4]
  seed: [$seeds]
jobs: 1
threads: 1
YAML
t0=$(date +%s.%N)
"$BIN" run "$tmp/overhead.yaml" --db "$tmp/o.db" > /dev/null
t1=$(date +%s.%N)
inside=$(sqlite3 "$tmp/o.db" "SELECT SUM(wall_s) FROM runs WHERE status = 'ok'")
ok=$(sqlite3 "$tmp/o.db" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
awk -v t0="$t0" -v t1="$t1" -v inside="$inside" -v n="$N" -v ok="$ok" 'BEGIN {
  total = t1 - t0
  printf "%d runs (%d ok): invocation %.3f s, inside the workers %.3f s\n", n, ok, total, inside
  printf "harness overhead per run: %.1f ms\n", (total - inside) / n * 1000
}'
