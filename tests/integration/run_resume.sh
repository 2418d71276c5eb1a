#!/usr/bin/env bash
# End to end through the real executable on 2 MPI ranks: a grid runs, an existing output is refused,
# a different config on --resume is refused with the differing key, and a run whose state is
# resumed after its CSV is removed reproduces its numbers exactly.
set -eu
bin=$1 config=$2 work=$3
mpi=(mpiexec -n 2)
rm -rf "$work"; mkdir -p "$work"
"${mpi[@]}" "$bin" run "$config" --out "$work/a"
for id in r000000 r000001; do [[ -s "$work/a/$id.csv" ]] || { echo "FAIL: $id.csv missing"; exit 1; }; done

# Refusals: existing output without --resume; --resume with another config.
if "$bin" run "$config" --out "$work/a" 2>"$work/err1"; then echo "FAIL: overwrote"; exit 1; fi
grep -q "already holds a study" "$work/err1"
if "$bin" run "$config" train.lr=0.002 --out "$work/a" --resume 2>"$work/err2"; then echo "FAIL: resumed another config"; exit 1; fi
grep -q "train.lr: 0.001 -> 0.002" "$work/err2"

# Resume: drop one finished CSV; the run restarts from its final state and must write the same numbers.
cp "$work/a/r000001.csv" "$work/expected.csv"
rm "$work/a/r000001.csv"
"$bin" run "$config" --out "$work/a" --resume
cmp "$work/expected.csv" "$work/a/r000001.csv"
echo "ok"
