"""Every shape against values computed by hand from its published formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.shapes import SHAPES, SIGMOID_KINDS, apply_shape

XS = [-3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 7.5]


def both(name: str, x: float, **params: object) -> float:
    """The shape on numpy and on torch float64; they must agree."""
    a = float(apply_shape(np, name, np.array([x]), dict(params))[0])
    b = float(apply_shape(torch, name, torch.tensor([x], dtype=torch.float64), dict(params))[0])
    assert a == pytest.approx(b, abs=1e-12), (name, x, params)
    return a


@pytest.mark.parametrize("x", XS)
def test_simple_shapes(x: float) -> None:
    assert both("linear", x, scale=2.0, offset=-1.0) == pytest.approx(2 * x - 1)
    assert both("clip", x, low=-1.0, high=0.5) == pytest.approx(min(max(x, -1.0), 0.5))
    assert both("power", x, exponent=2.0) == pytest.approx(x * x)
    assert both("power", x, exponent=3.0, signed=1.0) == pytest.approx(x**3)
    assert both("power", x, exponent=0.5) == pytest.approx(abs(x) ** 0.5)
    assert both("log", x, offset=4.0) == pytest.approx(math.log(x + 4.0))
    assert both("exp_kernel", x, temperature=0.5) == pytest.approx(math.exp(-x / 0.5))
    assert both("tanh", x, scale=2.0) == pytest.approx(math.tanh(x / 2.0))
    assert both("sigmoid", x, center=1.0, width=0.5) == pytest.approx(1 / (1 + math.exp(-(x - 1.0) / 0.5)))


def test_log_holds_argument_at_eps() -> None:
    assert both("log", -5.0, offset=1.0, eps=1e-3) == pytest.approx(math.log(1e-3))


@pytest.mark.parametrize("x", XS)
def test_lucy_distance_shapes(x: float) -> None:
    c, w_dis, w_den = 1.5, 2.0, 3.0
    d = abs(x)
    assert both("distance", x, scale=c, dispersion=w_dis, density=w_den) == pytest.approx(
        math.exp(-0.5 * d / (c * w_dis)) ** (1 / w_den)
    )
    u = 2 * (math.exp(-0.5 * d / (c * w_dis)) - 0.5)
    want = math.copysign(abs(u) ** (1 / w_den), u) if u != 0 else 0.0
    assert both("signed_distance", x, scale=c, dispersion=w_dis, density=w_den) == pytest.approx(want)


def test_distance_parameters_behave_as_documented() -> None:
    # Larger dispersion decays slower; larger density lifts the curve towards 1.
    base = both("distance", 2.0)
    assert both("distance", 2.0, dispersion=4.0) > base
    assert both("distance", 2.0, density=4.0) > base
    assert both("distance", 0.0) == pytest.approx(1.0)
    # The signed distance is +1 at zero distance and tends to -1 far away.
    assert both("signed_distance", 0.0) == pytest.approx(1.0)
    assert both("signed_distance", 100.0) == pytest.approx(-1.0, abs=1e-6)


def _dm_tolerance(x: float, lower: float, upper: float, margin: float, sigmoid: str, v: float) -> float:
    """dm_control's rewards.tolerance, scalar, written independently from its source."""
    if lower <= x <= upper:
        return 1.0
    if margin == 0:
        return 0.0
    d = (lower - x if x < lower else x - upper) / margin
    if sigmoid == "gaussian":
        s = math.sqrt(-2 * math.log(v))
        return math.exp(-0.5 * (d * s) ** 2)
    if sigmoid == "hyperbolic":
        s = math.acosh(1 / v)
        return 1 / math.cosh(d * s)
    if sigmoid == "long_tail":
        s = math.sqrt(1 / v - 1)
        return 1 / ((d * s) ** 2 + 1)
    if sigmoid == "reciprocal":
        s = 1 / v - 1
        return 1 / (abs(d) * s + 1)
    if sigmoid == "cosine":
        s = math.acos(2 * v - 1) / math.pi
        return (1 + math.cos(math.pi * d * s)) / 2 if abs(d * s) < 1 else 0.0
    if sigmoid == "linear":
        s = 1 - v
        return 1 - d * s if abs(d * s) < 1 else 0.0
    if sigmoid == "quadratic":
        s = math.sqrt(1 - v)
        return 1 - (d * s) ** 2 if abs(d * s) < 1 else 0.0
    if sigmoid == "tanh_squared":
        s = math.atanh(math.sqrt(1 - v))
        return 1 - math.tanh(d * s) ** 2
    raise AssertionError(sigmoid)


@pytest.mark.parametrize("sigmoid", SIGMOID_KINDS)
@pytest.mark.parametrize("x", XS)
def test_tolerance_matches_dm_control(sigmoid: str, x: float) -> None:
    params = dict(lower=-0.5, upper=0.75, margin=2.0, sigmoid=sigmoid, value_at_margin=0.2)
    want = _dm_tolerance(x, -0.5, 0.75, 2.0, sigmoid, 0.2)
    assert both("tolerance", x, **params) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("sigmoid", SIGMOID_KINDS)
def test_tolerance_hits_value_at_margin(sigmoid: str) -> None:
    got = both("tolerance", 3.0, lower=0.0, upper=1.0, margin=2.0, sigmoid=sigmoid, value_at_margin=0.3)
    assert got == pytest.approx(0.3)


def test_tolerance_without_margin_is_a_band() -> None:
    assert both("tolerance", 0.5, lower=0.0, upper=1.0, margin=0.0) == 1.0
    assert both("tolerance", 1.5, lower=0.0, upper=1.0, margin=0.0) == 0.0


def test_every_shape_is_tested_and_documented() -> None:
    tested = {"linear", "clip", "power", "log", "exp_kernel", "tolerance", "distance",
              "signed_distance", "sigmoid", "tanh"}
    assert set(SHAPES) == tested
    for shape in SHAPES.values():
        assert shape.doc and shape.formula
        for p in shape.params:
            assert p.check(p.default) is None, (shape.name, p.name)


def test_param_checks_reject_bad_values() -> None:
    p = SHAPES["exp_kernel"].param("temperature")
    assert p is not None
    assert p.check(0.0) == "a number > 0"
    assert p.check(float("nan")) == "a finite number"
    assert p.check("hot") == "a number"
    sig = SHAPES["tolerance"].param("sigmoid")
    assert sig is not None and sig.check("bogus") is not None and sig.check("cosine") is None
