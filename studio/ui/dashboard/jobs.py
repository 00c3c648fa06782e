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
    """Worker: the series and markers of stored runs (``studio.app.runs_service``)."""
    from studio.app.runs_service import load_series

    workspace, run_ids = inputs
    return load_series(workspace, run_ids, state.set_progress, state.is_interruption_requested)


def list_records(workspace: Any, state: TaskState) -> list[Any]:
    """Worker: every stored run as a ``studio.app.run_records.RunRecord``."""
    from studio.app.run_records import list_run_records

    return list_run_records(workspace)


def list_stored_runs(workspace: Any, state: TaskState) -> list[tuple[int, str]]:
    """Worker: ``(run id, label)`` of every stored run."""
    from studio.app.runs_service import run_labels

    return run_labels(workspace)


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
