#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (munged + slurmctld + slurmd) living entirely in one
# state directory, for integration tests and local trials. See shared/design/slurm.md.
#
#   env/slurm_cluster.sh start STATE_DIR   # prints `export SLURM_CONF=STATE_DIR/slurm.conf`
#   env/slurm_cluster.sh stop  STATE_DIR   # safe to call when nothing runs
#
# Typical use:  eval "$(env/slurm_cluster.sh start "$dir")"; ...; env/slurm_cluster.sh stop "$dir"
# Everything except the final export line goes to stderr so that `eval "$(...)"` stays clean.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}
starting=0
die() {
  echo "slurm_cluster: error: $*" >&2
  # Leave no half-started daemons behind (the logs stay in the state dir for inspection).
  if ((starting)); then
    starting=0
    do_stop
  fi
  exit 1
}
log() { echo "slurm_cluster: $*" >&2; }

[[ $# -eq 2 ]] || usage
action=$1
[[ $action == start || $action == stop ]] || usage

# The daemons must be started as root (slurmd launches jobs as their owner, munged is started
# through runuser); re-run the whole script under sudo rather than failing half-way.
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n -- "$0" "$@"
  fi
  die "must run as root (and sudo is not available)"
fi

if [[ $action == stop && ! -d $2 ]]; then exit 0; fi
mkdir -p "$2"
state=$(cd "$2" && pwd)
conf=$state/slurm.conf
munge_dir=$state/munge      # key, log, seed, pid: private to the munge user
munge_run=$state/munge-run  # socket: must be reachable by every client
munge_sock=$munge_run/munge.sock

# Binaries live in /usr/sbin, which is not always on a non-login root PATH.
PATH=$PATH:/usr/sbin:/sbin
export PATH

# Reads a PID file and prints the PID only if that process is alive and still the expected
# program: a stale file whose PID was recycled must never make us signal a stranger.
live_pid() {
  local file=$1 name=$2 pid comm
  [[ -r $file ]] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [[ -n $pid ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "$name"* ]] || return 1
  echo "$pid"
}

# Signals every daemon named by "PIDFILE NAME" pairs at once and waits for all of them: each takes
# one to two seconds to shut down, so stopping them one after another would add up.
stop_daemons() {
  local pids=() files=() names=() pid i j alive
  while (($# >= 2)); do
    if pid=$(live_pid "$1" "$2"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$2")
    else
      rm -f "$1"
    fi
    files+=("$1")
    shift 2
  done
  for ((i = 0; i < 150; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for j in "${!pids[@]}"; do
    kill -0 "${pids[j]}" 2>/dev/null || continue
    log "${names[j]} (pid ${pids[j]}) ignored SIGTERM for 15 s; sending SIGKILL"
    kill -KILL "${pids[j]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  rm -f "${files[@]}"
}

show_logs() {
  local f
  echo "(in a fresh state dir, slurmctld's 'Could not open ... state file' errors are normal)" >&2
  for f in "$munge_dir/munged.log" "$state/log/slurmctld.log" "$state/log/slurmd.log"; do
    [[ -f $f ]] || continue
    echo "---- tail of $f ----" >&2
    tail -n 25 "$f" >&2
  done
}

# proctrack/linuxproc finds a job's processes by walking parent links, so a child whose batch
# shell was killed in the first milliseconds (scancel racing a launch) is reparented to init and
# escapes. Such strays carry this cluster's SLURM_CONF and a SLURM_JOB_ID in their environment,
# which identifies them exactly; the caller's own shell (which exported SLURM_CONF) has no job id.
kill_job_strays() {
  local env_file pid envs self_chain=" $$ " p=$$ strays=()
  while [[ -n $p && $p -gt 1 ]]; do
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || break
    self_chain+="$p "
  done
  for env_file in /proc/[0-9]*/environ; do
    pid=${env_file#/proc/}
    pid=${pid%/environ}
    [[ $self_chain == *" $pid "* ]] && continue
    # Kernel threads and vanished processes fail the read; the braces silence that too.
    envs=$({ tr '\0' '\n' <"$env_file"; } 2>/dev/null) || continue
    grep -qxF "SLURM_CONF=$conf" <<<"$envs" || continue
    grep -q '^SLURM_JOB_ID=' <<<"$envs" || continue
    strays+=("$pid")
  done
  ((${#strays[@]})) || return 0
  log "killing ${#strays[@]} leftover job process(es): ${strays[*]}"
  kill -KILL "${strays[@]}" 2>/dev/null || true
}

do_stop() {
  [[ -d $state ]] || return 0
  # Jobs' slurmstepd processes outlive slurmd and are not ours to find by name, so cancel the
  # jobs while the controller still answers and give the steps a moment to go.
  if live_pid "$state/run/slurmctld.pid" slurmctld >/dev/null && [[ -f $conf ]]; then
    local ids i
    ids=$(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ') || ids=
    if [[ -n ${ids// /} ]]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$conf timeout 5 scancel $ids 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [[ -z $(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null) ]] && break
        sleep 0.2
      done
    fi
  fi
  stop_daemons "$state/run/slurmd.pid" slurmd "$state/run/slurmctld.pid" slurmctld
  # Last, because the Slurm daemons may still authenticate while they shut down.
  stop_daemons "$munge_dir/munged.pid" munged
  [[ -f $conf ]] && kill_job_strays
  return 0
}

# Two free TCP ports below the kernel's ephemeral range (32768+), so that an outgoing connection
# cannot grab them between our check and the daemons' bind, and so that two clusters on one
# machine (parallel CI jobs) pick different ones.
free_ports() {
  local py
  py=$(command -v python3 || true)
  if [[ -n $py ]] && "$py" - <<'EOF' 2>/dev/null; then return 0; fi
import random, socket
found, socks = [], []
while len(found) < 2:
    p = random.randrange(10000, 32000)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", p))
    except OSError:
        s.close()
        continue
    socks.append(s)
    found.append(p)
print(*found)
EOF
  # No usable python: compare random candidates against the listening sockets in /proc.
  local used p ports=()
  used=$(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print strtonum("0x" a[2]) }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
  while ((${#ports[@]} < 2)); do
    p=$((10000 + RANDOM % 22000))
    grep -qx "$p" <<<"$used" && continue
    [[ ${ports[*]:-} == *"$p"* ]] && continue
    ports+=("$p")
  done
  echo "${ports[@]}"
}

start_munged() {
  if live_pid "$munge_dir/munged.pid" munged >/dev/null; then return 0; fi
  id munge >/dev/null 2>&1 || die "no 'munge' user: is the munge package installed?"
  # munged refuses keys and dirs that others can read or write, and runs as the munge user, which
  # needs to traverse the state dir (mktemp -d makes it 0700).
  chmod go+x "$state"
  install -d -m 0700 -o munge -g munge "$munge_dir"
  install -d -m 0755 -o munge -g munge "$munge_run"
  if [[ ! -s $munge_dir/munge.key ]]; then
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$munge_dir/munge.key" >&2
    else
      head -c 1024 /dev/urandom >"$munge_dir/munge.key"
    fi
  fi
  chown munge:munge "$munge_dir/munge.key"
  chmod 0400 "$munge_dir/munge.key"
  runuser -u munge -- munged \
    --key-file="$munge_dir/munge.key" --socket="$munge_sock" \
    --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" \
    --seed-file="$munge_dir/munged.seed" ||
    { show_logs; die "munged failed to start"; }
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -S $munge_sock ]] && return 0
    sleep 0.1
  done
  show_logs
  die "munged did not create its socket $munge_sock"
}

write_conf() {
  local ctld_port slurmd_port node cpus
  read -r ctld_port slurmd_port <<<"$(free_ports)"
  node=$(hostname -s)
  cpus=$(nproc)
  mkdir -p "$state/statesave" "$state/spool" "$state/log" "$state/run" "$state/tmp"
  cat >"$conf" <<EOF
# Generated by env/slurm_cluster.sh for a throwaway single-node cluster in $state
ClusterName=grokscope-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job may not start again until cred_expire has passed (its old credential is revoked):
# 10 s instead of the default 120 s makes a requeue take ~11 s.
AuthInfo=socket=$munge_sock,cred_expire=10
StateSaveLocation=$state/statesave
SlurmdSpoolDir=$state/spool
# The PMIx plugin makes TmpFS/spmix_appdir_<uid>_<job>.<step>: with the default /tmp, two clusters
# on one machine (both numbering jobs from 1) collide and the later srun --mpi=pmix step fails.
TmpFS=$state/tmp
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# cgroup-based plugins do not work in containers without a delegated cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
# Nothing wakes the scheduler when a requeued job's begin time passes, so without short
# intervals it waits for the next periodic pass (up to 60 s) instead of starting at once.
SchedulerParameters=bf_interval=1,sched_interval=2
JobRequeue=1
PreemptMode=OFF
ReturnToService=2
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_idle() {
  local deadline=$((SECONDS + 30)) st=
  while ((SECONDS < deadline)); do
    live_pid "$state/run/slurmctld.pid" slurmctld >/dev/null ||
      { show_logs; die "slurmctld exited during start-up"; }
    live_pid "$state/run/slurmd.pid" slurmd >/dev/null ||
      { show_logs; die "slurmd exited during start-up"; }
    st=$(SLURM_CONF=$conf timeout 5 sinfo -h -N -o %T 2>/dev/null | head -n1) || st=
    [[ $st == idle ]] && return 0
    sleep 0.2
  done
  show_logs
  die "node did not become idle within 30 s (last sinfo state: '${st:-none}')"
}

do_start() {
  local b
  for b in munged slurmctld slurmd sinfo squeue sbatch runuser; do
    command -v "$b" >/dev/null 2>&1 ||
      die "'$b' not found: install slurm-wlm slurmctld slurmd slurm-client munge (env/bootstrap.sh)"
  done
  if live_pid "$state/run/slurmctld.pid" slurmctld >/dev/null &&
    live_pid "$state/run/slurmd.pid" slurmd >/dev/null; then
    log "already running in $state"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  # A half-started cluster (e.g. slurmd died) is restarted cleanly with fresh ports.
  do_stop
  starting=1
  start_munged
  write_conf
  export SLURM_CONF=$conf
  slurmctld -f "$conf" || { show_logs; die "slurmctld failed to start"; }
  slurmd -f "$conf" || { show_logs; die "slurmd failed to start"; }
  # The daemons fork before writing their PID files; give them a moment before checking them.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $state/run/slurmctld.pid && -s $state/run/slurmd.pid ]] && break
    sleep 0.1
  done
  wait_idle
  starting=0
  log "cluster up in $state (node $(hostname -s), $(nproc) CPUs)"
  echo "export SLURM_CONF=$conf"
}

case $action in
  start) do_start ;;
  stop) do_stop ;;
esac
