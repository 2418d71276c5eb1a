#!/usr/bin/env bash
# mpiexec with the flags this machine needs: OpenMPI refuses root without the two variables, and
# a 2-rank job on a 2-core machine that is also compiling must be allowed to oversubscribe.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec mpiexec "$@"
