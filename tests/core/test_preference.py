"""Kendall's tau-b and pair accuracy against hand-computed cases with ties on either side."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from studio.core.preference import agreement_of, pair_index


def test_human_tie_hand_computed() -> None:
    # Pairs: (0,1) +/+, (0,2) +/+, (0,3) +/+, (1,2) tie/-, (1,3) +/+, (2,3) +/+.
    # C = 5, D = 0, n0 = 6, n1 = 1 (human ties), n2 = 0 -> 5 / sqrt(5 * 6).
    a = agreement_of([[[0], [1, 2], [3]]], np.array([4.0, 1.0, 3.0, 0.0]))
    assert a.kendall_tau == pytest.approx(5 / math.sqrt(30), abs=1e-15)
    assert a.pair_accuracy == 1.0
    assert (a.pairs, a.strict_pairs, a.rankings) == (6, 5, 1)


def test_reward_tie_hand_computed() -> None:
    # Strict human order 0 > 1 > 2 > 3; returns tie 0 with 1 and 2 with 3.
    # C = 4, D = 0, n1 = 0, n2 = 2 -> 4 / sqrt(6 * 4); 4 of 6 strict pairs in order.
    a = agreement_of([[[0], [1], [2], [3]]], np.array([2.0, 2.0, 1.0, 1.0]))
    assert a.kendall_tau == pytest.approx(4 / math.sqrt(24), abs=1e-15)
    assert a.pair_accuracy == pytest.approx(4 / 6)


def test_rankings_are_pooled_and_discordant_pairs_count_against() -> None:
    # Two rankings, each reversed by the returns: every pair discordant.
    a = agreement_of([[[0], [1]], [[1], [2]], [[2]]], np.array([1.0, 2.0, 3.0]))
    assert (a.kendall_tau, a.pair_accuracy, a.pairs, a.rankings) == (-1.0, 0.0, 2, 2)


def test_no_order_on_either_side_is_nan() -> None:
    all_tied = agreement_of([[[0, 1, 2]]], np.array([1.0, 2.0, 3.0]))
    assert math.isnan(all_tied.kendall_tau) and math.isnan(all_tied.pair_accuracy)
    assert (all_tied.pairs, all_tied.strict_pairs) == (3, 0)
    flat = agreement_of([[[0], [1]]], np.array([5.0, 5.0]))
    assert math.isnan(flat.kendall_tau) and flat.pair_accuracy == 0.0


def test_returns_equal_up_to_rounding_tie() -> None:
    a = agreement_of([[[0], [1]]], np.array([1.0, 1.0 + 1e-13]))
    assert math.isnan(a.kendall_tau)  # a tie, not a (wrong) strict order


def _tau_b_by_counting(x: np.ndarray, y: np.ndarray) -> float:
    """The textbook formula (C - D) / sqrt((n0 - n1)(n0 - n2)), counted pair by pair."""
    c = d = tx = ty = 0
    for i, j in combinations(range(len(x)), 2):
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        tx += sx == 0
        ty += sy == 0
        c += sx * sy > 0
        d += sx * sy < 0
    n0 = len(x) * (len(x) - 1) // 2
    return (c - d) / math.sqrt((n0 - tx) * (n0 - ty))


@pytest.mark.parametrize("seed", range(5))
def test_one_ranking_matches_the_textbook_tau_b(seed: int) -> None:
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 4, size=9)  # the human's utility, with ties
    returns = rng.integers(0, 5, size=9).astype(float)  # the design's, with ties
    tiers = [[i for i in range(9) if score[i] == v] for v in sorted(set(score), reverse=True)]
    expected = _tau_b_by_counting(score.astype(float), returns)
    assert agreement_of([tiers], returns).kendall_tau == pytest.approx(expected, abs=1e-12)


def test_positive_multiple_agrees_the_same_and_negation_flips_tau() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(size=20) * 100
    rankings = [[[int(i)] for i in rng.choice(20, size=4, replace=False)] for _ in range(15)]
    rankings += [[[1, 2], [3]], [[4], [5, 6, 7]]]  # some human ties
    base = agreement_of(rankings, returns)
    scaled = agreement_of(rankings, returns * 3.7)
    negated = agreement_of(rankings, -returns)
    assert scaled == base
    assert negated.kendall_tau == pytest.approx(-base.kendall_tau, abs=1e-15)
    assert negated.pair_accuracy == pytest.approx(1.0 - base.pair_accuracy)  # no reward ties


def test_an_item_twice_in_one_ranking_is_refused() -> None:
    with pytest.raises(ValueError, match="ranking 0 lists an item more than once"):
        pair_index([[[0], [0, 1]]])


def test_the_module_examples_run() -> None:
    import doctest

    import studio.core.preference as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
