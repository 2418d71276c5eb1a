"""Tests of analysis/grokscope_analysis and analysis/figures.py on a results file written by the real
program (conftest.results_file) and on small hand-made files."""
import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import REPO, grokscope_bin, grokscope_env, write_synthetic
from grokscope_analysis import figures, load, onset

PNG = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ loading


def test_tidy_rows_and_values_equal_h5py(results_file):
    tidy = load.load_tidy(results_file)
    with h5py.File(results_file, "r") as f:
        ids = sorted(f["runs"])
        assert len(ids) == 4
        expected_rows = 0
        for rid in ids:
            run = f["runs"][rid]
            n = int(run["completed"][()])
            assert n == 12 == run["steps"].shape[0]
            paths = load.metric_paths(f, rid)
            for must in ("metrics/test_accuracy", "metrics/train_accuracy", "ntk/train/distance_init",
                         "ntk/test/distance_init", "geometry/relu1/mftma/capacity", "geometry/logits/glue/radius"):
                assert must in paths
            assert not any(p.endswith("/kernel") or "/per_manifold/" in p for p in paths)
            expected_rows += n * len(paths)
            for path in paths:
                sub = tidy[(tidy.run_id == rid) & (tidy.metric == path)].sort_values("checkpoint")
                assert len(sub) == n
                np.testing.assert_array_equal(sub["step"].to_numpy(), run["steps"][:n])
                np.testing.assert_array_equal(sub["value"].to_numpy(), run[path][:n].astype(np.float64))
        assert len(tidy) == expected_rows
        assert tidy.groupby(["run_id", "checkpoint", "metric"]).size().max() == 1
    # hyperparameters as columns, parsed
    r4 = tidy[tidy.run_id == "r000002"]
    assert set(r4["model.init_scale"]) == {4} and set(r4["seed"]) == {0}
    assert set(r4["condition"]) == {"model.init_scale=4"}
    assert "train.weight_decay" in tidy.columns and "output.path" not in tidy.columns


def test_only_completed_checkpoints(synthetic_file):
    tidy = load.load_tidy(synthetic_file)
    assert tidy.groupby("run_id").size().to_dict() == {"r000000": 18, "r000001": 18, "r000002": 9}
    assert np.isfinite(tidy["value"]).all()
    assert sorted(tidy[tidy.run_id == "r000002"]["step"].unique()) == [0, 1, 10]
    runs = load.list_runs(synthetic_file).set_index("run_id")
    assert runs.loc["r000002", "completed"] == 3 and runs.loc["r000002", "status"] == "running"
    assert runs.loc["r000002", "last_step"] == 10 and runs.loc["r000000", "last_step"] == 10000
    steps, values = load.read_curve(synthetic_file, "r000002", "metrics/test_accuracy")
    assert list(steps) == [0, 1, 10] and np.isfinite(values).all()


def test_seed_counts_leave_out_runs_without_checkpoints():
    runs = pd.DataFrame({"run_id": ["r0", "r1", "r2"], "completed": [107, 3, 0]})
    assert figures.seeds_text(runs, ["r0", "r1", "r2"]) == "2 seeds of 3"
    assert figures.seeds_text(runs, ["r0", "r2"]) == "1 seed of 2"
    assert figures.seeds_text(runs, ["r0", "r1"]) == "2 seeds"


def test_conditions_group_the_seeds(results_file):
    runs = load.list_runs(results_file)
    conds = load.conditions(runs)
    assert list(conds["condition"]) == ["model.init_scale=1", "model.init_scale=4"]
    assert list(conds["run_ids"]) == [["r000000", "r000001"], ["r000002", "r000003"]]
    assert [sorted(s) for s in conds["seeds"]] == [[0, 1], [0, 1]]
    assert list(conds["init_scale"]) == [1, 4]
    assert list(conds["slug"]) == ["model.init_scale-1", "model.init_scale-4"]


def test_conditions_ignore_bookkeeping(synthetic_file):
    conds = load.conditions(synthetic_file)
    # seed 1 differs in output.path and parallel.threads too: still the same condition
    assert list(conds["condition"]) == ["model.init_scale=2", "model.init_scale=8"]
    assert list(conds["run_ids"]) == [["r000000", "r000001"], ["r000002"]]


def test_single_condition_is_all(tmp_path):
    runs = [{"id": f"r{i:06d}", "attrs": {"model.init_scale": "2", "seed": str(i)}, "steps": [0, 1, 2],
             "completed": 3, "metrics": {"metrics/test_accuracy": [0, 0.5, 1]}} for i in range(2)]
    path = write_synthetic(tmp_path / "one.h5", runs)
    assert list(load.conditions(path)["condition"]) == ["all"]


# ------------------------------------------------------------------ onsets


def log_grid(per_decade, decades):
    return np.unique(np.r_[0, np.round(10 ** (np.arange(per_decade * decades + 1) / per_decade))]).astype(np.int64)


def logistic(steps, mid, width):
    with np.errstate(divide="ignore"):
        x = np.log10(steps.astype(float))
    return 1.0 / (1.0 + np.exp(-(x - mid) / width))


def test_onset_logistic_known_midpoint():
    steps = log_grid(100, 6)
    y = 0.1 + 0.8 * logistic(steps, 3.0, 0.1)
    r = onset.rise(steps, y)
    assert r.status == onset.OK
    got = {f: math.log10(s) for f, s in r.steps().items()}
    assert got[0.5] == pytest.approx(3.0, abs=2e-3)
    assert got[0.1] == pytest.approx(3.0 - 0.1 * math.log(9), abs=2e-3)
    assert got[0.9] == pytest.approx(3.0 + 0.1 * math.log(9), abs=2e-3)


def test_onset_falling_curve():
    steps = log_grid(50, 5)
    y = 2.0 - 1.5 * logistic(steps, 2.5, 0.2)  # falls from 2 to 0.5 (like a dimension)
    r = onset.rise(steps, y)
    assert r.status == onset.OK and r.final_value < r.baseline
    assert math.log10(r.steps()[0.5]) == pytest.approx(2.5, abs=3e-3)
    assert r.steps()[0.1] < r.steps()[0.5] < r.steps()[0.9]


def test_onset_flat_and_transient_are_none():
    steps = log_grid(4, 4)
    for y in (np.full(len(steps), 0.3),                                   # nothing moved
              0.3 + 1e-12 * np.arange(len(steps)),                       # numerically nothing
              0.3 + 0.01 * np.random.default_rng(7).standard_normal(len(steps)),   # noise only
              0.3 + 0.5 * np.exp(-((np.arange(len(steps)) - 8.0) ** 2) / 4)):      # up and back down
        r = onset.rise(steps, y)
        assert r.status == onset.NO_RISE
        assert onset.onset_steps(steps, y) == {0.1: None, 0.5: None, 0.9: None}
    # too few points for the noise test: the transient rule alone (|change| 0.267 < 0.25 * range 1.1)
    assert onset.rise([0, 1, 10, 100], [0.0, -1.0, 0.1, 0.1]).status == onset.NO_RISE
    assert onset.rise([0, 1, 10, 100], [0.0, -0.2, 1.0, 1.0]).status == onset.OK  # 0.6 > 0.25 * 1.2


def test_onset_exact_interpolation():
    steps = [0, 1, 10, 100, 1000, 10000]
    y = [0.0, 0.0, 0.2, 1.0, 1.0, 1.0]  # y0 = 0, y1 = 1: p = y
    got = onset.onset_steps(steps, y)
    assert got[0.1] == pytest.approx(10 ** 0.5, rel=1e-12)          # between 1 (p 0) and 10 (p 0.2)
    assert got[0.5] == pytest.approx(10 ** 1.375, rel=1e-12)        # between 10 (0.2) and 100 (1)
    assert got[0.9] == pytest.approx(10 ** 1.875, rel=1e-12)
    # after step 0 the crossing is the next step; NaN points are left out
    assert onset.onset_steps([0, 10, 100, 1000], [0, 1, 1, 1]) == {0.1: 10.0, 0.5: 10.0, 0.9: 10.0}
    got = onset.onset_steps(steps, [0.0, np.nan, 0.2, 1.0, 1.0, 1.0])
    assert got[0.1] == 10.0 and got[0.5] == pytest.approx(10 ** 1.375, rel=1e-12)


def test_onset_undefined_with_too_few_points():
    assert onset.rise([0, 1], [0.0, 1.0], completed=1).status == onset.TOO_SHORT
    assert onset.onset_steps([0], [1.0]) == {0.1: None, 0.5: None, 0.9: None}
    assert onset.onset_steps([0, 1, 2], [np.nan, 0.5, np.nan])[0.5] is None
    # completed: only the valid prefix counts (here a rise that the invalid tail would hide)
    assert onset.onset_steps([0, 10, 100, 1000], [0, 1, 0, 0], completed=2)[0.5] == 10.0
    with pytest.raises(ValueError):
        onset.onset_steps([0, 5, 5], [0, 1, 2])


# ------------------------------------------------------------------ kernel heatmap


def test_kernel_distance_matrix_against_numpy(results_file):
    steps, s = figures.kernel_distance_matrix(results_file, "r000002", "train")
    with h5py.File(results_file, "r") as f:
        run = f["runs/r000002"]
        n = int(run["completed"][()])
        assert s.shape == (n, n) and list(steps) == list(run["steps"][:n])
        k = run["ntk/train/kernel"]
        k2, k7 = k[2].astype(np.float64), k[7].astype(np.float64)
        direct = 1 - np.sum(k2 * k7) / (np.linalg.norm(k2) * np.linalg.norm(k7))
        stored = run["ntk/train/distance_init"][:n]
    assert direct > 0.05
    assert s[2, 7] == pytest.approx(direct, rel=1e-9)
    np.testing.assert_allclose(s, s.T, rtol=0, atol=1e-12)
    assert np.all(np.diag(s) == 0) and np.all(s[~np.eye(n, dtype=bool)] > 0)
    # the program's own distance to the initial kernel is row 0
    np.testing.assert_allclose(s[0], stored, rtol=0, atol=1e-5)
    # reading in many small blocks gives the same matrix
    _, s_blocks = figures.kernel_distance_matrix(results_file, "r000002", "train", block_bytes=1)
    np.testing.assert_allclose(s_blocks, s, rtol=0, atol=1e-12)


def test_no_kernels_says_so(synthetic_file, tmp_path):
    with pytest.raises(figures.KernelsNotStored, match="store_kernels=true"):
        figures.kernel_distance_matrix(synthetic_file, "r000000", "train")
    with pytest.raises(figures.KernelsNotStored):
        figures.kernel_heatmap_figure(synthetic_file, "r000000", str(tmp_path / "h.png"))
    assert not (tmp_path / "h.png").exists()


def test_small_stored_kernels(tmp_path):
    runs = [{"id": "r000000", "attrs": {"seed": "0"}, "steps": [0, 1, 10, 100], "completed": 3,
             "metrics": {"metrics/test_accuracy": [0, 0.2, 0.9, 1]}}]
    path = write_synthetic(tmp_path / "k.h5", runs, kernels=True)
    steps, s = figures.kernel_distance_matrix(path, "r000000", "train")
    assert list(steps) == [0, 1, 10]  # only the completed checkpoints
    with h5py.File(path, "r") as f:
        k = f["runs/r000000/ntk/train/kernel"][:3].astype(np.float64).reshape(3, -1)
    want = 1 - (k @ k.T) / np.outer(np.linalg.norm(k, axis=1), np.linalg.norm(k, axis=1))
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(s, want, atol=1e-12)


# ------------------------------------------------------------------ figures and scripts


def assert_png(path, min_bytes=15000):
    data = open(path, "rb").read()
    assert data[:8] == PNG, path
    assert len(data) > min_bytes, (path, len(data))
    import matplotlib.image

    img = matplotlib.image.imread(path)
    assert img.shape[0] > 200 and img.shape[1] > 200 and float(img[..., :3].std()) > 0.01


def test_figures_script_writes_pngs(results_file, tmp_path):
    out = tmp_path / "figs"
    proc = subprocess.run([sys.executable, str(REPO / "analysis" / "figures.py"), str(results_file),
                           "--out", str(out), "--layers", "relu1,logits", "--probe", "train", "--onsets"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    printed = [l for l in proc.stdout.splitlines() if l.endswith(".png")]
    expected = ([f"curves_model.init_scale-{i}.png" for i in (1, 4)] +
                [f"kernel_heatmap_r00000{i}.png" for i in range(4)] + ["grid.png"])
    assert sorted(printed) == sorted(str(out / e) for e in expected)
    for e in expected:
        assert_png(out / e)
    assert "== model.init_scale=4: 50% onsets" in proc.stdout


def test_figures_without_kernels_or_geometry(synthetic_file, tmp_path):
    out = tmp_path / "figs"
    proc = subprocess.run([sys.executable, str(REPO / "analysis" / "figures.py"), str(synthetic_file),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "no kernel heatmaps: no run stores ntk/train/kernel" in proc.stdout
    assert not list(out.glob("kernel_heatmap_*"))
    for name in ("curves_model.init_scale-2.png", "curves_model.init_scale-8.png", "grid.png"):
        assert_png(out / name)
    bad = subprocess.run([sys.executable, str(REPO / "analysis" / "figures.py"), str(synthetic_file),
                          "--out", str(out), "--layers", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--layers: no layer nope" in bad.stderr


def test_curves_script_still_works(results_file, tmp_path):
    png = tmp_path / "curves.png"
    proc = subprocess.run([sys.executable, str(REPO / "analysis" / "curves.py"), str(results_file),
                           "--plot", str(png), "--runs", "r000000,r000002"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "== model.init_scale=1 seed=0 (done)" in proc.stdout and "r000001" not in proc.stdout
    assert len([l for l in proc.stdout.splitlines() if l.strip().startswith("300 ")]) == 2
    assert_png(png)


# ------------------------------------------------------------------ against the C++ report


@pytest.fixture(scope="session")
def report_json(results_file):
    exe = grokscope_bin()
    helptext = subprocess.run([exe, "report", "--help"], capture_output=True, text=True,
                              env=grokscope_env()).stdout
    if "--json" not in helptext:
        pytest.skip("`grokscope report` is still the placeholder (no --json option): rebuild the binary")
    proc = subprocess.run([exe, "report", str(results_file), "--json"], capture_output=True, text=True,
                          env=grokscope_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def same(mine, cpp):
    """Python value (None or NaN = undefined) against a JSON value (null = undefined); the JSON has
    12 significant digits."""
    if mine is not None and math.isnan(mine):
        mine = None
    if mine is None or cpp is None:
        return mine is None and cpp is None
    return math.isclose(mine, cpp, rel_tol=1e-10)


def test_onsets_match_cpp_report(results_file, report_json):
    table = onset.run_onsets(results_file)
    runs = {r["id"]: r for r in report_json["runs"]}
    assert sorted(runs) == sorted(table["run_id"].unique())
    assert report_json["fractions"] == list(onset.FRACTIONS)
    compared = defined = 0
    with h5py.File(results_file, "r") as f:
        for rid, r in runs.items():
            assert list(r["onsets"]) == onset.report_metrics(f["runs"][rid])  # same metrics, same order
            t50 = {}
            for metric, by_fraction in r["onsets"].items():
                steps, values = load.read_curve(f, rid, metric)
                py = onset.rise(steps, values)
                assert py.status == r["rise"][metric], (rid, metric)
                for key, cpp in by_fraction.items():
                    mine = py.steps()[float(key)]
                    assert same(mine, cpp), (rid, metric, key, mine, cpp)
                    compared += 1
                    defined += mine is not None
                t50[metric] = py.steps()[0.5]
            mine = onset.delays(t50)
            assert list(mine) == list(r["delays"])
            for k, v in r["delays"].items():
                assert same(mine[k], v), (rid, k, mine[k], v)
            assert r["condition"] == table[table.run_id == rid]["condition"].iloc[0]
    assert compared == 4 * 10 * 3 and 0 < defined < compared  # some defined, some not (glue flat)


def test_condition_onsets_match_cpp_report(results_file, report_json):
    conds = load.conditions(results_file)
    assert [c["condition"] for c in report_json["conditions"]] == list(conds["condition"])
    assert [c["runs"] for c in report_json["conditions"]] == list(conds["run_ids"])
    mine = onset.condition_onsets(results_file).set_index(["condition", "metric"])
    for c in report_json["conditions"]:
        for metric, s in c["onsets"].items():
            row = mine.loc[(c["condition"], metric)]
            assert row["n"] == s["n"], (c["condition"], metric)
            assert same(row["median"], s["median"]), (c["condition"], metric, row["median"], s["median"])


def test_results_tables_lay_out_the_report(results_file, report_json, tmp_path):
    """analysis/results_tables.py prints the report's own numbers: every condition's test-accuracy
    50% onset median and its delay, and one row per run."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_json))
    layers = ",".join(k.split("/")[1] for k in report_json["runs"][0]["onsets"] if k.endswith("/mftma/capacity"))
    assert layers, "the fixture study computes geometry"
    proc = subprocess.run([sys.executable, str(REPO / "analysis" / "results_tables.py"), str(path), "--layers", layers],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for c in report_json["conditions"]:
        rows = [line for line in lines if line.startswith(f"| {c['condition']} |")]
        assert len(rows) == 4, rows  # onsets, 10% and 90%, delays
        test = c["onsets"]["metrics/test_accuracy"]
        if test["median"] is not None:
            assert f"{test['median']:.3g} [{test['low']:.3g}, {test['high']:.3g}] ({test['n']})" in rows[0]
    for r in report_json["runs"]:
        assert sum(line.startswith(f"| {r['id']} |") for line in lines) == 1


def test_results_tables_curves_at_steps_are_seed_medians(results_file, report_json, tmp_path):
    """--results/--steps: each cell is the median over the condition's done runs of the value at the
    last checkpoint at or before the step, recomputed here with h5py and numpy."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_json))
    layers = [k.split("/")[1] for k in report_json["runs"][0]["onsets"] if k.endswith("/mftma/capacity")]
    with h5py.File(results_file, "r") as f:
        schedule = f["runs"][sorted(f["runs"])[0]]["steps"][:]
    between = int(schedule[-1]) - 1  # not a checkpoint: must read the one before it
    assert between not in schedule
    proc = subprocess.run([sys.executable, str(REPO / "analysis" / "results_tables.py"), str(path),
                           "--layers", ",".join(layers), "--results", str(results_file),
                           "--steps", f"0,{between},{int(schedule[-1])}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    with h5py.File(results_file, "r") as f:
        for c in report_json["conditions"]:
            ids = [r["id"] for r in report_json["runs"] if r["condition"] == c["condition"] and r["status"] == "done"]
            row = [line for line in lines if line.startswith(f"| {c['condition']} | test accuracy |")]
            assert len(row) == 1, lines
            cells = [x.strip() for x in row[0].strip("|").split("|")][2:]
            for cell_text, step in zip(cells, [0, between, int(schedule[-1])]):
                k = int(np.searchsorted(schedule, step, side="right")) - 1
                expected = np.median([f["runs"][rid]["metrics/test_accuracy"][k] for rid in ids])
                assert cell_text == f"{expected:.3g}", (c["condition"], step, cell_text, expected)
