#!/usr/bin/env bash
# grokscope submit / status / collect on a real single-node Slurm cluster (env/slurm_cluster.sh):
#   1. --dry-run prints the grid and the scripts and writes nothing;
#   2. a 3-task throttled array in a study folder whose path holds a space and "$(...)", with a
#      config value full of quotes and "$(touch ...)": nothing runs in a shell, the value arrives
#      unchanged, and the collected file equals the same grid run directly with mpiexec;
#   3. a lost task file (as a site with PreemptMode=CANCEL leaves it): collect lists it,
#      --resubmit runs it again, the study is complete and still identical;
#   4. preemption: SIGUSR2 to a running task's batch shell -> the program saves its state at the
#      step it reached, the task requeues and finishes, identical to an uninterrupted run;
#   5. --mode mpi: one 2-rank allocation (srun --mpi=pmix) runs the grid, identical again;
#   6. refusals: an existing study folder, an #SBATCH value with a space.
# Needs root (or sudo) and the Slurm packages (env/bootstrap.sh installs them).
set -euo pipefail
bin=$1 config=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=$root/env/slurm_cluster.sh
check=(/usr/bin/python3 "$here/check_results.py")
fail() { echo "slurm_study: FAIL: $*" >&2; exit 1; }

rm -rf "$work"; mkdir -p "$work"
state=$(mktemp -d "${TMPDIR:-/tmp}/grokscope-slurm.XXXXXX")
cleanup() {
  local rc=$?
  "$cluster" stop "$state" || echo "slurm_study: warning: cluster stop failed" >&2
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
eval "$("$cluster" start "$state")"

# Waits until none of the study's jobs is in the queue (at most $2 seconds).
wait_study() {
  local dir=$1 limit=${2:-240} ids
  ids=$(/usr/bin/python3 -c 'import sys,re; print(",".join(re.findall(r"id: \"?(\d+)", open(sys.argv[1]).read())))' "$dir/study.yaml")
  for ((i = 0; i < limit; i++)); do
    [[ -z $(squeue -h -j "$ids" 2>/dev/null) ]] && return 0
    sleep 1
  done
  squeue; fail "jobs $ids of $dir still queued after $limit s"
}

opts=(parallel.threads=1 model.init_scale=1,2,4)
nasty='a b $(touch '"$work"'/pwned) "q" '"'"'z'"'"' `id`'

# 1. Dry run.
"$bin" submit "$config" "${opts[@]}" --study "$work/dry" --chunk 1 --throttle 2 --dry-run >"$work/dry.txt"
[[ ! -e $work/dry ]] || fail "--dry-run wrote the study folder"
grep -q '^r000002  task 2  model.init_scale=4 seed=0$' "$work/dry.txt" || fail "dry run lacks the grid"
grep -q '^#SBATCH --array=0-2%2$' "$work/dry.txt" || fail "dry run lacks the throttled array line"
grep -q '^# ---- jobs/collect.sbatch ----$' "$work/dry.txt" || fail "dry run lacks the collect script"

# 2. A throttled array of 3 tasks, with hostile characters in the path and in a config value.
study="$work/study one \$(touch $work/pwned2)"
"$bin" submit "$config" "${opts[@]}" "name=$nasty" --study "$study" --chunk 1 --throttle 2 >"$work/submit.txt"
grep -q "submitted array job [0-9]* (tasks 0-2) and collect job [0-9]*" "$work/submit.txt" || fail "submit output"
wait_study "$study"
[[ ! -e $work/pwned && ! -e $work/pwned2 ]] || fail "a value ran in a shell"
/usr/bin/python3 - "$study/results.h5" "$nasty" <<'PY'
import sys, h5py, yaml
with h5py.File(sys.argv[1], "r") as f:
    name = yaml.safe_load(f.attrs["config_yaml"])["name"]
assert name == sys.argv[2], (name, sys.argv[2])
PY
mpiexec -n 2 "$bin" run "$config" "${opts[@]}" "name=$nasty" --out "$work/direct.h5" >"$work/direct.log" 2>&1
"${check[@]}" compare "$work/direct.h5" "$study/results.h5"
"$bin" status "$study" | tee "$work/status.txt"
grep -q "^total: 3 done$" "$work/status.txt" || fail "status of the study"
ls "$study/logs" | grep -q '_[0-9]*_2\.out$' || fail "no per-task log %x_%A_%a.out"

# 3. A task's file lost: collect lists it; --resubmit runs it again.
rm "$study/parts/task_0001.h5"
if "$bin" collect "$study" >"$work/collect.txt"; then fail "collect succeeded with a task missing"; fi
grep -q "missing (neither complete nor queued): task(s) 1$" "$work/collect.txt" || fail "collect did not list task 1"
"$bin" collect "$study" --resubmit >"$work/resubmit.txt"
grep -q "submitted array job [0-9]* (tasks 1) and collect job" "$work/resubmit.txt" || fail "resubmit output"
wait_study "$study"
"$bin" collect "$study" | grep -q "^complete: " || fail "study not complete after --resubmit"
"${check[@]}" compare "$work/direct.h5" "$study/results.h5"

# 4. Preemption: SIGUSR2 to the batch shell of a running task.
long=(parallel.threads=1 train.steps=20000 train.log_every_seconds=1)
"$bin" submit "$config" "${long[@]}" model.init_scale=4 --study "$work/preempt" >"$work/submit2.txt"
job=$(sed -n 's/^submitted array job \([0-9]*\).*/\1/p' "$work/submit2.txt")
log() { cat "$work"/preempt/logs/*_"$job"_0.out 2>/dev/null; }
for ((i = 0; i < 120; i++)); do log | grep -q "step [0-9]*/20000" && break; sleep 0.5; done
log | grep -q "step [0-9]*/20000" || fail "the task never reported progress"
scancel --signal=USR2 --batch "${job}_0"
wait_study "$work/preempt"
log >"$work/preempt.log"
grep -q "stopped by signal 12 at step" "$work/preempt.log" || fail "the program did not save its state on SIGUSR2"
grep -q "(job $job, restart 1)" "$work/preempt.log" || fail "the task was not requeued"
grep -q "task 0 complete" "$work/preempt.log" || fail "the requeued task did not finish"
"$bin" run "$config" "${long[@]}" model.init_scale=4 --out "$work/uninterrupted.h5" >/dev/null 2>&1
"${check[@]}" compare "$work/uninterrupted.h5" "$work/preempt/results.h5"

# 5. One MPI allocation of 2 ranks for the whole grid.
"$bin" submit "$config" "${opts[@]}" "name=$nasty" --study "$work/mpi" --mode mpi --ntasks 2 >"$work/submit3.txt"
grep -q "submitted grid job" "$work/submit3.txt" || fail "mpi-mode submit output"
wait_study "$work/mpi"
"${check[@]}" compare "$work/direct.h5" "$work/mpi/results.h5"

# 6. Refusals: one line naming the problem, exit code 2, nothing touched.
before=$(ls -l --time-style=+%s.%N "$study/study.yaml")
if "$bin" submit "$config" "${opts[@]}" --study "$study" 2>"$work/err1"; then fail "submitted into an existing study"; fi
grep -q "exists and is not empty (a study: use .grokscope collect" "$work/err1" || fail "existing-study message"
[[ $before == "$(ls -l --time-style=+%s.%N "$study/study.yaml")" ]] || fail "the existing study was touched"
set +e
"$bin" submit "$config" --study "$work/bad" --partition "a b" 2>"$work/err2"; rc=$?
set -e
((rc == 2)) || fail "bad --partition exit code $rc"
grep -q "^grokscope: error: --partition: 'a b' cannot go into an #SBATCH line" "$work/err2" || fail "bad partition message"
[[ ! -e $work/bad ]] || fail "a refused submit wrote its folder"
echo "ok"
