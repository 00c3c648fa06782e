"""Stage 3: lower Python reward code to the design language, following locals and ``self``.

A value while lowering is a Python constant (number, bool, tuple, array: folded into
weights and parameters), an expression text of the design language (a ``str``), a
:class:`Shaped` (dm_control's ``tolerance(...)``: a term's shape), a :class:`Dict` of
components, or an :class:`Opaque` path into the environment (``self.model``). Nothing is
ever evaluated from the imported file: only the environment's own attributes are read.

Statements: assignments (also to tuples), augmented assignments, ``if``/``else`` (both
branches are lowered; assigned variables merge with ``where``; a constant condition picks
its branch), early returns inside ``if``, ``pass``, docstrings, and ``assert``s (ignored).
Expressions: arithmetic, comparisons (chained too), ``and``/``or``/``not``, conditional
expressions, numpy / torch / math functions, array methods (``x.sum()``, ``.float()``),
constant indexing and slicing, ``self.<attr>``, ``self.<method>(...)`` and properties
(inlined from the environment's class source, to :data:`MAX_DEPTH` calls deep),
``self.data.<array>``, ``self.data.body(name).xpos`` and ``self.get_body_com(name)``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.export.importer.envctx import EnvContext, literal

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


class Lowerer:
    """Lower one function (and the methods it calls) to design-language values."""

    def __init__(self, features: Collection[str], ctx: EnvContext | None, batched: bool) -> None:
        self.features = set(features)
        self.ctx = ctx
        self.batched = batched
        self.depth = 0
        self.carried: list[ast.AST] = []
        """Assignments to ``self.<attr>``: state carried between calls."""

    # -- statements ----------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], scope: dict[str, Any], assigned: dict[str, ast.expr] | None = None,
              on_issue: Any = None) -> Any:
        """Lower ``stmts`` in ``scope`` (updated); the returned value, or None without return.

        ``on_issue(node, why)`` is told of unsupported statements; the names they set are
        then unusable (reading them reports the original reason).
        """
        for i, st in enumerate(stmts):
            try:
                if isinstance(st, ast.Return):
                    if isinstance(st.value, ast.Tuple) and on_issue is not None:
                        # (total, components): a part that fails is reported, the rest still imports
                        return tuple(self._tolerant(e, scope, on_issue) for e in st.value.elts)
                    return self.expr(st.value, scope) if st.value is not None else 0.0
                if isinstance(st, ast.If):
                    result = self._if(st, stmts[i + 1:], scope, assigned, on_issue)
                    if result is not _NO_RETURN:
                        return result
                    continue
                self.stmt(st, scope, assigned)
            except NotExpressible as exc:
                if on_issue is None:
                    raise
                on_issue(exc.node, exc.why)
                for n in ast.walk(st):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) \
                            and not isinstance(scope.get(n.id), _Tainted):  # the first reason is the cause
                        scope[n.id] = _Tainted(exc)
                if assigned is not None and isinstance(st, ast.Assign) and len(st.targets) == 1 \
                        and isinstance(st.targets[0], ast.Name):
                    assigned[st.targets[0].id] = st.value  # the total's weights still read it
        return None

    def _tolerant(self, n: ast.expr, scope: dict[str, Any], on_issue: Any) -> Any:
        try:
            return self.expr(n, scope)
        except NotExpressible as exc:
            on_issue(exc.node, exc.why)
            return _Tainted(exc)

    def _if(self, st: ast.If, rest: list[ast.stmt], scope: dict[str, Any],
            assigned: dict[str, ast.expr] | None, on_issue: Any) -> Any:
        cond = self.expr(st.test, scope)
        if is_const(cond):
            branch = st.body if _truthy(cond, st.test) else st.orelse
            return self._branch_then_rest(branch, rest, scope, assigned, on_issue)
        c = text(cond, st.test)
        s_body, s_else = dict(scope), dict(scope)
        r_body = self.block(st.body, s_body, None, None)
        r_else = self.block(st.orelse, s_else, None, None)
        body_returns, else_returns = _returns(st.body), _returns(st.orelse)
        if body_returns or else_returns:
            if not body_returns:
                r_body = self.block(rest, s_body, None, None)
            if not else_returns:
                r_else = self.block(rest, s_else, None, None)
            if r_body is None or r_else is None:
                raise NotExpressible(st, "a branch of this if returns nothing")
            return self.where(c, r_body, r_else, st)
        for name in set(s_body) | set(s_else):
            a, b = s_body.get(name, _MISSING), s_else.get(name, _MISSING)
            if a is b:
                continue
            if a is _MISSING or b is _MISSING:
                raise NotExpressible(st, f"'{name}' is set in only one branch of this if and not before it")
            scope[name] = self.where(c, a, b, st)
            if assigned is not None:
                assigned.pop(name, None)
        return _NO_RETURN

    def _branch_then_rest(self, branch: list[ast.stmt], rest: list[ast.stmt], scope: dict[str, Any],
                          assigned: dict[str, ast.expr] | None, on_issue: Any) -> Any:
        r = self.block(branch, scope, assigned, on_issue)
        if r is not None or _returns(branch):
            return r
        return _NO_RETURN

    def where(self, c: str, a: Any, b: Any, node: ast.AST) -> Any:
        """``where(c, a, b)`` of two values (dicts and tuples element by element)."""
        if isinstance(a, Dict) and isinstance(b, Dict) and [k for k, _, _ in a.items] == [k for k, _, _ in b.items]:
            return Dict([(k, self.where(c, va, vb, node), na) for (k, va, na), (_, vb, _) in zip(a.items, b.items, strict=True)])
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            return tuple(self.where(c, x, y, node) for x, y in zip(a, b, strict=True))
        if is_const(a) and is_const(b) and not isinstance(a, tuple) and float(a) == float(b):
            return a
        return f"where({c}, {text(a, node)}, {text(b, node)})"

    def stmt(self, st: ast.stmt, scope: dict[str, Any], assigned: dict[str, ast.expr] | None) -> None:
        """Lower one simple statement."""
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            return  # docstring
        if isinstance(st, ast.Pass | ast.Assert):
            return
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and _is_print(st.value):
            return
        if isinstance(st, ast.Assign | ast.AnnAssign):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            if st.value is None:
                return
            value = self.expr(st.value, scope)
            for tgt in targets:
                self.bind(tgt, value, scope, st, assigned, st.value)
            return
        if isinstance(st, ast.AugAssign):
            op = _BINOP_TEXT.get(type(st.op))
            if op is None:
                raise NotExpressible(st, f"operator {type(st.op).__name__} is not in the design language")
            if isinstance(st.target, ast.Name):
                load = ast.copy_location(ast.Name(st.target.id, ast.Load()), st.target)
                node = ast.copy_location(ast.BinOp(load, st.op, st.value), st)
                self.bind(st.target, self.expr(node, scope), scope, st, assigned, node)
                return
            if isinstance(st.target, ast.Subscript) and isinstance(st.target.value, ast.Name) \
                    and isinstance(scope.get(st.target.value.id), Dict):
                key = _const_key(st.target.slice)
                d = scope[st.target.value.id]
                for i, (k, v, n) in enumerate(d.items):
                    if k == key:
                        d.items[i] = (k, self.binop(type(st.op), v, self.expr(st.value, scope), st), n)
                        return
            raise NotExpressible(st, f"augmented assignment to '{ast.unparse(st.target)}'")
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) \
                and st.value.func.attr == "do_simulation":
            return
        raise NotExpressible(st, f"statement '{type(st).__name__}' is not supported "
                                 "(assignments, if/else and return are)")

    def bind(self, tgt: ast.expr, value: Any, scope: dict[str, Any], st: ast.stmt,
             assigned: dict[str, ast.expr] | None, value_node: ast.expr | None) -> None:
        """Assign ``value`` to ``tgt`` (a name, a tuple of them, a dict entry)."""
        if isinstance(tgt, ast.Name):
            scope[tgt.id] = value
            if assigned is not None:
                if value_node is not None:
                    assigned[tgt.id] = value_node
                else:
                    assigned.pop(tgt.id, None)
            return
        if isinstance(tgt, ast.Tuple | ast.List):
            n = len(tgt.elts)
            parts = self.unpack(value, n, st)
            vnodes = value_node.elts if isinstance(value_node, ast.Tuple | ast.List) and len(value_node.elts) == n else [None] * n
            for t, v, vn in zip(tgt.elts, parts, vnodes, strict=True):
                self.bind(t, v, scope, st, assigned, vn)
            return
        if isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Name) and isinstance(scope.get(tgt.value.id), Dict):
            key = _const_key(tgt.slice)
            d = scope[tgt.value.id]
            d.items = [it for it in d.items if it[0] != key] + [(key, value, value_node or st)]
            return
        if isinstance(tgt, ast.Attribute) and isinstance(tgt.value, ast.Name) and tgt.value.id == "self":
            self.carried.append(st)
            raise NotExpressible(st, f"state carried between calls (self.{tgt.attr} = ...) is not supported: "
                                     "use a feature of the transition instead")
        raise NotExpressible(st, f"assignment to '{ast.unparse(tgt)}' is not supported")

    def unpack(self, value: Any, n: int, node: ast.AST) -> list[Any]:
        """``a, b = value``: a tuple's items, or an array's first ``n`` entries."""
        if isinstance(value, tuple | list):
            if len(value) != n:
                raise NotExpressible(node, f"cannot unpack {len(value)} values into {n}")
            return list(value)
        if isinstance(value, np.ndarray):
            return [value[i] for i in range(n)]
        if isinstance(value, str):
            return [self.index(value, [i], node) for i in range(n)]
        raise NotExpressible(node, "cannot unpack this value")

    # -- expressions ---------------------------------------------------------------------
    def expr(self, n: ast.expr, scope: dict[str, Any]) -> Any:
        """The value of expression ``n``."""
        if isinstance(n, ast.Constant):
            if isinstance(n.value, str):
                return Lit(n.value)
            if isinstance(n.value, bool | int | float) or n.value is None:
                return n.value
            raise NotExpressible(n, f"constant {n.value!r} is not a number")
        if isinstance(n, ast.Name):
            return self.name(n, scope)
        if isinstance(n, ast.Tuple | ast.List):
            return tuple(self.expr(e, scope) for e in n.elts)
        if isinstance(n, ast.Dict):
            items = []
            for k, v in zip(n.keys, n.values, strict=True):
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    raise NotExpressible(n, "component names must be string literals")
                try:
                    items.append((k.value, self.expr(v, scope), v))
                except NotExpressible as exc:
                    items.append((k.value, _Tainted(exc), v))
            return Dict(items)
        if isinstance(n, ast.BinOp):
            return self.binop(type(n.op), self.expr(n.left, scope), self.expr(n.right, scope), n)
        if isinstance(n, ast.UnaryOp):
            v = self.expr(n.operand, scope)
            if isinstance(n.op, ast.Not):
                return (not _truthy(v, n)) if is_const(v) else f"(not {text(v, n)})"
            if isinstance(n.op, ast.USub):
                return -v if is_const(v) and not isinstance(v, tuple) else f"(-{text(v, n)})"
            if isinstance(n.op, ast.UAdd):
                return v
            raise NotExpressible(n, "bitwise not is not in the design language")
        if isinstance(n, ast.BoolOp):
            vals = [self.expr(v, scope) for v in n.values]
            if all(is_const(v) for v in vals):
                return all(_truthy(v, n) for v in vals) if isinstance(n.op, ast.And) else any(_truthy(v, n) for v in vals)
            joiner = " and " if isinstance(n.op, ast.And) else " or "
            return "(" + joiner.join(text(v, n) for v in vals) + ")"
        if isinstance(n, ast.Compare):
            return self.compare(n, scope)
        if isinstance(n, ast.IfExp):
            c = self.expr(n.test, scope)
            if is_const(c):
                return self.expr(n.body if _truthy(c, n.test) else n.orelse, scope)
            return self.where(text(c, n.test), self.expr(n.body, scope), self.expr(n.orelse, scope), n)
        if isinstance(n, ast.Subscript):
            return self.subscript(n, scope)
        if isinstance(n, ast.Attribute):
            return self.attribute(n, scope)
        if isinstance(n, ast.Call):
            return self.call(n, scope)
        raise NotExpressible(n, f"'{ast.unparse(n)}' ({type(n).__name__}) is not in the design language")

    def name(self, n: ast.Name, scope: dict[str, Any]) -> Any:
        if n.id in scope:
            v = scope[n.id]
            if isinstance(v, _Tainted):
                raise v.exc
            return v
        if n.id == "self":
            return SELF
        if n.id in self.features:
            return n.id
        if n.id in ("True", "False"):
            return n.id == "True"
        raise NotExpressible(n, f"'{n.id}' is not a feature of the task")

    def binop(self, op: type, a: Any, b: Any, n: ast.AST) -> Any:
        sym = _BINOP_TEXT.get(op)
        if sym is None:
            raise NotExpressible(n, f"operator {op.__name__} is not in the design language")
        if is_const(a) and is_const(b):
            try:
                return _PY_OPS[op](np.asarray(a) if isinstance(a, tuple) else a, np.asarray(b) if isinstance(b, tuple) else b)
            except (ZeroDivisionError, OverflowError, ValueError):
                pass
        if op is ast.Mult and (_is_zero(a) or _is_zero(b)):
            pass  # 0 * x stays: x may be inf or nan
        return f"({text(a, n)} {sym} {text(b, n)})"

    def compare(self, n: ast.Compare, scope: dict[str, Any]) -> Any:
        vals = [self.expr(n.left, scope)] + [self.expr(c, scope) for c in n.comparators]
        parts: list[Any] = []
        for (a, b), op in zip(zip(vals, vals[1:], strict=False), n.ops, strict=True):
            sym = _CMP_TEXT.get(type(op))
            if sym is None:
                raise NotExpressible(n, f"comparison '{type(op).__name__}' is not in the design language")
            if is_const(a) and is_const(b):
                parts.append(bool(_PY_CMP[type(op)](a, b)))
            else:
                parts.append(f"({text(a, n)} {sym} {text(b, n)})")
        if all(isinstance(p, bool) for p in parts):
            return all(parts)
        live = [p for p in parts if not isinstance(p, bool)]
        if any(p is False for p in parts):
            return False
        return live[0] if len(live) == 1 else "(" + " and ".join(live) + ")"

    def index(self, base: str, index: list[int | slice], node: ast.AST) -> str:
        inner = _simple_slice(base)
        if inner is not None and len(index) == 1 and isinstance(index[0], int) and index[0] >= 0:
            name, lo, hi = inner  # qpos[1:3][0] -> qpos[1]
            if hi is None or lo + index[0] < hi:
                return f"{name}[{lo + index[0]}]"
        parts = []
        for i in index:
            if isinstance(i, slice):
                parts.append(f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
                             + ("" if i.step is None else f":{i.step}"))
            else:
                parts.append(str(i))
        if base.endswith("]") and _atomic(base.split("[")[0]) and base.count("[") == 1 \
                and ":" not in base.split("[")[1] and all(isinstance(i, int) for i in index):
            return base[:-1] + ", " + ", ".join(parts) + "]"  # qpos[0][1] -> qpos[0, 1]
        b = base if _atomic(base) or base.endswith("]") else f"({base})"
        return f"{b}[{', '.join(parts)}]"

    def subscript(self, n: ast.Subscript, scope: dict[str, Any]) -> Any:
        base = self.expr(n.value, scope)
        if isinstance(base, Dict):
            key = _const_key(n.slice)
            for k, v, _ in base.items:
                if k == key:
                    return v
            raise NotExpressible(n, f"no entry {key!r}")
        idx = self._index(n.slice, scope)
        if is_const(base):
            arr = np.asarray(base)
            return arr[tuple(idx)] if isinstance(base, np.ndarray) else (
                base[idx[0]] if len(idx) == 1 and isinstance(base, tuple) else arr[tuple(idx)])
        if isinstance(base, str):
            if self.batched:
                if not idx or idx[0] != slice(None):
                    raise NotExpressible(n, "indexing a batched tensor must keep its first (batch) axis: x[:, i]")
                idx = idx[1:]
                if not idx:
                    return base
            return self.index(base, idx, n)
        raise NotExpressible(n, f"cannot index '{ast.unparse(n.value)}'")

    def _index(self, node: ast.expr, scope: dict[str, Any]) -> list[int | slice]:
        parts = node.elts if isinstance(node, ast.Tuple) else [node]
        out: list[int | slice] = []
        for p in parts:
            if isinstance(p, ast.Slice):
                lo, hi, st = (None if x is None else self._int(x, scope) for x in (p.lower, p.upper, p.step))
                out.append(slice(lo, hi, st))
            elif isinstance(p, ast.Constant) and p.value is Ellipsis:
                if not self.batched or out:
                    raise NotExpressible(p, "'...' is only understood as the leading batch axis")
                out.append(slice(None))
            else:
                out.append(self._int(p, scope))
        return out

    def _int(self, node: ast.expr, scope: dict[str, Any]) -> int:
        v = self.expr(node, scope)
        if isinstance(v, bool | int | np.integer) or (isinstance(v, float) and v.is_integer()):
            return int(v)
        raise NotExpressible(node, f"index '{ast.unparse(node)}' is not a constant whole number")

    # -- self -----------------------------------------------------------------------------
    def attribute(self, n: ast.Attribute, scope: dict[str, Any]) -> Any:
        base = self.expr(n.value, scope)
        if isinstance(base, Opaque):
            return self.env_attr(base, n.attr, n, scope)
        if isinstance(base, _Body) and n.attr == "xpos":
            return str(base)
        if isinstance(base, str):
            if n.attr in ("flat", "T") and not self.batched:
                return base
            if n.attr == "real":
                return base
        if is_const(base) and n.attr in ("flat", "T", "real"):
            return base
        if is_const(base) and isinstance(base, np.ndarray):
            return getattr(base, n.attr) if literal(getattr(base, n.attr, None)) is not None else _fail(n)
        raise NotExpressible(n, f"attribute '{ast.unparse(n)}' is not in the design language")

    def env_attr(self, base: Opaque, attr: str, n: ast.AST, scope: dict[str, Any]) -> Any:
        chain = (*base.chain, attr)
        if self.ctx is None or self.ctx.env is None:
            raise NotExpressible(n, f"'self.{'.'.join(chain)}' needs the task's environment (pass --task)")
        if chain[0] == "data":
            if len(chain) == 1:
                return Opaque(chain)
            if len(chain) == 2 and chain[1] in _DATA_ALIASES:
                feat = _DATA_ALIASES[chain[1]]
                if feat not in self.features:
                    raise NotExpressible(n, f"self.data.{chain[1]} has no feature on this task")
                return feat
            raise NotExpressible(n, f"self.data.{'.'.join(chain[1:])} is not an array feature "
                                    f"(these are: {', '.join(sorted(_DATA_ALIASES))})")
        if len(chain) == 1:
            fdef = self.ctx.method(attr)
            if fdef is not None and attr in self.ctx.properties:
                return self.inline(fdef, [], {}, n)
            if fdef is not None:
                return _Method(attr)
        try:
            value = self.ctx.value(list(chain))
        except AttributeError:
            raise NotExpressible(n, f"the environment has no attribute 'self.{'.'.join(chain)}'") from None
        const = literal(value)
        if const is not None:
            return const
        return Opaque(chain)

    def inline(self, fdef: ast.FunctionDef, args: list[Any], kwargs: dict[str, Any], n: ast.AST) -> Any:
        """The value of calling the environment's method ``fdef`` with ``args``."""
        if self.depth >= MAX_DEPTH:
            raise NotExpressible(n, f"methods call each other more than {MAX_DEPTH} deep")
        params = [a.arg for a in fdef.args.args][1:]
        defaults = fdef.args.defaults
        scope: dict[str, Any] = {}
        for i, p in enumerate(params):
            if i < len(args):
                scope[p] = args[i]
            elif p in kwargs:
                scope[p] = kwargs[p]
            else:
                k = i - (len(params) - len(defaults))
                if k < 0:
                    raise NotExpressible(n, f"self.{fdef.name}() is missing argument '{p}'")
                scope[p] = self.expr(defaults[k], {})
        self.depth += 1
        try:
            result = self.block(fdef.body, scope)
        except NotExpressible as exc:
            where = f"self.{fdef.name} (line {fdef.lineno + exc.node.lineno - 1 if hasattr(exc.node, 'lineno') else '?'} of its source)"
            raise NotExpressible(n, f"{where}: {exc.why}") from None
        finally:
            self.depth -= 1
        if result is None:
            raise NotExpressible(n, f"self.{fdef.name}() returns nothing")
        return result

    # -- calls ----------------------------------------------------------------------------
    def call(self, n: ast.Call, scope: dict[str, Any]) -> Any:
        f = n.func
        kw = {k.arg: k.value for k in n.keywords if k.arg is not None}
        # self.method(...) and self.data.body("name").xpos
        if isinstance(f, ast.Attribute):
            root: ast.expr = f.value
            while isinstance(root, ast.Attribute):
                root = root.value
            module_call = isinstance(root, ast.Name) and root.id in _MODULES and root.id not in scope
            owner = None if module_call else self.expr(f.value, scope)
            if isinstance(owner, Opaque):
                return self.env_call(owner, f.attr, n, scope)
            if isinstance(owner, str | np.ndarray | float | int) and not isinstance(owner, bool):
                return self.method_call(owner, f.attr, n, scope)
            if owner is None or isinstance(f.value, ast.Attribute) and f.value.attr in ("linalg", "rewards") or isinstance(f.value, ast.Name):
                name = f.attr
            else:
                raise NotExpressible(n, f"call of '{ast.unparse(f)}' is not a known function")
        elif isinstance(f, ast.Name):
            if isinstance(scope.get(f.id), _Method):
                return self.env_call(SELF, scope[f.id].name, n, scope)
            name = f.id
        else:
            raise NotExpressible(n, f"call of '{ast.unparse(f)}' is not a known function")
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and f.value.attr == "linalg":
            name = "norm" if name == "norm" else name
        return self.function(_RENAME.get(name, name), n, scope, kw)

    def env_call(self, owner: Opaque, attr: str, n: ast.Call, scope: dict[str, Any]) -> Any:
        args = [self.expr(a, scope) for a in n.args]
        kwargs = {k.arg: self.expr(k.value, scope) for k in n.keywords if k.arg}
        if owner.chain == () and attr == "get_body_com" or owner.chain == ("data",) and attr == "body":
            if len(args) != 1 or not isinstance(args[0], Lit):
                raise NotExpressible(n, f"{attr}() needs a body name as a string")
            feat = f"body_{''.join(ch if ch.isalnum() else '_' for ch in args[0])}_pos"
            if feat not in self.features:
                raise NotExpressible(n, f"body {args[0]!r} has no position feature on this task")
            return _Body(feat) if attr == "body" else feat
        if owner.chain == ():
            fdef = self.ctx.method(attr) if self.ctx is not None else None
            if fdef is None:
                raise NotExpressible(n, f"self.{attr}() is not a method of the task's environment")
            return self.inline(fdef, args, kwargs, n)
        raise NotExpressible(n, f"call of self.{'.'.join(owner.chain)}.{attr}() is not supported")

    def method_call(self, owner: Any, attr: str, n: ast.Call, scope: dict[str, Any]) -> Any:
        kw = {k.arg: k.value for k in n.keywords if k.arg is not None}
        if attr in _IDENTITY_METHODS and not n.args:
            return owner
        fake = ast.copy_location(ast.Call(ast.Name(attr, ast.Load()), [n.func.value, *n.args], n.keywords), n)  # type: ignore[attr-defined]
        if attr == "pow" and len(n.args) == 1:
            return self.binop(ast.Pow, owner, self.expr(n.args[0], scope), n)
        if attr in ("clamp", "clip", "sum", "mean", "max", "min", "abs", "sqrt", "exp", "log", "tanh", "norm",
                    "all", "any", "square", "sign", "dot"):
            scope2 = dict(scope)
            scope2["__owner__"] = owner
            fake.args[0] = ast.copy_location(ast.Name("__owner__", ast.Load()), n)
            try:
                return self.function(attr, fake, scope2, kw)
            except NotExpressible as exc:
                raise NotExpressible(n, exc.why.replace(ast.unparse(fake), ast.unparse(n))) from None
        raise NotExpressible(n, f"method .{attr}() is not in the design language")

    def function(self, name: str, n: ast.Call, scope: dict[str, Any], kw: dict[str, ast.expr]) -> Any:
        if name in ("hasattr", "getattr", "setattr"):
            self.carried.append(n)
            raise NotExpressible(n, f"{name}(self, ...): state carried between calls is not supported")
        args = [self.expr(a, scope) for a in n.args]
        axis = kw.pop("axis", kw.pop("dim", None))
        for k in ("keepdim", "keepdims", "ord", "p", "dtype", "out"):
            node = kw.pop(k, None)
            if k in ("ord", "p") and node is not None and self.expr(node, scope) not in (2, None):
                raise NotExpressible(n, "only the 2-norm is in the design language")
        if name in ("float", "int", "bool"):
            if len(args) != 1:
                raise NotExpressible(n, f"{name}() of several values")
            v = args[0]
            if isinstance(v, Lit) and name == "float" and v.strip().lower() in ("inf", "+inf", "-inf", "nan"):
                return float(v)
            if is_const(v):
                return {"float": float, "int": int, "bool": bool}[name](v)
            if name == "int" and not _is_flag(v):
                raise NotExpressible(n, "int() of a value that is not a 0/1 flag would truncate it")
            return v
        if name == "tolerance":
            return self.tolerance(n, args, kw, scope)
        if self.batched and axis is None and name in _REDUCE and len(args) == 1 and not isinstance(args[0], tuple):
            raise NotExpressible(n, f"'{ast.unparse(n)}': {name}() over the whole batch (every environment) "
                                    "is no value of one transition")
        if axis is not None:
            ax = self.expr(axis, scope)
            if not (self.batched and ax in (-1, 1)):
                raise NotExpressible(n, f"{name}() along one axis (axis={ast.unparse(axis)}) of a transition's array")
        if kw:
            if name in ("clip", "clamp"):
                lo_node = kw.get("min", kw.get("a_min"))
                hi_node = kw.get("max", kw.get("a_max"))
                args = args[:1] + [self.expr(lo_node, scope) if lo_node is not None else None,
                                   self.expr(hi_node, scope) if hi_node is not None else None]
            else:
                raise NotExpressible(n, f"{name}() with keyword arguments {', '.join(kw)}")
        if all(is_const(a) for a in args) and args and name in _NUMPY_CONST:
            try:
                folded = np.asarray(_NUMPY_CONST[name](*[np.asarray(a) for a in args]))
                return folded.item() if folded.ndim == 0 else folded
            except Exception:  # noqa: BLE001 - keep it symbolic then
                pass
        t = [a if a is None else text(a, n) if not isinstance(a, tuple) else a for a in args]
        if name in _ELEMENTWISE and len(args) == 1:
            return f"{name}({t[0]})"
        if name == "power" and len(args) == 2:
            return self.binop(ast.Pow, args[0], args[1], n)
        if name in ("clip", "clamp") and len(args) == 3:
            x, lo, hi = (str(v) if v is not None else None for v in t)
            if lo is not None and hi is not None:
                return f"clip({x}, {lo}, {hi})"
            if lo is not None:
                return f"max({x}, {lo})"
            if hi is not None:
                return f"min({x}, {hi})"
        if name == "where" and len(args) == 3:
            return f"where({t[0]}, {t[1]}, {t[2]})"
        if name in ("minimum", "maximum", "fmin", "fmax") and len(args) == 2:
            return f"{'min' if name in ('minimum', 'fmin') else 'max'}({t[0]}, {t[1]})"
        if name in ("logical_and", "logical_or") and len(args) == 2:
            return f"({t[0]} {'and' if name == 'logical_and' else 'or'} {t[1]})"
        if name == "logical_not" and len(args) == 1:
            return f"(not {t[0]})"
        if name in ("all", "any") and len(args) == 1 and isinstance(args[0], tuple):
            items = [text(v, n) for v in args[0]]
            return "(" + (" and " if name == "all" else " or ").join(items) + ")"
        if name in ("min", "max") and len(args) == 1 and isinstance(args[0], tuple):
            return f"{name}({', '.join(text(v, n) for v in args[0])})"
        if name in ("min", "max", "abs") and len(args) >= 2 and name != "abs":
            return f"{name}({', '.join(str(x) for x in t)})"
        if name in _REDUCE and len(args) == 1:
            return f"{name}({t[0]})"
        if name in ("dot",) and len(args) == 2:
            return f"dot({t[0]}, {t[1]})"
        if name == "diff" and len(args) == 1:
            return f"diff({t[0]})"
        if name == "concat" and len(args) == 1 and isinstance(args[0], tuple):
            return f"concat({', '.join(text(v, n) for v in args[0])})"
        if name == "len":
            raise NotExpressible(n, "len() of an array")
        if name in ("ones_like", "zeros_like") and len(args) == 1:
            return 1.0 if name == "ones_like" else 0.0
        raise NotExpressible(n, f"'{ast.unparse(n)}': {name}() with these arguments is not in the design language")

    def tolerance(self, n: ast.Call, args: list[Any], kw: dict[str, ast.expr], scope: dict[str, Any]) -> Shaped:
        """dm_control's ``rewards.tolerance(x, bounds, margin, sigmoid, value_at_margin)``."""
        names = ["x", "bounds", "margin", "sigmoid", "value_at_margin"]
        vals: dict[str, Any] = dict(zip(names, args, strict=False))
        for k, v in kw.items():
            vals[k] = self.expr(v, scope)
        if "x" not in vals:
            raise NotExpressible(n, "tolerance() without its value")
        bounds = vals.get("bounds", (0.0, 0.0))
        params: dict[str, Any] = {}
        if not (isinstance(bounds, tuple) and len(bounds) == 2 and all(is_const(b) for b in bounds)):
            raise NotExpressible(n, "tolerance() bounds must be two constants")
        params["lower"], params["upper"] = float(bounds[0]), float(bounds[1])
        for k in ("margin", "value_at_margin"):
            if k in vals:
                if not is_const(vals[k]):
                    raise NotExpressible(n, f"tolerance() {k} must be a constant")
                params[k] = float(vals[k])
        params.setdefault("margin", 0.0)
        if "sigmoid" in vals:
            params["sigmoid"] = str(vals["sigmoid"])
        return Shaped(text(vals["x"], n), "tolerance", tuple(params.items()))


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
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b, ast.Mod: lambda a, b: a % b}
_PY_CMP: dict[type, Callable[[Any, Any], Any]] = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
           ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
_NUMPY_CONST: dict[str, Callable[..., Any]] = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs, "square": np.square,
                "sum": np.sum, "tanh": np.tanh, "max": np.max, "min": np.min}


def _simple_slice(base: str) -> tuple[str, int, int | None] | None:
    """``name[a:b]`` as (name, a, b), else None."""
    import re

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
