#!/usr/bin/env bash
# Idempotent set-up of everything grokscope needs on Debian 12: system packages and offline data.
# When everything is already present it only checks and returns (a few seconds).
#
#   env/bootstrap.sh            packages + data
#   env/bootstrap.sh --data     data only (no root needed)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

packages=(
  # build
  build-essential cmake pkg-config ninja-build zlib1g-dev
  # engines
  libtorch-dev libopenblas0-pthread libopenblas-pthread-dev
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libyaml-cpp-dev libcli11-dev coinor-libclp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-cvxopt
  # offline data
  dataset-fashion-mnist
  # python side (Debian's own interpreter, /usr/bin/python3)
  python3 python3-h5py python3-yaml python3-numpy python3-pandas python3-matplotlib python3-pytest python3-torch
  # local Slurm cluster for integration tests
  slurm-wlm slurmctld slurmd slurm-client munge
)

want_packages=1
[[ "${1:-}" == "--data" ]] && want_packages=0

if (( want_packages )); then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    echo "[bootstrap] installing ${#missing[@]} Debian packages: ${missing[*]}"
    sudo_cmd=(); (( EUID == 0 )) || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's LibTorch calls whatever libblas.so.3 the alternatives system points at; the reference
  # BLAS is ~50x slower than OpenBLAS. Point it at the pthread OpenBLAS explicitly.
  for lib in libblas.so.3 liblapack.so.3; do
    target=$(ls /usr/lib/x86_64-linux-gnu/openblas-pthread/$lib 2>/dev/null || true)
    if [[ -n "$target" ]] && [[ "$(readlink -f /etc/alternatives/${lib}-x86_64-linux-gnu 2>/dev/null)" != "$target" ]]; then
      update-alternatives --set "${lib}-x86_64-linux-gnu" "$target" >/dev/null 2>&1 || true
    fi
  done
fi

"$here/prepare_data.sh"
echo "[bootstrap] ready"
