"""Runs as the training dashboard compares them: names, notes, settings, seeds (no Qt).

:func:`list_run_records` reads every run of a workspace as a plain :class:`RunRecord`;
:func:`set_run_label` renames a run and keeps notes on it; :func:`hyperparameter_rows`
lines the settings of several runs up for a table (which differ, which agree); and
:func:`seed_groups` and :func:`mean_band` turn runs of one configuration that differ
only in their seed into one mean curve with a min-max band.

>>> a = RunRecord(1, "", "", "completed", "Hopper-v5", "hop v1", 1, {"seed": 1, "lr": 3e-4}, None, 5)
>>> b = RunRecord(2, "", "", "completed", "Hopper-v5", "hop v1", 2, {"seed": 2, "lr": 3e-4}, None, 5)
>>> c = RunRecord(3, "", "", "completed", "Hopper-v5", "hop v1", 3, {"seed": 3, "lr": 1e-3}, None, 5)
>>> [row for row in hyperparameter_rows([a, c]) if row[2]]
[('lr', ['0.0003', '0.001'], True), ('seed', ['1', '3'], True)]
>>> [[r.id for r in g] for g in seed_groups([a, b, c])]
[[1, 2], [3]]
>>> steps, mean, low, high = mean_band([([0, 10], [0.0, 10.0]), ([0, 10], [2.0, 4.0])], points=3)
>>> steps.tolist(), mean.tolist(), low.tolist(), high.tolist()
([0.0, 5.0, 10.0], [1.0, 4.0, 7.0], [0.0, 3.0, 4.0], [2.0, 5.0, 10.0])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

__all__ = ["RunRecord", "describe_checkpoint", "describe_run", "hyperparameter_rows", "list_run_records", "mean_band", "seed_groups",
           "set_run_label"]

IGNORED_IN_GROUPING = ("seed", "device", "torch_threads")
"""Settings that do not make a different configuration (runs differing only here are seeds)."""


@dataclass(frozen=True)
class RunRecord:
    """One stored run, as the dashboard lists and compares it."""

    id: int
    name: str
    notes: str
    status: str
    env_id: str
    design: str
    """``name vN`` of the design version it trained."""
    seed: int | None
    config: dict[str, Any]
    created_at: datetime | None
    version_id: int

    @property
    def label(self) -> str:
        """``run 7 “baseline”`` or ``run 7``."""
        return f"run {self.id} “{self.name}”" if self.name else f"run {self.id}"


def list_run_records(workspace: Any) -> list[RunRecord]:
    """Every run of ``workspace`` (a ``studio.store.Workspace``), oldest first."""
    from studio.store import repo

    out = []
    with workspace.session() as s:
        for r in repo.list_runs(s):
            v = r.design_version
            out.append(RunRecord(
                id=r.id, name=str(getattr(r, "name", None) or ""),
                notes=str(getattr(r, "notes", None) or ""), status=str(r.status),
                env_id=r.task.env_id, design=f"{v.design.name} v{v.number}", seed=r.seed,
                config=dict(r.config or {}), created_at=r.created_at, version_id=r.design_version_id))
    return sorted(out, key=lambda rec: rec.id)


def set_run_label(workspace: Any, run_id: int, name: str | None = None, notes: str | None = None) -> None:
    """Rename run ``run_id`` and/or replace its notes (None leaves a field as it is).

    Raises:
        KeyError: there is no such run.
    """
    from studio.store import repo

    with workspace.session() as s:
        run = repo.get_run(s, run_id)
        if run is None:
            raise KeyError(f"There is no run {run_id} in {workspace.root}.")
        if name is not None:
            run.name = name.strip() or None
        if notes is not None:
            run.notes = notes.strip() or None


def describe_run(workspace: Any, run_key: str | int) -> str:
    """``run 7 “baseline” (hopper v2)`` for a run id (as training messages carry it)."""
    from studio.store import repo

    try:
        rid = int(run_key)
        with workspace.session() as s:
            run = repo.get_run(s, rid)
            if run is None:
                return f"run {rid}"
            name = getattr(run, "name", None)
            v = run.design_version
            label = f"run {rid} “{name}”" if name else f"run {rid}"
            return f"{label} ({v.design.name} v{v.number})"
    except Exception:  # noqa: BLE001 - a label never fails its caller
        return f"run {run_key}"


def describe_checkpoint(workspace: Any, path: str) -> str:
    """``run 7 “baseline” (hopper v2), checkpoint at step 40,960`` for a checkpoint file.

    A file the workspace does not list is described by its name.
    """
    import os
    from pathlib import Path

    from studio.store import repo

    name = Path(path).name
    try:
        rel = Path(os.path.relpath(Path(path).absolute(), workspace.root)).as_posix()
        with workspace.session() as s:
            for run in sorted(repo.list_runs(s), key=lambda r: r.id, reverse=True):
                for ck in repo.list_checkpoints(s, run.id):
                    if ck.path == rel:
                        return f"{describe_run(workspace, run.id)}, checkpoint at step {ck.step:,}"
    except Exception:  # noqa: BLE001 - a label never fails its caller
        pass
    return f"checkpoint {name}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return "—" if value is None else str(value)


def hyperparameter_rows(records: Sequence[RunRecord]) -> list[tuple[str, list[str], bool]]:
    """``(setting, value per run, differs)`` for every setting any of ``records`` has, by name."""
    keys = sorted({k for r in records for k in r.config})
    rows = []
    for key in keys:
        values = [_fmt(r.config.get(key)) for r in records]
        rows.append((key, values, len(set(values)) > 1))
    return rows


def _config_key(record: RunRecord) -> str:
    cfg = {k: v for k, v in record.config.items() if k not in IGNORED_IN_GROUPING}
    return json.dumps([record.env_id, record.version_id, cfg], sort_keys=True, default=str)


def seed_groups(records: Sequence[RunRecord]) -> list[list[RunRecord]]:
    """Runs grouped by configuration (task, design version, settings but the seed), in order."""
    groups: dict[str, list[RunRecord]] = {}
    for r in records:
        groups.setdefault(_config_key(r), []).append(r)
    return list(groups.values())


def mean_band(series: Sequence[tuple[Sequence[float], Sequence[float]]], points: int = 200
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max of several ``(steps, values)`` curves on a common step grid.

    The grid spans the steps every curve covers (so no curve is extrapolated); each curve
    is linearly interpolated onto it.
    """
    usable = [(np.asarray(s, dtype=np.float64), np.asarray(v, dtype=np.float64))
              for s, v in series if len(s) >= 1]
    if not usable:
        empty = np.zeros(0)
        return empty, empty, empty, empty
    lo = max(float(s[0]) for s, _ in usable)
    hi = min(float(s[-1]) for s, _ in usable)
    if hi < lo:
        hi = lo
    grid = np.linspace(lo, hi, max(2, points)) if hi > lo else np.array([lo])
    stack = np.vstack([np.interp(grid, s, v) for s, v in usable])
    return grid, stack.mean(axis=0), stack.min(axis=0), stack.max(axis=0)
