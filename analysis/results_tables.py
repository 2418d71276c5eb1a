#!/usr/bin/python3
"""Markdown tables of a study's onsets and delays, from `grokscope report FILE --json`.

usage: analysis/results_tables.py REPORT.json [--layers relu1,relu2,logits]

Prints, per condition (a grid point over its seeds): the 50% onset step of train and test accuracy,
the NTK distance to init (each probe) and MFTMA capacity (each layer) as median [95% bootstrap
interval] (n seeds), and their 10% and 90% onsets (median over seeds [min, max]); the delays as ratios to the test-accuracy onset; and per run the instability
events and whether one falls at the test-accuracy onset. The numbers are the report's own; this
script only lays them out (used for docs/results.md).
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
    args = ap.parse_args()
    report = json.load(open(args.report))
    layers = args.layers.split(",")
    onset_keys = ["metrics/train_accuracy", "metrics/test_accuracy", "ntk/train/distance_init", "ntk/test/distance_init"]
    onset_keys += [f"geometry/{layer}/mftma/capacity" for layer in layers]
    names = {"metrics/train_accuracy": "train acc", "metrics/test_accuracy": "test acc",
             "ntk/train/distance_init": "NTK dist (train probe)", "ntk/test/distance_init": "NTK dist (test probe)"}
    names.update({f"geometry/{layer}/mftma/capacity": f"capacity {layer}" for layer in layers})

    print("50% onsets, steps: median [95% bootstrap interval] (n seeds)\n")
    print("| condition | " + " | ".join(names[k] for k in onset_keys) + " |")
    print("| --- " * (len(onset_keys) + 1) + "|")
    for c in report["conditions"]:
        print(f"| {c['condition']} | " + " | ".join(cell(c["onsets"].get(k)) for k in onset_keys) + " |")

    print("\nWhere each rise starts and ends: 10% and 90% onsets, steps, median over the done seeds [min, max]\n")
    print("| condition | fraction | " + " | ".join(names[k] for k in onset_keys) + " |")
    print("| --- " * (len(onset_keys) + 2) + "|")
    for c in report["conditions"]:
        runs = [r for r in report["runs"] if r["condition"] == c["condition"] and r["status"] == "done"]
        for fraction in ("0.1", "0.9"):
            cells = []
            for k in onset_keys:
                values = sorted(r["onsets"][k][fraction] for r in runs
                                if r["onsets"].get(k) and r["onsets"][k].get(fraction) is not None)
                cells.append(f"{statistics.median(values):.3g} [{values[0]:.3g}, {values[-1]:.3g}]" if values else "–")
            print(f"| {c['condition']} | {float(fraction):.0%} | " + " | ".join(cells) + " |")

    delay_keys = ["test_over_train", "ntk/train/distance_init_over_test", "ntk/test/distance_init_over_test"]
    delay_keys += [f"geometry/{layer}/mftma/capacity_over_test" for layer in layers]
    dnames = {"test_over_train": "test / train acc", "ntk/train/distance_init_over_test": "NTK (train) / test acc",
              "ntk/test/distance_init_over_test": "NTK (test) / test acc"}
    dnames.update({f"geometry/{layer}/mftma/capacity_over_test": f"capacity {layer} / test acc" for layer in layers})
    print("\nDelays: ratio of 50% onsets, median [95% bootstrap interval] (n seeds); < 1: before the test-accuracy onset\n")
    print("| condition | " + " | ".join(dnames[k] for k in delay_keys) + " |")
    print("| --- " * (len(delay_keys) + 1) + "|")
    for c in report["conditions"]:
        print(f"| {c['condition']} | " + " | ".join(cell(c["delays"].get(k)) for k in delay_keys) + " |")

    print("\nPer run: status, instability events (steps), one at the test-accuracy onset?\n")
    print("| run | label | status | test acc onset | instabilities | at test onset |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in report["runs"]:
        test = r["onsets"].get("metrics/test_accuracy", {}).get("0.5")
        steps = ", ".join(f"{s:g}" for s in r["instabilities"][:8]) + (" …" if len(r["instabilities"]) > 8 else "")
        print(f"| {r['id']} | {r['label']} | {r['status']} | {test:.4g} | {r['instability_count']}"
              f"{': ' + steps if steps else ''} | {'yes' if r['instability_at_test_onset'] else 'no'} |"
              if test is not None else
              f"| {r['id']} | {r['label']} | {r['status']} | – | {r['instability_count']} | – |")


if __name__ == "__main__":
    main()
