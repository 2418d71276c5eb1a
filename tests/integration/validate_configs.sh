#!/usr/bin/env bash
# Every shipped config must validate and expand to a non-empty grid.
set -eu
bin=$1 dir=$2
for f in "$dir"/*.yaml; do
  out=$("$bin" validate "$f")
  grep -Eq '^# grid: [1-9][0-9]* run' <<<"$out" || { echo "FAIL: $f: no grid in output"; exit 1; }
  echo "ok: $f ($(grep -E '^# grid' <<<"$out"))"
done
