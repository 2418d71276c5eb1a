#!/usr/bin/env bash
# Training step: grokscope vs PyTorch eager (Debian's python3-torch), side by side in one run.
# The peer is measured at every thread setting (torch threads x OpenBLAS threads) and its best is
# the reference. Usage: bench/train_step.sh [STEPS]   (after env/build.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
steps=${1:-200}
out=$(mktemp)
"$root/build/release/bench/bench_train_step" "$(nproc)" "$steps" | tee "$out"
for tt in 1 2; do
  for bt in 1 2; do
    OPENBLAS_NUM_THREADS=$bt /usr/bin/python3 "$root/bench/peer_train_step.py" "$tt" "$steps" "torch${tt}_blas${bt}" | tee -a "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sgemm = next(r["gflops"] for r in rows if r["case"] == "sgemm")
print(f"\nsgemm (best of 256..2048 square) under grokscope's thread policy: {sgemm:.1f} GFLOP/s\n")
print("| case | grokscope ms/step | GFLOP/s | % of sgemm | PyTorch best ms/step (setting) | speed-up vs PyTorch best |")
print("| --- | --- | --- | --- | --- | --- |")
for case in ("omnigrok_mlp_b200", "emnist_mlp_b128"):
    g = next(r for r in rows if r["impl"] == "grokscope" and r["case"] == case)
    peers = [r for r in rows if r["impl"] == "pytorch" and r["case"] == case]
    best = min(peers, key=lambda r: r["ms_per_step"])
    print(f"| {case} | {g['ms_per_step']:.3f} | {g['gflops']:.1f} | {100 * g['gflops'] / sgemm:.0f}% | "
          f"{best['ms_per_step']:.3f} ({best['setting']}) | {best['ms_per_step'] / g['ms_per_step']:.2f}x |")
PY
rm -f "$out"
