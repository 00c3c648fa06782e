"""EPIC on plain callables: invariances, the negation, symmetry, edge cases."""

from __future__ import annotations

import numpy as np

from studio.core.epic import (
    EpicSamples,
    canonicalize,
    epic_distance,
    epic_matrix_of,
    pearson_distance,
)


def _samples(seed: int = 0) -> EpicSamples:
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(400, 3))
    actions = rng.uniform(-1, 1, size=(400, 2))
    return EpicSamples.draw(states, actions, n_coverage=300, n_canonical=200, rng=rng)


def reward(s, a, s2, done):
    return s2[:, 0] - 0.3 * np.sum(a**2, axis=1) + np.tanh(s[:, 1] * s2[:, 2])


def phi(s):
    return np.sin(s[:, 0]) + s[:, 1] ** 2


def test_shaping_and_positive_scale_are_ignored() -> None:
    samples = _samples()
    gamma = 0.95
    shaped = lambda s, a, s2, d: 2.5 * reward(s, a, s2, d) + gamma * phi(s2) - phi(s)  # noqa: E731
    assert epic_distance(reward, shaped, samples, gamma) < 1e-6


def test_negation_is_at_distance_one_and_symmetric() -> None:
    samples = _samples(1)
    neg = lambda s, a, s2, d: -reward(s, a, s2, d)  # noqa: E731
    other = lambda s, a, s2, d: s2[:, 1] + a[:, 0]  # noqa: E731
    assert epic_distance(reward, neg, samples) > 0.999
    assert epic_distance(reward, other, samples) == epic_distance(other, reward, samples)
    m = epic_matrix_of([reward, neg, other], samples)
    assert np.allclose(m, m.T) and np.all(np.diag(m) == 0) and np.all((m >= 0) & (m <= 1))


def test_constants() -> None:
    assert pearson_distance(np.ones(5), np.ones(5) * 3) == 0.0
    assert abs(pearson_distance(np.ones(5), np.arange(5.0)) - np.sqrt(0.5)) < 1e-12
    samples = _samples(2)
    c = canonicalize(lambda s, a, s2, d: np.full(len(d), 4.0), samples)
    assert np.allclose(c, c[0])


def test_docstring_example_runs() -> None:
    import doctest

    import studio.core.epic

    result = doctest.testmod(studio.core.epic)
    assert result.attempted > 0 and result.failed == 0
