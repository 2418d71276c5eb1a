#!/usr/bin/env bash
# The thread policy meets the MPI launcher's binding (runtime.hpp). OpenMPI binds each rank of a
# 1- or 2-rank job to one core; a rank must then default to one thread, and an explicit
# parallel.threads above its cores must be warned about. env/mpiexec.sh leaves ranks unbound, so
# the default gives a rank the node's cores. Exit 77 (skip) on a 1-core machine.
# usage: thread_binding.sh GROKSCOPE MPIEXEC_WRAPPER CONFIG WORKDIR
set -u
bin=$1 mpiexec=$2 config=$3 work=$4
(( $(nproc) >= 2 )) || { echo "1 core: skipped"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
run() {  # NAME MPIEXEC-ARGS... -- GROKSCOPE-OVERRIDES...
  local name=$1; shift
  local launch=() over=()
  while [[ $1 != -- ]]; do launch+=("$1"); shift; done
  shift
  over=("$@")
  "$mpiexec" "${launch[@]}" -n 1 "$bin" run "$config" --runs 0 train.steps=20 "${over[@]}" \
    --out "$work/$name.h5" > "$work/$name.log" 2>&1 || { echo "FAIL: $name exited $?"; cat "$work/$name.log"; exit 1; }
}
fail() { echo "FAIL: $1"; cat "$2"; exit 1; }

run bound --bind-to core --
grep -q "fused MLP on 1 thread(s)" "$work/bound.log" || fail "bound rank did not default to 1 thread" "$work/bound.log"
grep -q "may run on only" "$work/bound.log" && fail "warned without an explicit thread count" "$work/bound.log"

run bound2 --bind-to core -- parallel.threads=2
grep -q "parallel.threads is 2 but this rank may run on only 1 core(s)" "$work/bound2.log" ||
  fail "no warning for 2 threads on 1 core" "$work/bound2.log"

run wrapper --
grep -Eq "fused MLP on ([2-9]|[1-9][0-9]+) thread\(s\)" "$work/wrapper.log" ||
  fail "env/mpiexec.sh's rank did not get the node's cores" "$work/wrapper.log"
grep -q "may run on only" "$work/wrapper.log" && fail "warned for an unbound rank" "$work/wrapper.log"
echo "ok: bound -> 1 thread, bound + parallel.threads=2 -> warning, wrapper -> $(grep -o 'fused MLP on [0-9]* thread' "$work/wrapper.log" | head -1)"
