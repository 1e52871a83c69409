#!/bin/sh
# deps.sh: install the Debian packages embsweep needs, if any are missing.
#   harness/deps.sh build   packages to build and run (make, make experiments)
#   harness/deps.sh test    also the test framework, the PyTorch and scipy references
#                           and chromium (the page is checked in a headless browser)
#   harness/deps.sh html    the same as test (make check-html)
#   harness/deps.sh fuzz    also clang with libFuzzer and llvm (make fuzz)
#   harness/deps.sh slurm   also Slurm's controller, node daemon, client and munge (make test-slurm)
# Uses apt-get as root, or through sudo when available. Prints nothing when all
# packages are present, so `make` stays quiet.
set -eu
set_build="libyaml-dev libsqlite3-dev libopenblas-dev zlib1g-dev gnuplot-nox pkg-config sqlite3"
set_test="$set_build libcriterion-dev python3-torch python3-numpy python3-scipy chromium"
set_html="$set_test"
set_fuzz="$set_build clang-14 libclang-rt-14-dev llvm-14"
set_slurm="$set_test slurmctld slurmd slurm-client munge"
case "${1:-build}" in
  build) want=$set_build ;;
  test) want=$set_test ;;
  html) want=$set_html ;;
  fuzz) want=$set_fuzz ;;
  slurm) want=$set_slurm ;;
  *) echo "usage: $0 build|test|html|fuzz|slurm" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0
echo "embsweep: installing missing Debian packages:$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "embsweep: need root or sudo to install:$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || $SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
