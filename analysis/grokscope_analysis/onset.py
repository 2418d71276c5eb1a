"""Onset steps of a curve on the log-step axis, exactly as `grokscope report` computes them
(include/grokscope/report/onset.hpp, src/report/onset.cpp; metrics.md §6).

The rule. Input: the steps and values of a run's valid checkpoints (the first `completed`).
 1. Non-finite values are left out (NaN = not computed at that checkpoint). n = points left;
    n < 2: undefined ("too_short").
 2. Baseline y0 = first value; final y1 = mean of the last min(3, n) values; Δ = y1 − y0
    (negative for a falling curve).
 3. Undefined ("no_rise") when |Δ| <= 1e-9·max(1, |y0|) (nothing moved), or |Δ| < 0.25·(max y − min y)
    (a transient: the curve wanders more than it ends up moving), or, with n >= 5, |Δ| < 4·σ̂ where
    σ̂ = ½(median|Δ¹y|/(0.6745·√2) + median|Δ²y|/(0.6745·√6)) (robust white-noise scales from first
    and second differences).
 4. p_i = (y_i − y0)/Δ; the onset at fraction f is at the first point i with p_i >= f, linearly
    interpolated in x = log10(step) between points i−1 and i; when step_{i−1} is 0 it is step_i.

Functions: `rise(steps, values)` (everything, like the C++ `Rise`), `onset_steps(...)` ({f: step or
None}), `report_metrics(run)` (the metric paths the report times), `run_onsets(src)` (a tidy
table of every run's onsets), `condition_onsets(src)` (median of the 50% onsets over the "done"
runs of each condition), `delays(...)`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import load

FRACTIONS = (0.1, 0.5, 0.9)
TOO_SHORT, NO_RISE, OK = "too_short", "no_rise", "ok"


def fraction_key(f: float) -> str:
    """The JSON key of a fraction: 0.1 -> '0.1', 0.5 -> '0.5'."""
    return f"{f:g}"


@dataclass
class Rise:
    status: str = TOO_SHORT
    baseline: float = math.nan     # y0
    final_value: float = math.nan  # y1
    noise: float = 0.0             # σ̂ (0 when fewer than 5 points)
    # per fraction: (onset step, step before, step after) or None
    onsets: dict = field(default_factory=dict)

    def steps(self):
        """{fraction: onset step or None}"""
        return {f: (o[0] if o is not None else None) for f, o in self.onsets.items()}


def _median(values) -> float:
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = len(v)
    if n == 0:
        return math.nan
    return float(v[n // 2]) if n % 2 else 0.5 * (float(v[n // 2 - 1]) + float(v[n // 2]))


def _difference_noise(y: np.ndarray, order: int) -> float:
    d = np.abs(np.diff(y, n=order))
    return _median(d) / (0.6745 * (math.sqrt(2.0) if order == 1 else math.sqrt(6.0)))


def rise(steps, values, fractions=FRACTIONS, completed=None) -> Rise:
    """The report's onset computation for one curve (see the module docstring)."""
    steps = np.asarray(steps, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if steps.shape != values.shape or steps.ndim != 1:
        raise ValueError(f"onset: {steps.size} steps but {values.size} values")
    if completed is not None:
        steps, values = steps[:int(completed)], values[:int(completed)]
    if (steps < 0).any():
        raise ValueError(f"onset: negative step {int(steps[steps < 0][0])}")
    if len(steps) > 1 and (np.diff(steps) <= 0).any():
        raise ValueError("onset: steps do not increase")
    for f in fractions:
        if not (0 < f <= 1):
            raise ValueError(f"onset: fraction {f} is not in (0, 1]")
    out = Rise(onsets={f: None for f in fractions})
    keep = np.isfinite(values)
    x = steps[keep].astype(np.float64)
    y = values[keep]
    n = len(y)
    if n < 2:
        return out
    tail = min(3, n)
    y1 = 0.0
    for v in y[n - tail:]:
        y1 += float(v)
    y1 /= float(tail)
    y0 = float(y[0])
    delta = y1 - y0
    out.baseline, out.final_value = y0, y1
    if n >= 5:
        out.noise = 0.5 * (_difference_noise(y, 1) + _difference_noise(y, 2))
    change = abs(delta)
    spread = float(np.max(y)) - float(np.min(y))
    if change <= 1e-9 * max(1.0, abs(y0)) or change < 0.25 * spread or change < 4 * out.noise:
        out.status = NO_RISE
        return out
    out.status = OK
    p = [(float(v) - y0) / delta for v in y]
    for f in fractions:
        i = 1
        while i < n and p[i] < f:
            i += 1
        if i == n:
            continue
        before, after = int(x[i - 1]), int(x[i])
        if x[i - 1] <= 0:
            out.onsets[f] = (float(x[i]), before, after)
            continue
        t = (f - p[i - 1]) / (p[i] - p[i - 1])
        l0, l1 = math.log10(x[i - 1]), math.log10(x[i])
        out.onsets[f] = (math.pow(10.0, l0 + t * (l1 - l0)), before, after)
    return out


def onset_steps(steps, values, fractions=FRACTIONS, completed=None) -> dict:
    """{fraction: onset step (float) or None} of one curve (valid checkpoints only)."""
    return rise(steps, values, fractions, completed).steps()


def _split_list(text: str) -> list[str]:
    """'relu1,logits' and the YAML flow list '[train, test]' alike."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:]
    if text.endswith("]"):
        text = text[:-1]
    return [t.strip() for t in text.split(",") if t.strip()]


def report_metrics(run) -> list[str]:
    """The metric paths `grokscope report` times for a run group, in its order, those present:
    train and test accuracy, ntk/<probe>/distance_init (configured probes first, then any others in
    the file), and per layer of the `layers` attribute mftma/capacity, glue/dimension, mftma/dimension."""
    paths = ["metrics/train_accuracy", "metrics/test_accuracy"]
    probes = _split_list(load._text(run.attrs.get("metrics.ntk.probes", "")))
    if "ntk" in run:
        probes += [p for p in run["ntk"] if p not in probes]
    paths += [f"ntk/{p}/distance_init" for p in probes]
    for layer in _split_list(load._text(run.attrs.get("layers", ""))):
        for q in ("mftma/capacity", "glue/dimension", "mftma/dimension"):
            paths.append(f"geometry/{layer}/{q}")
    return [p for p in paths if p in run]


def run_onsets(src, metrics=None, fractions=FRACTIONS) -> pd.DataFrame:
    """One row per run x metric x fraction: run_id, condition, seed, status (of the run), metric,
    rise ('ok' | 'no_rise' | 'too_short'), fraction, onset (step or NaN), before, after.
    `metrics`: None for the report's metrics (`report_metrics`), 'all' for every per-checkpoint
    metric, or a list of paths."""
    rows = []
    with load.open_results(src) as f:
        runs = load.list_runs(f)
        for _, r in runs.iterrows():
            run = f["runs"][r["run_id"]]
            n = load.completed_count(run)
            steps = run["steps"][:n]
            if metrics is None:
                paths = report_metrics(run)
            elif metrics == "all":
                paths = load.metric_paths(f, r["run_id"])
            else:
                paths = [p for p in metrics if p in run]
            for path in paths:
                res = rise(steps, run[path][:n].astype(np.float64), fractions)
                for fr in fractions:
                    o = res.onsets[fr]
                    rows.append({"run_id": r["run_id"], "condition": r["condition"], "seed": r["seed"],
                                 "status": r["status"], "metric": path, "rise": res.status,
                                 "fraction": fr, "onset": o[0] if o else math.nan,
                                 "before": o[1] if o else -1, "after": o[2] if o else -1})
    return pd.DataFrame(rows, columns=["run_id", "condition", "seed", "status", "metric", "rise", "fraction",
                                       "onset", "before", "after"])


def delays(onsets_50: dict) -> dict:
    """The report's delays from one run's 50% onsets {metric: step or None}, in its order:
    'test_over_train' = t(test accuracy)/t(train accuracy), then '<metric>_over_test' = t(metric)/
    t(test accuracy) for every metric but test accuracy. NaN when a side is undefined."""
    def ratio(a, b):
        return a / b if a is not None and b is not None and a > 0 and b > 0 else math.nan

    test = onsets_50.get("metrics/test_accuracy")
    out = {"test_over_train": ratio(test, onsets_50.get("metrics/train_accuracy"))}
    for m, t in onsets_50.items():
        if m != "metrics/test_accuracy":
            out[f"{m}_over_test"] = ratio(t, test)
    return out


def condition_onsets(src=None, table: pd.DataFrame | None = None, fraction: float = 0.5) -> pd.DataFrame:
    """Per condition and metric: median of the runs' onsets at `fraction` over the condition's runs
    with status 'done' (as the report does), and n = the number of those runs with a defined onset."""
    table = run_onsets(src, fractions=(fraction,)) if table is None else table
    t = table[(table["fraction"] == fraction) & (table["status"] == "done")]
    rows = []
    for (cond, metric), g in t.groupby(["condition", "metric"], sort=False):
        vals = g["onset"].dropna().to_numpy()
        rows.append({"condition": cond, "metric": metric, "median": _median(vals), "n": len(vals)})
    return pd.DataFrame(rows, columns=["condition", "metric", "median", "n"])
