"""Load a grokscope results file into pandas.

A run group `/runs/<id>` holds the run's resolved hyperparameters as string attributes (dotted config
keys such as `model.init_scale`, short aliases such as `init_scale`, and bookkeeping: `seed`, `label`,
`inputs`, `output.path`, `parallel.*`), the checkpoint schedule `steps` (C,), the scalar `completed`
(how many checkpoints are valid) and one (C,) dataset per metric. Only the first `completed`
checkpoints are ever returned here; later entries are NaN placeholders.

- `run_attributes(src)`: {run_id: {attr: raw string}}
- `list_runs(src)`: one row per run (status, completed, seed, condition, parsed attributes)
- `conditions(src_or_runs)`: one row per condition (grid point over seeds) with its run ids
- `load_tidy(src)`: one row per run x valid checkpoint x metric
- `read_curve(src, run_id, metric)`: (steps, values) of the valid checkpoints
- `metric_paths(src, run_id)`: the per-checkpoint metric datasets of a run
"""
from __future__ import annotations

import contextlib
import fnmatch
import re

import h5py
import numpy as np
import pandas as pd

# Attributes that differ between the seeds of one grid point or between the jobs (shards) that wrote
# one study, and so never separate two conditions.
BOOKKEEPING = frozenset({"seed", "label", "inputs", "output.path", "train.log_every_seconds"})
BOOKKEEPING_PREFIXES = ("parallel.", "output.")

# Run-group members that are not per-checkpoint metrics.
NOT_METRICS = ("steps", "completed", "status", "error", "wall_seconds", "timing", "events", "params")

RUN_COLUMNS = ["run_id", "condition", "seed", "status", "completed", "n_checkpoints", "last_step"]


def is_bookkeeping(key: str) -> bool:
    return key in BOOKKEEPING or key.startswith(BOOKKEEPING_PREFIXES)


@contextlib.contextmanager
def open_results(src):
    """Yield an open h5py.File for a path, or the file itself if one is given (left open)."""
    if isinstance(src, (h5py.File, h5py.Group)):
        yield src
    else:
        with h5py.File(src, "r") as f:
            yield f


def _text(value) -> str:
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(value)


def parse_value(text: str):
    """'4' -> 4, '0.001' -> 0.001, 'true' -> True; anything else (lists, names) stays a string."""
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def run_ids(src) -> list[str]:
    with open_results(src) as f:
        return sorted(f["runs"]) if "runs" in f else []


def run_attributes(src) -> dict[str, dict[str, str]]:
    """{run_id: {attribute: raw string value}} in run-id order."""
    with open_results(src) as f:
        return {rid: {k: _text(v) for k, v in f["runs"][rid].attrs.items()} for rid in run_ids(f)}


def completed_count(run: h5py.Group) -> int:
    """Valid checkpoints of a run: its `completed` scalar, clipped to the schedule length."""
    n = int(run["completed"][()]) if "completed" in run else 0
    return max(0, min(n, run["steps"].shape[0]))


def _condition_labels(attrs: dict[str, dict[str, str]], single: str = "all") -> dict[str, str]:
    """Condition label of every run, exactly as `grokscope report` names conditions: runs are
    grouped by all their non-bookkeeping attributes; a condition is named `key=value ...` by the
    dotted keys whose values differ between conditions, in key order (all differing keys when only
    undotted aliases differ or the dotted ones do not tell conditions apart); `single` ("all") when
    the file holds one condition. A missing attribute reads as ''."""
    groups: dict[tuple, list[str]] = {}
    for rid, a in attrs.items():
        key = tuple(sorted((k, v) for k, v in a.items() if not is_bookkeeping(k)))
        groups.setdefault(key, []).append(rid)
    if len(groups) <= 1:
        return {rid: single for rid in attrs}
    conds = [dict(k) for k in groups]
    keys = sorted({k for c in conds for k in c})
    varying = [k for k in keys if any(c.get(k, "") != conds[0].get(k, "") for c in conds)]
    dotted = [k for k in varying if "." in k]

    def names(use):
        return [" ".join(f"{k}={c.get(k, '')}" for k in use) for c in conds]

    labels = names(dotted or varying)
    if len(set(labels)) != len(labels):
        labels = names(varying)
    return {rid: label for label, members in zip(labels, groups.values()) for rid in members}


def condition_slug(label: str) -> str:
    """A file-name-safe form of a condition label: `model.init_scale=4` -> `model.init_scale-4`."""
    slug = re.sub(r"=", "-", label.strip())
    slug = re.sub(r"[^A-Za-z0-9._+-]+", "_", slug)
    return slug.strip("_") or "all"


def list_runs(src) -> pd.DataFrame:
    """One row per run: run_id, condition, seed, status, completed, n_checkpoints, last_step (the step
    of the last valid checkpoint, NaN if none), then every attribute of the run group (values parsed
    to int/float/bool where they are numbers; the raw strings are in `run_attributes`)."""
    with open_results(src) as f:
        attrs = run_attributes(f)
        labels = _condition_labels(attrs)
        rows = []
        for rid, a in attrs.items():
            run = f["runs"][rid]
            n = completed_count(run)
            steps = run["steps"][:]
            row = {
                "run_id": rid,
                "condition": labels[rid],
                "seed": parse_value(a["seed"]) if "seed" in a else np.nan,
                "status": _text(run["status"][()]) if "status" in run else "",
                "completed": n,
                "n_checkpoints": int(steps.shape[0]),
                "last_step": int(steps[n - 1]) if n > 0 else np.nan,
            }
            for k, v in a.items():
                if k not in row:
                    row[k] = parse_value(v)
            rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else RUN_COLUMNS)


def conditions(src_or_runs) -> pd.DataFrame:
    """One row per condition (grid point over seeds), in order of first run id: condition, slug,
    run_ids (list), seeds (list), n_runs, and the attributes shared by its runs."""
    runs = src_or_runs if isinstance(src_or_runs, pd.DataFrame) else list_runs(src_or_runs)
    out = []
    for label, g in runs.groupby("condition", sort=False):
        row = {"condition": label, "slug": condition_slug(label), "run_ids": list(g["run_id"]),
               "seeds": list(g["seed"]), "n_runs": len(g)}
        for col in runs.columns:
            if col in RUN_COLUMNS or is_bookkeeping(col) or col in row:
                continue
            vals = g[col].tolist()
            if all(v == vals[0] for v in vals):
                row[col] = vals[0]
        out.append(row)
    return pd.DataFrame(out)


def metric_paths(src, run_id: str) -> list[str]:
    """Paths (inside the run group) of the per-checkpoint float datasets of shape (C,): metrics/...,
    ntk/<probe>/..., geometry/<layer>/... Per-manifold (C, P) arrays and kernels are not included."""
    with open_results(src) as f:
        run = f["runs"][run_id]
        count = run["steps"].shape[0]
        found = []

        def visit(name, obj):
            if name.split("/", 1)[0] in NOT_METRICS:
                return
            if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and obj.shape[0] == count \
                    and obj.dtype.kind == "f":
                found.append(name)

        run.visititems(visit)
    return sorted(found)


def _select(paths, metrics):
    if metrics is None:
        return paths
    pats = [metrics] if isinstance(metrics, str) else list(metrics)
    return [p for p in paths if any(fnmatch.fnmatchcase(p, pat) for pat in pats)]


def read_curve(src, run_id: str, metric: str):
    """(steps, values) of one metric of one run, valid checkpoints only (values float64)."""
    with open_results(src) as f:
        run = f["runs"][run_id]
        n = completed_count(run)
        return run["steps"][:n].astype(np.int64), run[metric][:n].astype(np.float64)


def load_tidy(src, metrics=None, runs=None, attributes=True) -> pd.DataFrame:
    """One row per run x valid checkpoint x metric.

    Columns: run_id, condition, seed, status, checkpoint (index in the schedule), step, metric (the
    dataset path inside the run group, e.g. `ntk/train/distance_init`), value, then (with
    `attributes`) every non-bookkeeping attribute of the run plus `label`, parsed.
    `metrics`: None for all per-checkpoint metrics, else paths or fnmatch patterns
    (`geometry/*/mftma/capacity`). `runs`: run ids to load (default all).
    """
    with open_results(src) as f:
        table = list_runs(f)
        if runs is not None:
            table = table[table["run_id"].isin(list(runs))]
        parts = {k: [] for k in ("run_id", "checkpoint", "step", "metric", "value")}
        for rid in table["run_id"]:
            run = f["runs"][rid]
            n = completed_count(run)
            if n == 0:
                continue
            steps = run["steps"][:n].astype(np.int64)
            for path in _select(metric_paths(f, rid), metrics):
                parts["run_id"].append(np.full(n, rid, dtype=object))
                parts["checkpoint"].append(np.arange(n, dtype=np.int64))
                parts["step"].append(steps)
                parts["metric"].append(np.full(n, path, dtype=object))
                parts["value"].append(run[path][:n].astype(np.float64))
    if parts["run_id"]:
        tidy = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
    else:
        tidy = pd.DataFrame({k: pd.Series(dtype=d) for k, d in
                             (("run_id", object), ("checkpoint", np.int64), ("step", np.int64),
                              ("metric", object), ("value", np.float64))})
    keep = ["run_id", "condition", "seed", "status"]
    if attributes:
        keep += [c for c in table.columns
                 if c not in RUN_COLUMNS and (not is_bookkeeping(c) or c == "label")]
    tidy = tidy.merge(table[keep], on="run_id", how="left")
    first = ["run_id", "condition", "seed", "status", "checkpoint", "step", "metric", "value"]
    return tidy[first + [c for c in tidy.columns if c not in first]]
