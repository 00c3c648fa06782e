"""Standalone numpy source for a task's features, read from ``(model, data, action, next_data)``.

The exported ``python`` format must compute its features without the studio. Each feature
becomes one small function ``feature_<name>(model, data, action, next_data)`` returning a
float64 array of one value (a batch of one, like :meth:`Task.features` rows):

* automatic features (:mod:`studio.sim.auto_features`) are printed from their kind and
  indices: a column of ``qpos``/``qvel``/``ctrl``/``actuator_force``/``sensordata``, a body
  position, a body velocity at its frame origin, uprightness, a contact force;
* semantic features are the task's own functions ``fn(before, after, action)``: a lambda's
  source is cut out of its module with :mod:`ast`, numbers it closes over (``dt``, body ids,
  numeric attributes of the task) are written as constants, and module-level helper
  functions it calls (``dx_dt``, ``ctrl_sq``) are copied. Anything else (a call of a task
  method, an object it closes over) cannot be exported: :class:`ExportError` names the
  feature and what it reads.

``tests/export/test_feature_code.py`` checks every exportable feature of the built-in tasks
against :meth:`Task.features` on recorded states.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import numbers
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core import pyast
from studio.export.codegen import ExportError, docstring

_STATE_CLASS = '''
class _State:
    """The arrays of one ``MjData`` that features read, with a batch axis of one."""

    def __init__(self, data):
        self._data = data

    def __getattr__(self, name):
        if name == "sensordata" or hasattr(self._data, name):
            value = getattr(self._data, name)
            return np.asarray([value], dtype=np.float64)
        raise AttributeError(name)
'''

_BODY_VELOCITY = '''
def _body_velocity(model, d, body):
    """6D velocity (angular, linear) of ``body`` at its frame origin, world frame.

    Equal to ``mujoco.mj_objectVelocity(model, d, mujoco.mjtObj.mjOBJ_XBODY, body, res, 0)``.
    """
    cvel = np.asarray(d.cvel[body], dtype=np.float64)
    w, v_tree = cvel[:3], cvel[3:]
    offset = d.xpos[body] - d.subtree_com[model.body_rootid[body]]
    return np.concatenate([w, v_tree + np.cross(w, offset)])
'''

_ALLOWED_GLOBALS = {"np", "math"}
_NOT_CONST = object()


@dataclass
class FeatureCode:
    """Source of the features a design reads, ready to paste into a module."""

    functions: dict[str, str]
    """Feature name -> source of ``feature_<name>(model, data, action, next_data)``."""
    helpers: list[str] = field(default_factory=list)
    """Helper sources (``_State``, copied task helpers), each once, in dependency order."""
    needs_contact: bool = False
    """True when a feature reads ``cfrc_ext`` (``mj_rnePostConstraint`` must run first)."""


class _Collector:
    def __init__(self, task: Any) -> None:
        self.task = task
        self.helpers: dict[str, str] = {}

    def add_helper(self, name: str, src: str) -> None:
        self.helpers.setdefault(name, src.strip())


def feature_code(task: Any, names: Iterable[str]) -> FeatureCode:
    """Numpy source computing each feature of ``names`` for ``task``.

    Raises:
        ExportError: a feature is unknown or cannot be exported; the message names it.
    """
    col = _Collector(task)
    out: dict[str, str] = {}
    needs_contact = False
    semantic = getattr(task, "_semantic", {})
    auto = getattr(task, "_auto", None)
    for name in sorted(set(names)):
        if name in semantic:
            tf = semantic[name]
            out[name] = _semantic_source(col, name, tf.fn, tf.spec.description, tf.spec.unit)
            needs_contact |= "cfrc_ext" in tf.needs
        elif auto is not None and name in getattr(auto, "_entries", {}):
            spec = next(s for s in auto.specs if s.name == name)
            entry = auto._entries[name]
            out[name] = _auto_source(col, name, entry, spec.description)
            needs_contact |= entry.kind == "contact_force"
        elif getattr(task, "_arrays", None) is not None and name in task._arrays:
            out[name] = _array_source(col, name, task._arrays)
            needs_contact |= task._arrays.needs_contact([name])
        elif name.startswith("code_"):
            raise ExportError(
                f"feature {name!r} is computed by a sandboxed code term (an imported function): "
                "code terms run only inside the studio's sandbox and are not exported; rewrite "
                "that term in the design language first"
            )
        else:
            raise ExportError(
                f"feature {name!r} is not a feature of {getattr(task, 'env_id', task)}: "
                "check the design's task"
            )
    return FeatureCode(out, list(col.helpers.values()), needs_contact)


# --- automatic features ------------------------------------------------------------------------

_COLUMNS = {"qpos": "qpos", "qvel": "qvel", "ctrl": "ctrl", "actuator_force": "actuator_force", "sensor": "sensordata"}


def _auto_source(col: _Collector, name: str, entry: Any, description: str) -> str:
    kind, i, c = entry.kind, int(entry.index), int(entry.component)
    if kind in _COLUMNS:
        expr = f"next_data.{_COLUMNS[kind]}[{i}]"
    elif kind == "xpos":
        expr = f"next_data.xpos[{i}, {c}]"
    elif kind == "vel":
        col.add_helper("_body_velocity", _BODY_VELOCITY)
        expr = f"_body_velocity(model, next_data, {i})[{c}]"
    elif kind == "upright":
        expr = f"1.0 - 2.0 * (next_data.xquat[{i}, 1] ** 2 + next_data.xquat[{i}, 2] ** 2)"
    elif kind == "contact_force":
        expr = f"np.linalg.norm(next_data.cfrc_ext[{i}, 3:6])"
    else:
        raise ExportError(f"feature {name!r}: automatic feature kind {kind!r} cannot be exported")
    return (
        f"def feature_{name}(model, data, action, next_data):\n"
        f"{docstring(description)}\n"
        f"    return np.asarray([{expr}], dtype=np.float64)\n"
    )


def _array_source(col: _Collector, name: str, arrays: Any) -> str:
    """An array feature (:mod:`studio.sim.array_features`) as ``[1, *shape]``."""
    entry = arrays.entries[name]
    spec = next(s for s in arrays.specs if s.name == name)
    if entry.kind == "action":
        expr = "np.asarray(action, dtype=np.float64).reshape(1, -1)"
    else:
        if entry.kind == "body_pos":
            value = f"next_data.xpos[{entry.body}]"
        elif entry.kind in ("body_vel", "body_angvel"):
            col.add_helper("_body_velocity", _BODY_VELOCITY)
            part = "3:" if entry.kind == "body_vel" else ":3"
            value = f"_body_velocity(model, next_data, {entry.body})[{part}]"
        else:
            value = f"next_data.{entry.kind}"
        expr = f"np.array([{value}], dtype=np.float64)"
    return (
        f"def feature_{name}(model, data, action, next_data):\n"
        f"{docstring(spec.description)}\n"
        f"    return {expr}\n"
    )


# --- semantic features -------------------------------------------------------------------------


def _lambda_node(fn: types.FunctionType) -> ast.Lambda:
    """The ``ast.Lambda`` of ``fn`` in its module's source."""
    code = fn.__code__
    positions = [
        (p[0], p[2])
        for p in code.co_positions()
        if p[0] is not None and p[2] is not None and p[3] is not None and p[3] > p[2]
    ]
    if not positions:
        raise ValueError("no source positions")
    line, column = min(positions)
    src = inspect.getsource(sys.modules[fn.__module__])
    best: ast.Lambda | None = None
    for node in ast.walk(pyast.parse(src)):
        if isinstance(node, ast.Lambda):
            b = node.body
            start = (b.lineno, b.col_offset)
            end = (b.end_lineno or b.lineno, b.end_col_offset or 0)
            if start <= (line, column) <= end and (
                best is None or (node.lineno, node.col_offset) > (best.lineno, best.col_offset)
            ):
                best = node
    if best is None:
        raise ValueError("lambda not found in its module")
    return best


class _Inline(ast.NodeTransformer):
    """Make a feature function's source standalone.

    Closed-over numbers and numeric (or tuple) attributes of the task become constants;
    methods of the task it calls (``self.is_healthy``, ``super().is_healthy``) and module
    helpers of the studio become copied functions; anything else fails with the reason.
    """

    def __init__(
        self,
        col: _Collector,
        fn: types.FunctionType,
        feature: str,
        owner: Any = None,
        defining: type | None = None,
    ) -> None:
        self.col = col
        self.fn = fn
        self.feature = feature
        cells = fn.__closure__ or ()
        self.closure = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in cells), strict=True))
        self.self_name = fn.__code__.co_varnames[0] if owner is not None else None
        if owner is not None:
            self.closure[str(self.self_name)] = owner
        self.defining = defining
        self.local = set(fn.__code__.co_varnames) - {self.self_name}

    def _fail(self, what: str) -> ExportError:
        return ExportError(
            f"feature {self.feature!r} cannot be exported: its definition "
            f"({self.fn.__module__}, line {self.fn.__code__.co_firstlineno}) {what}"
        )

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.insert(0, base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in self.closure and base.id not in self.local:
            owner = self.closure[base.id]
            value: Any = owner
            for attr in chain:
                value = getattr(value, attr, None)
            const = _literal(value)
            if const is not None:
                return ast.copy_location(const, node)
            if len(chain) == 1 and inspect.ismethod(value) and value.__self__ is owner:
                return ast.copy_location(ast.Name(self._method(owner, node.attr, type(owner).__mro__), ast.Load()), node)
            dotted = ".".join([base.id, *chain])
            raise self._fail(f"reads {dotted}, which is neither numbers nor a method")
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        f = node.func
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id in self.closure
            and f.value.id not in self.local
            and not node.keywords
        ):
            owner = self.closure[f.value.id]
            method = getattr(owner, f.attr, None)
            args = [self.visit(a) for a in node.args]
            consts = [a.value if isinstance(a, ast.Constant) else _NOT_CONST for a in args]
            if callable(method) and all(c is not _NOT_CONST for c in consts):
                # ``self.body("torso")``: a lookup with constant arguments is done now (the
                # task's own code, run once) and its result written as a constant.
                const = _literal(method(*consts))
                if const is not None:
                    return ast.copy_location(const, node)
            if inspect.ismethod(method) and method.__self__ is owner and any(c is not _NOT_CONST for c in consts):
                # ``self._com(a, "object")``: a copy of the method with the constants bound.
                params = inspect.signature(method).parameters
                names = list(params)[: len(consts)]
                bound = {n: c for n, c in zip(names, consts, strict=True) if c is not _NOT_CONST}
                helper = self._method(owner, f.attr, type(owner).__mro__, bound)
                node.func = ast.copy_location(ast.Name(helper, ast.Load()), f)
                node.args = [a for a, c in zip(args, consts, strict=True) if c is _NOT_CONST]
                return node
            node.args = args
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Call)
            and isinstance(f.value.func, ast.Name)
            and f.value.func.id == "super"
            and self.defining is not None
        ):
            owner = self.closure[str(self.self_name)]
            mro = type(owner).__mro__
            after = mro[mro.index(self.defining) + 1 :]
            node.func = ast.copy_location(ast.Name(self._method(owner, f.attr, after), ast.Load()), f)
            node.args = [self.visit(a) for a in node.args]
            return node
        return self.generic_visit(node)

    def _method(
        self, owner: Any, attr: str, mro: tuple[type, ...], bound: dict[str, Any] | None = None
    ) -> str:
        """Copy method ``attr`` (the first definition along ``mro``) as a helper; its name.

        ``bound``: parameters fixed to constants (removed from the copy's signature).
        """
        bound = bound or {}
        cls = next((c for c in mro if attr in vars(c)), None)
        func = vars(cls).get(attr) if cls is not None else None
        if cls is None or not isinstance(func, types.FunctionType):
            raise self._fail(f"calls {attr}, which is not a plain method")
        name = f"_{cls.__name__.strip('_').lower()}_{attr.strip('_')}"
        if bound:
            name += "_" + "_".join(re.sub(r"\W", "_", str(v)) for v in bound.values())
        if name in self.col.helpers:
            return name
        self.col.helpers[name] = ""  # reserve: recursion and repeated calls
        tree = pyast.parse(textwrap.dedent(inspect.getsource(func)))
        fdef = tree.body[0]
        if not isinstance(fdef, ast.FunctionDef):
            raise self._fail(f"calls {attr}, whose source is not a function")
        inner = _Inline(self.col, func, self.feature, owner=owner, defining=cls)
        inner.closure.update(bound)
        inner.local -= set(bound)
        fdef.body = [inner.visit(stmt) for stmt in fdef.body]
        fdef.name = name
        fdef.args.args = [a for a in fdef.args.args[1:] if a.arg not in bound]
        fdef.returns = None
        for arg in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
            arg.annotation = None
        fdef.decorator_list = []
        self.col.helpers[name] = ast.unparse(tree)
        return name

    def visit_Name(self, node: ast.Name) -> ast.AST:
        ident = node.id
        if ident in self.local or ident in _ALLOWED_GLOBALS:
            return node
        if ident in self.closure:
            const = _literal(self.closure[ident])
            if const is not None:
                return ast.copy_location(const, node)
            raise self._fail(f"closes over {ident!r}, which is not a number")
        value = self.fn.__globals__.get(ident, getattr(builtins, ident, None))
        if isinstance(value, types.FunctionType) and value.__module__.startswith("studio."):
            self.col.add_helper(ident, _function_source(self.col, value, self.feature))
            return node
        if ident in ("float", "int", "abs", "min", "max", "len", "range", "sum", "super"):
            return node
        raise self._fail(f"uses {ident!r}, which the exported module does not have")


def _literal(value: Any) -> ast.expr | None:
    """A number, a tuple of them (nested) or a small numeric array, as source; else None.

    Arrays (model constants such as ``body_mass``) are written with every digit
    (``repr`` of a float round-trips exactly).
    """
    if _is_number(value):
        return _const(value)
    if isinstance(value, str):
        return ast.Constant(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and 0 < value.size <= 4096:
        items = ", ".join(repr(float(v)) if value.dtype.kind == "f" else str(int(v)) for v in value.ravel())
        dtype = "np.float64" if value.dtype.kind == "f" else "np.int64"
        text = f"np.array([{items}], dtype={dtype})"
        if value.ndim != 1:
            text += f".reshape({value.shape!r})"
        return pyast.parse(text, mode="eval").body
    if isinstance(value, tuple) and value:
        elts = [_literal(v) for v in value]
        if all(e is not None for e in elts):
            return ast.Tuple([e for e in elts if e is not None], ast.Load())
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _const(value: Any) -> ast.expr:
    v = float(value) if not isinstance(value, numbers.Integral) else int(value)
    if v != v:  # NaN has no literal
        return pyast.parse("float('nan')", mode="eval").body
    if v in (float("inf"), float("-inf")):
        inf = pyast.parse("float('inf')", mode="eval").body
        return inf if v > 0 else ast.UnaryOp(ast.USub(), inf)
    if v < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-v))
    return ast.Constant(v)


def _function_source(col: _Collector, fn: types.FunctionType, feature: str) -> str:
    """The source of a module-level helper, without type hints; its own helpers are copied."""
    tree = pyast.parse(textwrap.dedent(inspect.getsource(fn)))
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef) or fn.__closure__:
        raise ExportError(f"feature {feature!r} cannot be exported: helper {fn.__name__} is not a plain function")
    fdef.returns = None
    for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
        a.annotation = None
    for stmt in fdef.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                value = fn.__globals__.get(node.id)
                if isinstance(value, types.FunctionType) and value.__module__.startswith("studio."):
                    col.add_helper(node.id, _function_source(col, value, feature))
    return ast.unparse(tree)


def _semantic_source(col: _Collector, name: str, fn: Callable[..., Any], description: str, unit: str) -> str:
    doc = docstring(description + (f" [{unit}]" if unit else ""))
    head = f"def feature_{name}(model, data, action, next_data):\n{doc}\n"
    col.add_helper("_State", _STATE_CLASS)
    call_args = "_State(data), _State(next_data), np.asarray(action, dtype=np.float64).reshape(1, -1)"
    if inspect.ismethod(fn) and isinstance(fn.__func__, types.FunctionType):
        # A method of the task (``self.action_sq``): copied like the methods lambdas call.
        owner = fn.__self__
        helper = _Inline(col, fn.__func__, name, owner=owner)._method(owner, fn.__name__, type(owner).__mro__)
        body = f"{helper}({call_args})"
        return head + f"    return np.asarray({body}, dtype=np.float64).reshape(1)\n"
    if not isinstance(fn, types.FunctionType):
        raise ExportError(f"feature {name!r} cannot be exported: it is computed by {fn!r}, not a function")
    if fn.__name__ != "<lambda>":
        # A plain module-level function: copy it and call it.
        if fn.__closure__ or "." in fn.__qualname__:
            raise ExportError(f"feature {name!r} cannot be exported: {fn.__qualname__} is not a module-level function")
        col.add_helper(fn.__name__, _function_source(col, fn, name))
        body = f"{fn.__name__}({call_args})"
    else:
        try:
            node = _lambda_node(fn)
        except (OSError, ValueError, TypeError) as exc:
            raise ExportError(f"feature {name!r} cannot be exported: its source was not found ({exc})") from exc
        args = [a.arg for a in node.args.args]
        if len(args) != 3:
            raise ExportError(f"feature {name!r} cannot be exported: expected fn(before, after, action)")
        expr = _Inline(col, fn, name).visit(node.body)
        used = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        sources = ["_State(data)", "_State(next_data)", "np.asarray(action, dtype=np.float64).reshape(1, -1)"]
        for arg, src in zip(args, sources, strict=True):
            if arg in used:
                head += f"    {arg} = {src}\n"
        body = ast.unparse(expr)
    return head + f"    return np.asarray({body}, dtype=np.float64).reshape(1)\n"
