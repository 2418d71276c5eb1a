#!/usr/bin/env bash
# README command 1: set up a fresh machine, build, and run the demo study on 2 MPI ranks.
# Safe to run again: finished runs are kept and unfinished ones resume from their last checkpoint.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
env/bootstrap.sh
env/build.sh --target grokscope
out=results/demo
resume=(); [[ -f $out/config.yaml ]] && resume=(--resume)
start=$(date +%s)
env/mpiexec.sh -n 2 build/release/grokscope run configs/demo.yaml --out "$out" "${resume[@]}"
echo "demo finished in $(( $(date +%s) - start )) s; per-run metrics: $out/r*.csv"
for csv in "$out"/r*.csv; do
  echo "== $(basename "$csv" .csv)"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i
                     printf "%8s %10s %9s %9s %11s %14s\n", "step", "train_loss", "train_acc", "test_acc", "weight_norm", "ntk_dist_init"; next }
            { printf "%8d %10.4g %9.4f %9.4f %11.3f %14.4f\n", $1, $col["train_loss"], $col["train_accuracy"],
                     $col["test_accuracy"], $col["weight_norm"], $col["ntk/train/distance_init"] }' "$csv"
done
