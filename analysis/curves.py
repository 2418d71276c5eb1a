#!/usr/bin/python3
"""Curves of a grokscope results file: a table per run, and optionally a figure.

usage: analysis/curves.py RESULTS.h5 [--plot OUT.png] [--runs r000000,r000001] [--layer NAME]

The table lists, per completed checkpoint: step, train/test accuracy, weight norm, the NTK distance
to the run's first kernel (train probe) and the MFTMA capacity of one layer (default: the last
configured geometry layer). Needs Debian's python3-h5py, python3-numpy (and python3-matplotlib for
--plot).
"""
import argparse
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grokscope_analysis import load as gload  # noqa: E402


def series(run, path, count):
    return run[path][:count] if path in run else np.full(count, np.nan)


def load(f, run_id, layer):
    run = f["runs"][run_id]
    count = gload.completed_count(run)
    layers = [l for l in gload._text(run.attrs.get("layers", "")).split(",") if l]
    layer = layer or (layers[-1] if layers else None)
    return {
        "label": gload._text(run.attrs.get("label", run_id)),
        "status": gload._text(run["status"][()]),
        "layer": layer,
        "step": run["steps"][:count],
        "train_acc": series(run, "metrics/train_accuracy", count),
        "test_acc": series(run, "metrics/test_accuracy", count),
        "weight_norm": series(run, "metrics/weight_norm", count),
        "ntk_dist": series(run, "ntk/train/distance_init", count),
        "capacity": series(run, f"geometry/{layer}/mftma/capacity", count) if layer else np.full(count, np.nan),
    }


def table(curves):
    print(f"== {curves['label']} ({curves['status']}); capacity of layer {curves['layer']}")
    print(f"{'step':>8} {'train_acc':>9} {'test_acc':>9} {'weight_norm':>11} {'ntk_dist':>9} {'capacity':>9}")
    for i, step in enumerate(curves["step"]):
        print(f"{step:8d} {curves['train_acc'][i]:9.4f} {curves['test_acc'][i]:9.4f} "
              f"{curves['weight_norm'][i]:11.3f} {curves['ntk_dist'][i]:9.4f} {curves['capacity'][i]:9.4f}")


def plot(all_curves, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for c in all_curves:
        x = np.maximum(c["step"], 1)
        line, = axes[0].semilogx(x, c["test_acc"], label=f"{c['label']} test")
        axes[0].semilogx(x, c["train_acc"], "--", color=line.get_color(), label=f"{c['label']} train")
        axes[1].semilogx(x, c["weight_norm"], color=line.get_color())
        axes[2].semilogx(x, c["ntk_dist"], color=line.get_color())
        axes[3].semilogx(x, c["capacity"], color=line.get_color())
    for ax, title in zip(axes, ["accuracy", "weight norm", "NTK distance to init (train probe)",
                                "MFTMA capacity"]):
        ax.set_title(title)
        ax.set_xlabel("step (step 0 drawn at 1)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"figure: {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--plot")
    parser.add_argument("--runs")
    parser.add_argument("--layer")
    args = parser.parse_args()
    with h5py.File(args.results, "r") as f:
        ids = args.runs.split(",") if args.runs else gload.run_ids(f)
        all_curves = [load(f, r, args.layer) for r in ids]
    for c in all_curves:
        table(c)
    if args.plot:
        plot(all_curves, args.plot)


if __name__ == "__main__":
    main()
