"""A small, safe expression language over feature names.

Expressions are parsed with Python's :mod:`ast` and checked against a whitelist; they are
never ``eval``-ed. A parsed expression evaluates on any array namespace (numpy or torch)
and can be printed back as Python source for the exporter.

Allowed: numbers, feature names, the constants ``pi``, ``e`` and ``inf``, ``+ - * / ** %``,
unary minus, comparisons (``< <= > >= == !=``, giving 0/1), ``and`` / ``or`` / ``not`` over
0/1 values, and the functions ``abs exp log sqrt tanh sin cos sign square isfinite clip min
max where``, elementwise.

Array features (``qpos``, ``action``, ``cfrc_ext``, ``body_<name>_pos``...) hold several
values per transition. They are indexed and sliced by constants (``qvel[1]``,
``qpos[1:3]``, ``cfrc_ext[1:, 3:]``; the batch axis is implicit) and reduced to one value
per transition by ``sum mean norm all any`` and one-argument ``min max`` (over all of a
transition's values), ``dot(a, b)``; ``diff(x)`` (along the last axis) and
``concat(a, b, ...)`` (flattened) keep arrays. A term's value must be one number per
transition.

``prev(x)`` is ``x`` one step earlier: its features are read from the previous transition
(``prev_features``; at the start of an episode, the reset state's), as a reward that keeps
``self.prev_x = x`` between calls does. Features read under ``prev`` are named
``prev:<feature>`` in the mapping the expression evaluates on.

>>> import numpy as np
>>> q = {"qvel": np.array([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0]])}
>>> parse("norm(qvel[0:2]) + max(abs(qvel))").evaluate(np, q).tolist()
[9.0, 2.0]

>>> import numpy as np
>>> e = parse("clip(x_velocity, 0, 2) - 0.1 * abs(z)", {"x_velocity", "z"})
>>> e.evaluate(np, {"x_velocity": np.array([3.0]), "z": np.array([-1.0])}).tolist()
[1.9]
>>> sorted(e.names)
['x_velocity', 'z']
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core import pyast

CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf}

# name -> (min args, max args)
FUNCTIONS: dict[str, tuple[int, int]] = {
    "abs": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "tanh": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "sign": (1, 1),
    "square": (1, 1),
    "isfinite": (1, 1),
    "clip": (3, 3),
    "min": (1, 8),
    "max": (1, 8),
    "where": (3, 3),
    "sum": (1, 1),
    "mean": (1, 1),
    "norm": (1, 1),
    "all": (1, 1),
    "any": (1, 1),
    "dot": (2, 2),
    "diff": (1, 1),
    "concat": (1, 8),
    "prev": (1, 1),
}

REDUCTIONS = frozenset({"sum", "mean", "norm", "all", "any"})
"""Functions that reduce each transition's values to one (``min``/``max`` with one argument too)."""

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.Mod: "%",
}
_CMPOPS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}


class ExpressionError(ValueError):
    """An expression that cannot be used; ``col`` is the 1-based column of the problem."""

    def __init__(self, message: str, col: int, expression: str = "", length: int = 1) -> None:
        self.message = message
        self.col = col
        self.expression = expression
        self.length = max(1, length)
        super().__init__(f"column {col}: {message}")


# A compiled node: (xp, features) -> array or float
Node = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, the feature names it reads, and its evaluator."""

    text: str
    names: frozenset[str]
    _node: Node
    _tree: ast.expr
    previous: frozenset[str] = frozenset()
    """Features read one step earlier (under ``prev(...)``): pass ``prev:<name>`` too."""

    def evaluate(self, xp: Any, features: Mapping[str, Any]) -> Any:
        """Value over a batch of features (a mapping name -> [B] array)."""
        return self._node(xp, features)

    def to_source(self, name_of: Callable[[str], str], xp: str = "xp") -> str:
        """Python source that computes the expression with array namespace ``xp``.

        ``name_of(feature)`` gives the source text that reads one feature.
        """
        return _source(self._tree, name_of, xp)

    @property
    def is_feature(self) -> bool:
        """True when the expression is a bare feature name."""
        return isinstance(self._tree, ast.Name) and self._tree.id not in CONSTANTS


def parse(text: str, known: Collection[str] | None = None) -> Expression:
    """Parse and check ``text``; ``known`` is the set of feature names allowed (None: any)."""
    if not text or not text.strip():
        raise ExpressionError("the expression is empty", 1, text)
    try:
        tree = pyast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1) + (len(text) - len(text.lstrip()))
        raise ExpressionError(f"syntax error: {exc.msg}", col, text) from None
    offset = len(text) - len(text.lstrip())
    names: set[str] = set()
    body = _lift_prev(tree.body, text, offset)
    node = _compile(body, known, names, text, offset)
    return Expression(text, frozenset(n.removeprefix(PREV) for n in names), node, body,
                      frozenset(n.removeprefix(PREV) for n in names if n.startswith(PREV)))


PREV = "prev:"
"""Prefix of a feature of the previous transition in the evaluation mapping (``prev(x)``)."""


def _lift_prev(tree: ast.expr, text: str, off: int) -> ast.expr:
    """``prev(e)`` -> ``e`` with every feature name ``n`` in it read as ``prev:n``."""

    class Lift(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if isinstance(node.func, ast.Name) and node.func.id == "prev":
                if len(node.args) != 1 or node.keywords:
                    raise _err(node, "prev() takes 1 argument", text, off)
                inner = node.args[0]
                for n in ast.walk(inner):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "prev":
                        raise _err(n, "prev() inside prev() is not supported", text, off)
                callees = {id(c.func) for c in ast.walk(inner) if isinstance(c, ast.Call)}
                for n in ast.walk(inner):
                    if isinstance(n, ast.Name) and id(n) not in callees and n.id not in CONSTANTS:
                        n.id = PREV + n.id
                return inner
            return self.generic_visit(node)

    return Lift().visit(tree)  # type: ignore[no-any-return]


def _err(node: ast.AST, message: str, text: str, offset: int) -> ExpressionError:
    col = getattr(node, "col_offset", 0) + 1 + offset
    end = getattr(node, "end_col_offset", None)
    length = (end - node.col_offset) if end is not None else 1  # type: ignore[attr-defined]
    return ExpressionError(message, col, text, length)


def _as_float(xp: Any, cond: Any) -> Any:
    """0/1 values from a boolean array (or bool)."""
    if isinstance(cond, bool):
        return float(cond)
    return xp.where(cond, 1.0, 0.0)


def _truth(v: Any) -> Any:
    return v != 0


def _compile(
    node: ast.expr, known: Collection[str] | None, names: set[str], text: str, off: int
) -> Node:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _err(node, f"only numbers are allowed, not {node.value!r}", text, off)
        value = float(node.value)
        return lambda xp, f: value
    if isinstance(node, ast.Name):
        ident = node.id
        if ident in CONSTANTS:
            c = CONSTANTS[ident]
            return lambda xp, f: c
        if ident in FUNCTIONS:
            raise _err(node, f"'{ident}' is a function: call it as {ident}(...)", text, off)
        if known is not None and ident.removeprefix(PREV) not in known:
            ident = ident.removeprefix(PREV)
            hint = _closest(ident, known)
            more = f" (did you mean '{hint}'?)" if hint else ""
            raise _err(node, f"unknown feature '{ident}'{more}", text, off)
        names.add(ident)
        return lambda xp, f: f[ident]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a = _compile(node.left, known, names, text, off)
        b = _compile(node.right, known, names, text, off)
        op = type(node.op)
        if op is ast.Add:
            return lambda xp, f: a(xp, f) + b(xp, f)
        if op is ast.Sub:
            return lambda xp, f: a(xp, f) - b(xp, f)
        if op is ast.Mult:
            return lambda xp, f: a(xp, f) * b(xp, f)
        if op is ast.Div:
            return lambda xp, f: _div(a(xp, f), b(xp, f))
        if op is ast.Pow:
            return lambda xp, f: a(xp, f) ** b(xp, f)
        return lambda xp, f: a(xp, f) % b(xp, f)
    if isinstance(node, ast.UnaryOp):
        v = _compile(node.operand, known, names, text, off)
        if isinstance(node.op, ast.USub):
            return lambda xp, f: -v(xp, f)
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Not):
            return lambda xp, f: _as_float(xp, v(xp, f) == 0)
    if isinstance(node, ast.Compare):
        parts = [_compile(node.left, known, names, text, off)] + [
            _compile(c, known, names, text, off) for c in node.comparators
        ]
        for cmp in node.ops:
            if type(cmp) not in _CMPOPS:
                raise _err(node, f"comparison '{type(cmp).__name__}' is not allowed", text, off)
        ops = [_CMPOPS[type(c)] for c in node.ops]

        def compare(xp: Any, f: Mapping[str, Any]) -> Any:
            vals = [p(xp, f) for p in parts]
            acc: Any = True
            for (x, y), o in zip(zip(vals, vals[1:], strict=False), ops, strict=True):
                acc = acc & _cmp(x, y, o)
            return _as_float(xp, acc)

        return compare
    if isinstance(node, ast.BoolOp):
        vals = [_compile(v, known, names, text, off) for v in node.values]
        is_and = isinstance(node.op, ast.And)

        def boolop(xp: Any, f: Mapping[str, Any]) -> Any:
            acc = _truth(vals[0](xp, f))
            for v in vals[1:]:
                acc = (acc & _truth(v(xp, f))) if is_and else (acc | _truth(v(xp, f)))
            return _as_float(xp, acc)

        return boolop
    if isinstance(node, ast.Subscript):
        base = _compile(node.value, known, names, text, off)
        index = (slice(None), *_index(node.slice, text, off))
        return lambda xp, f: base(xp, f)[index]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            fname = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            allowed = ", ".join(sorted(FUNCTIONS))
            raise _err(node, f"unknown function '{fname}' (allowed: {allowed})", text, off)
        if node.keywords:
            raise _err(node, "keyword arguments are not allowed", text, off)
        fname = node.func.id
        lo, hi = FUNCTIONS[fname]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise _err(node, f"{fname}() takes {want} arguments, got {len(node.args)}", text, off)
        args = [_compile(a, known, names, text, off) for a in node.args]
        return _call(fname, args)
    what = type(node).__name__
    raise _err(node, f"'{what}' is not allowed in a reward expression", text, off)


def _int_const(node: ast.expr | None, text: str, off: int) -> int | None:
    if node is None:
        return None
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return sign * node.value
    raise _err(node, "an index must be a whole number (a constant)", text, off)


def _index(node: ast.expr, text: str, off: int) -> tuple[int | slice, ...]:
    """A constant index of a transition's values: ``1``, ``-1``, ``1:3``, ``1:, 3:``."""
    parts = node.elts if isinstance(node, ast.Tuple) else [node]
    out: list[int | slice] = []
    for p in parts:
        if isinstance(p, ast.Slice):
            out.append(slice(_int_const(p.lower, text, off), _int_const(p.upper, text, off),
                             _int_const(p.step, text, off)))
        else:
            i = _int_const(p, text, off)
            assert i is not None
            out.append(i)
    return tuple(out)


def _div(a: Any, b: Any) -> Any:
    # A plain float zero must not raise: division by zero gives inf/nan as arrays do,
    # and the compiled design reports the term that produced it.
    if isinstance(a, float) and isinstance(b, float):
        if b == 0.0:
            return math.copysign(math.inf, a) if a != 0.0 else math.nan
        return a / b
    with np.errstate(divide="ignore", invalid="ignore"):  # inf/nan is the answer, not a warning
        return a / b


def _cmp(x: Any, y: Any, op: str) -> Any:
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    if op == "==":
        return x == y
    return x != y


def _call(fname: str, args: list[Node]) -> Node:
    if fname in REDUCTIONS or (fname in ("min", "max") and len(args) == 1):
        (a,) = args
        return lambda xp, f: _reduce(xp, a(xp, f), fname)
    if fname == "dot":
        a, b = args
        return lambda xp, f: _reduce(xp, a(xp, f) * b(xp, f), "sum")
    if fname == "diff":
        (a,) = args
        return lambda xp, f: _diff(a(xp, f))
    if fname == "concat":
        return lambda xp, f: _concat(xp, [a(xp, f) for a in args])
    if fname == "square":
        (a,) = args

        def square(xp: Any, f: Mapping[str, Any]) -> Any:
            v = a(xp, f)
            return v * v

        return square
    if fname == "isfinite":
        (a,) = args
        return lambda xp, f: _isfinite(xp, a(xp, f))
    if fname in ("abs", "exp", "log", "sqrt", "tanh", "sin", "cos", "sign"):
        (a,) = args

        def unary(xp: Any, f: Mapping[str, Any]) -> Any:
            v = a(xp, f)
            if isinstance(v, float):
                return _scalar(fname, v)
            return getattr(xp, fname)(v)

        return unary
    if fname == "clip":
        x, lo, hi = args
        return lambda xp, f: _clip(xp, x(xp, f), lo(xp, f), hi(xp, f))
    if fname in ("min", "max"):
        pick_lower = fname == "min"

        def extreme(xp: Any, f: Mapping[str, Any]) -> Any:
            vals = [a(xp, f) for a in args]
            acc = vals[0]
            for v in vals[1:]:
                acc = xp.where(v < acc, v, acc) if pick_lower else xp.where(v > acc, v, acc)
            return acc

        return extreme
    cond, a, b = args
    return lambda xp, f: xp.where(_truth(cond(xp, f)), a(xp, f), b(xp, f))


def _scalar(fname: str, v: float) -> float:
    """A function of a constant, with the array semantics (nan/inf, never an exception)."""
    if fname in ("log", "sqrt") and v < 0:
        return math.nan
    if fname == "log" and v == 0:
        return -math.inf
    if fname == "sign":
        return float((v > 0) - (v < 0))
    if fname == "abs":
        return abs(v)
    try:
        return float(getattr(math, fname)(v))
    except OverflowError:
        return math.inf


def _reduce(xp: Any, x: Any, how: str) -> Any:
    """One value per transition from all of its values (every axis but the batch axis)."""
    if isinstance(x, float):  # a constant is its own sum, mean, min and max
        if how in ("all", "any"):
            return float(x != 0)
        return abs(x) if how == "norm" else x
    flat = x.reshape(x.shape[0], -1)
    if how == "sum":
        return flat.sum(-1)
    if how == "mean":
        return flat.mean(-1)
    if how == "max":
        return xp.amax(flat, -1)
    if how == "min":
        return xp.amin(flat, -1)
    if how == "norm":
        return xp.sqrt((flat * flat).sum(-1))
    hit = (flat != 0).all(-1) if how == "all" else (flat != 0).any(-1)
    return xp.where(hit, 1.0, 0.0)


def _diff(x: Any) -> Any:
    """Differences of neighbouring values along the last axis (``np.diff``)."""
    return x[..., 1:] - x[..., :-1]


def _concat(xp: Any, parts: list[Any]) -> Any:
    """The transitions' values of every part, flattened and joined: [B, n1 + n2 + ...]."""
    # Plain loops: the exporter copies this function, and comprehensions hide their names.
    batch = 1
    for part in parts:
        if not isinstance(part, float):
            batch = part.shape[0]
    flat = []
    for part in parts:
        flat.append(part * xp.ones((batch, 1)) if isinstance(part, float) else part.reshape(batch, -1))
    return xp.concatenate(flat, -1)


def _isfinite(xp: Any, x: Any) -> Any:
    """1 where a value is finite, else 0."""
    if isinstance(x, float):
        return float(math.isfinite(x))
    return xp.where(xp.isfinite(x), 1.0, 0.0)


def _clip(xp: Any, x: Any, lo: Any, hi: Any) -> Any:
    low = xp.where(x < lo, lo, x)
    return xp.where(low > hi, hi, low)


def _closest(name: str, known: Collection[str]) -> str | None:
    import difflib

    hits = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return hits[0] if hits else None


# --- source generation for the exporter ------------------------------------------------------


def _source(node: ast.expr, name_of: Callable[[str], str], xp: str) -> str:
    def go(n: ast.expr) -> str:
        if isinstance(n, ast.Constant):
            return _float_source(float(n.value))  # type: ignore[arg-type]  # parse() admits numbers only
        if isinstance(n, ast.Name):
            if n.id in CONSTANTS:
                return _float_source(CONSTANTS[n.id])
            return name_of(n.id)
        if isinstance(n, ast.Subscript):
            index = ", ".join([":", *(_index_source(i) for i in _index(n.slice, "", 0))])
            return f"{go(n.value)}[{index}]"
        if isinstance(n, ast.BinOp):
            return f"({go(n.left)} {_BINOPS[type(n.op)]} {go(n.right)})"
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.USub):
                return f"(-{go(n.operand)})"
            if isinstance(n.op, ast.UAdd):
                return go(n.operand)
            return f"{xp}.where({go(n.operand)} == 0, 1.0, 0.0)"
        if isinstance(n, ast.Compare):
            vals = [go(n.left)] + [go(c) for c in n.comparators]
            conds = [
                f"({a} {_CMPOPS[type(o)]} {b})"
                for a, b, o in zip(vals, vals[1:], n.ops, strict=False)
            ]
            return f"{xp}.where({' & '.join(conds)}, 1.0, 0.0)"
        if isinstance(n, ast.BoolOp):
            joiner = " & " if isinstance(n.op, ast.And) else " | "
            conds = [f"({go(v)} != 0)" for v in n.values]
            return f"{xp}.where({joiner.join(conds)}, 1.0, 0.0)"
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            fname = n.func.id
            args = [go(a) for a in n.args]
            if fname == "clip":
                return f"_clip({xp}, {', '.join(args)})"
            if fname in ("min", "max") and len(args) > 1:
                op = "<" if fname == "min" else ">"
                acc = args[0]
                for a in args[1:]:
                    acc = f"_pick({xp}, {a}, {acc}, {op!r})"
                return acc
            if fname == "where":
                return f"{xp}.where({args[0]} != 0, {args[1]}, {args[2]})"
            if fname in REDUCTIONS or fname in ("min", "max"):
                return f"_reduce({xp}, {args[0]}, {fname!r})"
            if fname == "dot":
                return f"_reduce({xp}, {args[0]} * {args[1]}, 'sum')"
            if fname == "diff":
                return f"_diff({args[0]})"
            if fname == "concat":
                return f"_concat({xp}, [{', '.join(args)}])"
            if fname == "square":
                return f"_square({args[0]})"
            if fname == "isfinite":
                return f"_isfinite({xp}, {args[0]})"
            return f"{xp}.{fname}({args[0]})"
        raise ExpressionError(f"cannot export '{type(n).__name__}'", 1)

    return go(node)


def _float_source(v: float) -> str:
    """A float as source that reads back as the same value (inf has no literal)."""
    if math.isinf(v):
        return "math.inf" if v > 0 else "(-math.inf)"
    return repr(v)


def _index_source(i: int | slice) -> str:
    if isinstance(i, int):
        return str(i)
    text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
    return text + (f":{i.step}" if i.step is not None else "")


def _square(x: Any) -> Any:
    """Elementwise square, as ``x * x`` (exact; ``x ** 2`` may round differently)."""
    return x * x


def _pick(xp: Any, v: Any, acc: Any, op: str) -> Any:
    """Element-wise min (op '<') or max (op '>') used by exported code."""
    return xp.where(v < acc, v, acc) if op == "<" else xp.where(v > acc, v, acc)



EXPORT_HELPERS: dict[str, Callable[..., Any]] = {
    "_clip": _clip, "_pick": _pick, "_reduce": _reduce, "_diff": _diff,
    "_concat": _concat, "_isfinite": _isfinite, "_square": _square,
}
"""Helper name -> function: the exporter copies those the generated source calls."""
