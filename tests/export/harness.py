"""Record trajectories, run exported code in a fresh interpreter, and compare with the studio.

The fresh interpreter is ``python -I -S`` (isolated, and no site module: no ``.pth``
file, so no editable install of the studio; no PYTHONPATH; the script's
folder not on sys.path) with ``sys.path`` set to the export folder plus the interpreter's
site-packages, and it first asserts that ``studio`` cannot be imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

STATE_FIELDS = (
    "qpos", "qvel", "xpos", "xquat", "xipos", "cvel", "cfrc_ext", "ctrl",
    "actuator_force", "sensordata", "subtree_com", "site_xpos", "time",
)

PRELUDE = """
import sys
sys.path[:] = [{folder!r}] + {site!r}
try:
    import studio  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("studio is importable in the isolated interpreter")
"""


def site_paths() -> list[str]:
    """The interpreter's library folders, nothing of the repo: the sandbox's own rule."""
    from studio.export.sandbox import library_paths

    return library_paths()


def run_isolated(folder: Path, body: str, timeout: float = 120.0) -> str:
    """Run ``body`` in ``python -I`` seeing only ``folder`` and site-packages; return stdout."""
    script = PRELUDE.format(folder=str(folder), site=site_paths()) + textwrap.dedent(body)
    res = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True, text=True, timeout=timeout, cwd=str(folder),
    )
    if res.returncode != 0:
        raise AssertionError(f"isolated run failed ({res.returncode}):\n{res.stderr[-4000:]}")
    return res.stdout


def random_features(names: list[str], steps: int, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Feature arrays [steps, batch] spread over typical HalfCheetah ranges, with exact zeros."""
    from studio.sim.registry import get_task

    catalog = get_task("HalfCheetah-v5").catalog
    rng = np.random.default_rng(seed)
    # array features (qpos, action, cfrc_ext...) get their per-transition shape
    shape = {n: tuple(catalog[n].shape) if n in catalog else () for n in names}
    out = {n: rng.normal(0.0, 1.5, size=(steps, batch, *shape[n])) for n in names}
    for n in names:
        out[n][rng.random((steps, batch, *shape[n])) < 0.05] = 0.0
    if "ctrl_sq" in out:
        out["ctrl_sq"] = np.abs(out["ctrl_sq"]) * 2
    return out


def as_json(obj: Any) -> str:
    """JSON of nested arrays (for small payloads)."""
    return json.dumps(obj, default=lambda a: np.asarray(a).tolist())
