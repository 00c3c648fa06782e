"""Preference fits recover known term weights from rankings with ties; active choice disagrees."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from studio.core.preference_fit import (
    choose_disagreeing,
    disagreement,
    fit_preferences,
    set_disagreement,
)

TRUE_W = np.array([2.0, -1.0, 0.5])


def synthetic_rankings(seed: int, n_items: int = 60, n_rankings: int = 150, k: int = 4,
                       tie_gap: float = 0.15) -> tuple[np.ndarray, list[list[list[int]]]]:
    """Items with random per-term returns, ranked by a noisy TRUE_W utility (Gumbel noise:
    a Plackett-Luce draw); items whose noisy utilities are within ``tie_gap`` share a tier."""
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(n_items, 3)) * np.array([1.0, 3.0, 0.2])  # terms of unlike scales
    rankings = []
    for _ in range(n_rankings):
        items = rng.choice(n_items, size=k, replace=False)
        noisy = phi[items] @ TRUE_W + rng.gumbel(size=k)
        order = items[np.argsort(-noisy)]
        u = np.sort(noisy)[::-1]
        tiers: list[list[int]] = [[int(order[0])]]
        for j in range(1, k):
            if u[j - 1] - u[j] < tie_gap:
                tiers[-1].append(int(order[j]))
            else:
                tiers.append([int(order[j])])
        rankings.append(tiers)
    return phi, rankings


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize(("model", "ties"), [("plackett_luce", "davidson"),
                                             ("bradley_terry", "davidson"),
                                             ("bradley_terry", "half")])
def test_fit_recovers_known_weights_from_rankings_with_ties(model: str, ties: str) -> None:
    phi, rankings = synthetic_rankings(seed=1)
    assert sum(len(t) < 4 for t in rankings) > 20  # the data really hold ties
    fit = fit_preferences(phi, rankings, model=model, ties=ties, prior_std=3.0)
    assert cosine(fit.mean, TRUE_W) > 0.97
    assert np.all(np.sign(fit.mean) == np.sign(TRUE_W))
    # Each weight lies within 3 posterior std of the truth up to the scale the data fix
    # (Gumbel noise of unit scale: the PL utility scale is the true one).
    assert np.all(np.abs(fit.mean - TRUE_W) < 3 * fit.std + 0.35 * np.abs(TRUE_W))


def test_ties_are_evidence_of_equal_scores() -> None:
    # Term 0 decides every ranking; items that share term 0 differ in term 1 but are tied.
    phi = np.array([[2.0, 1.0], [2.0, -1.0], [0.0, 1.0], [0.0, -1.0]])
    rankings = [[[0, 1], [2, 3]]] * 30
    fit = fit_preferences(phi, rankings, standardize=False)
    assert fit.mean[0] > 1.0
    assert abs(fit.mean[1]) < 1e-6  # symmetric ties: no reason to prefer either sign
    # Dropping the ties leaves term 1 to the prior (std 1); the ties pin it down.
    untied = [[[0], [2]], [[1], [3]]] * 30
    loose = fit_preferences(phi, untied, standardize=False)
    assert fit.std[1] < 0.3 * loose.std[1]


def test_posterior_samples_follow_the_laplace_covariance() -> None:
    phi, rankings = synthetic_rankings(seed=2, n_rankings=40)
    fit = fit_preferences(phi, rankings)
    draws = fit.sample(20000, seed=0)
    assert np.allclose(draws.mean(0), fit.mean, atol=4 * fit.std / np.sqrt(20000) * 3)
    # Sampling error of a covariance entry is about sd_i * sd_j / sqrt(n) (0.007 here).
    assert np.all(np.abs(np.cov(draws.T) - fit.cov) < 0.04 * np.outer(fit.std, fit.std))
    more = fit_preferences(phi, synthetic_rankings(seed=2, n_rankings=160)[1])
    assert np.all(more.std < fit.std)  # more rankings, narrower posterior


def test_regret_model_uses_the_value_of_where_segments_end() -> None:
    # Two segments with equal partial returns; b ends in a state worth more (psi(s_T)), so
    # Knox's regret model explains "b preferred" through the value term, partial return cannot.
    phi = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    value = np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    rankings = [[[1], [0], [2]]] * 20
    regret = fit_preferences(phi, rankings, model="regret", value_features=value, standardize=False)
    partial = fit_preferences(phi, rankings, model="bradley_terry", standardize=False)
    assert regret.mean[1] > 0.5 and partial.mean[1] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="value_features"):
        fit_preferences(phi, rankings, model="regret")


def test_bad_rankings_are_refused_with_the_place() -> None:
    phi = np.zeros((3, 2))
    with pytest.raises(ValueError, match="ranking 1: an item appears twice"):
        fit_preferences(phi, [[[0], [1]], [[0], [0]]])
    with pytest.raises(ValueError, match="out of range"):
        fit_preferences(phi, [[[0], [5]]])
    with pytest.raises(ValueError, match="unknown preference model"):
        fit_preferences(phi, [], model="elo")


def test_disagreement_counts_discordant_pairs_by_hand() -> None:
    probe = np.array([[0.0], [1.0], [2.0]])
    assert disagreement(np.array([1.0]), np.array([2.0]), probe) == 0.0
    assert disagreement(np.array([1.0]), np.array([-1.0]), probe) == 1.0
    probe2 = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    # w=(1,0) orders 2>0>1; w=(0,1) orders 2>1>0: one of three pairs (0,1) flips.
    assert disagreement(np.array([1.0, 0.0]), np.array([0.0, 1.0]), probe2) == pytest.approx(1 / 3)


def test_active_choice_prefers_samples_that_disagree() -> None:
    rng = np.random.default_rng(0)
    probe = rng.normal(size=(12, 2))
    near = np.array([1.0, 0.0]) + 0.01 * rng.normal(size=(9, 2))  # a crowd of near-duplicates
    far = np.array([[0.0, 1.0], [-1.0, 0.2]])                       # two distinct directions
    samples = np.vstack([near, far])
    chosen = choose_disagreeing(samples, 3, probe, first=0)
    assert chosen[0] == 0 and set(chosen[1:]) == {9, 10}
    best = max(set_disagreement(samples, c, probe) for c in combinations(range(11), 3)
               if 0 in c)
    assert set_disagreement(samples, chosen, probe) == pytest.approx(best)
    naive = set_disagreement(samples, [0, 1, 2], probe)  # the first three samples
    assert naive < 0.1 < 0.25 < set_disagreement(samples, chosen, probe)


def test_prior_mean_holds_weights_the_rankings_do_not_inform() -> None:
    # Rankings decide term 0 only (term 1 is equal within each pair): term 1 stays at the
    # prior's mean, wherever that is; term 0 follows the data.
    phi = np.array([[1.0, 2.0], [0.0, 2.0], [1.0, -2.0], [0.0, -2.0]])
    rankings = [[[0], [1]], [[2], [3]]] * 10
    free = fit_preferences(phi, rankings, standardize=False)
    held = fit_preferences(phi, rankings, standardize=False, prior_mean=np.array([0.0, 0.7]))
    assert free.mean[1] == pytest.approx(0.0, abs=1e-9)
    assert held.mean[1] == pytest.approx(0.7, abs=1e-9)
    assert held.mean[0] == pytest.approx(free.mean[0], rel=1e-6) and free.mean[0] > 1.0
