#!/usr/bin/env bash
# Geometry engines side by side. MFTMA: grokscope (`grokscope geometry FILE.npy --methods mftma`,
# 1 and 2 MPI ranks, and bench_geometry for the engine time without process start-up) against
# bench/peer_mftma.py (the reference algorithm: a cvxopt QP per Gaussian sample, 1 BLAS thread),
# on the same Gaussian clouds, with the numbers compared. GLUE and simulated capacity: grokscope
# alone (no peer here). Usage: bench/geometry.sh [ROUNDS]  (after env/build.sh; default 3 rounds;
# the peer on the 47-manifold shape runs once per mode and takes minutes). At most 2 processes run
# at a time. Set GEOMETRY_BENCH_KEEP=DIR to keep the inputs and the raw JSON lines in DIR.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
if [[ -n "${GEOMETRY_BENCH_KEEP:-}" ]]; then
  work=$GEOMETRY_BENCH_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
py=/usr/bin/python3
peer=$root/bench/peer_mftma.py
grokscope=$root/build/release/grokscope
bench=$root/build/release/bench/bench_geometry
out=$work/results.jsonl
: >"$out"
now() { date +%s.%N; }
# timed LABEL SHAPE CMD...: appends {"label", "shape", "wall" (whole process, s), "out" (the
# command's last JSON line)} to the results.
timed() {
  local label=$1 shape=$2 t0 t1 line
  shift 2
  t0=$(now)
  line=$("$@" | grep '^{' | tail -1)
  t1=$(now)
  printf '{"label": "%s", "shape": "%s", "wall": %s, "out": %s}\n' "$label" "$shape" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" "$line" >>"$out"
  echo "  $label $shape: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" >&2
}

# Inputs: bench_geometry's own clouds (the same RandomStream draws, seed 1), written as .npy.
declare -A dims=([p10]="10 100 512" [p47]="47 200 512")
for s in p10 p47; do
  # shellcheck disable=SC2086
  "$py" "$peer" gen "$work/$s.npy" ${dims[$s]}
done
# Two manifolds alone (P = 2: no center subspace to remove) for the solver-only comparison.
"$py" -c "import numpy as np; np.save('$work/pair.npy', np.load('$work/p10.npy')[:2])"

echo "MFTMA, grokscope (CLI and bench_geometry, 1 and 2 ranks, interleaved)" >&2
for s in p10 p47; do
  for ((r = 0; r < rounds; ++r)); do
    timed cli1 $s "$grokscope" geometry "$work/$s.npy" --methods mftma --n-t 200 --json
    timed cli2 $s mpiexec -n 2 "$grokscope" geometry "$work/$s.npy" --methods mftma --n-t 200 --json
  done
  # shellcheck disable=SC2086
  {
    timed bench1 $s "$bench" mftma ${dims[$s]} 200 "$rounds"
    timed bench2 $s mpiexec -n 2 "$bench" mftma ${dims[$s]} 200 "$rounds"
    timed bench1 $s "$bench" mftma ${dims[$s]} 200 "$rounds"
    timed bench2 $s mpiexec -n 2 "$bench" mftma ${dims[$s]} 200 "$rounds"
    timed fixed1 $s "$bench" mftma ${dims[$s]} 1 "$rounds"  # n_t = 1: center subspace + reduction
  }
done

echo "MFTMA, the peer" >&2
for ((r = 0; r < (rounds < 3 ? rounds : 3); ++r)); do
  timed peer p10 "$py" "$peer" run "$work/p10.npy" --n-t 200
done
timed peer p47 "$py" "$peer" run "$work/p47.npy" --n-t 200
# The same t vectors as grokscope's: the reference's QP as it is, the QP with tight tolerances, and
# the peer's own NNLS in place of the QP.
timed peer_same_t p10 "$py" "$peer" run "$work/p10.npy" --n-t 200 --t-source grokscope --check-every 10
timed peer_same_t p47 "$py" "$peer" run "$work/p47.npy" --n-t 200 --t-source grokscope --check-every 20
timed peer_same_t_tight p10 "$py" "$peer" run "$work/p10.npy" --n-t 200 --t-source grokscope --qp-tol 1e-12
timed peer_same_t_nnls p10 "$py" "$peer" run "$work/p10.npy" --n-t 200 --t-source grokscope --solver nnls
timed cli1 pair "$grokscope" geometry "$work/pair.npy" --methods mftma --n-t 200 --json
timed peer_same_t pair "$py" "$peer" run "$work/pair.npy" --n-t 200 --t-source grokscope
timed peer_same_t_tight pair "$py" "$peer" run "$work/pair.npy" --n-t 200 --t-source grokscope --qp-tol 1e-12
timed peer_same_t_nnls pair "$py" "$peer" run "$work/pair.npy" --n-t 200 --t-source grokscope --solver nnls

echo "GLUE and simulated capacity, grokscope only" >&2
for s in p10 p47; do
  for m in glue simcap; do
    reps=$rounds
    [[ $s == p47 && $m == simcap ]] && reps=1  # ~45 s a run on one rank
    # shellcheck disable=SC2086
    timed "${m}1" $s "$bench" $m ${dims[$s]} 200 "$reps"
    # shellcheck disable=SC2086
    timed "${m}2" $s mpiexec -n 2 "$bench" $m ${dims[$s]} 200 "$reps"
  done
done

"$py" - "$out" "$rounds" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds = int(sys.argv[2])
def pick(label, shape):
    return [r for r in rows if r["label"] == label and r["shape"] == shape]
def rng(values, fmt="{:.3f}"):
    lo, hi = min(values), max(values)
    return fmt.format(lo) if len(values) == 1 or fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)} – {fmt.format(hi)}"
names = {"p10": "P=10, M=100, N=512", "p47": "P=47, M=200, N=512"}

print(f"\nMFTMA timings, n_t = 200, seconds (best; range over {rounds} rounds where repeated)\n")
print("| shape | peer compute (QP) | peer process | grokscope engine 1 rank | engine 2 ranks | 1→2 rank speed-up | "
      "engine n_t=1 (center subspace + reduction) | grokscope CLI 1 rank: process (in-engine) | CLI 2 ranks: process (in-engine) | "
      "peer / engine | peer process / CLI process |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s in ("p10", "p47"):
    peer = pick("peer", s)
    pc = [r["out"]["seconds"]["compute"] for r in peer]
    pw = [r["wall"] for r in peer]
    b1 = [r["out"]["seconds"] for r in pick("bench1", s)]
    b2 = [r["out"]["seconds"] for r in pick("bench2", s)]
    fx = [r["out"]["seconds"] for r in pick("fixed1", s)]
    c1, c2 = pick("cli1", s), pick("cli2", s)
    c1w, c1s = [r["wall"] for r in c1], [r["out"]["seconds"] for r in c1]
    c2w, c2s = [r["wall"] for r in c2], [r["out"]["seconds"] for r in c2]
    print(f"| {names[s]} | {rng(pc, '{:.2f}')} | {rng(pw, '{:.2f}')} | {rng(b1)} | {rng(b2)} | "
          f"{min(b1) / min(b2):.2f}× (in-engine CLI: {min(c1s) / min(c2s):.2f}×) | {rng(fx)} | "
          f"{rng(c1w, '{:.2f}')} ({rng(c1s)}) | {rng(c2w, '{:.2f}')} ({rng(c2s)}) | "
          f"{min(pc) / min(b1):.0f}× | {min(pw) / min(c1w):.1f}× |")
    ident = {r["out"]["capacity"] for r in pick("cli1", s) + pick("cli2", s)}
    print(f"|   | capacity identical over all CLI runs, 1 and 2 ranks: {len(ident) == 1}; "
          f"peer: {peer[0]['out']['qp_solves']} QPs + {peer[0]['out']['shortcut_samples']} s⁰ shortcuts, "
          f"center subspace {min(r['out']['seconds']['center_subspace'] for r in peer):.2f} s, K = {peer[0]['out']['K']} (grokscope K = {c1[0]['out']['K']}) |")

print("\nMFTMA agreement, independent t vectors (peer: numpy's generator; grokscope: its keyed streams). "
      "z = difference / (√2 × the peer's standard error over its n_t draws)\n")
print("| shape | quantity | peer | grokscope | rel. diff | z |")
print("| --- | --- | --- | --- | --- | --- |")
for s in ("p10", "p47"):
    p, g = pick("peer", s)[0]["out"], pick("cli1", s)[0]["out"]
    for q in ("capacity", "radius", "dimension"):
        z = (p[q] - g[q]) / (math.sqrt(2) * p["se"][q])
        print(f"| {names[s]} | {q} | {p[q]:.5f} | {g[q]:.5f} | {abs(p[q] - g[q]) / abs(g[q]):.1e} | {z:+.2f} |")
    print(f"| {names[s]} | ρ_c | {p['center_correlation']:.6f} | {g['center_correlation']:.6f} | "
          f"{abs(p['center_correlation'] - g['center_correlation']) / g['center_correlation']:.1e} | (deterministic) |")

print("\nMFTMA agreement, the SAME t vectors: largest relative difference from grokscope over the per-manifold values\n")
print("| input | peer solver | capacity | radius | dimension | peer anchors: QP vs own NNLS (max abs, checked samples) |")
print("| --- | --- | --- | --- | --- | --- |")
labels = {"peer_same_t": "cvxopt QP, default tolerances (the reference)", "peer_same_t_tight": "cvxopt QP, tolerances 1e-12",
          "peer_same_t_nnls": "the peer's own Lawson–Hanson NNLS"}
for s, name in (("p10", names["p10"]), ("p47", names["p47"]), ("pair", "manifolds 0–1 of P=10 alone (no center subspace)")):
    g = pick("cli1", s)[0]["out"]["per_manifold"]
    for label in labels:
        for r in pick(label, s):
            p = r["out"]["per_manifold"]
            d = {q: max(abs(a - b) / abs(b) for a, b in zip(p[q], g[q])) for q in ("capacity", "radius", "dimension")}
            chk = r["out"].get("qp_vs_nnls")
            chk = f"{chk['max_abs_anchor_diff']:.1e} ({chk['checked']})" if chk else "–"
            print(f"| {name} | {labels[label]} | {d['capacity']:.1e} | {d['radius']:.1e} | {d['dimension']:.1e} | {chk} |")

print("\nGLUE and simulated capacity (bench_geometry, engine time, seconds; no peer here)\n")
print("| method | shape | 1 rank | 2 ranks | 1→2 rank speed-up | capacity | second number |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for m in ("glue", "simcap"):
    for s in ("p10", "p47"):
        a, b = pick(m + "1", s)[0]["out"], pick(m + "2", s)[0]["out"]
        key = "dimension" if m == "glue" else "critical_dimension"
        same = "" if a["capacity"] == b["capacity"] else f" (2 ranks: {b['capacity']:.6f})"
        print(f"| {m} | {names[s]} | {a['seconds']:.3f} | {b['seconds']:.3f} | {a['seconds'] / b['seconds']:.2f}× | "
              f"{a['capacity']:.6f}{same} | {key} {a[key]:.4f} |")
PY
