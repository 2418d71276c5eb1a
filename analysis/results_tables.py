#!/usr/bin/python3
"""Markdown tables of a study's onsets and delays, from `grokscope report FILE --json`.

usage: analysis/results_tables.py REPORT.json [--layers relu1,relu2,logits]
                                   [--results FILE.h5 --steps 0,100,1000,10000,100000]

Prints, per condition (a grid point over its seeds): the 50% onset step of train and test accuracy,
the NTK distance to init (each probe) and MFTMA capacity (each layer) as median [95% bootstrap
interval] (n seeds), and their 10% and 90% onsets (median over seeds [min, max]); the delays as ratios to the test-accuracy onset; and per run the instability
events and whether one falls at the test-accuracy onset. The numbers are the report's own; this
script only lays them out (used for docs/results.md).

With --results (the study's results file) it also prints the curves' medians over the done seeds
at chosen steps: per run the value at the last checkpoint at or before each step (the runs of a
study share one schedule, so that checkpoint is the same for all), of test accuracy, the NTK
distance to init (train probe), the MFTMA capacity of the last two layers and the total weight
norm. This needs Debian's python3-h5py and python3-pandas.
"""
import argparse
import json
import statistics


def cell(stat, digits=3):
    if not stat or stat.get("median") is None:
        return "–"
    fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
    return f"{fmt(stat['median'])} [{fmt(stat['low'])}, {fmt(stat['high'])}] ({stat['n']})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--layers", default="relu1,relu2,logits")
    ap.add_argument("--results", help="the study's results file, for the table of curves at chosen steps")
    ap.add_argument("--steps", default="0,100,1000,10000,100000", help="steps of that table (comma-separated)")
    args = ap.parse_args()
    report = json.load(open(args.report))
    layers = args.layers.split(",")
    onset_keys = ["metrics/train_accuracy", "metrics/test_accuracy", "ntk/train/distance_init", "ntk/test/distance_init"]
    onset_keys += [f"geometry/{layer}/mftma/capacity" for layer in layers]
    names = {"metrics/train_accuracy": "train acc", "metrics/test_accuracy": "test acc",
             "ntk/train/distance_init": "NTK dist (train probe)", "ntk/test/distance_init": "NTK dist (test probe)"}
    names.update({f"geometry/{layer}/mftma/capacity": f"capacity {layer}" for layer in layers})

    def table(title, header, rows):
        print(title + "\n")
        print("| " + " | ".join(header) + " |")
        print("| --- " * len(header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")

    conds = report["conditions"]
    table("50% onsets, steps: median [95% bootstrap interval] (n seeds)",
          ["condition"] + [names[k] for k in onset_keys],
          [[c["condition"]] + [cell(c["onsets"].get(k)) for k in onset_keys] for c in conds])

    def spread(runs, key, fraction):
        values = sorted(r["onsets"][key][fraction] for r in runs
                        if r["onsets"].get(key) and r["onsets"][key].get(fraction) is not None)
        return f"{statistics.median(values):.3g} [{values[0]:.3g}, {values[-1]:.3g}]" if values else "–"

    rows = []
    for c in conds:
        runs = [r for r in report["runs"] if r["condition"] == c["condition"] and r["status"] == "done"]
        rows += [[c["condition"], f"{float(f):.0%}"] + [spread(runs, k, f) for k in onset_keys] for f in ("0.1", "0.9")]
    table("\nWhere each rise starts and ends: 10% and 90% onsets, steps, median over the done seeds [min, max]",
          ["condition", "fraction"] + [names[k] for k in onset_keys], rows)

    delay_keys = ["test_over_train", "ntk/train/distance_init_over_test", "ntk/test/distance_init_over_test"]
    delay_keys += [f"geometry/{layer}/mftma/capacity_over_test" for layer in layers]
    dnames = {"test_over_train": "test / train acc", "ntk/train/distance_init_over_test": "NTK (train) / test acc",
              "ntk/test/distance_init_over_test": "NTK (test) / test acc"}
    dnames.update({f"geometry/{layer}/mftma/capacity_over_test": f"capacity {layer} / test acc" for layer in layers})
    table("\nDelays: ratio of 50% onsets, median [95% bootstrap interval] (n seeds); < 1: before the test-accuracy onset",
          ["condition"] + [dnames[k] for k in delay_keys],
          [[c["condition"]] + [cell(c["delays"].get(k)) for k in delay_keys] for c in conds])

    rows = []
    for r in report["runs"]:
        test = r["onsets"].get("metrics/test_accuracy", {}).get("0.5")
        steps = ", ".join(f"{s:g}" for s in r["instabilities"][:8]) + (" …" if len(r["instabilities"]) > 8 else "")
        rows.append([r["id"], r["label"], r["status"], "–" if test is None else f"{test:.4g}",
                     f"{r['instability_count']}{': ' + steps if steps else ''}",
                     "–" if test is None else ("yes" if r["instability_at_test_onset"] else "no")])
    table("\nPer run: status, instability events (steps), one at the test-accuracy onset?",
          ["run", "label", "status", "test acc onset", "instabilities", "at test onset"], rows)

    if args.results:
        snapshot_table(args.results, [int(x) for x in args.steps.split(",")], layers[-2:], table)


def snapshot_table(results, steps, layers, table):
    """Medians over the done seeds of each condition's curves at `steps` (see the module doc)."""
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from grokscope_analysis import load

    quantities = [("metrics/test_accuracy", "test accuracy"), ("ntk/train/distance_init", "NTK distance to init (train probe)")]
    quantities += [(f"geometry/{layer}/mftma/capacity", f"capacity {layer}") for layer in layers]
    quantities.append(("metrics/weight_norm", "total weight norm"))
    tidy = load.load_tidy(results, metrics=[q for q, _ in quantities], attributes=False)
    tidy = tidy[tidy["status"] == "done"]
    schedule = sorted(tidy["step"].unique())
    at = [max((s for s in schedule if s <= step), default=None) for step in steps]
    rows = []
    for condition, group in tidy.groupby("condition", sort=False):
        for metric, name in quantities:
            curve = group[group["metric"] == metric]
            if curve.empty:
                continue
            row = [condition, name]
            for step in at:
                values = curve[curve["step"] == step]["value"] if step is not None else []
                row.append(f"{statistics.median(values):.3g}" if len(values) else "–")
            rows.append(row)
    table("\nMedians over the done seeds of the curves at chosen steps (the last checkpoint at or before each)",
          ["condition", "quantity"] + [f"step {s:,}".replace(",", " ") if s is not None else "–" for s in at], rows)


if __name__ == "__main__":
    main()
