"""Figures of a grokscope results file (matplotlib, Agg backend, PNG).

- `curves_figure`: one multi-panel figure per condition: train/test accuracy, NTK distance to the
  run's own initial kernel (every probe), weight norm, MFTMA capacity/dimension/radius and GLUE
  capacity/dimension/radius of the chosen layers, against step on a shared symlog axis. Lines are the
  median over the condition's seeds, bands the min-max over seeds (a single seed is just its line);
  triangles mark each curve's 50% onset (median over seeds), the grey dotted line the test-accuracy
  50% onset.
- `kernel_distance_matrix` / `kernel_heatmap_figure`: the pairwise kernel distance between all
  valid checkpoints, S(K1,K2) = 1 - <K1,K2>_F / (|K1|_F |K2|_F), from the stored kernels
  `ntk/<probe>/kernel` (only with `metrics.ntk.store_kernels: true`; else `KernelsNotStored`).
- `grid_figure`: one small panel per condition: test and train accuracy, NTK distance on a twin axis.

Step axis: matplotlib's symlog with linthresh 1 (linear on [0, 1], logarithmic above), so the step-0
checkpoint is drawn at 0 and every other checkpoint at its true log position.
"""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from . import load, onset  # noqa: E402

STEP_LABEL = "step (symlog: linear on [0, 1], log above)"
LAYER_COLORS = plt.get_cmap("tab10").colors


class KernelsNotStored(LookupError):
    """The run has no `ntk/<probe>/kernel` dataset (the study ran without store_kernels)."""


def _step_tick(v, _pos=None):
    if v <= 0:
        return "0"
    k = math.log10(v)
    if abs(k - round(k)) > 1e-9:
        return ""
    return f"{v:g}" if v < 1e4 else f"1e{round(k)}"


def set_step_axis(ax):
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_step_tick))


# ---------------------------------------------------------------- aggregation over seeds


def seed_band(tidy: pd.DataFrame, condition: str, metric: str, band: str = "minmax") -> pd.DataFrame:
    """Per step over the condition's runs: median, lo, hi (min/max, or quartiles with band='iqr'),
    n (runs with a valid value). Empty when the metric is absent."""
    sub = tidy[(tidy["condition"] == condition) & (tidy["metric"] == metric)]
    if sub.empty:
        return pd.DataFrame(columns=["step", "median", "lo", "hi", "n"])
    wide = sub.pivot_table(index="step", columns="run_id", values="value", aggfunc="first", dropna=False)
    wide = wide.sort_index()
    if band == "iqr":
        lo, hi = wide.quantile(0.25, axis=1), wide.quantile(0.75, axis=1)
    else:
        lo, hi = wide.min(axis=1), wide.max(axis=1)
    return pd.DataFrame({"step": wide.index.to_numpy(), "median": wide.median(axis=1).to_numpy(),
                         "lo": lo.to_numpy(), "hi": hi.to_numpy(),
                         "n": wide.notna().sum(axis=1).to_numpy()})


def seeds_with_data(runs: pd.DataFrame, run_ids) -> int:
    """How many of the runs have at least one checkpoint (a study still running has runs without)."""
    return int((runs.loc[runs["run_id"].isin(list(run_ids)), "completed"] > 0).sum())


def seeds_text(runs: pd.DataFrame, run_ids) -> str:
    """'3 seeds', or '1 seed of 5' while some of the condition's runs have no checkpoint yet."""
    n, total = seeds_with_data(runs, run_ids), len(list(run_ids))
    return f"{n} seed{'s' if n != 1 else ''}" + (f" of {total}" if n < total else "")


def condition_onset(tidy: pd.DataFrame, condition: str, metric: str, fraction: float = 0.5):
    """Median over the condition's runs of their onset steps (runs with no onset are left out), over
    the runs with status 'done' as `grokscope report` does, or over all runs while none is done;
    None when no run has one."""
    sub = tidy[(tidy["condition"] == condition) & (tidy["metric"] == metric)]
    if "status" in sub.columns and (sub["status"] == "done").any():
        sub = sub[sub["status"] == "done"]
    found = []
    for _, g in sub.groupby("run_id", sort=False):
        g = g.sort_values("checkpoint")
        s = onset.onset_steps(g["step"].to_numpy(), g["value"].to_numpy(), fractions=(fraction,))[fraction]
        if s is not None:
            found.append(s)
    return onset._median(found) if found else None


def _value_at(step, xs, ys):
    """The median curve at an onset step, interpolated in log10(step) (steps > 0 only)."""
    keep = (xs > 0) & np.isfinite(ys)
    if not keep.any():
        return np.nan
    return float(np.interp(math.log10(step), np.log10(xs[keep]), ys[keep]))


def draw_band(ax, tidy, condition, metric, color, label, style="-", mark_onset=True, band="minmax"):
    """Median line (and band over seeds) of one metric; a triangle at its 50% onset. Returns the onset."""
    b = seed_band(tidy, condition, metric, band)
    if b.empty or not np.isfinite(b["median"].to_numpy(dtype=float)).any():
        return None
    x = b["step"].to_numpy(dtype=float)
    med = b["median"].to_numpy(dtype=float)
    ax.plot(x, med, style, color=color, lw=1.6, label=label)
    if (b["n"] > 1).any():
        ax.fill_between(x, b["lo"].to_numpy(dtype=float), b["hi"].to_numpy(dtype=float),
                        color=color, alpha=0.18, lw=0)
    t = condition_onset(tidy, condition, metric) if mark_onset else None
    if t is not None:
        ax.plot([t], [_value_at(t, x, med)], marker="v", ms=8, color=color, mec="black", mew=0.8,
                ls="none", zorder=5)
    return t


# ---------------------------------------------------------------- per-condition curves


def _layers(runs: pd.DataFrame, run_ids, layers):
    if layers:
        return list(layers)
    attr = runs.set_index("run_id").loc[run_ids[0]].get("layers", "")
    return [l for l in str(attr).split(",") if l and l != "nan"]


def _probes(tidy):
    ps = sorted({m.split("/")[1] for m in tidy["metric"].unique() if m.startswith("ntk/")})
    return sorted(ps, key=lambda p: (p != "train", p))


def curves_figure(src, condition: str, out: str, layers=None, tidy=None, runs=None, band="minmax"):
    """Write the multi-panel curves figure of one condition to `out`; returns `out`."""
    runs = load.list_runs(src) if runs is None else runs
    tidy = load.load_tidy(src, attributes=False) if tidy is None else tidy
    run_ids = list(runs.loc[runs["condition"] == condition, "run_id"])
    if not run_ids:
        raise KeyError(f"no condition {condition!r}; the file has: {sorted(runs['condition'].unique())}")
    tidy = tidy[tidy["condition"] == condition]
    layers = _layers(runs, run_ids, layers)
    present = set(tidy["metric"].unique())
    has_glue = any(f"geometry/{l}/glue/capacity" in present for l in layers)

    panels = [("accuracy", "accuracy"), ("ntk", "NTK distance to own init kernel"),
              ("weight_norm", "total weight norm")]
    for method in ["mftma"] + (["glue"] if has_glue else []):
        for q, name in (("capacity", "capacity"), ("dimension", "effective dimension"),
                        ("radius", "effective radius")):
            panels.append((f"{method}/{q}", f"{method.upper()} {name}"))
    ncols = 3
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.3 * nrows), sharex=True, squeeze=False)
    axes_flat = axes.ravel()
    test_onset = condition_onset(tidy, condition, "metrics/test_accuracy")
    for ax, (key, title) in zip(axes_flat, panels):
        drawn = 0
        if key == "accuracy":
            for metric, color, style, lab in (("metrics/train_accuracy", "C0", "--", "train"),
                                              ("metrics/test_accuracy", "C3", "-", "test")):
                drawn += draw_band(ax, tidy, condition, metric, color, lab, style, band=band) is not None \
                    or metric in present
            ax.set_ylim(-0.02, 1.02)
        elif key == "ntk":
            for i, probe in enumerate(_probes(tidy)):
                metric = f"ntk/{probe}/distance_init"
                if metric in present:
                    draw_band(ax, tidy, condition, metric, f"C{i + 4}", f"{probe} probe", band=band)
                    drawn += 1
        elif key == "weight_norm":
            if "metrics/weight_norm" in present:
                draw_band(ax, tidy, condition, "metrics/weight_norm", "C2", "all parameters", band=band)
                drawn += 1
        else:
            for i, layer in enumerate(layers):
                metric = f"geometry/{layer}/{key}"
                if metric in present:
                    draw_band(ax, tidy, condition, metric, LAYER_COLORS[i % 10], layer, band=band)
                    drawn += 1
        if test_onset is not None:
            ax.axvline(test_onset, color="0.5", ls=":", lw=1.2)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        set_step_axis(ax)
        if drawn:
            ax.legend(fontsize=7, loc="best")
        else:
            ax.text(0.5, 0.5, "not in this file", ha="center", va="center", transform=ax.transAxes,
                    color="0.4")
    for ax in axes_flat[len(panels):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(STEP_LABEL, fontsize=8)
        ax.xaxis.set_tick_params(labelbottom=True)
    n = seeds_with_data(runs, run_ids)
    what = seeds_text(runs, run_ids)
    if n > 1:
        what += f": median, band = {'IQR' if band == 'iqr' else 'min-max'} over seeds"
    fig.suptitle(f"{condition}  ({what})", fontsize=12)
    handles = [Line2D([], [], marker="v", color="0.3", mec="black", ls="none", ms=8,
                      label="50% onset (median over seeds)"),
               Line2D([], [], color="0.5", ls=":", label="test-accuracy 50% onset")]
    if n > 1:
        handles.append(Patch(color="0.3", alpha=0.18, label="seed band"))
    fig.legend(handles=handles, loc="lower right", fontsize=8, ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------- pairwise kernel distance


def kernel_distance_matrix(src, run_id: str, probe: str = "train", block_bytes: int = 1 << 27):
    """(steps, S) over the run's valid checkpoints: S[i, j] = 1 - <K_i,K_j>_F/(|K_i|_F |K_j|_F) from
    `ntk/<probe>/kernel` (C, nK, nK). Read in row blocks (bounded memory), accumulated in float64.
    Raises KernelsNotStored when the run has no stored kernels for that probe."""
    with load.open_results(src) as f:
        run = f["runs"][run_id]
        path = f"ntk/{probe}/kernel"
        if path not in run:
            probes = sorted(run["ntk"]) if "ntk" in run else []
            raise KernelsNotStored(
                f"run {run_id} has no stored kernels ({path} missing; probes in the file: "
                f"{', '.join(probes) or 'none'}): rerun with metrics.ntk.store_kernels=true")
        n = load.completed_count(run)
        steps = run["steps"][:n].astype(np.int64)
        kernel = run[path]
        nk = kernel.shape[1]
        gram = np.zeros((n, n))
        rows = max(1, int(block_bytes // max(1, n * nk * 8)))
        for r0 in range(0, nk, rows):
            block = kernel[:n, r0:r0 + rows, :].astype(np.float64).reshape(n, -1)
            gram += block @ block.T
    norms = np.sqrt(np.diag(gram))
    with np.errstate(invalid="ignore", divide="ignore"):
        s = 1.0 - gram / np.outer(norms, norms)
    np.fill_diagonal(s, np.where(norms > 0, 0.0, np.nan))
    return steps, s


def kernel_heatmap_figure(src, run_id: str, out: str, probe: str = "train", runs=None, tidy=None):
    """Write the pairwise kernel-distance heatmap of one run; returns `out`.
    Raises KernelsNotStored (nothing written) when kernels were not stored."""
    steps, s = kernel_distance_matrix(src, run_id, probe)
    if len(steps) == 0:
        raise KernelsNotStored(f"run {run_id} has no completed checkpoint yet: no kernels to compare")
    runs = load.list_runs(src) if runs is None else runs
    row = runs.set_index("run_id").loc[run_id]
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    im = ax.imshow(s, cmap="viridis", origin="upper", vmin=0.0, interpolation="nearest")
    n = len(steps)
    every = max(1, math.ceil(n / 16))
    ticks = list(range(0, n, every))
    ax.set_xticks(ticks, [str(steps[i]) for i in ticks], rotation=60, fontsize=7)
    ax.set_yticks(ticks, [str(steps[i]) for i in ticks], fontsize=7)
    ax.set_xlabel("checkpoint step")
    ax.set_ylabel("checkpoint step")
    # the test-accuracy 50% onset, placed between checkpoints by its log step
    if tidy is None:
        tidy = load.load_tidy(src, metrics="metrics/test_accuracy", runs=[run_id], attributes=False)
    g = tidy[(tidy["run_id"] == run_id) & (tidy["metric"] == "metrics/test_accuracy")].sort_values("step")
    t = onset.onset_steps(g["step"].to_numpy(), g["value"].to_numpy(), fractions=(0.5,))[0.5] \
        if not g.empty else None
    if t is not None and (steps > 0).sum() >= 2:
        idx = np.arange(n)[steps > 0]
        pos = float(np.interp(math.log10(t), np.log10(steps[steps > 0]), idx))
        ax.axvline(pos, color="white", ls="--", lw=1)
        ax.axhline(pos, color="white", ls="--", lw=1)
        ax.set_xlabel(f"checkpoint step   (white dashed: test-accuracy 50% onset, step {t:.3g})")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(r"$S(K_i,K_j)=1-\langle K_i,K_j\rangle_F/(\|K_i\|_F\|K_j\|_F)$", fontsize=8)
    ax.set_title(f"pairwise NTK distance, {probe} probe\n{run_id}: {row.get('label', run_id)}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------- grid overview


def _grid_columns(conds: pd.DataFrame, runs: pd.DataFrame) -> int:
    n = len(conds)
    labels = conds["condition"].tolist()
    # the last varying key of the labels (least significant grid axis) gives the columns
    keys = [tok.split("=", 1)[0] for tok in labels[0].split(" ") if "=" in tok] if labels else []
    if keys:
        last = keys[-1]
        values = {dict(t.split("=", 1) for t in lab.split(" ") if "=" in t).get(last) for lab in labels}
        if 1 < len(values) <= 6 and n % len(values) == 0:
            return len(values)
    return max(1, math.ceil(math.sqrt(n)))


def grid_figure(src, out: str, probe: str = "train", tidy=None, runs=None, band="minmax"):
    """Write the overview (one panel per condition); returns `out`."""
    runs = load.list_runs(src) if runs is None else runs
    metrics = ["metrics/train_accuracy", "metrics/test_accuracy", f"ntk/{probe}/distance_init"]
    tidy = load.load_tidy(src, metrics=metrics, attributes=False) if tidy is None else tidy
    conds = load.conditions(runs)
    ncols = _grid_columns(conds, runs)
    nrows = math.ceil(len(conds) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False,
                             sharex=True, sharey=True)
    twins = []
    for ax, (_, c) in zip(axes.ravel(), conds.iterrows()):
        cond = c["condition"]
        draw_band(ax, tidy, cond, "metrics/test_accuracy", "C3", "test accuracy", band=band)
        draw_band(ax, tidy, cond, "metrics/train_accuracy", "C0", "train accuracy", "--", band=band)
        ax.set_ylim(-0.02, 1.02)
        set_step_axis(ax)
        ax.grid(True, alpha=0.3)
        tw = ax.twinx()
        draw_band(tw, tidy, cond, f"ntk/{probe}/distance_init", "C4", f"NTK distance ({probe})", band=band)
        tw.tick_params(axis="y", colors="C4", labelsize=7)
        twins.append(tw)
        ax.set_title(f"{cond}\n({seeds_text(runs, c['run_ids'])})", fontsize=8)
        ax.tick_params(labelsize=7)
    top = max([tw.get_ylim()[1] for tw in twins] + [1e-3])
    for tw in twins:
        tw.set_ylim(0, top)
    for ax in axes.ravel()[len(conds):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("step (symlog)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy", fontsize=8)
    if twins:
        twins[-1].set_ylabel("NTK distance to init", color="C4", fontsize=8)
    handles = [Line2D([], [], color="C3", label="test accuracy"),
               Line2D([], [], color="C0", ls="--", label="train accuracy"),
               Line2D([], [], color="C4", label=f"NTK distance to own init ({probe} probe, right axis)"),
               Line2D([], [], marker="v", color="0.3", mec="black", ls="none", label="50% onset")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"grid overview: median over seeds, band {'IQR' if band == 'iqr' else 'min-max'} over seeds; "
                 f"step 0 at 0", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------- everything at once


def write_all(src, out_dir: str, layers=None, probe: str = "train", heatmap_runs=None, band="minmax",
              log=print):
    """Curves per condition, a heatmap per run with stored kernels, the grid. Returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    runs = load.list_runs(src)
    tidy = load.load_tidy(src, attributes=False)
    written = []
    for _, c in load.conditions(runs).iterrows():
        written.append(curves_figure(src, c["condition"], os.path.join(out_dir, f"curves_{c['slug']}.png"),
                                     layers=layers, tidy=tidy, runs=runs, band=band))
        log(written[-1])
    ids = list(runs["run_id"]) if heatmap_runs is None else list(heatmap_runs)
    missing = []
    for rid in ids:
        try:
            written.append(kernel_heatmap_figure(src, rid, os.path.join(out_dir, f"kernel_heatmap_{rid}.png"),
                                                 probe=probe, runs=runs, tidy=tidy))
            log(written[-1])
        except KernelsNotStored as e:
            missing.append((rid, str(e)))
    if missing:
        if len(missing) == len(ids) and all("store_kernels" in msg for _, msg in missing):
            log(f"no kernel heatmaps: no run stores ntk/{probe}/kernel "
                f"(the study ran without metrics.ntk.store_kernels=true)")
        else:
            for _, msg in missing:
                log(f"no kernel heatmap: {msg}")
    written.append(grid_figure(src, os.path.join(out_dir, "grid.png"), probe=probe, tidy=tidy, runs=runs,
                               band=band))
    log(written[-1])
    return written
