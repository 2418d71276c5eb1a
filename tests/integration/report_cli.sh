#!/usr/bin/env bash
# `grokscope report` end to end: trains tiny.yaml with 2 seeds (2 conditions × 2 seeds, seconds),
# prints the text and the JSON report, and checks the JSON against the file with h5py: every run's
# onsets recomputed in Python by the rule of include/grokscope/report/onset.hpp, the delays, the
# instability flag, the grouping into conditions and their medians. Then a copy of the file with one
# run set back to "running" at fewer checkpoints and with instability events injected (one at the
# test onset, one far from it), and the refusals: a missing file and a non-HDF5 file exit 3 with
# one line naming the file.
# Usage: report_cli.sh GROKSCOPE CONFIG WORKDIR
set -eu
bin=$1 config=$2 work=$3
py=/usr/bin/python3
rm -rf "$work"; mkdir -p "$work"

"$bin" run "$config" seeds=2 --out "$work/study.h5" >"$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }

"$bin" report "$work/study.h5" >"$work/report.txt"
cat "$work/report.txt"
"$bin" report "$work/study.h5" --json >"$work/report.json"

# The copy: r000001 "running" with 7 of its checkpoints; events in r000000 (at its test-onset
# bracket) and r000002 (at step 0 only, before any 50% crossing can be); an awkward label on r000003.
cp "$work/study.h5" "$work/edited.h5"
"$py" - "$work/edited.h5" "$work/report.json" <<'EOF'
import json, sys
import h5py, numpy as np
path, report = sys.argv[1], json.load(open(sys.argv[2]))
with h5py.File(path, "r+") as f:
    g = f["runs/r000001"]
    g["status"][()] = np.bytes_(b"running")
    g["completed"][()] = 7
    run0 = next(r for r in report["runs"] if r["id"] == "r000000")
    t = run0["onsets"]["metrics/test_accuracy"]["0.5"]
    assert t is not None, "r000000 has no test onset; the tiny study changed?"
    steps = f["runs/r000000/steps"][()]
    after = steps[np.searchsorted(steps, t)]  # the first checkpoint at or after the crossing
    ev = np.full(256, np.nan); ev[0] = steps[-1] + 1000; ev[1] = after
    f["runs/r000000/events/instability"][...] = ev
    f["runs/r000000/events/instability_count"][()] = 2
    ev = np.full(256, np.nan); ev[0] = 0
    f["runs/r000002/events/instability"][...] = ev
    f["runs/r000002/events/instability_count"][()] = 1
    # A label that JSON must escape (quote, backslash, tab, control character, non-ASCII).
    f["runs/r000003"].attrs["label"] = 'init "4" \\ tab\there \x01 \u03b1=1 seed=1'
EOF
"$bin" report "$work/edited.h5" >"$work/edited.txt"
"$bin" report "$work/edited.h5" --json >"$work/edited.json"

"$py" - "$work/study.h5" "$work/report.json" "$work/report.txt" "$work/edited.h5" "$work/edited.json" \
       "$work/edited.txt" <<'EOF'
import json, math, sys
import h5py, numpy as np

FRACTIONS = [0.1, 0.5, 0.9]
BOOKKEEPING = {"seed", "label", "inputs", "train.log_every_seconds"}

def rise(steps, y):
    """The onset rule of include/grokscope/report/onset.hpp, independently in numpy."""
    keep = np.isfinite(y)
    x, y = steps[keep].astype(float), y[keep]
    n = len(y)
    if n < 2:
        return "too_short", [None] * 3
    y0, y1 = y[0], y[-min(3, n):].mean()
    d = y1 - y0
    noise = 0.0
    if n >= 5:
        s1 = np.median(np.abs(np.diff(y))) / (0.6745 * math.sqrt(2))
        s2 = np.median(np.abs(np.diff(y, 2))) / (0.6745 * math.sqrt(6))
        noise = 0.5 * (s1 + s2)
    if abs(d) <= 1e-9 * max(1, abs(y0)) or abs(d) < 0.25 * (y.max() - y.min()) or abs(d) < 4 * noise:
        return "no_rise", [None] * 3
    p = (y - y0) / d
    out = []
    for f in FRACTIONS:
        i = next(i for i in range(1, n) if p[i] >= f)
        if x[i - 1] <= 0:
            out.append((x[i], x[i - 1], x[i]))
            continue
        t = (f - p[i - 1]) / (p[i] - p[i - 1])
        l0, l1 = math.log10(x[i - 1]), math.log10(x[i])
        out.append((10 ** (l0 + t * (l1 - l0)), x[i - 1], x[i]))
    return "ok", out

def close(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, f"{what}: report {a}, expected {b}"
    else:
        assert math.isclose(a, b, rel_tol=1e-9), f"{what}: report {a}, expected {b}"

def attr(g, k):
    v = g.attrs[k]
    return v.decode() if isinstance(v, bytes) else str(v)

def check(h5path, js, text):
    checked = 0
    with h5py.File(h5path, "r") as f:
        assert js["file"] == h5path and js["fractions"] == FRACTIONS, (js["file"], js["fractions"])
        ids = sorted(f["runs"].keys())
        assert [r["id"] for r in js["runs"]] == ids
        keys = {}
        for r in js["runs"]:
            g = f["runs/" + r["id"]]
            assert r["label"] == attr(g, "label") and r["id"] in text and r["label"] in text
            assert r["seed"] == int(attr(g, "seed"))
            assert r["status"] == g["status"][()].decode(), r["status"]
            completed = min(int(g["completed"][()]), len(g["steps"]))
            assert r["completed"] == completed
            steps = g["steps"][()][:completed]
            probes = [p.strip() for p in attr(g, "metrics.ntk.probes").strip("[]").split(",")]
            expected = ["metrics/train_accuracy", "metrics/test_accuracy"] + [f"ntk/{p}/distance_init" for p in probes]
            for layer in attr(g, "layers").split(","):
                expected += [f"geometry/{layer}/mftma/capacity", f"geometry/{layer}/glue/dimension",
                             f"geometry/{layer}/mftma/dimension"]
            assert list(r["onsets"]) == expected, list(r["onsets"])
            brackets = {}
            for m in expected:
                status, onsets = rise(steps, g[m][()][:completed])
                assert r["rise"][m] == status, (r["id"], m, r["rise"][m], status)
                assert list(r["onsets"][m]) == ["0.1", "0.5", "0.9"]
                for f_, o in zip(["0.1", "0.5", "0.9"], onsets):
                    close(r["onsets"][m][f_], o and o[0], f"{r['id']} {m} {f_}")
                    checked += 1
                brackets[m] = onsets[1]
            # Delays: ratios of the 50% onsets.
            half = {m: r["onsets"][m]["0.5"] for m in expected}
            ratio = lambda a, b: a / b if a and b else None
            want = {"test_over_train": ratio(half["metrics/test_accuracy"], half["metrics/train_accuracy"])}
            for m in expected:
                if m != "metrics/test_accuracy":
                    want[m + "_over_test"] = ratio(half[m], half["metrics/test_accuracy"])
            assert list(r["delays"]) == list(want), list(r["delays"])
            for k, v in want.items():
                close(r["delays"][k], v, f"{r['id']} delay {k}")
            ev = g["events/instability"][()]
            ev = [float(e) for e in ev if np.isfinite(e)]
            assert r["instabilities"] == ev and r["instability_count"] == int(g["events/instability_count"][()])
            b = brackets["metrics/test_accuracy"]
            at = b is not None and any(b[1] <= e <= b[2] for e in ev)
            assert r["instability_at_test_onset"] == at, (r["id"], r["instability_at_test_onset"], b, ev)
            keys[r["id"]] = tuple(sorted((k, attr(g, k)) for k in g.attrs
                                         if k not in BOOKKEEPING and not k.startswith(("output.", "parallel."))))
        # Conditions: runs with equal identifying attributes, seeds apart.
        runs = {r["id"]: r for r in js["runs"]}
        groups = {}
        for i in ids:
            groups.setdefault(keys[i], []).append(i)
        assert sorted(c["runs"] for c in js["conditions"]) == sorted(groups.values())
        for c in js["conditions"]:
            assert c["condition"].startswith("model.init_scale="), c["condition"]
            assert "condition " + c["condition"] in text
            assert all(runs[i]["condition"] == c["condition"] for i in c["runs"])
            assert sorted({runs[i]["seed"] for i in c["runs"]}) == [0, 1]
            done = [i for i in c["runs"] if runs[i]["status"] == "done"]
            assert c["excluded"] == [i for i in c["runs"] if i not in done]
            assert list(c["delays"]) == list(runs[c["runs"][0]]["delays"])
            for block, get in (("onsets", lambda r, m: r["onsets"][m]["0.5"]), ("delays", lambda r, m: r["delays"][m])):
                for m, s in c[block].items():
                    vals = sorted(get(runs[i], m) for i in done if get(runs[i], m) is not None)
                    assert s["n"] == len(vals), (c["condition"], m, s, vals)
                    if not vals:
                        assert s["median"] is None and s["low"] is None and s["high"] is None
                        continue
                    close(s["median"], float(np.median(vals)), f"{c['condition']} {m} median")
                    assert s["low"] <= s["median"] <= s["high"], s
                    if len(vals) <= 2:  # resampled medians of two values: a, (a+b)/2, b with ¼, ½, ¼
                        close(s["low"], vals[0], "low"); close(s["high"], vals[-1], "high")
    return checked

n = check(sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read())
e = json.load(open(sys.argv[5]))
n += check(sys.argv[4], e, open(sys.argv[6]).read())
r1 = next(r for r in e["runs"] if r["id"] == "r000001")
assert r1["status"] == "running" and r1["completed"] == 7
assert next(c for c in e["conditions"] if "r000001" in c["runs"])["excluded"] == ["r000001"]
assert "not done" in open(sys.argv[6]).read()
flags = {r["id"]: r["instability_at_test_onset"] for r in e["runs"]}
assert flags["r000000"] and not flags["r000002"], flags
assert "coincides with the test-accuracy onset" in open(sys.argv[6]).read()
print(f"report JSON consistent with the files ({n} onsets recomputed)")
EOF

# Refusals: one line naming the file, exit 3.
for bad in "$work/no_such.h5" "$config"; do
  set +e; "$bin" report "$bad" >"$work/out" 2>"$work/err"; code=$?; set -e
  [[ $code -eq 3 ]] || { echo "FAIL: report $bad exited $code, expected 3"; cat "$work/err"; exit 1; }
  [[ $(wc -l <"$work/err") -eq 1 ]] && grep -qF "$bad" "$work/err" || { echo "FAIL: error for $bad:"; cat "$work/err"; exit 1; }
  [[ ! -s "$work/out" ]] || { echo "FAIL: report $bad printed to stdout"; exit 1; }
done
set +e; "$bin" report >/dev/null 2>&1; code=$?; set -e
[[ $code -eq 2 ]] || { echo "FAIL: report without FILE exited $code, expected 2"; exit 1; }
echo "report_cli: OK"
