#!/usr/bin/env bash
# blas_kernels.sh: run the test binary once under each OpenBLAS kernel family
# this CPU can execute (OPENBLAS_CORETYPE), so that a result that depends on the
# kernel the BLAS picks shows up on whichever machine runs it, not only on the
# CPUs that pick that kernel by default.
#   tests/blas_kernels.sh TEST_BIN [criterion args]   (make test-blas-kernels)
set -euo pipefail
bin=$1; shift
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
kernels=()
if has avx2 fma; then kernels+=(Haswell Zen); fi
if has avx512f avx512bw avx512vl avx512dq avx512cd; then kernels+=(SkylakeX); fi
if has avx512f avx512bw avx512vl avx512dq avx512cd avx512_bf16; then kernels+=(Cooperlake); fi
if [ ${#kernels[@]} -eq 0 ]; then
    echo "blas_kernels: this CPU has no AVX2: only the default kernel applies (make test)"
    exit 0
fi
for k in "${kernels[@]}"; do
    echo "== OPENBLAS_CORETYPE=$k"
    OPENBLAS_CORETYPE=$k "$bin" "$@"
done
