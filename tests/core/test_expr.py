"""The expression language: values, and errors with their column."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.expr import ExpressionError, parse

F = {"v": np.array([2.0, -1.0, 0.0]), "h": np.array([1.2, 0.7, 1.0])}
KNOWN = set(F)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("v * 2 + 1", [5.0, -1.0, 1.0]),
        ("-v ** 2", [-4.0, -1.0, -0.0]),
        ("abs(v) + sqrt(h * h)", [3.2, 1.7, 1.0]),
        ("clip(v, -0.5, 1)", [1.0, -0.5, 0.0]),
        ("min(v, h, 0.5)", [0.5, -1.0, 0.0]),
        ("max(v, h)", [2.0, 0.7, 1.0]),
        ("where(v > 0, v, 0)", [2.0, 0.0, 0.0]),
        ("(h > 0.8) and (h < 1.1)", [0.0, 0.0, 1.0]),
        ("(v > 1) or not h", [1.0, 0.0, 0.0]),
        ("0.8 < h <= 1.2", [1.0, 0.0, 1.0]),
        ("v % 2", [0.0, 1.0, 0.0]),
        ("exp(-abs(v)) * cos(0) + sin(0) + tanh(0) + sign(v)", [math.exp(-2) + 1, math.exp(-1) - 1, 1.0]),
        ("log(h) + pi - pi + e - e", [math.log(1.2), math.log(0.7), 0.0]),
    ],
)
def test_values_numpy_and_torch(text: str, want: list[float]) -> None:
    e = parse(text, KNOWN)
    got = np.asarray(e.evaluate(np, F), dtype=float) * np.ones(3)
    np.testing.assert_allclose(got, want, atol=1e-12)
    tf = {k: torch.tensor(v, dtype=torch.float64) for k, v in F.items()}
    tgot = e.evaluate(torch, tf)
    tgot = tgot.numpy() if isinstance(tgot, torch.Tensor) else np.full(3, tgot)
    np.testing.assert_allclose(tgot * np.ones(3), want, atol=1e-12)


@pytest.mark.parametrize(
    ("text", "col", "fragment"),
    [
        ("v + speed", 5, "unknown feature 'speed'"),
        ("v + hh", 5, "did you mean 'h'"),
        ("  v + open(1)", 7, "unknown function 'open'"),
        ("v.real", 1, "'Attribute' is not allowed"),
        ("__import__('os')", 1, "unknown function '__import__'"),
        ("v[h]", 3, "index must be a whole number"),
        ("v[0.5]", 3, "index must be a whole number"),
        ("lambda: v", 1, "'Lambda' is not allowed"),
        ("'text'", 1, "only numbers"),
        ("clip(v, 1)", 1, "clip() takes 3 arguments, got 2"),
        ("abs(v, key=1)", 1, "keyword arguments"),
        ("v +* 2", 4, "syntax error"),
        ("", 1, "empty"),
        ("abs + 1", 1, "is a function"),
        ("v if h else 0", 1, "'IfExp' is not allowed"),
    ],
)
def test_errors_name_their_column(text: str, col: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text, KNOWN)
    assert fragment in info.value.message
    assert info.value.col == col, info.value


@pytest.mark.filterwarnings("error")  # nor a RuntimeWarning in the user's terminal
def test_division_by_zero_gives_inf_not_an_exception() -> None:
    e = parse("1 / (v * 0)", KNOWN)
    assert np.isinf(np.asarray(e.evaluate(np, F))).all()
    assert math.isinf(parse("1 / 0").evaluate(np, {}))
    assert math.isnan(parse("0 / 0").evaluate(np, {}))


def test_names_and_source_round_trip() -> None:
    text = "where(v > 1, clip(v, 0, 3), -min(h, 2)) + (v != 0 or h == 1)"
    e = parse(text, KNOWN)
    assert e.names == {"v", "h"}
    assert not e.is_feature and parse("v", KNOWN).is_feature
    src = e.to_source(lambda n: f"f[{n!r}]")
    from studio.core import expr as mod

    scope = {"xp": np, "f": F, "_clip": mod._clip, "_pick": mod._pick}
    got = eval(src, scope)  # noqa: S307 - our own generated source in a test
    np.testing.assert_allclose(got, e.evaluate(np, F))


def test_never_evaluates_python() -> None:
    # A name that would be a builtin is just an unknown feature, never looked up.
    with pytest.raises(ExpressionError, match="unknown feature 'print'"):
        parse("print", KNOWN)


# --- array features -------------------------------------------------------------------------

ARR = {
    "qvel": np.array([[3.0, 4.0, -12.0], [1.0, -2.0, 2.0]]),
    "c": np.arange(24.0).reshape(2, 3, 4),
}


@pytest.mark.parametrize(
    ("text", "want"),
    [  # expected values worked out by hand from ARR
        ("qvel[1]", [4.0, -2.0]),
        ("qvel[-1]", [-12.0, 2.0]),
        ("sum(qvel[0:2])", [7.0, -1.0]),
        ("sum(square(qvel))", [169.0, 9.0]),
        ("norm(qvel)", [13.0, 3.0]),
        ("mean(qvel)", [-5.0 / 3.0, 1.0 / 3.0]),
        ("max(qvel)", [4.0, 2.0]),
        ("min(abs(qvel))", [3.0, 1.0]),
        ("sum(abs(diff(qvel)))", [1.0 + 16.0, 3.0 + 4.0]),
        ("dot(qvel, qvel)", [169.0, 9.0]),
        ("c[1, 2]", [6.0, 18.0]),
        ("sum(c[1:, 3:])", [7.0 + 11.0, 19.0 + 23.0]),
        ("all(qvel < 5) + any(qvel > 3)", [2.0, 1.0]),
        ("sum(concat(qvel, c[0, 0]))", [-5.0 + 0.0, 1.0 + 12.0]),
        ("all(isfinite(qvel)) * (qvel[0] < inf)", [1.0, 1.0]),
    ],
)
def test_array_features_index_slice_and_reduce_per_transition(text: str, want: list[float]) -> None:
    e = parse(text, set(ARR))
    np.testing.assert_allclose(np.asarray(e.evaluate(np, ARR)), want, atol=1e-12)
    got = e.evaluate(torch, {k: torch.tensor(v) for k, v in ARR.items()})
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    # the exporter's source computes the same numbers
    from studio.core.expr import EXPORT_HELPERS

    src = e.to_source(lambda n: f"f[{n!r}]", xp="np")
    ns = {"np": np, "math": math, "f": ARR, **EXPORT_HELPERS, "xp": np}
    np.testing.assert_allclose(eval(src, ns), want, atol=1e-12)  # noqa: S307 - our own generated source


def test_a_term_with_an_array_value_is_refused_with_its_name() -> None:
    from studio.core.compile import compile_design
    from studio.core.design import Design, Group, Term

    d = Design("d", "T", Group("reward", [Term("effort", "square(qvel)")]))
    with pytest.raises(ValueError, match="term 'effort' gives \\(3,\\) values per transition"):
        compile_design(d, dtype=torch.float64)({"qvel": torch.tensor(ARR["qvel"])})


def test_editor_ranges_of_array_expressions_sample_whole_arrays() -> None:
    from studio.core.analysis import source_range
    from studio.core.design import Term
    from studio.core.features import FeatureCatalog, FeatureSpec

    cat = FeatureCatalog.of([FeatureSpec("a", "an array", "1", -1.0, 1.0, group="array", shape=(3,))])
    lo, hi = source_range(Term("t", "sum(square(a))"), cat)
    assert 0.0 <= lo < 0.5 and 2.0 < hi <= 3.0  # three squares of values in [-1, 1]
    lo, hi = source_range(Term("t", "a[2] > 0"), cat)
    assert (lo, hi) == (0.0, 1.0)
