"""Lowering calls: ``self`` (attributes, methods, properties, ``self.data``), numpy / torch /
math functions, array methods and dm_control's ``tolerance``.

A mixin of :class:`~studio.export.importer.lower.Lowerer`, which supplies ``expr``,
``block``, ``binop``, ``index`` and ``where``.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from studio.export.importer.envctx import EnvContext, literal
from studio.export.importer.values import (
    _DATA_ALIASES,
    _ELEMENTWISE,
    _IDENTITY_METHODS,
    _MODULES,
    _NUMPY_CONST,
    _REDUCE,
    _RENAME,
    MAX_DEPTH,
    MAX_RANGE,
    MAX_UNROLL,
    SELF,
    Lit,
    NotExpressible,
    Opaque,
    Shaped,
    _Body,
    _fail,
    _is_flag,
    _Method,
    is_const,
    text,
)


class CallLowering:
    """Calls and attributes; mixed into the :class:`Lowerer`."""

    features: set[str]
    ctx: EnvContext | None
    batched: bool
    depth: int
    carried: list[ast.AST]
    remembered: dict[str, str]
    previous: dict[str, str]

    def expr(self, n: ast.expr, scope: dict[str, Any]) -> Any:
        raise NotImplementedError

    def block(self, stmts: list[ast.stmt], scope: dict[str, Any], assigned: dict[str, ast.expr] | None = None,
              on_issue: Any = None) -> Any:
        raise NotImplementedError

    def binop(self, op: type, a: Any, b: Any, n: ast.AST) -> Any:
        raise NotImplementedError

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
        if len(chain) == 1 and attr in self.previous and attr not in self.remembered:
            return f"prev({self.previous[attr]})"  # set by the previous call
        if len(chain) == 1 and attr in self.remembered:
            return self.remembered[attr]  # set earlier in this call
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
                bodies = sorted(f[5:-4] for f in self.features if f.startswith("body_") and f.endswith("_pos"))
                raise NotExpressible(n, f"the task has no body {str(args[0])!r} (bodies: {', '.join(bodies)})")
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
        if name in ("hasattr", "getattr") and len(n.args) >= 2 and isinstance(n.args[0], ast.Name) \
                and n.args[0].id == "self" and isinstance(n.args[1], ast.Constant) and n.args[1].value in self.previous:
            attr = str(n.args[1].value)
            # after the first step the attribute is always there (the first steps differ)
            return True if name == "hasattr" else f"prev({self.previous[attr]})"
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
        if name in ("sum", "mean") and len(args) == 1 and isinstance(args[0], tuple) and args[0]:
            total = "(" + " + ".join(text(v, n) for v in args[0]) + ")"
            return total if name == "sum" else f"({total} / {float(len(args[0]))!r})"
        if name in ("array", "asarray", "tensor", "stack") and len(args) == 1 and isinstance(args[0], tuple):
            return f"concat({', '.join(text(v, n) for v in args[0])})"
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
        if name == "range" and all(isinstance(x, int) and not isinstance(x, bool) for x in args) and 1 <= len(args) <= 3:
            try:
                span = range(*args)
                count = len(span)
            except (ValueError, OverflowError) as exc:  # a step of 0; more items than an int holds
                raise NotExpressible(n, f"'{ast.unparse(n)}': {exc}") from None
            if count > MAX_RANGE:  # never materialise range(10**9) of an untrusted file
                raise NotExpressible(n, f"'{ast.unparse(n)}' has {count:,} items; only loops "
                                        f"over up to {MAX_UNROLL} constants are unrolled")
            return tuple(span)
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
