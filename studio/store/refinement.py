"""Repository functions for refinement experiments and their candidates (migration 0005).

Rounds themselves are :mod:`studio.store.feedback`'s (``add_refinement_round``,
``update_round``); an experiment owns its rounds through ``RefinementRound.experiment_id``.
Like the other repository modules, every function takes a session and leaves the commit to
the caller's ``with ws.session()`` block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.store.designs import ensure_task
from studio.store.errors import StoreError
from studio.store.feedback import add_refinement_round
from studio.store.models import RefinementCandidate, RefinementExperiment, RefinementRound

__all__ = [
    "ExperimentNotFoundError", "add_candidate", "add_experiment_round", "create_experiment", "experiment_rounds",
    "get_experiment", "list_candidates", "list_experiments", "set_experiment_status",
    "update_candidate",
]

_UNSET: Any = object()


class ExperimentNotFoundError(StoreError):
    """No experiment with that id: the message says how to list them."""

    user_facing = True


def create_experiment(session: Session, env_id: str, name: str, proposer: str, rank_mode: str,
                      *, start_version_id: int | None, config: Mapping[str, Any]) -> RefinementExperiment:
    """Start an experiment for task ``env_id`` (created if new)."""
    task = ensure_task(session, env_id)
    exp = RefinementExperiment(name=name, task_id=task.id, proposer=proposer, rank_mode=rank_mode,
                               start_version_id=start_version_id, config=dict(config),
                               status="running")
    session.add(exp)
    session.flush()
    return exp


def get_experiment(session: Session, experiment_id: int) -> RefinementExperiment:
    """The experiment with this id.

    Raises:
        StoreError: there is none (the message says how to list them).
    """
    exp = session.get(RefinementExperiment, experiment_id)
    if exp is None:
        raise ExperimentNotFoundError(f"There is no refinement experiment {experiment_id} in this workspace; "
                         "`reward-studio refine --list` shows the experiments.")
    return exp


def list_experiments(session: Session) -> Sequence[RefinementExperiment]:
    """All experiments, newest first."""
    return session.scalars(select(RefinementExperiment).order_by(RefinementExperiment.id.desc())).all()


def set_experiment_status(session: Session, experiment_id: int, status: str,
                          error: str | None = _UNSET) -> RefinementExperiment:
    """Change an experiment's status (and its error message when given)."""
    exp = get_experiment(session, experiment_id)
    exp.status = status
    if error is not _UNSET:
        exp.error = error
    session.flush()
    return exp


def add_experiment_round(session: Session, experiment_id: int, index: int,
                         proposer: str) -> RefinementRound:
    """The experiment's round ``index`` (after its previous round, if any)."""
    rounds = experiment_rounds(session, experiment_id)
    round_ = add_refinement_round(session, index, proposer,
                                  parent_round_id=rounds[-1].id if rounds else None)
    round_.experiment_id = experiment_id
    session.flush()
    return round_


def experiment_rounds(session: Session, experiment_id: int) -> Sequence[RefinementRound]:
    """The experiment's rounds by index."""
    return session.scalars(select(RefinementRound)
                           .where(RefinementRound.experiment_id == experiment_id)
                           .order_by(RefinementRound.index, RefinementRound.id)).all()


def add_candidate(session: Session, round_id: int, index: int,
                  design_version_id: int | None) -> RefinementCandidate:
    """A proposed candidate of a round."""
    cand = RefinementCandidate(round_id=round_id, index=index, design_version_id=design_version_id,
                               status="proposed")
    session.add(cand)
    session.flush()
    return cand


def list_candidates(session: Session, round_id: int) -> Sequence[RefinementCandidate]:
    """A round's candidates by index."""
    return session.scalars(select(RefinementCandidate)
                           .where(RefinementCandidate.round_id == round_id)
                           .order_by(RefinementCandidate.index)).all()


def update_candidate(session: Session, candidate_id: int, **fields: Any) -> RefinementCandidate:
    """Set some of ``status``, ``run_id``, ``rollout_id``, ``device``, ``place``, ``error``."""
    cand = session.get(RefinementCandidate, candidate_id)
    if cand is None:
        raise StoreError(f"Refinement candidate {candidate_id} does not exist in this workspace.")
    allowed = {"status", "run_id", "rollout_id", "device", "place", "error"}
    bad = set(fields) - allowed
    if bad:
        raise TypeError(f"cannot set {sorted(bad)} on a candidate (allowed: {sorted(allowed)})")
    for k, v in fields.items():
        setattr(cand, k, v)
    session.flush()
    return cand
