#!/usr/bin/env bash
# mpiexec with the flags this machine needs: OpenMPI refuses root without the two variables, and
# a 2-rank job on a 2-core machine that is also compiling must be allowed to oversubscribe.
# Binding: OpenMPI binds each rank of a 1- or 2-rank job to ONE core, so a rank's threads
# (parallel.threads, the default being the node's cores / its ranks) would share that core. Unless
# the caller chooses a binding or mapping, ranks are left unbound and the kernel spreads the threads.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
for arg in "$@"; do
  case $arg in
    --bind-to* | --map-by* | --cpu-set* | --cpu-list* | --rankfile* | -bind-to* | -map-by*) exec mpiexec "$@" ;;
  esac
done
exec mpiexec --bind-to none "$@"
