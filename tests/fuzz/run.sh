#!/usr/bin/env bash
# run.sh: run each fuzz target for a fixed time, one after another, and print
# per target the executions, speed, coverage and crashes (make fuzz calls it).
#   tests/fuzz/run.sh DIR SECONDS TARGET...
# DIR holds the binaries (fuzz_<target>) and, per target: corpus/<target>
# (kept between runs; new inputs go there), seeds/<target> (seeds.sh), logs/,
# crashes/<target>/ (libFuzzer's artifacts). tests/fuzz/regress/<target> is
# read as seeds too. Extra libFuzzer flags come from $FUZZ_ARGS. Exits 1 when
# any target crashed, leaked or timed out.
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: run.sh DIR SECONDS TARGET...}
secs=${2:?usage: run.sh DIR SECONDS TARGET...}
shift 2
failed=0
printf '%-10s %12s %8s %7s %7s %6s  %s\n' target executions exec/s cov ft corpus result
for t in "$@"; do
    bin=$dir/fuzz_$t log=$dir/logs/$t.log crashes=$dir/crashes/$t
    mkdir -p "$dir/corpus/$t" "$dir/logs" "$crashes"
    dirs=("$dir/corpus/$t")
    for d in "$dir/seeds/$t" "tests/fuzz/regress/$t"; do [ -d "$d" ] && dirs+=("$d"); done
    # -close_fd_mask=3: the loaders' messages about bad rows are dropped;
    # libFuzzer and the sanitizers still report on a copy of stderr.
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=3 -timeout=30 \
        -rss_limit_mb=2048 -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (exit $rc): see $log"
        failed=1
    fi
    printf '%-10s %12s %8s %7s %7s %6s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$result"
    if [ $rc -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|Test unit written|^fuzz' "$log" | head -8 | sed 's/^/    /'
    fi
done
if [ $failed -ne 0 ]; then
    echo "A target failed: reproduce with $dir/fuzz_<target> <artifact>; once fixed, copy the input"
    echo "into tests/fuzz/regress/<target>/ so that make test replays it."
fi
exit $failed
