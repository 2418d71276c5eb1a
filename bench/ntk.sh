#!/usr/bin/env bash
# Empirical NTK: grokscope's structured kernel vs functorch's vmap(jacrev) NTK (Debian's
# python3-torch 1.13, float32, 2 threads) on the same weights and probes, side by side.
# The peer runs first and writes the weights/probes; when it cannot hold a case in memory the
# script halves the probes until it can, and says so. Usage: bench/ntk.sh  (after env/build.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/results.jsonl
run_case() {  # CASE WIDTHS CLASSES N
  local case=$1 widths=$2 classes=$3 n=$4
  while (( n >= 16 )); do
    if /usr/bin/python3 "$root/bench/peer_ntk.py" "$work" "$case" "$widths" "$classes" "$n" >>"$out" 2>"$work/err"; then
      break
    fi
    echo "functorch could not compute $case with $n probes ($(tail -1 "$work/err")); halving" >&2
    n=$(( n / 2 ))
  done
  "$root/build/release/bench/bench_ntk" "$work" "$case" "$widths" "$classes" "$n" >>"$out"
  # grokscope at the full 256 probes too, when the peer needed fewer.
  if (( n < $4 )); then
    /usr/bin/python3 - "$work" "$case" "$widths" "$classes" "$4" <<'PY'
import sys, torch
work, case, widths, classes, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(1)
torch.rand(n, 784).numpy().astype("float32").tofile(f"{work}/{case}full.x.bin")
import glob, shutil
for f in glob.glob(f"{work}/{case}.param*.bin"):
    shutil.copy(f, f.replace(f"{case}.param", f"{case}full.param"))
PY
    "$root/build/release/bench/bench_ntk" "$work" "${case}full" "$widths" "$classes" "$4" >>"$out"
  fi
}
sgemm=$("$root/build/release/bench/bench_train_step" "$(nproc)" 1 | grep '"sgemm"')
run_case omnigrok 200,200 10 256
run_case emnist 128,512,128 47 256
/usr/bin/python3 - "$out" "$sgemm" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sgemm = json.loads(sys.argv[2])["gflops"]
print(f"sgemm rate under grokscope's thread policy: {sgemm:.1f} GFLOP/s\n")
print("| case | probes | kernel | functorch s | grokscope s | speed-up | max rel. diff of checked entries | GFLOP/s (% sgemm) | peak memory growth / float32 kernel |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for g in (r for r in rows if r["impl"] == "grokscope"):
    peer = next((r for r in rows if r["impl"] == "functorch" and r["case"] == g["case"]), None)
    if peer:
        flat = [v for row in peer["check_values"] for v in row]
        diff = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(g["check_values"], flat))
        ptime, ratio, diffs = f"{peer['seconds']:.2f}", f"{peer['seconds'] / g['seconds']:.0f}x", f"{diff:.1e}"
    else:
        ptime, ratio, diffs = "(could not hold it)", "-", "-"
    print(f"| {g['case']} | {g['n']} | {g['rows']}² | {ptime} | {g['seconds']:.3f} | {ratio} | {diffs} | "
          f"{g['gflops']:.1f} ({100 * g['gflops'] / sgemm:.0f}%) | {g['peak_growth_mb'] / g['kernel_mb']:.2f}x of {g['kernel_mb']:.0f} MB |")
PY
