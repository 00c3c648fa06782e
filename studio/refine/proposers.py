"""Proposers: given ranked candidate designs, propose the next batch (the ICPL loop's step).

An ICPL proposer is an LLM that rewrites the design from the best and the worst; the
offline :class:`PerturbProposer` needs none. It keeps the best design's structure and moves
each term's weight away from the worst design's and towards the best's, with seeded
log-normal exploration, so that a round of rankings always yields new candidates.
Proposers register through the ``reward_studio.proposers`` entry-point group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from studio.core.design import Design, Term
from studio.core.schedule import Schedule, param_value


@dataclass
class RankingRecord:
    """One stored ranking, as a proposer sees it: tiers of rollout ids, best first."""

    tiers: list[list[int]]
    """Rollout ids; rollouts in one tier are tied."""
    comment: str = ""
    """The ranker's free text ("falls at the end"), or empty."""
    round_index: int | None = None


Rescore = Callable[[Design], Mapping[int, Mapping[str, float]]]
"""``rescore(design)`` -> rollout id -> component -> return of that design on the rollout,
recomputed from the rollout's stored states (so any design can be scored on any rollout)."""


@dataclass
class Feedback:
    """What a proposer learns from the rounds so far. It never holds the task score."""

    ranked: list[Design]
    """Last round's candidate designs, best first (only the best and worst go into an ICPL prompt)."""
    term_stats: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """Design name -> term -> {mean, min, max, ...} over training (Eureka's reward reflection)."""
    task_description: str = ""
    term_curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """Design name -> term -> its value at every tenth of training (Eureka's reflection)."""
    rankings: list[RankingRecord] = field(default_factory=list)
    """Every ranking so far, oldest first."""
    rollout_designs: dict[int, str] = field(default_factory=dict)
    """Rollout id -> name of the design its policy was trained on."""
    rollout_ends: dict[int, tuple[int, bool]] = field(default_factory=dict)
    """Rollout id -> (length, ended by termination), for the regret model."""
    rescore: Rescore | None = None
    history: list[Design] = field(default_factory=list)
    """The best design of each earlier round, oldest first."""
    features: list[dict[str, Any]] = field(default_factory=list)
    """The task's feature catalogue: ``name``, ``unit``, ``description``, ``low``, ``high``."""
    round_index: int = 1
    """The round the proposals are for."""
    max_episode_steps: int = 1000


class ProposerError(RuntimeError):
    """A proposer could not produce designs; the message says why and what to do."""

    user_facing = True


class Proposer(Protocol):
    """Anything that proposes ``k`` new designs from feedback."""

    name: str

    def propose(self, feedback: Feedback, k: int) -> list[Design]:
        """``k`` new candidate designs."""
        ...


class PerturbProposer:
    """Offline proposer: best design's structure, weights pushed away from the worst's."""

    name = "perturb"

    def __init__(self, sigma: float = 0.3, step: float = 0.5, seed: int = 0) -> None:
        self.sigma = sigma
        """Standard deviation of the log-normal exploration of each weight."""
        self.step = step
        """How far each weight moves along log(best / worst)."""
        self.rng = np.random.default_rng(seed)

    def propose(self, feedback: Feedback, k: int) -> list[Design]:
        """``k`` variants of the best design."""
        if not feedback.ranked:
            raise ValueError("a proposer needs at least one ranked design")
        best = feedback.ranked[0]
        worst = feedback.ranked[-1] if len(feedback.ranked) > 1 else None
        worst_w = {t.name: param_value(t.weight) for t in worst.terms()} if worst else {}
        out = []
        for i in range(k):
            d = best.copy()
            d.name = f"{best.name}_p{i + 1}"
            d.meta = {**d.meta, "proposer": self.name, "parent": best.name}
            for term in d.terms():
                self._mutate(term, worst_w.get(term.name))
            out.append(d)
        return out

    def _mutate(self, term: Term, worst: float | None) -> None:
        if isinstance(term.weight, Schedule):
            return
        w = float(term.weight)
        if w == 0.0:
            return
        drift = 0.0
        if worst is not None and worst != 0.0 and math.copysign(1, worst) == math.copysign(1, w):
            drift = self.step * math.log(abs(w) / abs(worst))
        term.weight = float(w * math.exp(drift + self.sigma * self.rng.standard_normal()))


class ProposerRegistry:
    """What a ``reward_studio.proposers`` plugin's ``register(registry)`` receives."""

    def __init__(self) -> None:
        self.factories: dict[str, type] = {}

    def add(self, name: str, factory: type) -> None:
        """Make a proposer class available under ``name``."""
        self.factories[name] = factory

    def create(self, name: str, **kwargs: object) -> Proposer:
        """A new proposer; an unknown name lists the known ones."""
        if name not in self.factories:
            raise KeyError(f"unknown proposer {name!r} (known: {', '.join(sorted(self.factories))})")
        return self.factories[name](**kwargs)  # type: ignore[no-any-return]


def proposers() -> ProposerRegistry:
    """The registry, filled from the plugins on first use."""
    from studio.plugins import load_group

    load_group("reward_studio.proposers", _REGISTRY)
    return _REGISTRY


_REGISTRY = ProposerRegistry()


def rank_order(names: Sequence[str], ranking: Sequence[str]) -> list[str]:
    """``names`` sorted by their position in ``ranking`` (unranked last)."""
    pos = {n: i for i, n in enumerate(ranking)}
    return sorted(names, key=lambda n: pos.get(n, len(pos)))
