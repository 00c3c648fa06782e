"""How well a reward's returns agree with human rankings that have ties.

A ranking is a list of *tiers* of item indices, best tier first; items in one tier are
tied. Every unordered pair of items inside one ranking is a *ranked pair*. For a pair
``(i, j)`` let ``h = sign(tier_j - tier_i)`` (+1 when the human put ``i`` above ``j``, 0
for a tie) and ``d = sign(R_i - R_j)`` for the reward's returns ``R`` (0 when the
returns tie). Pairs from all rankings are pooled.

* Kendall's τ-b: ``Σ h·d / sqrt(Σ h² · Σ d²)``, i.e. ``(C - D) / sqrt((n0 - n1)(n0 - n2))``
  with ``n1`` the pairs tied by the human and ``n2`` those tied by the reward. For one
  ranking it is exactly ``scipy.stats.kendalltau(..., variant="b")``. It is NaN when
  every pair is tied on either side (no order to compare).
* Pair accuracy: among the *strictly* ranked pairs (``h != 0``), the fraction the
  reward orders the same way (``d == h``); a reward tie counts as not the same way.
  NaN without a strictly ranked pair.

Returns within ``rel_tol`` of each other (relative to the larger magnitude) tie, so
that a positive multiple of a reward, whose returns differ from the scaled returns by
float rounding, agrees exactly as much as the reward itself, and its negation gives the
opposite τ.

>>> a = pair_signs([[[0], [1, 2]]], np.array([3.0, 1.0, 2.0]))
>>> a.tolist()
[[1, 1], [1, 1], [0, -1]]
>>> agreement_of([[[0], [1, 2]]], np.array([3.0, 1.0, 2.0]))
PairAgreement(kendall_tau=0.8164965809277261, pair_accuracy=1.0, pairs=3, strict_pairs=2, rankings=1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PairAgreement", "Tiers", "agreement_of", "agreement_of_pairs", "kendall_tau_b", "pair_accuracy", "pair_index",
    "pair_signs",
]

Tiers = Sequence[Sequence[int]]
"""One ranking: tiers of item indices, best tier first."""

REL_TOL = 1e-9
"""Returns closer than this, relative to the larger magnitude, count as tied."""


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of a reward with a set of rankings."""

    kendall_tau: float
    """Kendall's τ-b over all ranked pairs (NaN when undefined)."""
    pair_accuracy: float
    """Fraction of strictly ranked pairs the reward orders the same way (NaN without any)."""
    pairs: int
    """Ranked pairs, human ties included."""
    strict_pairs: int
    """Pairs the human ranked strictly."""
    rankings: int
    """Rankings that contributed at least one pair."""


def pair_index(rankings: Sequence[Tiers]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every ranked pair as ``(first[P], second[P], human_sign[P], rankings_used)``.

    ``human_sign`` is +1 when ``first`` was ranked above ``second`` and 0 for a tie. It
    depends on the rankings only, so a caller that re-scores many rewards against the
    same rankings computes it once.

    Raises:
        ValueError: an item appears twice in one ranking.
    """
    first: list[int] = []
    second: list[int] = []
    human: list[int] = []
    used = 0
    for r, tiers in enumerate(rankings):
        flat = [(int(i), t) for t, tier in enumerate(tiers) for i in tier]
        items = [i for i, _ in flat]
        if len(set(items)) != len(items):
            raise ValueError(f"ranking {r} lists an item more than once: {items}")
        if len(flat) < 2:
            continue
        used += 1
        for a in range(len(flat)):
            for b in range(a + 1, len(flat)):
                (i, ti), (j, tj) = flat[a], flat[b]
                first.append(i)
                second.append(j)
                human.append(int(np.sign(tj - ti)))
    return (np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64),
            np.asarray(human, dtype=np.int64), used)


def _reward_sign(returns: np.ndarray, first: np.ndarray, second: np.ndarray,
                 rel_tol: float) -> np.ndarray:
    """sign(R_first - R_second) with near-equal returns as 0; works for [P] or [K, P] returns."""
    a, b = returns[..., first], returns[..., second]
    diff = a - b
    scale = np.maximum(np.abs(a), np.abs(b))
    sign = np.sign(diff)
    sign[np.abs(diff) <= rel_tol * scale] = 0.0
    return np.asarray(sign, dtype=np.int64)


def pair_signs(rankings: Sequence[Tiers], returns: np.ndarray,
               rel_tol: float = REL_TOL) -> np.ndarray:
    """``[P, 2]`` rows of ``(human_sign, reward_sign)`` for every ranked pair (see module doc)."""
    first, second, human, _ = pair_index(rankings)
    reward = _reward_sign(np.asarray(returns, dtype=np.float64), first, second, rel_tol)
    return np.stack([human, reward], axis=1)


def kendall_tau_b(human: np.ndarray, reward: np.ndarray) -> float:
    """τ-b of pair signs: ``Σ h·d / sqrt(Σ h² Σ d²)``; NaN when either side has no order."""
    h, d = np.asarray(human, dtype=np.float64), np.asarray(reward, dtype=np.float64)
    denom = math.sqrt(float(np.sum(h * h)) * float(np.sum(d * d)))
    return float(np.sum(h * d) / denom) if denom > 0 else math.nan


def pair_accuracy(human: np.ndarray, reward: np.ndarray) -> float:
    """Fraction of pairs with ``human != 0`` where ``reward == human``; NaN when none."""
    h, d = np.asarray(human), np.asarray(reward)
    strict = h != 0
    n = int(np.count_nonzero(strict))
    return float(np.count_nonzero(d[strict] == h[strict]) / n) if n else math.nan


def agreement_of(rankings: Sequence[Tiers], returns: np.ndarray,
                 rel_tol: float = REL_TOL) -> PairAgreement:
    """τ-b, pair accuracy and counts of ``returns`` (one per item) against ``rankings``."""
    return agreement_of_pairs(pair_index(rankings), returns, rel_tol)


def agreement_of_pairs(pairs: tuple[np.ndarray, np.ndarray, np.ndarray, int], returns: np.ndarray,
                       rel_tol: float = REL_TOL) -> PairAgreement:
    """:func:`agreement_of` from a :func:`pair_index` computed once for many ``returns``."""
    first, second, human, used = pairs
    reward = _reward_sign(np.asarray(returns, dtype=np.float64), first, second, rel_tol)
    return PairAgreement(kendall_tau_b(human, reward), pair_accuracy(human, reward),
                         int(human.size), int(np.count_nonzero(human)), used)
