"""Hypothesis strategies for the studio's untrusted inputs: design documents and expressions.

Each strategy mixes three kinds of example: well-formed ones, well-formed ones with one part
broken (a wrong type, a missing key, a non-finite number), and arbitrary data. A loader
must accept the first, and answer the others with its own error class, never another
exception or a hang.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

FEATURES = ["x_velocity", "z", "ctrl_sq", "angle", "qvel"]
SHAPES = ["linear", "clip", "power", "log", "exp_kernel", "tolerance", "sigmoid", "tanh", "nope"]
COMBINERS = ["sum", "krc", "product", "softmin", "heron", "nope"]

# JSON values, including the non-finite numbers Python's json module reads (NaN, Infinity).
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)

# Expressions: fragments of the design language glued by operators, so that most examples
# get past the tokenizer and exercise the checker, not only the syntax error path.
atoms = st.one_of(
    st.sampled_from(FEATURES), names, st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-100, 100).map(str), st.sampled_from(["pi", "e", "True", "None", "'s'", "[]"]),
)
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "//", "%", "<", "and", "if"]),
                  inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["abs", "exp", "log", "sqrt", "clip", "where", "tanh", "max",
                                   "sum", "norm", "__import__", "eval", "open", "getattr"]),
                  st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(inner, st.sampled_from(["[0]", "[1:3]", ".real", "[::-1]", "()"]))
        .map(lambda t: t[0] + t[1]),
        st.tuples(st.just("-"), inner).map("".join),
    ),
    max_leaves=12,
)
raw_text = st.text(max_size=60)


def _weight() -> st.SearchStrategy[Any]:
    schedule = st.fixed_dictionaries({"kind": st.sampled_from(["linear", "piecewise", "x"]),
                                      "start": json_scalars, "end": json_scalars,
                                      "steps": json_scalars})
    return st.one_of(st.floats(-10, 10), json_scalars, schedule)


terms = st.fixed_dictionaries(
    {"name": names, "source": st.one_of(st.sampled_from(FEATURES), expressions)},
    optional={"shape": st.sampled_from(SHAPES), "weight": _weight(),
              "params": st.dictionaries(names, _weight(), max_size=3),
              "enabled": json_scalars},
)
nodes = st.recursive(
    terms,
    lambda inner: st.fixed_dictionaries(
        {"name": names, "children": st.lists(inner, max_size=4)},
        optional={"combiner": st.sampled_from(COMBINERS), "weight": _weight()},
    ),
    max_leaves=8,
)
design_docs = st.one_of(
    st.fixed_dictionaries({"name": names, "task": st.sampled_from(["HalfCheetah-v5", ""]),
                           "root": nodes},
                          optional={"events": st.lists(json_values, max_size=2),
                                    "shaping": json_values, "version": json_scalars}),
    st.dictionaries(st.sampled_from(["name", "task", "root", "events"]), json_values),
    json_values,
)
