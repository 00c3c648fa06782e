"""EPIC: a distance between rewards that ignores potential shaping and positive rescaling.

Gleave et al. 2021 (spec §5). Each reward is first *canonicalised*::

    C(R)(s, a, s') = R(s, a, s') + E[gamma R(s', A, S') - R(s, A, S') - gamma R(S, A, S')]

with S, S' drawn from a state distribution and A from an action distribution,
independently (Monte Carlo over ``M`` canonicalisation samples); then two rewards are
compared by the Pearson correlation rho of their canonical values over ``N`` coverage
transitions: ``D = sqrt(1 - rho) / sqrt(2)``, in [0, 1].

Rewards are plain callables ``reward(s, a, s_next, done) -> float array [B]`` over batches
whose items may be anything indexable along the first axis (state ids, feature rows...):
this module never looks inside them, it only pairs them up. Both rewards of a comparison
see the very same samples (common random numbers), which makes ``D(A, B) == D(B, A)``
exactly and removes potential shaping exactly, not only in expectation: a shaping term
``gamma Phi(s') - Phi(s)`` (with the canonicalisation's gamma) adds only a constant to the
canonical reward. :func:`design_reward` adapts a compiled design.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> states, actions = rng.normal(size=200), rng.normal(size=200)
>>> samples = EpicSamples.draw(states, actions, n_coverage=200, n_canonical=100, rng=rng)
>>> r = lambda s, a, s2, d: s2 - 0.1 * a**2
>>> shaped = lambda s, a, s2, d: 3 * r(s, a, s2, d) + 0.9 * np.sin(s2) - np.sin(s)
>>> round(epic_distance(r, shaped, samples, gamma=0.9), 6)
0.0
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RewardFn = Callable[[Any, Any, Any, np.ndarray], np.ndarray]
"""``reward(s, a, s_next, done) -> float64 [B]`` over batches indexable along axis 0."""


def _take(x: Any, idx: np.ndarray) -> Any:
    return x[idx]


@dataclass
class EpicSamples:
    """The samples both rewards are evaluated on.

    Coverage transitions ``(s, a, s_next, done)`` [N] are where the rewards are compared;
    ``canon_s``, ``canon_a``, ``canon_s_next`` [M] are the independent draws of S, A and S'
    that the canonicalisation averages over.
    """

    s: Any
    a: Any
    s_next: Any
    done: np.ndarray
    canon_s: Any
    canon_a: Any
    canon_s_next: Any

    @property
    def n_coverage(self) -> int:
        """N, the number of coverage transitions."""
        return len(self.done)

    @property
    def n_canonical(self) -> int:
        """M, the number of canonicalisation samples."""
        return len(self.canon_a)

    @classmethod
    def draw(
        cls,
        states: Any,
        actions: Any,
        n_coverage: int,
        n_canonical: int,
        rng: np.random.Generator,
        transitions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        done: np.ndarray | None = None,
    ) -> EpicSamples:
        """Samples from pools of states and actions.

        ``transitions`` = (s_index, a_index, s_next_index) of real transitions to draw the
        coverage from (with ``done`` flags); without it, coverage transitions pair random
        states and actions too. S, A and S' are drawn uniformly and independently.
        """
        n_states, n_actions = len(states), len(actions)
        if transitions is not None:
            pick = rng.choice(len(transitions[0]), size=n_coverage, replace=n_coverage > len(transitions[0]))
            si, ai, ni = (t[pick] for t in transitions)
            dn = np.zeros(n_coverage, dtype=bool) if done is None else np.asarray(done, dtype=bool)[pick]
        else:
            si = rng.integers(n_states, size=n_coverage)
            ai = rng.integers(n_actions, size=n_coverage)
            ni = rng.integers(n_states, size=n_coverage)
            dn = np.zeros(n_coverage, dtype=bool)
        cs = rng.integers(n_states, size=n_canonical)
        ca = rng.integers(n_actions, size=n_canonical)
        cn = rng.integers(n_states, size=n_canonical)
        return cls(
            _take(states, si), _take(actions, ai), _take(states, ni), dn,
            _take(states, cs), _take(actions, ca), _take(states, cn),
        )


def _repeat(x: Any, n: int) -> Any:
    """Each item n times in a row: [x0, x0, ..., x1, x1, ...]."""
    return x[np.repeat(np.arange(len(x)), n)]


def _tile(x: Any, n: int) -> Any:
    """The whole batch n times: [x0, x1, ..., x0, x1, ...]."""
    return x[np.tile(np.arange(len(x)), n)]


def _mean_over_canon(reward: RewardFn, states: Any, samples: EpicSamples, chunk: int) -> np.ndarray:
    """E_{A, S'}[R(x, A, S')] for each state x of ``states`` [K] -> [K]."""
    k, m = len(states), samples.n_canonical
    out = np.empty(k)
    per = max(1, chunk // m)
    for lo in range(0, k, per):
        block = states[lo : lo + per]
        b = len(block)
        values = reward(
            _repeat(block, m), _tile(samples.canon_a, b), _tile(samples.canon_s_next, b), np.zeros(b * m, dtype=bool)
        )
        out[lo : lo + b] = np.asarray(values, dtype=np.float64).reshape(b, m).mean(axis=1)
    return out


def canonicalize(reward: RewardFn, samples: EpicSamples, gamma: float = 0.99, chunk: int = 16384) -> np.ndarray:
    """C(R) on the coverage transitions [N] (Monte Carlo over the M canonical samples)."""
    r = np.asarray(reward(samples.s, samples.a, samples.s_next, samples.done), dtype=np.float64)
    from_next = _mean_over_canon(reward, samples.s_next, samples, chunk)
    from_here = _mean_over_canon(reward, samples.s, samples, chunk)
    m = samples.n_canonical
    baseline = float(
        np.mean(reward(samples.canon_s, samples.canon_a, samples.canon_s_next, np.zeros(m, dtype=bool)))
    )
    canonical: np.ndarray = r + gamma * from_next - from_here - gamma * baseline
    return canonical


def pearson_distance(ca: np.ndarray, cb: np.ndarray) -> float:
    """``sqrt(1 - rho) / sqrt(2)`` of two canonical rewards over the same transitions.

    A constant reward has no correlation: two constants are at distance 0, a constant and
    a varying reward at ``sqrt(1/2)``.
    """
    a = np.asarray(ca, dtype=np.float64) - np.mean(ca)
    b = np.asarray(cb, dtype=np.float64) - np.mean(cb)
    na, nb = float(np.sqrt(np.sum(a * a))), float(np.sqrt(np.sum(b * b)))
    scale = max(np.max(np.abs(ca)), np.max(np.abs(cb)), 1.0) * 1e-12 * np.sqrt(len(a))
    if na <= scale and nb <= scale:
        rho = 1.0
    elif na <= scale or nb <= scale:
        rho = 0.0
    else:
        rho = float(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))
    return float(np.sqrt(1.0 - rho) / np.sqrt(2.0))


def epic_distance(
    reward_a: RewardFn, reward_b: RewardFn, samples: EpicSamples, gamma: float = 0.99
) -> float:
    """D_EPIC(R_A, R_B) in [0, 1] on ``samples``."""
    return pearson_distance(canonicalize(reward_a, samples, gamma), canonicalize(reward_b, samples, gamma))


def epic_matrix_of(rewards: Sequence[RewardFn], samples: EpicSamples, gamma: float = 0.99,
                   on_canonical: Callable[[int], None] | None = None) -> np.ndarray:
    """Pairwise distances [K, K] (symmetric, zero diagonal); each reward canonicalised once.

    ``on_canonical(i)`` runs after reward ``i`` is canonicalised (progress; it may raise to
    cancel).
    """
    canon = []
    for i, r in enumerate(rewards):
        canon.append(canonicalize(r, samples, gamma))
        if on_canonical is not None:
            on_canonical(i)
    k = len(canon)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = pearson_distance(canon[i], canon[j])
    return out


FeatureFn = Callable[[Any, Any, Any, Collection[str]], Mapping[str, Any]]
"""``features(s, a, s_next, names) -> name -> [B]``: the features of arbitrary transitions."""
StateFeatureFn = Callable[[Any, Collection[str]], Mapping[str, Any]]
"""``prev_features(s, names) -> name -> [B]``: the features potential shaping reads for Phi(s)."""


def design_reward(
    design: Any, features: FeatureFn, prev_features: StateFeatureFn | None = None, step: float = 0,
    heron: Mapping[str, Any] | None = None,
) -> RewardFn:
    """A compiled design as a :data:`RewardFn` (float64, each transition on its own).

    Events see no history: a condition event pays wherever it holds, a termination event
    wherever ``done`` is set. Schedules are read at training step ``step``. ``heron`` holds
    the trained models of the design's HERON groups; a HERON group without one is refused
    (it would pay 0, and the distance would describe the rest of the design only).
    """
    import torch

    from studio.core.compile import compile_design

    missing = [g.name for g in design.heron_groups() if g.name not in (heron or {})]
    if missing:
        raise ValueError(f"the HERON group {missing[0]!r} has no trained model: compare it with "
                         "the run's weights (--heron-weights-a/-b RUN_DIR/heron.safetensors)")
    compiled = compile_design(design, dtype=torch.float64, heron=heron)
    names = sorted(compiled.required_features)

    def reward(s: Any, a: Any, s_next: Any, done: np.ndarray) -> np.ndarray:
        feats = features(s, a, s_next, names)
        prev = None
        if compiled.needs_previous:
            if prev_features is None:
                raise ValueError(f"design {design.name!r} uses potential shaping: pass prev_features")
            prev = prev_features(s, names)
        out = compiled(feats, prev_features=prev, step=step, terminated=np.asarray(done, dtype=bool), check_finite=False)
        result: np.ndarray = out.total.numpy()
        return result

    return reward
