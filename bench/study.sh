#!/usr/bin/env bash
# Distributed runs (see bench/README.md, "Distributed runs and the results file"):
#   1. strong scaling of one checkpoint's NTK + geometry work: one run, 1 rank vs a group of 2
#      ranks (NTK row blocks and geometry samples sharded), per-checkpoint seconds from the
#      file's timing/ datasets, and the check that both files hold identical numbers;
#   2. write throughput of the results file with kernels stored (bytes of the checkpoint's
#      hyperslabs / time in the results phase);
#   3. a whole small study end to end (configs/demo.yaml on 2 ranks): wall time and the share of
#      training, evaluation, NTK, geometry, results I/O and state saving.
# usage: bench/study.sh [WORKDIR]     (after env/build.sh; takes ~5 minutes on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=${1:-/tmp/grokscope-bench-study}
bin=build/release/grokscope
mpi=(env/mpiexec.sh)
rm -rf "$work"; mkdir -p "$work"

# One checkpoint's work at the seed's scale per probe (256 probes, 2560 x 2560 kernel) and
# 100 points per class for geometry on every layer, at 4 checkpoints (steps 0..3).
heavy=(configs/demo.yaml model.init_scale=8 train.steps=3 checkpoints.per_decade=1 "checkpoints.extra=[1,2]"
       metrics.ntk.probe_size=256 metrics.geometry.points_per_class=100 metrics.geometry.n_t=200
       metrics.ntk.store_kernels=true parallel.threads=1)
for round in 1 2; do
  "${mpi[@]}" -n 1 "$bin" run "${heavy[@]}" --out "$work/one_$round.h5" >/dev/null
  "${mpi[@]}" -n 2 "$bin" run "${heavy[@]}" parallel.group_size=2 --out "$work/two_$round.h5" >/dev/null
done
/usr/bin/python3 tests/integration/check_results.py compare "$work/one_1.h5" "$work/two_1.h5"

start=$(date +%s.%N)
"${mpi[@]}" -n 2 "$bin" run configs/demo.yaml --out "$work/demo.h5" >/dev/null
wall=$(echo "$(date +%s.%N) - $start" | bc)

/usr/bin/python3 - "$work" "$wall" <<'PY'
import sys, h5py, numpy as np
work, wall = sys.argv[1], float(sys.argv[2])
def timing(path):
    with h5py.File(path, "r") as f:
        run = f["runs"][list(f["runs"])[0]]
        t = {k: float(v[()]) for k, v in run["timing"].items()}
        C = int(run["completed"][()])
        nbytes = sum(d.dtype.itemsize * int(np.prod(d.shape[1:])) for d in _datasets(run) if d.shape and d.shape[0] == run["steps"].shape[0])
        return t, C, nbytes
def _datasets(group):
    for v in group.values():
        if isinstance(v, h5py.Group):
            yield from _datasets(v)
        else:
            yield v
best = {}
for kind in ("one", "two"):
    rounds = [timing(f"{work}/{kind}_{r}.h5") for r in (1, 2)]
    best[kind] = min(rounds, key=lambda x: x[0]["ntk"] + x[0]["geometry"])
(t1, C, nbytes), (t2, _, _) = best["one"], best["two"]
work1, work2 = (t1["ntk"] + t1["geometry"]) / C, (t2["ntk"] + t2["geometry"]) / C
print(f"per-checkpoint NTK+geometry: 1 rank {work1:.3f} s (ntk {t1['ntk']/C:.3f}, geometry {t1['geometry']/C:.3f}); "
      f"2 ranks {work2:.3f} s (ntk {t2['ntk']/C:.3f}, geometry {t2['geometry']/C:.3f}); speed-up {work1/work2:.2f}x")
print(f"results writes: {nbytes/1e6:.1f} MB per checkpoint in {t1['results']/C*1e3:.1f} ms = "
      f"{nbytes*C/max(t1['results'],1e-9)/1e6:.0f} MB/s (1 rank, kernels stored)")
with h5py.File(f"{work}/demo.h5", "r") as f:
    total = {}
    for r in f["runs"]:
        for k, v in f["runs"][r]["timing"].items():
            total[k] = total.get(k, 0.0) + float(v[()])
s = sum(total.values())
print(f"demo study (2 runs on 2 ranks): wall {wall:.1f} s; rank-seconds " +
      ", ".join(f"{k} {v:.1f} ({100*v/s:.0f}%)" for k, v in sorted(total.items(), key=lambda kv: -kv[1])))
PY
