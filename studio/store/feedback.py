"""Repository functions for human and LLM feedback: rollouts, rankings, refinement
rounds and LLM exchanges.

Like :mod:`studio.store.designs`, every function takes a session and leaves the
commit to the caller's ``with ws.session()`` block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from studio.store.designs import ensure_task
from studio.store.errors import StoreError
from studio.store.models import (
    LLMExchange,
    Ranking,
    RankingEntry,
    RefinementRound,
    Rollout,
    Run,
    Task,
)

__all__ = [
    "add_llm_exchange", "add_refinement_round", "add_rollout", "delete_rollout",
    "feedback_signature",
    "get_ranking", "get_round", "get_rollout", "list_llm_exchanges", "list_rankings",
    "list_rollouts", "list_rounds", "rollout_env_ids", "save_ranking", "save_tiered_ranking",
    "update_round",
]


def add_rollout(session: Session, *, run_id: int | None = None,
                design_version_id: int | None = None, checkpoint_id: int | None = None,
                video_path: str | None = None, returns: Mapping[str, float] | None = None,
                task_score: float | None = None, length: int | None = None,
                seed: int | None = None, env_id: str | None = None, policy: str | None = None,
                design_return: float | None = None, trace_path: str | None = None,
                round_id: int | None = None) -> Rollout:
    """Record one episode. Paths are relative to the workspace (``Workspace.media_path``).

    ``env_id`` names the task (created if new); without it, a rollout of a run takes
    the run's task. ``returns`` holds each term's return, ``design_return`` their total.
    """
    task_id = None
    if env_id is not None:
        task_id = ensure_task(session, env_id).id
    elif run_id is not None:
        run = session.get(Run, run_id)
        task_id = run.task_id if run is not None else None
    rollout = Rollout(run_id=run_id, design_version_id=design_version_id,
                      checkpoint_id=checkpoint_id, video_path=video_path,
                      returns=dict(returns) if returns is not None else None,
                      task_score=task_score, length=length, seed=seed, task_id=task_id,
                      policy=policy, design_return=design_return, trace_path=trace_path,
                      round_id=round_id)
    session.add(rollout)
    session.flush()
    return rollout


def get_rollout(session: Session, rollout_id: int) -> Rollout | None:
    """The rollout with this id, or ``None``."""
    return session.get(Rollout, rollout_id)


def list_rollouts(session: Session, run_id: int | None = None, *, env_id: str | None = None,
                  ids: Sequence[int] | None = None,
                  round_id: int | None = None) -> Sequence[Rollout]:
    """All rollouts, or those of one run, task, round or id list, oldest first."""
    query = select(Rollout).order_by(Rollout.id)
    if run_id is not None:
        query = query.where(Rollout.run_id == run_id)
    if env_id is not None:
        query = query.join(Task, Task.id == Rollout.task_id).where(Task.env_id == env_id)
    if ids is not None:
        query = query.where(Rollout.id.in_([int(i) for i in ids]))
    if round_id is not None:
        query = query.where(Rollout.round_id == round_id)
    return session.scalars(query).all()


def rollout_env_ids(session: Session, rollout_ids: Sequence[int]) -> dict[int, str | None]:
    """The task id (``HalfCheetah-v5``) of each rollout, ``None`` where it is unknown."""
    rows = session.execute(select(Rollout.id, Task.env_id)
                           .outerjoin(Task, Task.id == Rollout.task_id)
                           .where(Rollout.id.in_([int(i) for i in rollout_ids])))
    return {int(i): e for i, e in rows}


def delete_rollout(session: Session, rollout_id: int) -> tuple[str | None, str | None]:
    """Delete an unranked rollout; returns its ``(trace_path, video_path)`` to remove.

    Raises:
        StoreError: the rollout does not exist, or a ranking names it (rankings are
            evidence: delete neither silently).
    """
    rollout = session.get(Rollout, rollout_id)
    if rollout is None:
        raise StoreError(f"Rollout {rollout_id} does not exist in this workspace.")
    ranked = session.scalars(select(RankingEntry.ranking_id)
                             .where(RankingEntry.rollout_id == rollout_id)).all()
    if ranked:
        raise StoreError(f"Rollout {rollout_id} is ranked (ranking {', '.join(map(str, ranked))}) "
                         "and cannot be deleted; rankings keep the rollouts they name.")
    paths = (rollout.trace_path, rollout.video_path)
    session.delete(rollout)
    session.flush()
    return paths


def feedback_signature(session: Session) -> tuple[int, ...]:
    """Counts and newest ids of rollouts and rankings: changes whenever either table does.

    Rows of both tables are never edited after they are written, so a reader can keep
    what it derived from them while this stays the same.
    """
    rollouts = session.execute(select(func.count(Rollout.id), func.max(Rollout.id))).one()
    rankings = session.execute(select(func.count(Ranking.id), func.max(Ranking.id))).one()
    return tuple(int(v or 0) for v in (*rollouts, *rankings))


def save_ranking(session: Session, rollout_ids_in_order: Sequence[int], ranked_by: str, *,
                 round_id: int | None = None, context: str | None = None) -> Ranking:
    """Save a strict ranking of rollouts, best first (each its own tier).

    See :func:`save_tiered_ranking` for ties, skips and comments.
    """
    return save_tiered_ranking(session, [[int(i)] for i in rollout_ids_in_order], ranked_by,
                               round_id=round_id, context=context)


def save_tiered_ranking(session: Session, tiers: Sequence[Sequence[int]], ranked_by: str, *,
                        comment: str | None = None, skipped: bool = False,
                        round_id: int | None = None, context: str | None = None) -> Ranking:
    """Save a ranking as tiers of rollout ids, best tier first; ids in one tier are tied.

    A skipped set (``skipped=True``) keeps the rollouts shown, in order, with no tier.
    ``ranking.tiers`` and ``ranking.rollout_ids`` give them back.

    Raises:
        ValueError: fewer than two rollouts, an empty tier, or a rollout listed twice.
        StoreError: a rollout id does not exist (deleted, or from another workspace).
    """
    groups = [[int(i) for i in tier] for tier in tiers]
    if any(not g for g in groups):
        raise ValueError(f"Ranking {groups} has an empty tier; every place needs a rollout.")
    ids = [i for g in groups for i in g]
    if len(ids) < 2:
        raise ValueError(f"A ranking needs at least two rollouts, got {len(ids)}.")
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"Rollouts {twice} are listed more than once; rank each once.")
    found = set(session.scalars(select(Rollout.id).where(Rollout.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise StoreError(f"Cannot save the ranking: rollouts {missing} do not exist in this "
                         "workspace (deleted?). Reload the rollouts and rank again.")
    entries: list[RankingEntry] = []
    for tier, group in enumerate(groups):
        for rollout_id in group:
            entries.append(RankingEntry(position=len(entries), rollout_id=rollout_id,
                                        tier=None if skipped else tier))
    ranking = Ranking(ranked_by=ranked_by, round_id=round_id, context=context,
                      comment=comment, skipped=bool(skipped), entries=entries)
    session.add(ranking)
    session.flush()
    return ranking


def get_ranking(session: Session, ranking_id: int) -> Ranking | None:
    """The ranking with this id, entries loaded, or ``None``."""
    return session.get(Ranking, ranking_id, options=[selectinload(Ranking.entries)])


def list_rankings(session: Session, round_id: int | None = None) -> Sequence[Ranking]:
    """All rankings, or those of one refinement round, oldest first, entries loaded."""
    query = select(Ranking).options(selectinload(Ranking.entries)).order_by(Ranking.id)
    if round_id is not None:
        query = query.where(Ranking.round_id == round_id)
    return session.scalars(query).all()


def add_refinement_round(session: Session, index: int, proposer: str, *,
                         parent_round_id: int | None = None, status: str = "open",
                         notes: Any = None) -> RefinementRound:
    """Start a refinement round. ``status`` is free text owned by the refinement loop."""
    round_ = RefinementRound(index=index, proposer=proposer, parent_round_id=parent_round_id,
                             status=status, notes=notes)
    session.add(round_)
    session.flush()
    return round_


_UNSET: Any = object()


def update_round(session: Session, round_id: int, *, status: str | None = None,
                 best_rollout_id: int | None = _UNSET, worst_rollout_id: int | None = _UNSET,
                 notes: Any = _UNSET) -> RefinementRound:
    """Change a round's status, chosen rollouts or notes; arguments not given are kept.

    Raises:
        StoreError: the round does not exist.
    """
    round_ = session.get(RefinementRound, round_id)
    if round_ is None:
        raise StoreError(f"Refinement round {round_id} does not exist in this workspace.")
    if status is not None:
        round_.status = status
    if best_rollout_id is not _UNSET:
        round_.best_rollout_id = best_rollout_id
    if worst_rollout_id is not _UNSET:
        round_.worst_rollout_id = worst_rollout_id
    if notes is not _UNSET:
        round_.notes = notes
    session.flush()
    return round_


def get_round(session: Session, round_id: int) -> RefinementRound | None:
    """The refinement round with this id, or ``None``."""
    return session.get(RefinementRound, round_id)


def list_rounds(session: Session) -> Sequence[RefinementRound]:
    """All refinement rounds, by index then creation."""
    return session.scalars(select(RefinementRound)
                           .order_by(RefinementRound.index, RefinementRound.id)).all()


def add_llm_exchange(session: Session, *, provider: str, model: str, prompt: str,
                     response: str | None = None, parsed_ok: bool = False,
                     error: str | None = None, latency_s: float | None = None,
                     round_id: int | None = None) -> LLMExchange:
    """Record one prompt and the model's answer (or the error instead of one)."""
    exchange = LLMExchange(provider=provider, model=model, prompt=prompt, response=response,
                           parsed_ok=parsed_ok, error=error, latency_s=latency_s,
                           round_id=round_id)
    session.add(exchange)
    session.flush()
    return exchange


def list_llm_exchanges(session: Session, round_id: int | None = None) -> Sequence[LLMExchange]:
    """All LLM exchanges, or those of one round, oldest first."""
    query = select(LLMExchange).order_by(LLMExchange.id)
    if round_id is not None:
        query = query.where(LLMExchange.round_id == round_id)
    return session.scalars(query).all()
