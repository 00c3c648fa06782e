"""Which process trains a run, and marking the runs whose process is gone ``interrupted``.

A run that is ``queued``, ``running`` or ``paused`` is being trained by the process that
recorded itself with :func:`claim_run` (its ``pid`` and ``host``) and refreshes
``heartbeat_at`` with :func:`heartbeat` whenever it saves the run's messages. When a
workspace is opened for writing, :func:`mark_interrupted` ends the runs whose process is
gone, naming their last checkpoint, so that they can be resumed. A run is never marked
while its process lives: on this host that is asked of the kernel; a run recorded on
another host (a workspace on a shared disk) is only marked when its heartbeat is older
than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.store.coltypes import utcnow
from studio.store.models import Run, RunStatus
from studio.store.runs import latest_checkpoint, set_run_status

__all__ = ["LIVE", "STALE_AFTER_S", "claim_run", "heartbeat", "mark_interrupted", "pid_alive",
           "this_host"]

LIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.PAUSED.value)
"""Statuses of a run that some process should be training."""

STALE_AFTER_S = 600.0
"""A run recorded on another host counts as gone after this long without a heartbeat."""


def this_host() -> str:
    """This machine's name, as recorded in ``runs.host``."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:  # a zombie has exited; only its parent has not reaped it yet
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def claim_run(session: Session, run: Run, pid: int | None = None, host: str | None = None) -> None:
    """Record that this process (or ``pid`` on ``host``) trains ``run`` from now on."""
    run.pid = os.getpid() if pid is None else pid
    run.host = this_host() if host is None else host
    run.heartbeat_at = utcnow()
    session.flush()


def heartbeat(session: Session, run_id: int) -> None:
    """Refresh a run's heartbeat (its process saved something just now)."""
    run = session.get(Run, run_id)
    if run is not None:
        run.heartbeat_at = utcnow()
        session.flush()


def _gone(run: Run, now: datetime, alive: Callable[[int], bool]) -> bool:
    if run.pid is None or run.host is None:
        # Recorded before liveness existed (or never started): only the lock holder,
        # which is the caller, could be training it, and it is not.
        return True
    if run.host == this_host():
        return run.pid != os.getpid() and not alive(run.pid)
    beat = run.heartbeat_at or run.started_at or run.created_at
    return beat is None or now - beat > timedelta(seconds=STALE_AFTER_S)


def mark_interrupted(session: Session, alive: Callable[[int], bool] = pid_alive) -> Sequence[Run]:
    """Mark ``interrupted`` the live-status runs whose process is gone; returns them.

    The error text names the last checkpoint (or says there is none), so the user knows
    what resuming will continue from.
    """
    now = utcnow()
    marked = []
    for run in session.scalars(select(Run).where(Run.status.in_(LIVE)).order_by(Run.id)):
        if not _gone(run, now, alive):
            continue
        ckpt = latest_checkpoint(session, run.id)
        where = (f"its last checkpoint is {ckpt.path} at step {ckpt.step:,}: resume it from there"
                 if ckpt is not None else "it has no checkpoint, so it cannot be resumed")
        set_run_status(session, run, RunStatus.INTERRUPTED,
                       f"the process training it ({run.pid or '?'} on {run.host or '?'}) ended "
                       f"without stopping it; {where}")
        marked.append(run)
    return marked
