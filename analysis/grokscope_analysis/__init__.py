"""Read grokscope results files (HDF5) into pandas, compute onset steps, draw figures.

Runs with Debian's /usr/bin/python3 (python3-h5py, -numpy, -pandas, -matplotlib).

    from grokscope_analysis import load, onset, figures
    runs = load.list_runs("results/demo.h5")          # one row per run, attributes as columns
    conds = load.conditions(runs)                     # grid points, seeds grouped
    tidy = load.load_tidy("results/demo.h5")          # run x checkpoint x metric
    onset.onset_steps(steps, values)                  # {0.1: ..., 0.5: ..., 0.9: ...}
"""
from . import load, onset  # noqa: F401  (figures imports matplotlib: import it explicitly)

__all__ = ["load", "onset", "figures"]
