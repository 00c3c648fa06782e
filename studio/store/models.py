"""The workspace schema as SQLAlchemy 2.0 declarative models.

One workspace database holds tasks, design lineages and their immutable versions,
training runs with their metric series, markers and checkpoints, rollouts, human
rankings, refinement rounds and the LLM exchanges behind them, plus app settings.

Designs are stored as canonical JSON text (see :func:`~studio.store.coltypes.canonical_json`);
the store does not interpret them. Timestamps are aware UTC datetimes.

The migrations in ``studio/store/migrations/versions`` are the source of truth for the
database; these models must describe the same schema (a test compares them).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from studio.store.coltypes import JSONText, UtcDateTime, utcnow
from studio.store.errors import ImmutableVersionError

__all__ = [
    "Base", "Checkpoint", "Design", "DesignVersion", "LLMExchange", "MetricPoint",
    "Ranking", "RankingEntry", "RefinementCandidate", "RefinementExperiment", "RefinementRound", "Rollout", "Run", "RunEvent",
    "RunStatus", "Setting", "Task",
]

# Stable constraint names let batch migrations on SQLite find and alter constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base; its metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RunStatus(StrEnum):
    """Lifecycle of a training run. ``completed`` is final; ``stopped`` and ``failed`` runs may be
    resumed (retried) from their last checkpoint (see ``studio.store.runs.ALLOWED_TRANSITIONS``).

    ``interrupted``: the process training it died (a crash, a kill) without ending it;
    set when a workspace is opened (see :func:`studio.store.liveness.mark_interrupted`). It
    can be resumed from its last checkpoint, which makes it ``running`` again.
    """

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"


_STATUS_SQL = ", ".join(f"'{s.value}'" for s in RunStatus)


class Task(Base):
    """An environment the user designs rewards for."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    env_id: Mapped[str] = mapped_column(String(200), unique=True)
    """Gymnasium-style id, e.g. ``HalfCheetah-v5``."""
    display_name: Mapped[str] = mapped_column(String(200))
    mjcf_path: Mapped[str | None] = mapped_column(Text)
    """Optional MJCF model file, as the user gave it."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    designs: Mapped[list[Design]] = relationship(back_populates="task")


class Design(Base):
    """A named design lineage for one task; its content lives in its versions."""

    __tablename__ = "designs"
    __table_args__ = (UniqueConstraint("task_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="designs")
    versions: Mapped[list[DesignVersion]] = relationship(
        back_populates="design", order_by="DesignVersion.number",
        cascade="all, delete-orphan", passive_deletes=True,
    )


class DesignVersion(Base):
    """One saved state of a design. Never changed once written (see the guard below)."""

    __tablename__ = "design_versions"
    __table_args__ = (UniqueConstraint("design_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    """1, 2, 3... within the design."""
    parent_version_id: Mapped[int | None] = mapped_column(ForeignKey("design_versions.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str] = mapped_column(Text)
    """Canonical JSON text of the design."""
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    """sha256 hex digest of ``document``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    author: Mapped[str | None] = mapped_column(String(200))

    design: Mapped[Design] = relationship(back_populates="versions")
    parent: Mapped[DesignVersion | None] = relationship(remote_side=[id])

    @property
    def data(self) -> dict[str, Any]:
        """The design document parsed from JSON (a fresh dict on each call)."""
        result: dict[str, Any] = json.loads(self.document)
        return result


@event.listens_for(DesignVersion, "before_update")
def _refuse_version_update(mapper: Mapper[Any], connection: Any, target: DesignVersion) -> None:
    raise ImmutableVersionError(
        f"Design version {target.id} (number {target.number}) is immutable; "
        "save the change as a new version instead."
    )


class Run(Base):
    """A training run of one design version on one task."""

    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    design_version_id: Mapped[int] = mapped_column(
        ForeignKey("design_versions.id", ondelete="RESTRICT"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    config: Mapped[Any] = mapped_column(JSONText, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED.value)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    device: Mapped[str | None] = mapped_column(String(64))
    seed: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer)
    """The id of the process training the run, on ``host`` (liveness, migration 0004)."""
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the training process last reported; set with every save of its messages."""
    name: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    design_version: Mapped[DesignVersion] = relationship()
    task: Mapped[Task] = relationship()


class MetricPoint(Base):
    """One scalar of a run's metric series. NaN is stored as NULL by SQLite.

    The primary key (run_id, key, step) is the index every plot query walks, and the
    table is WITHOUT ROWID so the rows live in that index and take no extra space.
    """

    __tablename__ = "metric_points"
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: Mapped[int] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class RunEvent(Base):
    """A marker on a run's timeline, e.g. ``design_switched`` at step N."""

    __tablename__ = "run_events"
    __table_args__ = (Index(None, "run_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Checkpoint(Base):
    """A saved policy; ``path`` is relative to the workspace folder (POSIX separators)."""

    __tablename__ = "checkpoints"
    __table_args__ = (Index(None, "run_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Rollout(Base):
    """One recorded episode of a policy on a task, with its trace and video (migration 0003)."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    design_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("design_versions.id", ondelete="SET NULL"))
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="SET NULL"))
    video_path: Mapped[str | None] = mapped_column(Text)
    """Relative to the workspace folder, or ``None`` when not rendered."""
    returns: Mapped[Any] = mapped_column(JSONText, nullable=True)
    """Per-term episode returns, ``{term: value}``."""
    task_score: Mapped[float | None] = mapped_column(Float)
    length: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    """The task the episode ran on (``None`` only for rows older than 0003 without a run)."""
    policy: Mapped[str | None] = mapped_column(Text)
    """Where the actions came from: ``random``, ``zero``, ``checkpoint:<path>``, ``run:<id>``."""
    design_return: Mapped[float | None] = mapped_column(Float)
    """The attached design's return over the episode (``returns`` holds each term's)."""
    trace_path: Mapped[str | None] = mapped_column(Text)
    """The ``.npz`` trace (states, actions, rewards, features), relative to the workspace."""
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("refinement_rounds.id", ondelete="SET NULL", use_alter=True), index=True)
    """The refinement round the rollout was recorded for, if any."""


class Ranking(Base):
    """A user's ordering of rollouts in tiers, best first; ``ranked_by`` is the annotator."""

    __tablename__ = "rankings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ranked_by: Mapped[str] = mapped_column(String(200))
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("refinement_rounds.id", ondelete="SET NULL"), index=True)
    context: Mapped[str | None] = mapped_column(Text)
    """Free-form context when the ranking is not part of a round."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    """The annotator's own words about the set ("falls at the end")."""
    skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    """The annotator skipped the set: its entries carry no tier."""

    entries: Mapped[list[RankingEntry]] = relationship(
        order_by="RankingEntry.position", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def rollout_ids(self) -> list[int]:
        """Rollout ids in ranked order, best first (tied ones in the order shown)."""
        return [e.rollout_id for e in self.entries]

    @property
    def tiers(self) -> list[list[int]]:
        """Rollout ids grouped by tier, best tier first; ``[]`` for a skipped set."""
        groups: dict[int, list[int]] = {}
        for e in self.entries:
            if e.tier is not None:
                groups.setdefault(e.tier, []).append(e.rollout_id)
        return [groups[t] for t in sorted(groups)]


class RankingEntry(Base):
    """One rollout of a ranking: its position (best first) and tier (0 = best)."""

    __tablename__ = "ranking_entries"
    __table_args__ = (UniqueConstraint("ranking_id", "rollout_id"),)

    ranking_id: Mapped[int] = mapped_column(
        ForeignKey("rankings.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("rollouts.id", ondelete="RESTRICT"), index=True)
    tier: Mapped[int | None] = mapped_column(Integer)
    """0 for the best; equal tiers are ties; ``None`` in a skipped set (migration 0003)."""


class RefinementRound(Base):
    """One round of the refinement loop: proposals, training, ranking."""

    __tablename__ = "refinement_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[int] = mapped_column(Integer)
    proposer: Mapped[str] = mapped_column(String(200))
    parent_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("refinement_rounds.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(32), default="open")
    best_rollout_id: Mapped[int | None] = mapped_column(
        ForeignKey("rollouts.id", ondelete="SET NULL"))
    worst_rollout_id: Mapped[int | None] = mapped_column(
        ForeignKey("rollouts.id", ondelete="SET NULL"))
    notes: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("refinement_experiments.id", ondelete="CASCADE"), index=True)
    """The refinement experiment the round belongs to (migration 0005)."""


class LLMExchange(Base):
    """One prompt sent to a language model and what came back."""

    __tablename__ = "llm_exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("refinement_rounds.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    parsed_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    latency_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Setting(Base):
    """App state as key/JSON value pairs (added by migration 0002)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class RefinementExperiment(Base):
    """One run of the refinement loop: start design, task, proposer, K, rounds (migration 0005)."""

    __tablename__ = "refinement_experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"))
    start_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("design_versions.id", ondelete="SET NULL"))
    proposer: Mapped[str] = mapped_column(String(200))
    rank_mode: Mapped[str] = mapped_column(String(16))
    """``proxy`` (ranked by the task score) or ``app`` (ranked by a person)."""
    config: Mapped[Any] = mapped_column(JSONText, nullable=True)
    """K, rounds, steps per candidate, seed, proposer options (never an API key)."""
    status: Mapped[str] = mapped_column(String(32), default="running")
    """``running``, ``paused``, ``awaiting_ranking``, ``done`` or ``failed``."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    task: Mapped[Task] = relationship()


class RefinementCandidate(Base):
    """One proposed design of a round: its version, training run, rollout and status."""

    __tablename__ = "refinement_candidates"
    __table_args__ = (UniqueConstraint("round_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("refinement_rounds.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    design_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("design_versions.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    rollout_id: Mapped[int | None] = mapped_column(ForeignKey("rollouts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(32), default="proposed")
    device: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(200))
    """Where it trained, in words (``local pid 4242 (cpu)``)."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
