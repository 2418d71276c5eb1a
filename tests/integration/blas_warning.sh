#!/usr/bin/env bash
# The start-up BLAS check: with the reference BLAS preloaded (first in the global symbol scope), rank 0 warns
# once; with the normal set-up (OpenBLAS) it does not. Exit 77 (skip) if the reference BLAS is absent.
set -u
bin=$1 config=$2
ref=/usr/lib/x86_64-linux-gnu/blas
[[ -e $ref/libblas.so.3 ]] || { echo "reference BLAS not installed: skipped"; exit 77; }
slow=$(LD_PRELOAD=$ref/libblas.so.3 "$bin" validate "$config" 2>&1 >/dev/null)
fast=$("$bin" validate "$config" 2>&1 >/dev/null)
[[ $(grep -c "slow reference implementation" <<<"$slow") -eq 1 ]] || { echo "FAIL: no single warning: $slow"; exit 1; }
grep -q "slow reference" <<<"$fast" && { echo "FAIL: warned with OpenBLAS: $fast"; exit 1; }
echo "ok: $slow"
