#!/usr/bin/python3
"""Figures of a grokscope results file, written as PNGs into one folder.

usage: analysis/figures.py RESULTS.h5 --out DIR [--layers relu1,logits] [--probe train]
                           [--heatmap-runs r000000,r000002] [--band minmax|iqr] [--onsets]

Writes, and prints the path of each:
  DIR/curves_<condition>.png   per condition (grid point over seeds), panels on one shared step axis
                               (symlog: step 0 at 0, log above 1): train/test accuracy, NTK distance to
                               the run's own initial kernel (each probe), total weight norm, MFTMA
                               capacity / dimension / radius and GLUE capacity / dimension / radius of
                               the chosen layers (default: the run's `layers` attribute); median over
                               seeds with a min-max (or IQR) band, triangles at each curve's 50% onset
                               (median over the done seeds), a dotted line at the test-accuracy onset.
  DIR/kernel_heatmap_<run>.png pairwise kernel distance S(K_i, K_j) between all valid checkpoints,
                               from the stored kernels ntk/<probe>/kernel (only when the study ran with
                               metrics.ntk.store_kernels=true; otherwise a note is printed instead).
  DIR/grid.png                 one small panel per condition: test/train accuracy, NTK distance
                               (right axis).
<condition> is the condition label made file-safe (`model.init_scale=4` -> `model.init_scale-4`).
--onsets also prints each condition's 50% onsets (median over done seeds) as `grokscope report`
defines them. Needs Debian's python3-h5py, -numpy, -pandas and -matplotlib.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grokscope_analysis import figures, load, onset  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="a grokscope results file (HDF5)")
    parser.add_argument("--out", required=True, help="folder for the PNGs (created)")
    parser.add_argument("--layers", help="comma-separated geometry layers (default: every layer of the run)")
    parser.add_argument("--probe", default="train", help="NTK probe for the heatmaps and the grid (default train)")
    parser.add_argument("--heatmap-runs", help="comma-separated run ids for heatmaps (default: every run)")
    parser.add_argument("--band", choices=["minmax", "iqr"], default="minmax", help="seed band (default minmax)")
    parser.add_argument("--onsets", action="store_true", help="also print the 50%% onsets per condition")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.results):
        parser.exit(3, f"{args.results}: no such file\n")
    try:
        runs = load.list_runs(args.results)
    except OSError as e:
        parser.exit(3, f"{args.results}: not a readable HDF5 results file ({e})\n")
    except KeyError as e:
        parser.exit(3, f"{args.results}: not a grokscope results file (missing {e})\n")
    if runs.empty:
        parser.exit(3, f"{args.results}: the file holds no runs\n")
    layers = [l for l in args.layers.split(",") if l] if args.layers else None
    if layers:
        known = {l for v in runs.get("layers", []) for l in str(v).split(",") if l}
        unknown = [l for l in layers if l not in known]
        if unknown:
            parser.exit(2, f"--layers: no layer {', '.join(unknown)} in the file (layers: "
                           f"{', '.join(sorted(known)) or 'none'})\n")
    heat = [r for r in args.heatmap_runs.split(",") if r] if args.heatmap_runs else None
    if heat:
        unknown = sorted(set(heat) - set(runs["run_id"]))
        if unknown:
            parser.exit(2, f"--heatmap-runs: no run {', '.join(unknown)} in {args.results}\n")
    figures.write_all(args.results, args.out, layers=layers, probe=args.probe, heatmap_runs=heat, band=args.band)
    if args.onsets:
        table = onset.condition_onsets(args.results)
        for cond, g in table.groupby("condition", sort=False):
            print(f"== {cond}: 50% onsets (median over done seeds; n = seeds with an onset)")
            for _, r in g.iterrows():
                med = "-" if r["n"] == 0 else f"{r['median']:.4g}"
                print(f"  {r['metric']:<40} {med:>10}  n={r['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
