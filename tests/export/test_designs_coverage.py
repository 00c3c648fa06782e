"""The exactness tests' designs really use every shape, sigmoid kind, combiner and function."""

from __future__ import annotations

import ast

from studio.core.combine import COMBINERS
from studio.core.design import Group, Term
from studio.core.expr import FUNCTIONS
from studio.core.shapes import SHAPES, SIGMOID_KINDS
from tests.export.designs import every_shape_design


def test_every_shape_combiner_function_event_and_schedule_is_used() -> None:
    d = every_shape_design()
    nodes = [n for _, n in d.walk()]
    terms = [n for n in nodes if isinstance(n, Term)]
    groups = [n for n in nodes if isinstance(n, Group)]
    builtin_shapes = {"linear", "clip", "power", "log", "exp_kernel", "tolerance", "distance",
                      "signed_distance", "sigmoid", "tanh"}
    assert builtin_shapes <= set(SHAPES) and builtin_shapes <= {t.shape for t in terms}
    assert set(SIGMOID_KINDS) <= {t.params.get("sigmoid") for t in terms if t.shape == "tolerance"}
    assert {"sum", "krc", "product", "softmin"} <= set(COMBINERS) and {
        "sum", "krc", "product", "softmin"} <= {g.combiner for g in groups}
    called = {
        n.func.id
        for t in terms
        for n in ast.walk(ast.parse(t.source, mode="eval"))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert set(FUNCTIONS) <= called
    assert {e.trigger for e in d.events} == {"termination", "truncation", "condition"}
    assert d.shaping is not None and d.shaping.negative_slope != 1.0
