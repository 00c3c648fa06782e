"""Effective scales, curves, statistics and heat maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.analysis import effective_scales, heatmap, shape_curve, shares, term_statistics
from studio.core.compile import compile_design
from studio.core.design import Design, Group, Term
from studio.core.features import FeatureCatalog, FeatureSpec

CAT = FeatureCatalog.of([
    FeatureSpec("v", "forward velocity", "m/s", -2.0, 6.0),
    FeatureSpec("u", "control effort", "1", 0.0, 4.0),
    FeatureSpec("h", "height", "m", 0.8, 1.6),
])


def test_effective_scale_exposes_a_dominating_term() -> None:
    d = Design("d", "T", Group("reward", [Term("speed", "v", weight=1.0), Term("effort", "u", weight=-0.001)]))
    scales = effective_scales(d, CAT)
    # By the docstring's definition: |weight| x the 95th percentile of |shaped| over the range.
    # speed: v uniform on [-2, 6], so P(|v| <= m) = (m + 2) / 8 for m >= 2; 0.95 at m = 5.6.
    # The curve is sampled on 256 points, so the percentile is within one grid step (8/255).
    assert scales["speed"] == pytest.approx(5.6, abs=8 / 255)
    # effort: u uniform on [0, 4], 95th percentile 3.8, times |-0.001|.
    assert scales["effort"] == pytest.approx(0.001 * 3.8, abs=0.001 * 4 / 255)
    assert shares(scales)["speed"] > 0.99


def test_shape_curve_spans_the_feature_range_and_follows_params() -> None:
    t = Term("tilt", "h", "exp_kernel", {"temperature": 1.0})
    x, y = shape_curve(t, CAT, n=50)
    assert x[0] == pytest.approx(0.8) and x[-1] == pytest.approx(1.6) and len(y) == 50
    np.testing.assert_allclose(y, np.exp(-x))
    t.params["temperature"] = 0.1
    _, y2 = shape_curve(t, CAT, n=50)
    np.testing.assert_allclose(y2, np.exp(-x / 0.1))


def test_curve_of_an_expression_uses_the_expression_range() -> None:
    x, _ = shape_curve(Term("sq", "u * u"), CAT)
    assert 0.0 <= x[0] < 1.0 and 14.0 < x[-1] <= 16.0


def test_statistics_flag_dominance_and_flatness_and_correlate() -> None:
    rng = np.random.default_rng(0)
    score = rng.normal(size=500)
    comps = {"big": 10 * score + 50, "small": 0.1 * rng.normal(size=500), "flat": np.full(500, 0.2)}
    stats = {s.name: s for s in term_statistics(comps, score)}
    assert stats["big"].dominates and not stats["small"].dominates
    assert stats["flat"].never_changes and not stats["big"].never_changes
    assert stats["big"].correlation == pytest.approx(1.0)
    assert np.isnan(stats["flat"].correlation)
    assert sum(s.share for s in stats.values()) == pytest.approx(1.0)
    assert any("dominates" in f for f in stats["big"].flags)


def test_heatmap_matches_the_compiled_design_at_grid_points() -> None:
    d = Design("d", "T", Group("reward", [Term("speed", "v"), Term("effort", "u * u", weight=-0.5),
                                          Term("tall", "h", "tolerance", {"lower": 1.2, "upper": 1.4, "margin": 0.2})]))
    xs, ys, vals = heatmap(d, {"h": 1.0}, "v", "u", (-2, 6), (0, 4), resolution=9)
    c = compile_design(d, dtype=torch.float64)
    for i, j in [(0, 0), (3, 7), (8, 8)]:
        out = c({"v": np.array([xs[j]]), "u": np.array([ys[i]]), "h": np.array([1.0])})
        assert vals[i, j] == pytest.approx(float(out.total[0]))
    _, _, tall = heatmap(d, {"h": 1.3}, "v", "u", (-2, 6), (0, 4), which="tall", resolution=5)
    np.testing.assert_allclose(tall, 1.0)
    with pytest.raises(KeyError, match="nope"):
        heatmap(d, {}, "v", "u", (0, 1), (0, 1), which="nope")
