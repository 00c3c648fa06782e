"""EPIC's matrix is computed in one place (app.distance) with progress and cancellation; the UI uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.app.distance import EpicCancelled, EpicDesignError, epic_matrix, random_pool
from studio.core.design import Design, Group, Term


def _designs() -> list[Design]:
    base = Design("a", "InvertedPendulum-v5", Group("r", [Term("up", "pole_angle", shape="tolerance")]))
    scaled = Design("b", "InvertedPendulum-v5", Group("r", [Term("up", "pole_angle", shape="tolerance", weight=3.0)]))
    other = Design("c", "InvertedPendulum-v5", Group("r", [Term("x", "cart_position")]))
    return [base, scaled, other]


def test_progress_is_reported_per_design_and_the_matrix_is_epics() -> None:
    pool = random_pool("InvertedPendulum-v5", states=200, seed=1)
    seen: list[tuple[float, str]] = []
    m = epic_matrix(_designs(), 100, pool=pool, labels=["A", "B", "C"],
                    progress=lambda p, s: seen.append((p, s)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100 and len(percents) == 2 + 3 + 1
    assert any("canonicalising B (2/3)" in s for _, s in seen)
    assert m[0, 1] == pytest.approx(0.0, abs=1e-9)  # a positive rescaling is EPIC-equivalent
    assert m[0, 2] > 0.1 and np.allclose(m, m.T)


def test_cancellation_stops_between_designs() -> None:
    pool = random_pool("InvertedPendulum-v5", states=200, seed=1)
    calls = [0]

    def cancelled() -> bool:
        calls[0] += 1
        return calls[0] > 2  # after sampling and the first design

    with pytest.raises(EpicCancelled):
        epic_matrix(_designs(), 100, pool=pool, cancelled=cancelled)
    assert calls[0] == 3


def test_a_design_that_cannot_be_evaluated_is_named() -> None:
    bad = Design("bad", "InvertedPendulum-v5", Group("r", [Term("x", "no_such_feature")]))
    with pytest.raises(EpicDesignError, match="Bad v2 cannot be evaluated on InvertedPendulum-v5"):
        epic_matrix([_designs()[0], bad], 50, labels=["A v1", "Bad v2"],
                    pool=random_pool("InvertedPendulum-v5", states=200, seed=1))


def test_the_view_has_no_epic_arithmetic_of_its_own() -> None:
    source = (Path(__file__).resolve().parents[2] / "studio" / "ui" / "distance_view.py").read_text()
    for name in ("canonicalize", "pearson_distance", "random_pool", "pool_samples"):
        assert name not in source
