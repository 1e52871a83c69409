#!/bin/sh
# test_slurm.sh: embsweep on a real one-node Slurm cluster (tests/slurm/cluster.sh),
# run by tests/slurm/test_slurm.c (`make test-slurm`). Exit 0 passed, 77 skipped
# (the reason on stderr: Slurm cannot start here), anything else failed.
#   1. a local `run` of tests/slurm/sweep.yaml (12 cells) against `submit --slurm`
#      (4 tasks of 3 cells), waited for, merged: every key once, ok, the same bits
#   2. `submit` while the array is queued is refused; `scancel` of one task
#      mid-run, merge: its cells interrupted or pending, never ok; `submit`
#      again: only those, merged: all ok, none duplicated
#   3. a merge killed half-way (SIGKILL inside a shard's transaction), rerun:
#      the database is consistent and equals a clean merge; a third merge
#      changes nothing
#   4. --requeue: a running task requeued (as on preemption) reruns only its
#      unfinished cells; all ok, the same bits, each attempt counted once
#   5. a task past its time limit (in a cell that never returns): the cells it
#      finished ok, the one it was running interrupted, the rest pending
# Prints the measured figures (cells, tasks, wall times) as it goes.
set -eu
E=${EMBSWEEP_BIN:?EMBSWEEP_BIN is not set (run through make test-slurm)}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SWEEP=$ROOT/tests/slurm/sweep.yaml
T=$(mktemp -d /tmp/embsweep_slurmXXXXXX)
chmod 0755 "$T"
cleanup() { "$ROOT/tests/slurm/cluster.sh" stop "$T/cluster" || true; rm -rf "$T"; }
trap cleanup EXIT

rc=0
conf=$("$ROOT/tests/slurm/cluster.sh" start "$T/cluster") || rc=$?
[ $rc -eq 0 ] || exit "$rc" # 77: the reason is on stderr
eval "$conf"
export SLURM_CONF

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { sqlite3 -batch "$1" "$2"; }
now() { date +%s.%N; }
# wait until none of the given jobs is in the queue (at most $2 seconds)
wait_jobs() {
  i=0
  while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -le $(($2 * 5)) ] || fail "jobs $1 still queued after $2 s: $(squeue)"
    sleep 0.2
  done
}
# wait until task $2 of submission dir $1 is running a cell
wait_running() {
  i=0
  until [ "$(q "$1/shards/task-0000$2.db" "SELECT count(*) FROM runs WHERE status = 'running'" 2>/dev/null || echo 0)" = 1 ]; do
    i=$((i + 1)); [ $i -le 1500 ] || fail "task $2 of $1 never ran: $(squeue)"
    sleep 0.2
  done
}
# the job ids printed by submit: "job array N, merge job M"
array_of() { sed -n 's/.*job array \([0-9]*\).*/\1/p' "$1" | head -n 1; }
merge_of() { sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$1" | head -n 1; }
METRICS="test_auc, test_logloss, val_auc, val_logloss, final_train_loss, bytes_infer, steps"
# one line per key: key and the metrics' exact bits (hex of the doubles' text at 17 digits)
digest() { q "$1" "SELECT key || ' ' || status || ' ' || printf('%.17g %.17g %.17g %.17g %.17g %d %d', $METRICS) FROM runs ORDER BY key"; }

cd "$T"
echo "== local run"
t0=$(now)
"$E" run "$SWEEP" --db local.db > local.out 2>&1 || fail "local run: $(tail -n 3 local.out)"
t1=$(now)
cells=$(q local.db "SELECT count(*) FROM runs WHERE status = 'ok'")
[ "$cells" -ge 12 ] || fail "local run: $cells ok runs"
echo "local run: $cells cells in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (jobs 1, the file's)"
t0=$(now)
"$E" run "$SWEEP" --db local2.db --jobs 2 > local2.out 2>&1 || fail "local run --jobs 2: $(tail -n 3 local2.out)"
t1=$(now)
echo "local run --jobs 2: $cells cells in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"

echo "== array"
t0=$(now)
"$E" submit "$SWEEP" --slurm --db a.db --workdir work > submit1.out 2>&1 || fail "submit: $(cat submit1.out)"
cat submit1.out
job=$(array_of submit1.out); mjob=$(merge_of submit1.out)
[ -n "$job" ] && [ -n "$mjob" ] || fail "no job ids in: $(cat submit1.out)"
tasks=$(sed -n 's/.* cells in \([0-9]*\) tasks.*/\1/p' submit1.out | head -n 1)
[ "$tasks" -lt "$cells" ] && [ "$tasks" -ge 2 ] || fail "$cells cells in $tasks tasks: expected fewer tasks than cells"
wait_jobs "$job" 600
t1=$(now)
wait_jobs "$mjob" 120
grep -q "merged" work/001/logs/merge.out || fail "the merge job did not run: $(cat work/001/logs/merge.out)"
"$E" merge work --db a.db
echo "array: $cells cells in $tasks tasks in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (submit to last task's end)"
[ "$(q a.db "SELECT count(*) FROM runs")" = "$cells" ] || fail "runs in a.db: $(q a.db 'SELECT status, count(*) FROM runs GROUP BY 1')"
[ "$(q a.db "SELECT count(*) FROM runs WHERE status = 'ok'")" = "$cells" ] || fail "not all ok: $(q a.db 'SELECT status, count(*) FROM runs GROUP BY 1')"
digest local.db > local.digest; digest a.db > a.digest
cmp -s local.digest a.digest || fail "metrics differ from the local run: $(diff local.digest a.digest | head -n 5)"
nodes=$(q a.db "SELECT count(DISTINCT slurm_task) FROM invocations WHERE slurm_job = '$job' AND node IS NOT NULL")
[ "$nodes" = "$tasks" ] || fail "provenance: $nodes tasks with a Slurm job, task id and node (expected $tasks)"
echo "ok: every key once, ok, the same bits as the local run; provenance names job $job, $tasks tasks, node"

echo "== scancel of one task mid-run"
"$E" submit "$SWEEP" --slurm --db b.db --workdir work2 --max-running 1 > submit2.out 2>&1 || fail "submit: $(cat submit2.out)"
job=$(array_of submit2.out); mjob=$(merge_of submit2.out)
rc=0; "$E" submit "$SWEEP" --slurm --db b.db --workdir work2 > busy.out 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "job array $job .* still has" busy.out || fail "a second submit while the array is queued: exit $rc: $(cat busy.out)"
[ ! -e work2/002 ] || fail "the refused submit wrote work2/002"
wait_running work2/001 1
scancel "${job}_1"
wait_jobs "$job,$mjob" 600
"$E" merge work2 --db b.db
echo "after scancel of task 1, b.db holds: $(q b.db "SELECT group_concat(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM runs GROUP BY status)")"
t1keys=$(sed -n 's/^cell\t1\t\([0-9a-f]*\)\t.*/\1/p' work2/001/plan.tsv | tr '\n' ' ')
for k in $t1keys; do
  s=$(q b.db "SELECT status FROM runs WHERE key = '$k'")
  case "$s" in interrupted|pending) ;; *) fail "cell $k of the cancelled task is '$s'";; esac
done
[ "$(q b.db "SELECT count(*) FROM runs WHERE status = 'interrupted'")" -ge 1 ] || fail "no interrupted run after scancel"
"$E" status --db b.db
"$E" submit "$SWEEP" --slurm --db b.db --workdir work2 > submit3.out 2>&1 || fail "submit again: $(cat submit3.out)"
cat submit3.out
again=$(sed -n 's/.*: \([0-9]*\) cells in .*/\1/p' submit3.out | head -n 1)
missing=$(q b.db "SELECT count(*) FROM runs WHERE status <> 'ok'")
[ "$again" = "$missing" ] || fail "submitted again $again cells, $missing are missing"
job=$(array_of submit3.out); mjob=$(merge_of submit3.out)
wait_jobs "$job,$mjob" 600
"$E" merge work2 --db b.db
[ "$(q b.db "SELECT count(*) || ' ' || sum(status = 'ok') FROM runs")" = "$cells $cells" ] || fail "after resubmit: $(q b.db 'SELECT status, count(*) FROM runs GROUP BY 1')"
[ "$(q b.db "SELECT count(*) FROM sweep_runs")" = "$cells" ] || fail "sweep_runs duplicated"
digest b.db > b.digest
cmp -s local.digest b.digest || fail "after resubmit, metrics differ from the local run: $(diff local.digest b.digest | head -n 5)"
echo "ok: resubmitted $again cells; all $cells ok, none duplicated, the same bits"

echo "== merge killed half-way"
shards=$(ls work2/*/shards/*.db | wc -l)
kill_at=$((cells / 2 + 1))
rc=0; EMBSWEEP_FAULTS=1 EMBSWEEP_FAULT_MERGE_KILL=$kill_at "$E" merge work2 --db c.db > kill.out 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "the merge was not killed: $(cat kill.out)"
[ "$(q c.db "PRAGMA integrity_check")" = ok ] || fail "c.db damaged after the kill"
held=$(q c.db "SELECT count(*) FROM runs WHERE status = 'ok'")
part=$(q c.db "SELECT count(*) FROM runs r WHERE status = 'ok' AND (NOT EXISTS (SELECT 1 FROM run_scores s WHERE s.key = r.key) OR NOT EXISTS (SELECT 1 FROM loss_curve l WHERE l.key = r.key))")
[ "$part" = 0 ] || fail "$part runs half-merged"
[ "$held" -lt "$cells" ] || fail "the kill came after the whole merge"
echo "merge killed at run $kill_at of $shards shards: c.db holds $(q c.db "SELECT group_concat(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM runs GROUP BY status)"), each ok run whole"
"$E" merge work2 --db c.db
digest c.db > c.digest
cmp -s b.digest c.digest || fail "the rerun merge differs from a clean one: $(diff b.digest c.digest | head -n 5)"
before=$(q c.db "SELECT count(*) || ' ' || total(attempts) FROM runs") 
sum1=$(q c.db "SELECT count(*) FROM loss_curve") 
"$E" merge work2 --db c.db
[ "$(q c.db "SELECT count(*) || ' ' || total(attempts) FROM runs")" = "$before" ] && [ "$(q c.db "SELECT count(*) FROM loss_curve")" = "$sum1" ] || fail "a second merge changed the database"
digest c.db | cmp -s c.digest - || fail "a second merge changed the metrics"
echo "ok: the rerun merge equals a clean one; merging again changes nothing"

echo "== requeue of a running task (as on preemption)"
"$E" submit "$SWEEP" --slurm --db d.db --workdir work3 --requeue --max-running 1 > submit4.out 2>&1 || fail "submit: $(cat submit4.out)"
grep -q -- "--requeue" work3/001/task.sbatch || fail "no --requeue in work3/001/task.sbatch"
job=$(array_of submit4.out); mjob=$(merge_of submit4.out)
wait_running work3/001 0
scontrol requeue "${job}_0"
i=0 # Slurm holds a requeued job back for a while (BeginTime); release it now
until squeue -h -j "${job}_0" -o %T 2>/dev/null | grep -q PENDING; do
  i=$((i + 1)); [ $i -le 300 ] || fail "task 0 not requeued: $(squeue)"; sleep 0.2
done
scontrol update JobId="${job}_0" StartTime=now
wait_jobs "$job,$mjob" 600
"$E" merge work3 --db d.db
[ "$(q d.db "SELECT count(*) || ' ' || sum(status = 'ok') FROM runs")" = "$cells $cells" ] || fail "after requeue: $(q d.db 'SELECT status, count(*) FROM runs GROUP BY 1')"
digest d.db | cmp -s local.digest - || fail "after requeue, metrics differ from the local run"
runs0=$(q work3/001/shards/task-00000.db "SELECT count(*) FROM invocations WHERE slurm_job = '$job' AND slurm_task = 0")
[ "$runs0" = 2 ] || fail "task 0 ran $runs0 times (expected 2: before and after the requeue)"
[ "$(q d.db "SELECT total(attempts) FROM runs")" = "$((cells + 1)).0" ] || fail "attempts: $(q d.db 'SELECT key, attempts FROM runs WHERE attempts <> 1')"
grep -q "interrupted" work3/001/logs/task-0.out || fail "the requeued task interrupted nothing: $(cat work3/001/logs/task-0.out)"
echo "ok: the requeued task reran only its unfinished cells: $cells ok, attempts $(q d.db "SELECT total(attempts) FROM runs")"

echo "== time limit"
# fault_hang (test-only, armed by EMBSWEEP_FAULTS=1, which sbatch passes on) never
# returns: the task is still in it when Slurm's time limit comes, however fast the
# machine (Slurm counts limits in minutes and checks them every 30 s)
cat > slow.yaml <<YAML
name: t_slow
datasets:
  syn: {kind: synthetic, rows: 20000, fields: 3, cardinality: 400, dense: 2, seed: 5}
model: {bottom_mlp: [8], top_mlp: [8], interaction: dot}
train: {epochs: 1, batch: 128, optimizer: adagrad, lr: 0.05}
matrix: {method: [full, fault_hang, hash], dim: [4], ratio: [1], seed: [1, 2]}
jobs: 1
threads: 1
YAML
EMBSWEEP_FAULTS=1 "$E" submit slow.yaml --slurm --db e.db --workdir work4 --cells-per-task 100 --time 0:05 > submit5.out 2>&1 || fail "submit: $(cat submit5.out)"
job=$(array_of submit5.out); mjob=$(merge_of submit5.out)
t0=$(now)
wait_jobs "$job,$mjob" 600
t1=$(now)
grep -q "TIME LIMIT" work4/001/logs/task-0.out || fail "task 0 did not hit its time limit: $(tail -n 3 work4/001/logs/task-0.out)"
"$E" merge work4 --db e.db
held=$(q e.db "SELECT group_concat(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM runs GROUP BY status)")
echo "time limit 0:05 hit after $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s; e.db holds: $held"
[ "$(q e.db "SELECT count(*) FROM runs WHERE status NOT IN ('ok', 'interrupted', 'pending')")" = 0 ] || fail "time limit: $held"
[ "$(q e.db "SELECT group_concat(method) FROM runs WHERE status = 'interrupted'")" = fault_hang ] || fail "time limit: $held"
[ "$(q e.db "SELECT count(*) FROM runs WHERE status = 'ok' AND method = 'fault_hang'")" = 0 ] || fail "a hung cell ok"
[ "$(q e.db "SELECT count(*) FROM runs r WHERE status = 'ok' AND NOT EXISTS (SELECT 1 FROM run_scores s WHERE s.key = r.key)")" = 0 ] || fail "an ok run without its scores"
echo "ok: past the time limit the running cell is interrupted, the rest ok or pending"
echo "PASS"
