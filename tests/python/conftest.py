"""Fixtures for the analysis tests: a small results file written by the real `grokscope run`, and
small hand-made files for the cases a real run does not produce (incomplete runs, no kernels).

Environment: GROKSCOPE_BIN (default <repo>/build/release/grokscope), GROKSCOPE_DATA_DIR (default
<repo>/data). Run with Debian's interpreter: /usr/bin/python3 -m pytest -q tests/python
"""
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "analysis"))

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def grokscope_bin() -> str:
    return os.environ.get("GROKSCOPE_BIN") or str(REPO / "build" / "release" / "grokscope")


def grokscope_env() -> dict:
    env = dict(os.environ, **MPI_ENV)
    env.setdefault("GROKSCOPE_DATA_DIR", str(REPO / "data"))
    return env


@pytest.fixture(scope="session")
def results_file(tmp_path_factory):
    """tiny.yaml (model.init_scale 1 and 4) x 2 seeds, kernels stored: 4 runs, 12 checkpoints."""
    exe = grokscope_bin()
    if not os.access(exe, os.X_OK):
        pytest.fail(f"grokscope binary not found at {exe} (set GROKSCOPE_BIN or build it)")
    out = tmp_path_factory.mktemp("results") / "t.h5"
    cmd = [exe, "run", str(REPO / "tests" / "integration" / "tiny.yaml"), "metrics.ntk.store_kernels=true",
           "seeds=2", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env=grokscope_env(), capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    yield out
    out.unlink(missing_ok=True)  # ~390 MB with kernels: pytest keeps its last temporary folders


def write_synthetic(path, runs, kernels=False):
    """A minimal results file by hand. `runs`: list of dicts with id, attrs (str -> str), steps,
    completed, status and metrics {path: values}; NaN after `completed`, as the program writes."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "grokscope"
        f.attrs["format_version"] = 1
        for r in runs:
            g = f.create_group(f"runs/{r['id']}")
            for k, v in r["attrs"].items():
                g.attrs[k] = v
            steps = np.asarray(r["steps"], dtype=np.int64)
            g["steps"] = steps
            g["completed"] = np.int64(r["completed"])
            g["status"] = np.bytes_(r.get("status", "done"))
            for m, values in r["metrics"].items():
                v = np.array(values, dtype=np.float64)
                v[r["completed"]:] = np.nan
                g[m] = v
            if kernels:
                rng = np.random.default_rng(0)
                g["ntk/train/kernel"] = rng.standard_normal((len(steps), 6, 6)).astype(np.float32)
    return path


@pytest.fixture()
def synthetic_file(tmp_path):
    """Three runs over a 2 x 1 grid: r000000/r000001 are seeds 0/1 of (init 2, wd 0.01), r000002
    seed 0 of (init 8, wd 0.01) and only 3 of its 6 checkpoints are complete (status running)."""
    steps = [0, 1, 10, 100, 1000, 10000]
    base = {"model.init_scale": "2", "init_scale": "2", "train.weight_decay": "0.01", "weight_decay": "0.01",
            "layers": "relu1,logits", "output.path": "/x/a.h5", "parallel.threads": "0"}
    runs = []
    for i, (init, seed, completed, status) in enumerate([("2", "0", 6, "done"), ("2", "1", 6, "done"),
                                                         ("8", "0", 3, "running")]):
        attrs = dict(base, **{"model.init_scale": init, "init_scale": init, "seed": seed,
                              "label": f"model.init_scale={init} seed={seed}"})
        if seed == "1":
            attrs["output.path"] = "/x/b.h5"  # written by another shard: not part of the condition
            attrs["parallel.threads"] = "2"
        ramp = np.array([0.1, 0.1, 0.2, 0.9, 1.0, 1.0]) + 0.01 * i
        runs.append({"id": f"r{i:06d}", "attrs": attrs, "steps": steps, "completed": completed,
                     "status": status,
                     "metrics": {"metrics/test_accuracy": ramp, "metrics/train_accuracy": ramp[::-1].copy(),
                                 "ntk/train/distance_init": np.linspace(0, 0.5, 6)}})
    return write_synthetic(tmp_path / "synthetic.h5", runs)
