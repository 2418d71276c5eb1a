#!/usr/bin/env bash
# README command 1: set up a fresh machine, build, train the demo study on 2 MPI ranks (a grokking
# condition and a no-delay control, every metric), print its report and write its figures.
# Safe to run again: finished runs are kept and unfinished ones resume from their saved state.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
env/bootstrap.sh
env/build.sh --target grokscope
out=results/demo.h5
resume=(); [[ -f $out ]] && resume=(--resume)
trained=$(date +%s)
env/mpiexec.sh -n 2 build/release/grokscope run configs/demo.yaml --out "$out" "${resume[@]}"
echo "demo: set-up and build $(( trained - start )) s, training $(( $(date +%s) - trained )) s; results: $out"
build/release/grokscope status "$out"
build/release/grokscope report "$out"
build/release/grokscope report "$out" --json >results/demo-report.json
/usr/bin/python3 analysis/figures.py "$out" --out results/demo-figures
echo "demo finished in $(( $(date +%s) - start )) s: report results/demo-report.json, figures results/demo-figures/"
