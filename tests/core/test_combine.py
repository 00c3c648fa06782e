"""Combiners: KRC against hand-computed values with mixed signs and zeros, and the others."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.combine import (
    COMBINERS,
    combine,
    gamma_from_half_life,
    krc,
    potential_shaping,
)


@pytest.mark.parametrize(
    ("parts", "want"),
    [
        ([0.25, 1.0], 0.5),  # sqrt(0.25)
        ([0.8, 0.2], 0.4),  # sqrt(0.16)
        ([-0.5, -0.5], -0.5),  # two negatives stay negative: the sign rule
        ([0.5, 0.5, -0.5], -0.5),  # -(0.125)^(1/3)
        ([0.0, 0.9], 0.0),  # a zero pulls the whole term to zero: soft AND
        ([-0.2, 0.0], 0.0),
        ([1.0, 1.0, 1.0], 1.0),
        ([-1.0, 1.0], -1.0),
        ([0.9], 0.9),
        ([0.1, 0.4, 0.9, 0.5], (0.1 * 0.4 * 0.9 * 0.5) ** 0.25),
    ],
)
def test_krc_hand_computed(parts: list[float], want: float) -> None:
    got = krc(torch.tensor([parts], dtype=torch.float64))
    assert got.shape == (1,)
    assert float(got[0]) == pytest.approx(want, abs=1e-12)


def test_krc_batched_along_last_dimension_and_bounded() -> None:
    x = torch.rand(100, 3, dtype=torch.float64) * 2 - 1
    y = krc(x)
    assert y.shape == (100,)
    assert bool((y.abs() <= 1.0 + 1e-12).all())
    neg = (x < 0).any(dim=-1)
    assert bool((y[neg] <= 0).all()) and bool((y[~neg] >= 0).all())
    # Same result from the numpy path the exporter uses.
    z = combine(np, "krc", [x[:, i].numpy() for i in range(3)])
    np.testing.assert_allclose(z, y.numpy(), atol=1e-12)


def test_sum_product_softmin() -> None:
    a, b = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    np.testing.assert_allclose(combine(np, "sum", [a, b]), [4.0, -1.5])
    np.testing.assert_allclose(combine(np, "product", [a, b]), [3.0, -1.0])
    t = 0.5
    want = [-t * math.log(math.exp(-1 / t) + math.exp(-3 / t)), -t * math.log(math.exp(2 / t) + math.exp(-0.5 / t))]
    np.testing.assert_allclose(combine(np, "softmin", [a, b], {"temperature": t}), want)
    # A small temperature approaches the minimum; large values do not overflow.
    np.testing.assert_allclose(combine(np, "softmin", [a, b], {"temperature": 1e-3}), [1.0, -2.0], atol=1e-2)
    big = combine(np, "softmin", [np.array([1e4]), np.array([2e4])], {"temperature": 0.01})
    assert np.isfinite(big).all()


def test_potential_shaping_and_negative_slope() -> None:
    phi_s, phi_n = np.array([1.0, 2.0]), np.array([2.0, 0.0])
    np.testing.assert_allclose(potential_shaping(np, phi_s, phi_n, 0.9), [0.8, -2.0])
    np.testing.assert_allclose(potential_shaping(np, phi_s, phi_n, 0.9, negative_slope=0.5), [0.8, -1.0])


def test_gamma_from_half_life() -> None:
    g = gamma_from_half_life(steps_per_second=20, half_life_seconds=5)
    assert g ** 100 == pytest.approx(0.5)


def test_registry_has_the_documented_combiners() -> None:
    assert {"sum", "krc", "product", "softmin"} <= set(COMBINERS)
