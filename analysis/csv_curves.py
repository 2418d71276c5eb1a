#!/usr/bin/env python3
"""Curves of `grokscope run` CSV output (interim format, until the HDF5 results file).

usage: analysis/csv_curves.py OUT.png RUN.csv[:label] ...
Plots train/test accuracy and the total weight norm against log step and prints a markdown table
of the checkpoints nearest to 1e2, 1e3, 1e4, 2e4, 5e4, 1e5 steps. Needs Debian's python3-matplotlib.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, runs = sys.argv[1], []
    for arg in sys.argv[2:]:
        path, _, label = arg.partition(":")
        runs.append((label or path, load(path)))
    fig, (acc, norm) = plt.subplots(1, 2, figsize=(11, 4))
    for label, d in runs:
        steps = [max(s, 1) for s in d["step"]]
        line, = acc.plot(steps, d["test_accuracy"], label=f"{label} test")
        acc.plot(steps, d["train_accuracy"], "--", color=line.get_color(), label=f"{label} train")
        norm.plot(steps, d["weight_norm"], color=line.get_color(), label=label)
    for ax, ylabel in ((acc, "accuracy"), (norm, "total weight norm")):
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("| run | step | train acc | test acc | weight norm | wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, d in runs:
        for target in (1e2, 1e3, 3e3, 1e4, 2e4, 5e4, 1e5):
            i = min(range(len(d["step"])), key=lambda k: abs(d["step"][k] - target))
            print(f"| {label} | {int(d['step'][i])} | {d['train_accuracy'][i]:.3f} | "
                  f"{d['test_accuracy'][i]:.3f} | {d['weight_norm'][i]:.1f} | {d['wall_seconds'][i]:.0f} |")


if __name__ == "__main__":
    main()
