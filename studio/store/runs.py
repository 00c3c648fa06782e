"""Repository functions for training runs: status, metric series, markers, checkpoints.

Like :mod:`studio.store.designs`, every function takes a session and leaves the
commit to the caller's ``with ws.session()`` block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from studio.store.coltypes import utcnow
from studio.store.errors import InvalidRunTransitionError, StoreError
from studio.store.models import Checkpoint, DesignVersion, MetricPoint, Run, RunEvent, RunStatus

__all__ = [
    "ALLOWED_TRANSITIONS", "RESUMABLE", "add_checkpoint", "add_marker", "append_metric_rows",
    "append_metrics", "create_run", "get_run", "latest_checkpoint", "list_checkpoints",
    "list_runs", "metric_keys", "metric_series", "run_markers", "set_run_status",
]

ALLOWED_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.STOPPED,
                                 RunStatus.INTERRUPTED}),
    RunStatus.RUNNING: frozenset({RunStatus.PAUSED, RunStatus.COMPLETED, RunStatus.FAILED,
                                  RunStatus.STOPPED, RunStatus.INTERRUPTED}),
    RunStatus.PAUSED: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.STOPPED,
                                 RunStatus.INTERRUPTED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset({RunStatus.RUNNING}),
    RunStatus.STOPPED: frozenset({RunStatus.RUNNING}),
    RunStatus.INTERRUPTED: frozenset({RunStatus.RUNNING, RunStatus.STOPPED}),
}
"""Which status may follow which. ``completed`` is final; a ``stopped``, ``interrupted`` or
``failed`` run becomes ``running`` again when resumed from its last checkpoint (a failed one is
a retry: its process or its Ray worker died, or it stopped on an error the user has fixed)."""

ENDED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED, RunStatus.INTERRUPTED})
"""Statuses of a run that no process is training: ``ended_at`` is set on entering them."""

RESUMABLE = frozenset(s for s in ENDED if RunStatus.RUNNING in ALLOWED_TRANSITIONS[s])
"""Ended statuses a run can be resumed from its last checkpoint in (stopped, interrupted, failed)."""


def create_run(session: Session, design_version_id: int, config: Mapping[str, Any] | None = None,
               *, device: str | None = None, seed: int | None = None) -> Run:
    """A new run of a design version, ``queued``; its task is the design's task.

    Raises:
        StoreError: the design version does not exist.
    """
    version = session.get(DesignVersion, design_version_id)
    if version is None:
        raise StoreError(f"Cannot create a run: design version {design_version_id} does not "
                         "exist in this workspace.")
    run = Run(design_version_id=version.id, task_id=version.design.task_id,
              config=dict(config or {}), status=RunStatus.QUEUED.value, device=device,
              seed=seed)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> Run | None:
    """The run with this id, or ``None``."""
    return session.get(Run, run_id)


def list_runs(session: Session, design_version_id: int | None = None) -> Sequence[Run]:
    """All runs, or those of one design version, oldest first."""
    query = select(Run).order_by(Run.id)
    if design_version_id is not None:
        query = query.where(Run.design_version_id == design_version_id)
    return session.scalars(query).all()


def set_run_status(session: Session, run: Run, status: RunStatus | str,
                   error: str | None = None) -> Run:
    """Move ``run`` to ``status``, stamping ``started_at`` and ``ended_at``.

    Setting the current status again is a no-op (apart from ``error``).

    Raises:
        ValueError: ``status`` is not a :class:`RunStatus`.
        InvalidRunTransitionError: the lifecycle does not allow the change
            (see :data:`ALLOWED_TRANSITIONS`).
    """
    new = RunStatus(status)
    old = RunStatus(run.status)
    if new != old and new not in ALLOWED_TRANSITIONS[old]:
        remedy = ("it has ended: start a new run instead" if not ALLOWED_TRANSITIONS[old]
                  else f"it can become {', '.join(sorted(ALLOWED_TRANSITIONS[old]))}")
        raise InvalidRunTransitionError(
            f"Run {run.id} is {old.value} and cannot become {new.value}; {remedy}.")
    run.status = new.value
    if error is not None:
        run.error = error
    if new == RunStatus.RUNNING and run.started_at is None:
        run.started_at = utcnow()
    if new in ENDED and old not in ENDED:
        run.ended_at = utcnow()
    elif new not in ENDED:
        run.ended_at = None  # resumed
    session.flush()
    return run


def append_metric_rows(session: Session, run_id: int,
                       rows: Iterable[tuple[int, Mapping[str, float]]]) -> int:
    """Store many ``(step, {key: value})`` rows in one statement; return the point count.

    A point that exists already (same run, key and step, e.g. after resuming from a
    checkpoint) takes the new value. NaN is stored as NULL and read back as NaN.
    """
    points = [{"run_id": run_id, "key": key, "step": int(step), "value": float(value)}
              for step, values in rows for key, value in values.items()]
    if not points:
        return 0
    stmt = sqlite_insert(MetricPoint)
    stmt = stmt.on_conflict_do_update(
        index_elements=[MetricPoint.run_id, MetricPoint.key, MetricPoint.step],
        set_={"value": stmt.excluded.value})
    session.execute(stmt, points)
    return len(points)


def append_metrics(session: Session, run_id: int, step: int,
                   values: Mapping[str, float]) -> int:
    """Store one step's metrics ``{key: value}`` (see :func:`append_metric_rows`)."""
    return append_metric_rows(session, run_id, [(step, values)])


def metric_series(session: Session, run_id: int, key: str,
                  since_step: int | None = None) -> tuple[list[int], list[float]]:
    """``(steps, values)`` of one metric, by step; only steps after ``since_step`` if given.

    ``since_step`` lets a plot fetch only what arrived since its last redraw.
    """
    query = (select(MetricPoint.step, MetricPoint.value)
             .where(MetricPoint.run_id == run_id, MetricPoint.key == key)
             .order_by(MetricPoint.step))
    if since_step is not None:
        query = query.where(MetricPoint.step > since_step)
    steps: list[int] = []
    values: list[float] = []
    for step, value in session.execute(query):
        steps.append(step)
        values.append(math.nan if value is None else value)
    return steps, values


def metric_keys(session: Session, run_id: int) -> list[str]:
    """The metric keys a run has points for, sorted."""
    return list(session.scalars(
        select(MetricPoint.key).where(MetricPoint.run_id == run_id).distinct()
        .order_by(MetricPoint.key)))


def add_marker(session: Session, run_id: int, step: int, kind: str,
               payload: Any = None) -> RunEvent:
    """Mark step ``step`` of a run, e.g. ``kind="design_switched"`` with the version ids."""
    event = RunEvent(run_id=run_id, step=step, kind=kind, payload=payload)
    session.add(event)
    session.flush()
    return event


def run_markers(session: Session, run_id: int, kind: str | None = None) -> Sequence[RunEvent]:
    """A run's markers by step (and insertion order), optionally of one kind."""
    query = select(RunEvent).where(RunEvent.run_id == run_id)
    if kind is not None:
        query = query.where(RunEvent.kind == kind)
    return session.scalars(query.order_by(RunEvent.step, RunEvent.id)).all()


def add_checkpoint(session: Session, run_id: int, step: int, path: str,
                   metrics: Mapping[str, Any] | None = None) -> Checkpoint:
    """Record a checkpoint file; ``path`` is relative to the workspace (see ``media_path``).

    Raises:
        ValueError: ``path`` is absolute.
    """
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ValueError(f"Checkpoint path {path!r} must be relative to the workspace; "
                         "use Workspace.media_path to get one.")
    checkpoint = Checkpoint(run_id=run_id, step=step, path=path,
                            metrics=dict(metrics) if metrics is not None else None)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def list_checkpoints(session: Session, run_id: int) -> Sequence[Checkpoint]:
    """A run's checkpoints by step."""
    return session.scalars(select(Checkpoint).where(Checkpoint.run_id == run_id)
                           .order_by(Checkpoint.step, Checkpoint.id)).all()


def latest_checkpoint(session: Session, run_id: int) -> Checkpoint | None:
    """The checkpoint at the highest step of a run (the newest on a tie), or ``None``."""
    return session.scalars(select(Checkpoint).where(Checkpoint.run_id == run_id)
                           .order_by(Checkpoint.step.desc(), Checkpoint.id.desc())
                           .limit(1)).first()
