#!/usr/bin/python3
"""Checks of grokscope results files from Python (h5py + numpy), the way users read them.

  check_results.py contract FILE        the names of results-file.md exist, with definitions
  check_results.py compare A B          every dataset identical (NaN == NaN), timings excepted
  check_results.py kernel FILE          recompute ntk/train/distance_init from the stored kernels
  check_results.py status FILE RUN S    run RUN has status S and an error message if not done
"""
import sys

import h5py
import numpy as np

# Wall-clock values differ between any two executions; everything else must not.
def volatile(name):
    return name.endswith("/wall_seconds") or "/timing/" in name
# The stored config legitimately differs in the output path and the parallel layout (group size);
# the numbers must not.
VOLATILE_ATTRS = {"created_utc", "command_line", "merged_from", "config_yaml", "study_fingerprint"}


def contract(path):
    with h5py.File(path, "r") as f:
        for key in ("format", "format_version", "grokscope_version", "created_utc", "command_line", "config_yaml"):
            assert key in f.attrs, f"root attribute {key} missing"
        assert f.attrs["format"] == "grokscope"
        runs = list(f["runs"])
        assert runs and all(r.startswith("r") and len(r) == 7 for r in runs), runs
        for r in runs:
            g = f["runs"][r]
            C = g["steps"].shape[0]
            for key in ("dataset", "train_size", "width", "depth", "init_scale", "output_scale", "loss",
                        "optimizer", "lr", "weight_decay", "batch_size", "steps", "seed", "layers"):
                assert key in g.attrs, f"{r}: attribute {key} missing"
            for name in ("completed", "status", "error", "wall_seconds", "events/instability"):
                assert name in g, f"{r}: {name} missing"
            assert g["completed"][()] == C, f"{r}: completed {g['completed'][()]} of {C}"
            assert g["status"][()].decode() == "done"
            for m in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "weight_norm"):
                d = g["metrics"][m]
                assert d.shape == (C,) and "definition" in d.attrs and np.isfinite(d[()]).all(), m
            for probe in ("train", "test"):
                for m in ("distance_init", "distance_prev", "relative_change", "alignment", "effective_rank"):
                    d = g["ntk"][probe][m]
                    assert d.shape == (C,) and "definition" in d.attrs, (probe, m)
                # The first checkpoint has no previous kernel: NaN, never 0.
                assert np.isnan(g["ntk"][probe]["distance_prev"][0])
                assert np.isfinite(g["ntk"][probe]["distance_prev"][1:]).all()
            layers = g.attrs["layers"].split(",")
            assert layers and all(l in g["geometry"] for l in layers), layers
            P = f["manifolds"]["y"][()].max() + 1
            for l in layers:
                lg = g["geometry"][l]
                for m in ("capacity", "radius", "dimension", "center_correlation", "K"):
                    assert lg["mftma"][m].shape == (C,), (l, m)
                for m in ("capacity", "radius", "dimension"):
                    assert lg["mftma"]["per_manifold"][m].shape == (C, P), (l, m)
                for m in ("capacity", "radius", "dimension", "utility", "center_alignment", "axis_alignment",
                          "center_axis_alignment"):
                    assert lg["glue"][m].shape == (C,), (l, m)
                for m in ("participation_ratio", "probe_accuracy"):
                    assert lg[m].shape == (C,)
                cap = lg["mftma"]["capacity"][()]
                assert np.isfinite(cap).all() and (cap > 0).all(), (l, cap)
        for probe in ("train", "test"):
            x, y = f["probes"][probe]["x"], f["probes"][probe]["y"]
            assert x.ndim == 2 and y.shape == (x.shape[0],)
        assert f["manifolds"]["x"].shape[0] == f["manifolds"]["y"].shape[0]
    print(f"contract ok: {len(runs)} runs")


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def compare(a_path, b_path):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        da, db = datasets(a), datasets(b)
        assert sorted(da) == sorted(db), set(da) ^ set(db)
        for name in da:
            if volatile(name):
                continue
            x, y = da[name][()], db[name][()]
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                assert x.shape == y.shape and np.array_equal(x, y, equal_nan=True), f"{name} differs"
            else:
                assert np.array_equal(x, y), f"{name} differs: {x!r} vs {y!r}"
            for k in set(da[name].attrs) | set(db[name].attrs):
                assert np.array_equal(da[name].attrs[k], db[name].attrs[k]), f"{name}.attrs[{k}] differs"
        for k in set(a.attrs) - VOLATILE_ATTRS:
            x, y = a.attrs[k], b.attrs[k]
            assert x == y, f"root attribute {k} differs"
    print(f"identical: {len(da)} datasets")


def kernel(path):
    with h5py.File(path, "r") as f:
        g = f["runs"][list(f["runs"])[0]]
        K = g["ntk/train/kernel"][()].astype(np.float64)
        stored = g["ntk/train/distance_init"][()]
        k0 = K[0]
        for c in range(1, K.shape[0]):
            k = K[c]
            d = 1 - np.sum(k0 * k) / (np.linalg.norm(k0) * np.linalg.norm(k))
            # Kernels are stored as float32: agreement to float32 precision.
            assert abs(d - stored[c]) < 1e-5 + 1e-3 * abs(stored[c]), (c, d, stored[c])
    print(f"kernel distance recomputed at {K.shape[0] - 1} checkpoints; last {stored[-1]:.6g}")


def status(path, run, expected):
    with h5py.File(path, "r") as f:
        g = f["runs"][run]
        got = g["status"][()].decode()
        assert got == expected, f"{run}: status {got}, expected {expected}"
        if expected != "done":
            assert g["error"][()].decode(), f"{run}: no error message"
    print(f"{run}: {expected}")


if __name__ == "__main__":
    {"contract": contract, "compare": compare, "kernel": kernel, "status": status}[sys.argv[1]](*sys.argv[2:])
