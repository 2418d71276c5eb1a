#!/usr/bin/env bash
# README command 2 (and .ci/run): set up a fresh machine, build, and run the whole test suite
# (unit, MPI and integration tests; ctest labels: unit, mpi, integration).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
env/bootstrap.sh
env/build.sh
ctest --preset release -j2
echo "tests finished in $(( $(date +%s) - start )) s"
