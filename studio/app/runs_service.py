"""What the training dashboard reads about stored runs, in reading transactions.

The dashboard never opens store sessions itself: these functions do, with
:meth:`~studio.store.workspace.Workspace.reading` so that a list or plot being read on the
GUI thread never takes SQLite's write lock (a run being saved is never held up by it,
and it never waits for one).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.store import repo

__all__ = ["checkpoint_to_play", "load_series", "run_labels", "run_name", "run_version",
           "version_number"]


def load_series(workspace: Any, run_ids: list[int], progress: Callable[[float], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> dict[int, dict[str, Any]]:
    """Per run: ``{"series": {key: (steps, values)}, "markers": [(step, kind, payload)]}``."""
    out: dict[int, dict[str, Any]] = {}
    with workspace.reading() as s:
        for i, rid in enumerate(run_ids):
            if cancelled is not None and cancelled():
                break
            series = {k: repo.metric_series(s, rid, k) for k in repo.metric_keys(s, rid)}
            markers = [(m.step, m.kind, dict(m.payload or {})) for m in repo.run_markers(s, rid)]
            out[rid] = {"series": series, "markers": markers}
            if progress is not None:
                progress(100.0 * (i + 1) / len(run_ids))
    return out


def run_labels(workspace: Any) -> list[tuple[int, str]]:
    """``(run id, "run 3 · stopped · Hopper-v5 · hop v2")`` of every stored run."""
    with workspace.reading() as s:
        return [(r.id, f"run {r.id} · {r.status} · {r.task.env_id} · "
                 f"{r.design_version.design.name} v{r.design_version.number}")
                for r in repo.list_runs(s)]


def checkpoint_to_play(workspace: Any, run_id: int) -> Path | None:
    """The newest checkpoint file of a run, or None when it has none."""
    with workspace.reading() as s:
        ck = repo.latest_checkpoint(s, run_id)
        return None if ck is None else workspace.resolve(ck.path)


def run_name(workspace: Any, run_id: int) -> str:
    """The user's name for a run, or ``""``."""
    with workspace.reading() as s:
        run = repo.get_run(s, run_id)
        return str(getattr(run, "name", None) or "") if run is not None else ""


def run_version(workspace: Any, run_id: int) -> int | None:
    """The design version a run trains, or None."""
    with workspace.reading() as s:
        run = repo.get_run(s, run_id)
        return None if run is None else int(run.design_version_id)


def version_number(workspace: Any, version_id: int) -> int | None:
    """A version's number within its design, or None."""
    with workspace.reading() as s:
        v = repo.get_version(s, version_id)
        return None if v is None else int(v.number)
