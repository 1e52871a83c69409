#!/usr/bin/env bash
# check_layers.sh: the include arrows run one way (make check-layers, run by
# make test). Each source folder is a layer; a file may include only files of
# its own folder group or of a lower layer:
#   0 harness/core  <-  1 methods, datasets  <-  2 harness/train  <-
#   3 harness/sweep  <-  4 harness/report, harness/bench  <-  5 harness/cli
# Folders on one level (methods and datasets; report and bench) do not include
# each other. Quoted includes name a file in the same folder or from the
# repository root; anything else is reported too.
#   tests/check_layers.sh [ROOT]     prints each violation, exits 1 if any
set -uo pipefail
cd "${1:-.}"
layer() { # prints "rank group" of a path, or nothing outside the layers
    case $1 in
    harness/core/*) echo "0 core" ;;
    methods/*) echo "1 methods" ;;
    datasets/*) echo "1 datasets" ;;
    harness/train/*) echo "2 train" ;;
    harness/sweep/*) echo "3 sweep" ;;
    harness/report/*) echo "4 report" ;;
    harness/bench/*) echo "4 bench" ;;
    harness/cli/*) echo "5 cli" ;;
    esac
}
bad=0
while IFS= read -r f; do
    read -r rank group <<<"$(layer "$f")"
    [ -n "${rank:-}" ] || continue
    while IFS=: read -r line inc; do
        inc=${inc#*\"}; inc=${inc%%\"*}
        [ "$inc" = schema_sql.h ] && continue # generated into the build folder
        if [[ $inc != */* ]]; then target=$(dirname "$f")/$inc; else target=$inc; fi
        if [ ! -f "$target" ]; then
            echo "$f:$line: \"$inc\" is neither in $(dirname "$f")/ nor a path from the root"; bad=1; continue
        fi
        read -r trank tgroup <<<"$(layer "$target")"
        if [ -z "${trank:-}" ]; then
            echo "$f:$line: includes $target, which is outside the layers"; bad=1
        elif [ "$tgroup" != "$group" ] && [ "$trank" -ge "$rank" ]; then
            echo "$f:$line: $group (layer $rank) includes $target ($tgroup, layer $trank): arrows point down only"; bad=1
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done < <(find harness methods datasets -name '*.[ch]' | sort)
if [ $bad -eq 0 ]; then echo "check-layers: every include points down a layer"; fi
exit $bad
