"""The refinement loop as a plain state machine: what to do next, given what is done.

No I/O. The app's service (``studio.app.refine``) keeps a :class:`LoopState` in the store,
asks :func:`next_action` what to do, does it (proposes, trains, records, ranks), and writes
the outcome back through the event functions below. Because the state is only what the
store holds, a loop killed mid-round resumes where it stopped: candidates still marked
``training`` are handed back to training (from their checkpoint), the others go on.

A round: K candidates are proposed, each is trained, its final policy recorded (video and
trace), the K recordings are ranked (by a person, or by the task score: the proxy human),
and the proposer turns all rankings so far into the next round's K.

>>> s = LoopState(total_rounds=1, k=2)
>>> next_action(s)
Propose(round_index=1)
>>> r = add_round(s, [{"name": "a"}, {"name": "b"}])
>>> next_action(s)
Train(round_index=1, candidates=[0, 1])
>>> for c in s.rounds[0].candidates:
...     c.status = CandidateStatus.RECORDED
>>> next_action(s, rank="app")
AwaitRanking(round_index=1)
>>> s.rounds[0].ranking_id = 7
>>> next_action(s)
Done(reason='completed 1 of 1 rounds')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CandidateStatus(StrEnum):
    """Where one candidate is. ``recorded`` and ``failed`` are final for a round."""

    PROPOSED = "proposed"
    TRAINING = "training"
    TRAINED = "trained"
    RECORDED = "recorded"
    FAILED = "failed"


@dataclass
class Candidate:
    """One proposed design of a round and what became of it."""

    index: int
    document: dict[str, Any]
    status: str = CandidateStatus.PROPOSED
    run_id: int | None = None
    rollout_id: int | None = None
    device: str | None = None
    place: str | None = None
    error: str | None = None
    id: int | None = None
    """The store's id, once saved."""


@dataclass
class Round:
    """One round: its candidates and the ranking of their rollouts."""

    index: int
    candidates: list[Candidate] = field(default_factory=list)
    ranking_id: int | None = None
    id: int | None = None

    @property
    def recorded(self) -> list[Candidate]:
        """Candidates with a rollout to rank."""
        return [c for c in self.candidates if c.status == CandidateStatus.RECORDED]


@dataclass
class LoopState:
    """An experiment's rounds so far."""

    total_rounds: int
    k: int
    rounds: list[Round] = field(default_factory=list)
    paused: bool = False


@dataclass(frozen=True)
class Propose:
    """Propose round ``round_index``'s K designs (round 1: variants of the start design)."""

    round_index: int


@dataclass(frozen=True)
class Train:
    """Train these candidates (indices in the round); they may run in parallel."""

    round_index: int
    candidates: list[int]


@dataclass(frozen=True)
class Wait:
    """Candidates are training: poll the runner and come back."""

    round_index: int


@dataclass(frozen=True)
class Record:
    """Record the final policy of a trained candidate (video and trace)."""

    round_index: int
    candidate: int


@dataclass(frozen=True)
class RankByProxy:
    """Rank the round's rollouts by their task score (the proxy human)."""

    round_index: int


@dataclass(frozen=True)
class AwaitRanking:
    """Stop: a person ranks the round's videos, then the loop resumes."""

    round_index: int


@dataclass(frozen=True)
class Done:
    """Nothing is left to do."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """The loop cannot go on: fewer than two candidates of a round could be recorded."""

    reason: str


Action = Propose | Train | Wait | Record | RankByProxy | AwaitRanking | Done | Failed


def next_action(state: LoopState, rank: str = "proxy") -> Action:
    """What the loop does next; ``rank`` is ``proxy`` or ``app``."""
    if not state.rounds:
        return Propose(1)
    r = state.rounds[-1]
    todo = [c.index for c in r.candidates if c.status == CandidateStatus.PROPOSED]
    if todo:
        return Train(r.index, todo)
    if any(c.status == CandidateStatus.TRAINING for c in r.candidates):
        return Wait(r.index)
    trained = [c.index for c in r.candidates if c.status == CandidateStatus.TRAINED]
    if trained:
        return Record(r.index, trained[0])
    if r.ranking_id is None:
        if len(r.recorded) < 2:
            errors = "; ".join(f"candidate {c.index + 1}: {c.error}" for c in r.candidates if c.error)
            return Failed(f"round {r.index}: only {len(r.recorded)} of {len(r.candidates)} "
                          f"candidates could be trained and recorded ({errors or 'no error given'})")
        return RankByProxy(r.index) if rank == "proxy" else AwaitRanking(r.index)
    if r.index >= state.total_rounds:
        return Done(f"completed {r.index} of {state.total_rounds} rounds")
    return Propose(r.index + 1)


def add_round(state: LoopState, documents: list[dict[str, Any]]) -> Round:
    """Append the next round with these proposed designs."""
    r = Round(len(state.rounds) + 1, [Candidate(i, d) for i, d in enumerate(documents)])
    state.rounds.append(r)
    return r


def proxy_tiers(scores: dict[int, float], tie: float = 0.0) -> list[list[int]]:
    """Rollout ids in tiers by score, best first; scores within ``tie`` of the tier's first
    share it (the proxy human sees equal task scores as a tie).

    >>> proxy_tiers({1: 5.0, 2: 9.0, 3: 5.0})
    [[2], [1, 3]]
    """
    order = sorted(scores, key=lambda i: (-scores[i], i))
    tiers: list[list[int]] = []
    for i in order:
        if tiers and abs(scores[tiers[-1][0]] - scores[i]) <= tie:
            tiers[-1].append(i)
        else:
            tiers.append([i])
    return tiers
