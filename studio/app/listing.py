"""How rollouts and rankings are listed: one record each, for the views, the commands and the
workspace overview.

Torch-free on purpose: the workspace browser polls the overview on the GUI thread, and the
ranking service (:mod:`studio.app.ranking`, which scores with torch) builds its lists here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["RankingInfo", "RolloutInfo", "ranking_info", "rollout_info"]


@dataclass(frozen=True)
class RolloutInfo:
    """A stored rollout, as the views and commands list it."""

    id: int
    env_id: str
    policy: str
    seed: int | None
    length: int
    task_score: float | None
    design_return: float | None
    term_returns: dict[str, float]
    trace_path: Path | None
    """Absolute path of the trace file (``None`` if the rollout has none)."""
    video_path: Path | None
    """Absolute path of the video (``None`` if it was not rendered)."""
    design_version_id: int | None
    run_id: int | None
    round_id: int | None
    created_at: datetime | None = None
    trace_rel: str | None = None
    """The trace path as stored, relative to the workspace."""
    video_rel: str | None = None
    """The video path as stored, relative to the workspace."""


@dataclass(frozen=True)
class RankingInfo:
    """A stored ranking: tiers of rollout ids, best first (``[]`` for a skipped set)."""

    id: int
    tiers: list[list[int]]
    annotator: str
    comment: str | None
    skipped: bool
    round_id: int | None
    created_at: datetime
    rollout_ids: list[int] = field(default_factory=list)
    """Every rollout of the set, best first (for a skipped set: in the order shown)."""


def rollout_info(workspace: Any, r: Any, env_id: str | None) -> RolloutInfo:
    """The record of a stored rollout row (paths resolved against ``workspace``)."""
    returns = r.returns if isinstance(r.returns, dict) else {}
    return RolloutInfo(
        id=r.id, env_id=env_id or "", policy=r.policy or "", seed=r.seed,
        length=int(r.length or 0), task_score=r.task_score, design_return=r.design_return,
        term_returns={str(k): float(v) for k, v in returns.items()},
        trace_path=workspace.resolve(r.trace_path) if r.trace_path else None,
        video_path=workspace.resolve(r.video_path) if r.video_path else None,
        design_version_id=r.design_version_id, run_id=r.run_id, round_id=r.round_id,
        created_at=r.created_at, trace_rel=r.trace_path, video_rel=r.video_path)


def ranking_info(r: Any) -> RankingInfo:
    """The record of a stored ranking row (entries loaded)."""
    return RankingInfo(id=r.id, tiers=r.tiers, annotator=r.ranked_by, comment=r.comment,
                       skipped=bool(r.skipped), round_id=r.round_id, created_at=r.created_at,
                       rollout_ids=list(r.rollout_ids))
