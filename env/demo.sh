#!/usr/bin/env bash
# README command 1: set up a fresh machine, build, and run the demo study on 2 MPI ranks.
# Safe to run again: finished runs are kept and unfinished ones resume from their last checkpoint.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
env/bootstrap.sh
env/build.sh --target grokscope
out=results/demo.h5
resume=(); [[ -f $out ]] && resume=(--resume)
start=$(date +%s)
env/mpiexec.sh -n 2 build/release/grokscope run configs/demo.yaml --out "$out" "${resume[@]}"
echo "demo finished in $(( $(date +%s) - start )) s; results: $out"
build/release/grokscope status "$out"
/usr/bin/python3 analysis/curves.py "$out" --plot results/demo.png
