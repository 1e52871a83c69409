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
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
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
# CPU seconds (user + system) of the harness and all its workers: /usr/bin/time.
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$tmp/cpu" "$BIN" run "$tmp/overhead.yaml" --db "$tmp/o.db" > /dev/null
t1=$(date +%s.%N)
c0=0
c1=$(awk '{ print $1 + $2 }' "$tmp/cpu")
inside=$(sqlite3 "$tmp/o.db" "SELECT SUM(wall_s) FROM runs WHERE status = 'ok'")
inside_cpu=$(sqlite3 "$tmp/o.db" "SELECT SUM(cpu_s) FROM runs WHERE status = 'ok'")
ok=$(sqlite3 "$tmp/o.db" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
load=$(cut -d' ' -f1 /proc/loadavg)
awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v inside="$inside" -v icpu="$inside_cpu" \
    -v n="$N" -v ok="$ok" -v load="$load" 'BEGIN {
  total = t1 - t0
  printf "%d runs (%d ok), load average %s: invocation %.3f s wall, %.3f s CPU; inside the workers %.3f s wall, %.3f s CPU\n", n, ok, load, total, c1 - c0, inside, icpu
  printf "harness overhead per run: %.1f ms wall, %.1f ms CPU\n", (total - inside) / n * 1000, ((c1 - c0) - icpu) / n * 1000
}'
