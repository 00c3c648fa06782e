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
from collections.abc import Collection
from typing import Any

import numpy as np

from studio.export.importer.calls import CallLowering
from studio.export.importer.envctx import EnvContext
from studio.export.importer.values import (
    _BINOP_TEXT,
    _CMP_TEXT,
    _MISSING,
    _NO_RETURN,
    _PY_CMP,
    _PY_OPS,
    MAX_UNROLL,
    SELF,
    Dict,
    Lit,
    NotExpressible,
    _atomic,
    _const_key,
    _is_print,
    _is_zero,
    _returns,
    _simple_slice,
    _Tainted,
    _truthy,
    is_const,
    text,
)


class Lowerer(CallLowering):
    """Lower one function (and the methods it calls) to design-language values."""

    def __init__(self, features: Collection[str], ctx: EnvContext | None, batched: bool) -> None:
        self.features = set(features)
        self.ctx = ctx
        self.batched = batched
        self.depth = 0
        self.carried: list[ast.AST] = []
        """Lines keeping state between calls that no previous-step feature can hold."""
        self.remembered: dict[str, str] = {}
        """``self.<attr> = value`` seen in this pass: attr -> the value's expression."""
        self.previous: dict[str, str] = {}
        """From the first pass: ``self.<attr>`` read before it is set is ``prev(value)``."""
        self.remembered_lines: list[int] = []

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
                if isinstance(st, ast.For):
                    self._unroll(st, scope, assigned)
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

    def _unroll(self, st: ast.For, scope: dict[str, Any], assigned: dict[str, ast.expr] | None) -> None:
        """A loop over constants (``for foot in ["left", "right"]``, ``range(3)``), unrolled."""
        items = self.expr(st.iter, scope)
        if isinstance(items, np.ndarray) and items.ndim == 1:
            items = tuple(items.tolist())
        if not isinstance(items, tuple) or len(items) > MAX_UNROLL:
            raise NotExpressible(st, f"a loop over '{ast.unparse(st.iter)}': only loops over up to "
                                     f"{MAX_UNROLL} constants are unrolled")
        if st.orelse or any(isinstance(n, ast.Break | ast.Continue | ast.Return) for n in ast.walk(st)):
            raise NotExpressible(st, "break, continue, return or else in a loop")
        for item in items:
            self.bind(st.target, item, scope, st, None, None)
            for inner in st.body:
                if isinstance(inner, ast.If):
                    self._if(inner, [], scope, None, None)
                elif isinstance(inner, ast.For):
                    self._unroll(inner, scope, None)
                else:
                    self.stmt(inner, scope, None)
        if assigned is not None:  # the loop's variables have no single defining expression
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    assigned.pop(n.id, None)

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
            if isinstance(value, str | int | float) and not isinstance(value, bool) and "prev(" not in str(value):
                # the next call reads this as the value one step earlier: prev(value)
                self.remembered[tgt.attr] = value if isinstance(value, str) else text(value, st)
                self.remembered_lines.append(st.lineno)
                return
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
        if isinstance(n, ast.ListComp | ast.GeneratorExp) and len(n.generators) == 1 \
                and not n.generators[0].ifs and not n.generators[0].is_async:
            # [f(x) for x in <constants>]: one value per constant
            gen = n.generators[0]
            items = self.expr(gen.iter, scope)
            if isinstance(items, tuple) and len(items) <= MAX_UNROLL:
                out = []
                for item in items:
                    inner = dict(scope)
                    self.bind(gen.target, item, inner, n, None, None)  # type: ignore[arg-type]
                    out.append(self.expr(n.elt, inner))
                return tuple(out)
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
        if op is ast.MatMult and not (is_const(a) and is_const(b)):
            return f"dot({text(a, n)}, {text(b, n)})"  # of two vectors (the check tells otherwise)
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
            try:
                return arr[tuple(idx)] if isinstance(base, np.ndarray) else (
                    base[idx[0]] if len(idx) == 1 and isinstance(base, tuple) else arr[tuple(idx)])
            except (IndexError, TypeError, ValueError) as exc:  # 0.0[0], (1, 2)[5]
                raise NotExpressible(n, f"'{ast.unparse(n)}': {exc}") from None
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
