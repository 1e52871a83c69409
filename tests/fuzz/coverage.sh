#!/usr/bin/env bash
# coverage.sh: line coverage of each target's own source files over what the
# fuzzers found (make fuzz-coverage calls it).
#   tests/fuzz/coverage.sh FUZZ_DIR COV_DIR TARGET...
# Runs COV_DIR/fuzz_<target> once over FUZZ_DIR/corpus/<target>, the seeds and
# tests/fuzz/regress/<target>, merges the profile, and appends llvm-cov's
# report for the files that target is about to COV_DIR/report.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
fz=${1:?usage: coverage.sh FUZZ_DIR COV_DIR TARGET...}
cov=${2:?usage: coverage.sh FUZZ_DIR COV_DIR TARGET...}
shift 2
files_of() {
    case $1 in
    config) echo harness/sweep/config.c harness/sweep/config_keys.c harness/sweep/expand.c ;;
    criteo) echo datasets/criteo.c datasets/ds_text.c datasets/ds_build.c ;;
    avazu) echo datasets/avazu.c datasets/ds_text.c datasets/ds_build.c ;;
    movielens) echo datasets/movielens.c datasets/ds_text.c datasets/ds_build.c ;;
    libfm) echo datasets/libfm.c datasets/ds_spec.c datasets/ds_build.c ;;
    cache) echo datasets/ds_build.c ;;
    db) echo harness/sweep/db.c harness/cli/sweep_cli.c ;;
    esac
}
: >"$cov/report.txt"
for t in "$@"; do
    dirs=()
    for d in "$fz/corpus/$t" "$fz/seeds/$t" "tests/fuzz/regress/$t"; do [ -d "$d" ] && dirs+=("$d"); done
    rm -f "$cov/$t".prof*
    LLVM_PROFILE_FILE="$cov/$t.profraw" "$cov/fuzz_$t" -runs=0 -close_fd_mask=3 "${dirs[@]}" >"$cov/$t.log" 2>&1
    llvm-profdata-14 merge -sparse "$cov/$t.profraw" -o "$cov/$t.profdata"
    # shellcheck disable=SC2046
    { echo "== $t"; llvm-cov-14 report -show-region-summary=false "$cov/fuzz_$t" -instr-profile="$cov/$t.profdata" \
            $(files_of "$t"); } |
        tee -a "$cov/report.txt"
done
