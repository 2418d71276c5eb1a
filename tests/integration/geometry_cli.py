#!/usr/bin/python3
"""`grokscope geometry` on real files made with numpy/h5py: the same numbers from .npy and HDF5
input and from 1 and 2 MPI ranks; ragged manifolds with labels; the JSON fields the issue names;
every bad input a clear error with a non-zero exit (never a hang or a silent NaN).

usage: geometry_cli.py GROKSCOPE WORKDIR
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np

binary, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
P, M, N = 6, 30, 40
centers = rng.normal(size=(P, 1, N))
clouds = centers + 0.3 * rng.normal(size=(P, M, N)) / np.sqrt(N)


def path(name):
    return os.path.join(work, name)


def run(args, ranks=1, expect=0):
    cmd = ["mpiexec", "-n", str(ranks), binary, "geometry", *args] if ranks > 1 else [binary, "geometry", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == expect, f"{args}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}"
    return p


def result(args, ranks=1):
    out = json.loads(run([*args, "--json", "--n-t", "50", "--methods", "mftma,glue"], ranks).stdout)
    for key in ("capacity", "radius", "dimension", "center_correlation", "K", "per_manifold", "glue"):
        assert key in out, f"JSON lacks {key}"
    assert len(out["per_manifold"]["capacity"]) == out["P"]
    for key in ("capacity", "radius", "dimension", "utility", "center_alignment", "axis_alignment",
                "center_axis_alignment"):
        assert key in out["glue"], f"JSON glue lacks {key}"
    return out


def numbers(out):
    return {k: v for k, v in out.items() if k not in ("seconds", "ranks")}


np.save(path("clouds.npy"), clouds)
np.save(path("clouds32.npy"), clouds.astype(np.float32))
with h5py.File(path("clouds.h5"), "w") as f:
    f["layer/acts"] = clouds
    f["flat/x"] = clouds.reshape(P * M, N)
    f["flat/y"] = np.repeat(np.arange(P), M)

a = result([path("clouds.npy")])
assert 0 < a["capacity"] < 2 and a["P"] == P, a
b = result([path("clouds.h5"), "--dataset", "layer/acts"])
assert numbers(a) == numbers(b), "npy and HDF5 inputs differ"
c = result([path("clouds.h5"), "--dataset", "flat/x", "--labels", "flat/y"])
assert numbers(a) == numbers(c), "(P,M,N) and (n,N)+labels differ"
two = result([path("clouds.npy")], ranks=2)
assert two["ranks"] == 2 and numbers(a) == numbers(two), "1 and 2 ranks differ"
f32 = result([path("clouds32.npy")])
assert abs(f32["capacity"] - a["capacity"]) < 1e-4 * a["capacity"], "float32 input far from float64"

# Ragged manifolds: different sizes per label, through .npy labels.
sizes = [10, 20, 30, 15]
x = np.concatenate([rng.normal(size=(1, N)) + 0.2 * rng.normal(size=(s, N)) / np.sqrt(N) for s in sizes])
np.save(path("ragged_x.npy"), x)
np.save(path("ragged_y.npy"), np.repeat(np.arange(len(sizes)), sizes).astype(np.int64))
r = result([path("ragged_x.npy"), "--labels", path("ragged_y.npy")])
assert r["P"] == len(sizes)

# --out writes the same numbers to HDF5.
run([path("clouds.npy"), "--n-t", "50", "--out", path("geometry_out.h5")])
with h5py.File(path("geometry_out.h5"), "r") as f:
    assert f["mftma/capacity"][0] == a["capacity"]
    assert f["mftma/per_manifold/capacity"].shape == (P,)

# Duplicate points are valid input with a documented meaning, not an error: a manifold of one
# repeated point is a point manifold (finite numbers, capacity near Cover's 2 for that manifold);
# a point shared by two manifolds makes every dichotomy that splits them inseparable, which the
# simulated capacity sees (it falls to its smallest value) and the mean-field MFTMA does not.
def full(name):
    out = json.loads(run([path(name), "--json", "--n-t", "50", "--methods", "mftma,glue,simcap"]).stdout)
    flat = [out["capacity"], out["glue"]["capacity"], out["simcap"]["capacity"], *out["per_manifold"]["capacity"]]
    assert all(np.isfinite(flat)), f"{name}: {out}"
    return out
repeated, shared = clouds.copy(), clouds.copy()
repeated[1] = repeated[1, 0]
shared[3, 0] = shared[4, 0]
np.save(path("dup_repeated.npy"), repeated)
np.save(path("dup_shared.npy"), shared)
clean, rep, sh = full("clouds.npy"), full("dup_repeated.npy"), full("dup_shared.npy")
assert rep["per_manifold"]["capacity"][1] > 1.5, rep["per_manifold"]["capacity"]
assert sh["simcap"]["capacity"] < 0.5 * clean["simcap"]["capacity"], (sh["simcap"], clean["simcap"])
assert sh["capacity"] > 0.5 * clean["capacity"], (sh["capacity"], clean["capacity"])

# Bad input: one clear line naming the problem, exit 2 (usage) or 3 (unreadable file).
bad = clouds.copy()
bad[2, 3, 4] = np.nan
np.save(path("nan.npy"), bad)
np.save(path("vector.npy"), np.zeros(5))
np.save(path("one_feature.npy"), clouds[:, :, :1])
np.save(path("one_manifold.npy"), clouds[:1])
np.save(path("one_point.npy"), clouds[:, :1, :])
np.save(path("fortran.npy"), np.asfortranarray(clouds[0]))
np.save(path("short_y.npy"), np.zeros(7, dtype=np.int64))
# Manifolds centred at s+c, s-c and exactly s, the global mean (its points are ±noise pairs).
d = clouds[0] - clouds[0].mean(0)
noise = 0.1 * rng.normal(size=(M // 2, N))
c = rng.normal(size=N)
np.save(path("center_at_mean.npy"), np.stack([c + d, -c - d, np.concatenate([noise, -noise])]) + centers[0])
with open(path("truncated.npy"), "wb") as fh:
    fh.write(open(path("clouds.npy"), "rb").read()[:1000])
cases = [
    ([path("nan.npy")], 2, "NaN or infinite"),
    ([path("vector.npy")], 2, "expected a (P, M, N) array"),
    ([path("one_feature.npy")], 2, "at least 2 features"),
    ([path("one_manifold.npy")], 2, "at least 2 manifolds"),
    ([path("one_point.npy")], 2, "has 1 point(s)"),
    ([path("center_at_mean.npy")], 2, "is at the mean of all centers"),
    ([path("fortran.npy"), "--labels", path("short_y.npy")], 3, "Fortran-ordered"),
    ([path("ragged_x.npy"), "--labels", path("short_y.npy")], 2, "7 labels for 75 points"),
    ([path("truncated.npy")], 3, "truncated .npy data"),
    ([path("clouds.h5"), "--dataset", "nope"], 3, "no dataset 'nope'"),
    ([path("missing.npy")], 3, "cannot open the file"),
    ([path("clouds.npy"), "--kappa", "0.5"], 2, "only kappa = 0"),
    ([path("clouds.npy"), "--methods", "mftma,pca"], 2, "unknown method 'pca'"),
]
for args, code, message in cases:
    p = run(args, expect=code)
    assert message in p.stderr, f"{args}: stderr lacks '{message}':\n{p.stderr}"
    assert "nan" not in p.stdout.lower(), p.stdout
print(f"geometry CLI ok: capacity {a['capacity']:.4f}, GLUE {a['glue']['capacity']:.4f}, {len(cases)} bad inputs")
