"""Typical ranges of every feature of a task, measured from random rollouts and cached.

A range is the (1st, 99th) percentile of the feature over the transitions of uniformly
random actions, through the task's own resets and terminations. Ranges of the
built-in tasks are committed in ``assets/feature_ranges/<env_id>.json``; other tasks
(Gymnasium ids, MJCF files) are measured on first use (a second or two) and cached in
the user cache folder. Regenerate the committed files with::

    python -m studio.sim.tasks.ranges            # every built-in task
    python -m studio.sim.tasks.ranges Hopper-v5  # one task
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from studio.sim.tasks.base import Task

log = logging.getLogger(__name__)

FORMAT = "reward-studio/feature-ranges"
VERSION = 1
ASSETS_DIR = Path(__file__).resolve().parents[3] / "assets" / "feature_ranges"
"""Committed ranges of the built-in tasks."""
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reward-studio" / "feature_ranges"
"""Ranges measured on first use (tasks without committed ranges)."""


def ranges_filename(env_id: str) -> str:
    """File name for a task id; MJCF paths get their stem plus a short hash of the path."""
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", env_id) and not env_id.lower().endswith(".xml"):
        return f"{env_id}.json"
    stem = re.sub(r"[^A-Za-z0-9_\-]+", "_", Path(env_id).stem)
    digest = hashlib.sha1(os.path.abspath(env_id).encode()).hexdigest()[:10]
    return f"{stem}-{digest}.json"


def measure_ranges(
    task: Task,
    num_envs: int = 8,
    steps: int = 500,
    seed: int = 0,
    percentiles: tuple[float, float] = (1.0, 99.0),
) -> dict[str, tuple[float, float]]:
    """Typical ranges of all the task's features over random-action rollouts."""
    from studio.sim.vector import VectorEnv

    names = task.feature_names()
    low = np.where(np.isfinite(task.action_low), task.action_low, -1.0).astype(np.float64)
    high = np.where(np.isfinite(task.action_high), task.action_high, 1.0).astype(np.float64)
    rng = np.random.default_rng(seed)
    chunks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    with VectorEnv(task, num_envs, seed=seed) as env:
        env.set_feature_names(names)
        env.reset()
        for _ in range(steps):
            res = env.step(rng.uniform(low, high, size=(num_envs, task.act_dim)))
            for n in names:
                chunks[n].append(res.features[n])
    out: dict[str, tuple[float, float]] = {}
    for n in names:
        v = np.concatenate(chunks[n])
        v = v[np.isfinite(v)]
        if v.size == 0:
            out[n] = (-1.0, 1.0)
            continue
        lo, hi = (float(x) for x in np.percentile(v, percentiles))
        if hi - lo < 1e-9:  # constant over the rollouts: keep a visible band
            pad = max(1e-6, 0.05 * abs(lo))
            lo, hi = lo - pad, hi + pad
        out[n] = (lo, hi)
    return out


def write_ranges(task: Task, path: Path | None = None, **measure_kwargs: object) -> Path:
    """Measure and write the task's ranges (to the assets folder unless ``path``)."""
    ranges = measure_ranges(task, **measure_kwargs)  # type: ignore[arg-type]
    target = path or ASSETS_DIR / ranges_filename(task.env_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    method = "1st-99th percentile over uniformly random actions, task resets included"
    target.write_text(_dumps(task.env_id, ranges, method))
    return target


def _dumps(env_id: str, ranges: dict[str, tuple[float, float]], method: str) -> str:
    """The JSON document, one feature per line so that diffs stay readable."""
    head = {"format": FORMAT, "version": VERSION, "env_id": env_id, "method": method}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    rows = [f"    {json.dumps(k)}: [{lo:.6g}, {hi:.6g}]" for k, (lo, hi) in sorted(ranges.items())]
    return "{\n" + ",\n".join(lines) + ',\n  "ranges": {\n' + ",\n".join(rows) + "\n  }\n}\n"


def _read(path: Path) -> dict[str, tuple[float, float]] | None:
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            return None
        return {k: (float(v[0]), float(v[1])) for k, v in doc["ranges"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def load_ranges(task: Task, regenerate: bool = True) -> dict[str, tuple[float, float]]:
    """The task's cached ranges; measured and cached first when missing or stale."""
    name = ranges_filename(task.env_id)
    names = set(task.feature_names())
    for folder in (ASSETS_DIR, CACHE_DIR):
        ranges = _read(folder / name)
        if ranges is not None and names <= set(ranges):
            return ranges
    if not regenerate:
        return {}
    log.info("measuring typical feature ranges of %s", task.env_id)
    ranges = measure_ranges(task, num_envs=4, steps=250)
    try:  # the user cache, never the committed assets: those come from main()
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        (CACHE_DIR / name).write_text(_dumps(task.env_id, ranges, "quick measurement on first use"))
    except OSError as exc:
        log.warning("could not cache feature ranges of %s in %s: %s", task.env_id, CACHE_DIR, exc)
    return ranges


def main(argv: list[str] | None = None) -> int:
    """Regenerate the committed range files (all built-in tasks unless ids are given)."""
    from studio.sim.registry import get_task, list_tasks

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("env_ids", nargs="*", help="task ids (default: every registered task)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--envs", type=int, default=8)
    args = parser.parse_args(argv)
    for env_id in args.env_ids or list_tasks():
        path = write_ranges(get_task(env_id), steps=args.steps, num_envs=args.envs)
        print(f"{env_id}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
