"""EPIC compares a HERON design through its trained model, like any other design."""

from __future__ import annotations

import pytest

from studio.app.distance import EpicDesignError, epic_matrix, random_pool
from studio.core.design import Design, Group, Term
from tests.app.test_heron_agreement import ENV, heron_design, linear_model


def test_a_heron_model_equal_to_a_plain_reward_up_to_scale_and_shift_is_at_distance_zero() -> None:
    pool = random_pool(ENV, states=200, seed=0)
    plain = Design("p", ENV, Group("reward", [Term("x", "cart_position")]))
    negated = Design("n", ENV, Group("reward", [Term("x", "cart_position", weight=-1.0)]))
    # 0.5 * (2 x + 20) = x + 10: the constant drops out in canonicalisation.
    m = epic_matrix([heron_design(), plain, negated], 60, ENV, pool=pool,
                    heron=[{"tree": linear_model()}, None, None])
    assert m[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert m[0, 2] == pytest.approx(1.0, abs=1e-6)


def test_a_heron_design_without_its_model_is_named_in_the_error() -> None:
    pool = random_pool(ENV, states=200, seed=0)
    with pytest.raises(EpicDesignError, match="no trained model"):
        epic_matrix([heron_design(), heron_design()], 20, ENV, pool=pool)
