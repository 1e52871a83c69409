#!/usr/bin/env bash
# seeds.sh: write the fuzzers' seed corpora into OUT/<target>/ (make fuzz runs
# it into build/fuzz/seeds). Everything comes from the repository: the sweep
# files of tests/ and experiments/, a few rows written here in each loader's
# format (the input layouts are in each tests/fuzz/fuzz_<target>.c), cache
# edits, and results databases made from harness/sweep/schema.sql.
#   tests/fuzz/seeds.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tests/fuzz/seeds.sh OUT}
rm -rf "$out"
for t in config criteo avazu movielens libfm cache db; do mkdir -p "$out/$t"; done

# seed TARGET NAME FLAGS: stdin, after a flag byte given as two hex digits
seed() { { printf "\\x$3"; cat; } >"$out/$1/$2"; }

# ---- config: every sweep file the repository has ----
for f in tests/sweeps/*.yaml tests/bad_yaml/*.yaml experiments/*.yaml; do
    cp "$f" "$out/config/$(basename "$(dirname "$f")")-$(basename "$f")"
done

# rules on a method parameter and on train keys (each compares a canonical value)
cat >"$out/config/rules-on-params-and-train.yaml" <<'YAML'
datasets:
  syn: {kind: synthetic, rows: 2000, fields: 3, cardinality: 400}
train: {epochs: [0.5, 1], batch: [64, 128], lr: [0.01, 0.05], emb_lr: 0.1, log_every: 10, eval_every_epoch: true}
matrix: {method: [full, hash, qr], dim: [4, 8], seed: [1, 2]}
params:
  hash: {threshold: [10, 20]}
exclude:
  - {params.hash.threshold: 20, seed: 2}
  - {epochs: 1, batch: 64, eval_batch: 1024}
include:
  - {method: hash, dim: 16, lr: 0.1, log_every: 5, emb_lr: 0.5, params.hash.threshold: 30}
YAML

# ---- criteo: label, I1-I13, C1-C26 ----
criteo_rows() {
    local r j
    for r in 0 1 2 3 4 5; do
        printf '%d' $((r % 2))
        for j in $(seq 1 13); do if [ "$j" = 3 ]; then printf '\t'; else printf '\t%d' $((r * j - 2)); fi; done
        for j in $(seq 1 26); do if [ "$j" = 5 ]; then printf '\t'; else printf '\t%08x' $(((r + j) % 4)); fi; done
        printf '\n'
    done
}
criteo_rows | seed criteo plain 00
criteo_rows | seed criteo gzip 01
criteo_rows | seed criteo lenient-random 06
criteo_rows | gzip -c | seed criteo raw-gzip 00
{ criteo_rows; printf '1\t2\t3\n0\tx\n'; } | seed criteo bad-rows 02
# the checking parser's cases: a '+' sign, '-0', a 20-digit integer, upper-case hex, CRLF
{
    printf '1\t+5\t-0\t\t99999999999999999999\t1\t2\t3\t4\t5\t6\t7\t8\t9'
    printf '\tA\tb\tC\td\te\tf\t0\t1\t2\t3\t4\t5\t6\t7\t8\t9\ta\tb\tc\td\te\tf\t0\t1\t2\t3\r\n'
} | seed criteo slow-path 02
# C1 with 32 distinct values: enough for the radix sort of a vocabulary (a
# field with fewer than 16 values is insertion-sorted, datasets/ds_text.c)
for r in $(seq 0 31); do
    printf '%d' $((r % 2))
    for j in $(seq 1 13); do printf '\t'; done
    printf '\t%x' $((r * 2654435761 % 4294967296))
    for j in $(seq 2 26); do printf '\t'; done
    printf '\n'
done | seed criteo many-values 00

# ---- avazu: a header naming id, click, hour and categoricals ----
avazu_rows() {
    printf 'id,click,hour,C1,site_id,app_id,device_type\n'
    printf '1000009418151094273,0,14102100,1005,1fbe01fe,ecad2386,1\n'
    printf '10000169349117863715,1,14102101,1002,85f751fd,e2fcccd2,0\r\n'
    printf '10000371904215119486,0,14103023,1005,1fbe01fe,ecad2386,1\n'
    printf '18446744073709551615,1,14110100,1010,d6137915,9c13b419,4\n'
}
avazu_rows | seed avazu plain 00
avazu_rows | seed avazu gzip-random 05
{ avazu_rows; printf '1,2,3\n5,1,14102199,a,b,c,d\n'; } | seed avazu bad-rows 02
printf 'click,hour,id,x\n1,14102100,7,a\n' | seed avazu reordered 02

# ---- movielens: ratings, users, items separated by 0x1e ----
ml100k() {
    printf '196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t377\t5\t881250950\n'
    printf '\x1e'
    printf '196|49|M|writer|55105\n186|39|F|executive|00000\n22|25|M|writer|40206\n'
    printf '\x1e'
    printf '242|Kolya (1996)|24-Jan-1997||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n'
    printf '302|L.A. Confidential (1997)|01-Jan-1997||http://x|0|0|0|0|0|0|1|0|0|0|0|0|0|1|0|0|1|0|0\n'
}
ml100k | seed movielens 100k 00
ml100k | seed movielens 100k-gzip 03
{
    printf '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n'
    printf '\x1e'
    printf '1::F::1::10::48067\n2::M::56::16::70072\n'
    printf '\x1e'
    printf '1193::One Flew (1975)::Drama\n661::James (1996)::Animation|Children'"'"'s|Musical\n'
} | seed movielens 1m 40
printf '1\t2\t5\t0\n' | seed movielens ratings-only-file-path 82

# ---- libfm: a field_starts line, then 'label idx:val ...' ----
libfm_rows() {
    printf '0,10,100\n'
    printf '1 0:1 12:1 150:1\n-1 3:1 10:1 101:0.5\n0 9:1\n1 0:1 99:1 100:1\n'
}
libfm_rows | seed libfm plain 00
libfm_rows | seed libfm named-gzip 41
{ libfm_rows; printf '1 5:0\n1 1:1 2:1\nx 1:1\n\n'; } | seed libfm bad-rows 02

# ---- cache: edits of the valid cache (fuzz_cache.c) ----
# record: offset u16 LE, length, bytes; n_test is at 56, n_rows at 32.
printf '\x00' >"$out/cache/valid"
printf '\x00\x38\x00\x08\x05\x00\x00\x00\x00\x00\x00\x00' >"$out/cache/n_test"
printf '\x00\x20\x00\x08\x00\x10\x00\x00\x00\x00\x00\x00' >"$out/cache/n_rows"
printf '\x04\x00\x10' >"$out/cache/resized"
printf '\x03\x00\x10\x04\xff\xff\xff\xff' >"$out/cache/payload-byte"

# ---- db: results databases of schema version 3, 2 and 1, empty and with runs ----
: >"$out/db/empty"
if command -v sqlite3 >/dev/null; then
    mkdb() { # mkdb NAME SQL...
        local f=$out/db/$1
        shift
        { printf 'PRAGMA page_size=512;\n'; cat harness/sweep/schema.sql; printf '%s\n' "$@"; } | sqlite3 "$f"
        sqlite3 "$f" 'VACUUM;'
    }
    mkdb v2 'DROP TABLE run_scores;' 'PRAGMA user_version=2;'
    mkdb v2-runs 'DROP TABLE run_scores;' 'PRAGMA user_version=2;' \
        "INSERT INTO sweeps VALUES ('s', 's.yaml', 'name: s', '2024-01-01', '2024-01-02');" \
        "INSERT INTO runs(key, sweep, status, method, dataset, dim, ratio_requested, seed, config)
         VALUES ('0123456789abcdef', 's', 'ok', 'hash', 'syn', 16, 0.1, 1, '{}'),
                ('fedcba9876543210', 's', 'failed', 'tt', 'syn', 16, 0.1, 1, '{}');" \
        "INSERT INTO sweep_runs VALUES ('s', '0123456789abcdef'), ('s', 'fedcba9876543210');" \
        "INSERT INTO invocations(sweep, started_at, git_dirty, jobs, threads_per_job) VALUES ('s', 'now', 1, 2, 1);"
    mkdb v1 'ALTER TABLE rss_samples DROP COLUMN hwm;' 'DROP TABLE run_phases;' 'DROP TABLE run_scores;' \
        'PRAGMA user_version=1;'
    mkdb v3-scores 'PRAGMA user_version=3;' \
        "INSERT INTO runs(key, sweep, status, method, dataset, dim, ratio_requested, seed, config)
         VALUES ('0123456789abcdef', 's', 'ok', 'hash', 'syn', 16, 0.1, 1, '{}'),
                ('fedcba9876543210', 's', 'ok', 'tt', 'syn', 16, 0.1, 1, '{}');" \
        "INSERT INTO run_scores VALUES ('0123456789abcdef', 3, 'f32le', x'0000803f000000c00000003f', x'05'),
                ('fedcba9876543210', 9, 'f32le', zeroblob(36), x'ff01');"
    mkdb v4 'PRAGMA user_version=4;'
else
    echo "seeds.sh: no sqlite3; the db corpus starts from an empty file" >&2
fi
