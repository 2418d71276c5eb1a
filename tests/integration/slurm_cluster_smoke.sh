#!/usr/bin/env bash
# Smoke test for env/slurm_cluster.sh: a real single-node cluster runs a plain batch job, a
# throttled array and a two-task `srun --mpi=pmix` step. Needs root (or sudo) and the Debian
# packages slurm-wlm slurmctld slurmd slurm-client munge (env/bootstrap.sh installs them).
# The jobs' --wrap strings are single-quoted on purpose: the job's shell expands them.
# shellcheck disable=SC2016
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cluster=$root/env/slurm_cluster.sh
start=$SECONDS

fail() {
  echo "slurm_cluster_smoke: FAIL: $*" >&2
  exit 1
}

state=$(mktemp -d "${TMPDIR:-/tmp}/grokscope-slurm.XXXXXX")
cleanup() {
  local rc=$?
  "$cluster" stop "$state" || echo "slurm_cluster_smoke: warning: stop failed" >&2
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eval "$("$cluster" start "$state")"
[[ ${SLURM_CONF:-} == "$state/slurm.conf" ]] || fail "start did not print the SLURM_CONF export"
out=$state/out
mkdir -p "$out"

# Waits until squeue no longer lists the job (or any of its array tasks), then requires every
# record of it to have ended COMPLETED. Without slurmdbd there is no sacct, but finished jobs
# stay visible to scontrol for MinJobAge (300 s).
wait_done() {
  local id=$1 deadline=$((SECONDS + 60)) states
  while [[ -n $(squeue -h -j "$id" 2>/dev/null) ]]; do
    ((SECONDS < deadline)) || {
      squeue -j "$id" >&2 || true
      fail "job $id still queued/running after 60 s"
    }
    sleep 0.2
  done
  states=$(scontrol show job "$id" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
  if grep -v -q 'JobState=COMPLETED' <<<"$states" || [[ -z $states ]]; then
    scontrol show job "$id" >&2 || true
    fail "job $id did not complete: $states"
  fi
}

expect_file() {
  local file=$1 text=$2
  [[ -f $file ]] || fail "missing output file $file"
  grep -qxF -- "$text" "$file" || {
    echo "---- $file ----" >&2
    cat "$file" >&2
    fail "$file lacks the line '$text'"
  }
}

# 1. A plain --wrap job.
id=$(sbatch --parsable -o "$out/plain_%j.out" --wrap 'echo hello from $SLURM_JOB_ID')
[[ $id =~ ^[0-9]+$ ]] || fail "sbatch --parsable printed '$id'"
wait_done "$id"
expect_file "$out/plain_$id.out" "hello from $id"

# 2. An array of three tasks, at most two at once.
arr=$(sbatch --parsable --array=0-2%2 -o "$out/arr_%A_%a.out" \
  --wrap 'echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID')
[[ $arr =~ ^[0-9]+$ ]] || fail "sbatch --parsable --array printed '$arr'"
wait_done "$arr"
for t in 0 1 2; do
  expect_file "$out/arr_${arr}_$t.out" "task $t of $arr"
done

# 3. A two-task step through the PMIx plugin, which is what OpenMPI's direct launch needs.
cat >"$out/pmix.sbatch" <<'EOF'
#!/bin/bash
#SBATCH --ntasks=2
srun --mpi=pmix -n 2 hostname
EOF
pj=$(sbatch --parsable -o "$out/pmix_%j.out" "$out/pmix.sbatch")
wait_done "$pj"
host=$(hostname -s)
lines=$(grep -cxF -- "$host" "$out/pmix_$pj.out" || true)
[[ $lines -eq 2 ]] || {
  cat "$out/pmix_$pj.out" >&2
  fail "srun --mpi=pmix -n 2 hostname printed $lines lines of '$host', expected 2"
}

echo "slurm_cluster_smoke: OK: plain job, 3-task array and pmix step ran ($((SECONDS - start)) s)"
