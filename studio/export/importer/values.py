"""Values while lowering reward code, and the helpers the lowering stages share.

A value is a Python constant (number, bool, tuple, array: folded into weights and
parameters), an expression text of the design language (a ``str``), a :class:`Shaped`
(dm_control's ``tolerance(...)``: a term's shape), a :class:`Dict` of components, a
:class:`Lit` (a string literal), or an :class:`Opaque` path into the environment
(``self.model``).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_UNROLL = 64
"""Longest loop over constants that is unrolled."""
MAX_RANGE = 10_000
"""Longest ``range()`` of constants kept as a value (a longer one is not expressible)."""
MAX_DEPTH = 8
"""How deep ``self.<method>`` calls are inlined."""

_MODULES = {"torch", "np", "numpy", "math", "jnp", "F", "linalg", "rewards"}
_ELEMENTWISE = {"exp", "log", "sqrt", "tanh", "sin", "cos", "sign", "abs", "square", "isfinite"}
_RENAME = {"absolute": "abs", "fabs": "abs", "sgn": "sign", "amax": "max", "amin": "min",
           "nanmean": "mean", "nansum": "sum", "inner": "dot", "vdot": "dot", "cat": "concat",
           "concatenate": "concat", "hstack": "concat"}
_REDUCE = {"sum", "mean", "max", "min", "norm", "all", "any"}
_IDENTITY_METHODS = {"float", "double", "copy", "clone", "item", "flatten", "ravel", "detach", "cpu",
                     "squeeze", "numpy"}
_DATA_ALIASES = {"qpos": "qpos", "qvel": "qvel", "ctrl": "ctrl", "act": "act", "cfrc_ext": "cfrc_ext",
                 "xpos": "xpos", "site_xpos": "site_xpos", "sensordata": "sensordata",
                 "actuator_force": "actuator_force"}
_ARG_ALIASES = {"actions": "action", "act": "action", "a": "action", "u": "action"}


class NotExpressible(Exception):
    """A piece of code the design language cannot hold; ``node`` is where, ``why`` says why."""

    def __init__(self, node: ast.AST, why: str) -> None:
        super().__init__(why)
        self.node = node
        self.why = why


@dataclass(frozen=True)
class Shaped:
    """``tolerance(x, ...)``: the expression ``source`` through a shape."""

    source: str
    shape: str
    params: tuple[tuple[str, Any], ...]


@dataclass
class Dict:
    """A dict literal of components: name -> (value, the node it was written as)."""

    items: list[tuple[str, Any, ast.expr]]


@dataclass(frozen=True)
class Opaque:
    """A path into the environment (``self``, ``self.model``, ``self.data``)."""

    chain: tuple[str, ...]


SELF = Opaque(())


def text(v: Any, node: ast.AST) -> str:
    """The design-language text of value ``v``."""
    if isinstance(v, Lit):
        raise NotExpressible(node, f"the string {str(v)!r} is not a number")
    if isinstance(v, bool):
        return "1.0" if v else "0.0"
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        if math.isinf(f):
            return "inf" if f > 0 else "(-inf)"
        return repr(f) if f >= 0 else f"({f!r})"
    if isinstance(v, str):
        return v if _atomic(v) else f"({v})"
    if isinstance(v, np.ndarray) and v.size == 1:
        return text(float(v.reshape(())), node)
    if isinstance(v, Shaped):
        raise NotExpressible(node, f"{v.shape}(...) inside a larger expression: only a whole term can have a shape")
    kind = type(v).__name__
    raise NotExpressible(node, f"'{ast.unparse(node)}' is a {kind}, not a number per transition")


def _atomic(s: str) -> bool:
    return s.replace("_", "a").replace(".", "0").isalnum() or (s.endswith(")") and _balanced_call(s))


def _balanced_call(s: str) -> bool:
    i = s.find("(")
    if i <= 0 or not s[:i].replace("_", "a").isalnum():
        return False
    depth = 0
    for k, ch in enumerate(s[i:], i):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return k == len(s) - 1
    return False


def is_const(v: Any) -> bool:
    """True for a Python constant (folded, never a feature)."""
    return isinstance(v, bool | int | float | np.integer | np.floating | tuple | np.ndarray)


class _Tainted:
    def __init__(self, exc: NotExpressible) -> None:
        self.exc = exc


@dataclass(frozen=True)
class _Method:
    name: str


class Lit(str):
    """A string literal of the source (a body name, a sigmoid kind), not an expression."""


class _Body(str):
    """``self.data.body(name)``: ``.xpos`` is its position feature."""


_MISSING = object()
_NO_RETURN = object()
_BINOP_TEXT: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}
_CMP_TEXT: dict[type, str] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_PY_OPS: dict[type, Callable[[Any, Any], Any]] = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: _pow(a, b), ast.Mod: lambda a, b: a % b}
_PY_CMP: dict[type, Callable[[Any, Any], Any]] = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
           ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
_NUMPY_CONST: dict[str, Callable[..., Any]] = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs, "square": np.square,
                "sum": np.sum, "tanh": np.tanh, "max": np.max, "min": np.min}


def _pow(a: Any, b: Any) -> Any:
    """``a ** b`` folded; big integer powers in floats, so ``9 ** 9 ** 9`` overflows at once
    (left as an expression) instead of computing a number of millions of digits."""
    if isinstance(a, int) and isinstance(b, int) and abs(b) > 64:
        return float(a) ** float(b)
    return a ** b


def _simple_slice(base: str) -> tuple[str, int, int | None] | None:
    """``name[a:b]`` as (name, a, b), else None."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\[(-?\d*):(-?\d*)\]", base)
    if m is None or (m.group(2) or "0").startswith("-"):
        return None
    return m.group(1), int(m.group(2) or 0), int(m.group(3)) if m.group(3) else None


def _truthy(v: Any, node: ast.AST) -> bool:
    if isinstance(v, np.ndarray) and v.size != 1:
        raise NotExpressible(node, "the truth of an array is ambiguous")
    return bool(v)


def _returns(stmts: list[ast.stmt]) -> bool:
    return bool(stmts) and isinstance(stmts[-1], ast.Return)


def _is_print(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "print"


def _is_zero(v: Any) -> bool:
    return is_const(v) and not isinstance(v, tuple) and np.ndim(v) == 0 and float(v) == 0.0


def _is_flag(v: Any) -> bool:
    s = v if isinstance(v, str) else ""
    return s.startswith(("(not ", "where(")) or any(op in s for op in (" < ", " > ", " <= ", " >= ", " == ", " != ", " and ", " or "))


def _const_key(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise NotExpressible(node, "dict keys must be string literals")


def _fail(n: ast.AST) -> Any:
    raise NotExpressible(n, f"'{ast.unparse(n)}' is not a number")
