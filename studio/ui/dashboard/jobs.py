"""The dashboard's background jobs and the detectors over a run's metric series.

``load_runs`` and ``list_stored_runs`` are Orange-style ``run(inputs, state)`` functions
for the panel's task runners; ``detect`` picks the detectors a run's series allow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.app.detectors import Finding, run_detectors
from studio.ui.dashboard.curves import RETURN, TASK, TERM_PREFIX
from studio.ui.workers import TaskState


def load_runs(inputs: tuple[Any, list[int]], state: TaskState) -> dict[int, dict[str, Any]]:
    """Worker: the series and markers of stored runs (read in a session of their own)."""
    from studio.store import repo

    workspace, run_ids = inputs
    out: dict[int, dict[str, Any]] = {}
    with workspace.session() as s:
        for i, rid in enumerate(run_ids):
            if state.is_interruption_requested():
                break
            keys = repo.metric_keys(s, rid)
            series = {k: repo.metric_series(s, rid, k) for k in keys}
            markers = [(m.step, m.kind, dict(m.payload or {})) for m in repo.run_markers(s, rid)]
            out[rid] = {"series": series, "markers": markers}
            state.set_progress(100.0 * (i + 1) / len(run_ids))
    return out


def list_records(workspace: Any, state: TaskState) -> list[Any]:
    """Worker: every stored run as a ``studio.app.run_records.RunRecord``."""
    from studio.app.run_records import list_run_records

    return list_run_records(workspace)


def list_stored_runs(workspace: Any, state: TaskState) -> list[tuple[int, str]]:
    """Worker: ``(run id, label)`` of every stored run."""
    from studio.store import repo

    with workspace.session() as s:
        return [(r.id, f"run {r.id} · {r.status} · {r.task.env_id} · "
                 f"{r.design_version.design.name} v{r.design_version.number}")
                for r in repo.list_runs(s)]


def detect(series: dict[str, tuple[list[int], list[float]]]) -> list[Finding]:
    """The detectors that a run's metric series allow."""
    ret = series.get(RETURN)
    task = series.get(TASK)
    terms = {k[len(TERM_PREFIX):]: np.asarray(v[1]) for k, v in series.items()
             if k.startswith(TERM_PREFIX) and v[1]}
    return run_detectors(
        design_return=None if not ret or not task else ret[1],
        task_score=None if not ret or not task else task[1],
        term_returns=terms if terms and len(next(iter(terms.values()))) >= 3 else None,
        reward=ret[1] if ret and len(ret[1]) >= 10 else None,
    )
