"""metrics.geometry.glue_n_t, checked on files written by the real `grokscope run`: GLUE takes its own
sample count while MFTMA keeps n_t (the studies set GLUE's lower: it costs ~15x MFTMA per sample)."""
import subprocess

import h5py
import numpy as np

from conftest import REPO, grokscope_bin, grokscope_env


def tiny_run(tmp_path, name, *overrides):
    out = tmp_path / f"{name}.h5"
    cmd = [grokscope_bin(), "run", str(REPO / "tests" / "integration" / "tiny.yaml"), "metrics.ntk.enabled=false",
           "metrics.geometry.n_t=40", *overrides, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env=grokscope_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return h5py.File(out, "r")


def test_glue_n_t_changes_glue_only(tmp_path):
    with tiny_run(tmp_path, "same") as a, tiny_run(tmp_path, "fewer", "metrics.geometry.glue_n_t=7") as b:
        rid = sorted(a["runs"])[-1]  # init_scale 4
        ra, rb = a["runs"][rid], b["runs"][rid]
        layers = list(ra["geometry"])
        assert layers
        assert rb.attrs["metrics.geometry.glue_n_t"] in ("7", b"7")
        for layer in layers:
            # Same training, same MFTMA samples: bit-identical.
            for m in ("capacity", "radius", "dimension"):
                np.testing.assert_array_equal(ra[f"geometry/{layer}/mftma/{m}"][:], rb[f"geometry/{layer}/mftma/{m}"][:])
            # 7 GLUE samples instead of 40: other values (from the same per-sample streams).
            ga, gb = ra[f"geometry/{layer}/glue/capacity"][:], rb[f"geometry/{layer}/glue/capacity"][:]
            assert np.all(np.isfinite(ga)) and np.all(np.isfinite(gb))
            assert not np.array_equal(ga, gb), layer
