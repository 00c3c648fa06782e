"""Stage 3b: from the lowered function to a design: components, weights, terms, the report.

The function returns ``(total, {name: component})`` (Gymnasium, Eureka), a dict alone, or
one value (dm_control, Isaac Lab): one value becomes one term, or one term per part when
it is a sum. A dict entry that *is* the total (``'total_reward': total_reward``) is
dropped. Weights come from the total when it is a weighted sum of the components;
constant factors of a component go into its weight.
"""

from __future__ import annotations

import ast
import contextlib
import keyword
from collections.abc import Collection
from typing import Any

from studio.core import pyast
from studio.core.design import Design, Group, Term
from studio.core.expr import ExpressionError, parse
from studio.export.importer.envctx import EnvContext, env_context
from studio.export.importer.lower import Lowerer
from studio.export.importer.parse import ImportError_, Parsed, parse_source
from studio.export.importer.result import CodeTerm, ImportIssue, ImportResult
from studio.export.importer.values import (
    Dict,
    NotExpressible,
    Shaped,
    _Tainted,
    is_const,
    text,
)

TOTAL = "__total__"
"""The component name of a code term that is the function's whole (single) value."""
_ARG_ALIASES = {"actions": "action", "act": "action", "a": "action", "u": "action"}


def fold_weight(src: str) -> tuple[str, str, dict[str, float], float]:
    """(source, shape, params, weight): constant factors out, ``exp(x / T)`` as exp_kernel."""
    tree = pyast.parse(src, mode="eval").body
    weight = 1.0
    changed = True
    while changed:
        changed = False
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
            weight, tree, changed = -weight, tree.operand, True
        elif isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult | ast.Div):
            right = _const(tree.right)
            left = _const(tree.left) if isinstance(tree.op, ast.Mult) else None
            if right is not None and (isinstance(tree.op, ast.Mult) or right != 0):
                weight *= right if isinstance(tree.op, ast.Mult) else 1.0 / right
                tree, changed = tree.left, True
            elif left is not None:
                weight *= left
                tree, changed = tree.right, True
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "exp" and len(tree.args) == 1:
        arg = tree.args[0]
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Div):
            temp = _const(arg.right)
            if temp is not None and temp != 0:
                inner = arg.left
                if temp > 0:  # exp(x / T) = exp(-(-x) / T)
                    neg = isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub)
                    s = ast.unparse(inner.operand) if neg else f"-({ast.unparse(inner)})"  # type: ignore[attr-defined]
                    return s, "exp_kernel", {"temperature": temp}, weight
                return ast.unparse(inner), "exp_kernel", {"temperature": -temp}, weight
    return ast.unparse(tree), "linear", {}, weight


def _const(node: ast.expr) -> float | None:
    try:
        e = parse(ast.unparse(node))
    except ExpressionError:
        return None
    if e.names:
        return None
    try:
        return float(e.evaluate(None, {}))
    except Exception:  # noqa: BLE001 - not a plain constant
        return None


def _ident(name: str, taken: set[str]) -> str:
    ident = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "term"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = f"t_{ident}"
    base, k = ident, 2
    while ident in taken:
        ident, k = f"{base}_{k}", k + 1
    taken.add(ident)
    return ident


def _step_args(ctx: EnvContext, function: str, low: Lowerer, wanted: list[str]) -> dict[str, Any]:
    """How the environment's ``step`` computes the arguments of ``self.<function>(...)``."""
    step = ctx.method("step")
    if step is None:
        return {}
    scope: dict[str, Any] = {p.arg: ("action" if p.arg == "action" else None) for p in step.args.args[1:]}
    after = False
    for st in step.body:
        calls = [c for c in ast.walk(st) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)]
        if any(c.func.attr == "do_simulation" for c in calls):  # type: ignore[attr-defined]
            after = True
            continue
        target = next((c for c in calls if c.func.attr == function), None)  # type: ignore[attr-defined]
        if target is not None:
            out: dict[str, Any] = {}
            fdef = ctx.method(function)
            params = [a.arg for a in fdef.args.args[1:]] if fdef is not None else wanted
            for p, a in zip(params, target.args, strict=False):
                try:
                    out[p] = low.expr(a, scope)
                except NotExpressible as exc:
                    out[p] = _Tainted(exc)
            return out
        reads_state = any(isinstance(n, ast.Attribute) and n.attr == "data" for n in ast.walk(st))
        if not after and reads_state:
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    scope[n.id] = _Tainted(NotExpressible(st, f"'{n.id}' reads the state before the step "
                                                              "(step's line: " + ast.unparse(st) + ")"))
            continue
        if isinstance(st, ast.Return | ast.If):
            continue
        try:
            low.stmt(st, scope, None)
        except NotExpressible as exc:
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    scope[n.id] = _Tainted(exc)
    # step computes the reward inline: an argument named like one of its locals is that local
    return {w: scope[w] for w in wanted if scope.get(w) is not None}


def import_reward(
    source: str, task: str, features: Collection[str], *, function: str = "compute_reward",
    allow_code: bool = False, name: str = "imported", ctx: EnvContext | None = None,
) -> ImportResult:
    """Import ``source``'s ``function`` as a design for ``task`` (parsed, never run here).

    ``features`` are the task's feature names. A method (``self`` first) reads ``task``'s
    Gymnasium environment as ``self`` (``ctx``; made on demand).

    Raises:
        ImportError_: nothing can be imported; the message holds the whole report.
    """
    parsed = parse_source(source, function)
    if parsed.is_method and ctx is None:
        ctx = env_context(task)
    feats = set(features)
    low = Lowerer(feats, ctx, parsed.batched)
    issues: list[ImportIssue] = []

    def issue(node: ast.AST, msg: str) -> None:
        ln = getattr(node, "lineno", parsed.fdef.lineno)
        if all((i.line, i.message) != (ln, msg) for i in issues):
            issues.append(ImportIssue(ln, msg, parsed.line(ln)))

    result = ImportResult(Design(name, task, Group("reward")), issues, source=source, function=function,
                          is_method=parsed.is_method)
    scope: dict[str, Any] = {}
    missing = []
    for a in parsed.args:
        if a in feats:
            scope[a] = a
        elif _ARG_ALIASES.get(a) in feats:
            scope[a] = _ARG_ALIASES[a]
        else:
            missing.append(a)
    if missing and ctx is not None and ctx.env is not None:
        derived = _step_args(ctx, function, low, parsed.args)
        for a in list(missing):
            if a in derived:
                scope[a] = derived[a]
                missing.remove(a)
    for a in missing:
        why = f"argument '{a}' is not a feature of {task}: what reads it cannot be a term"
        issue(parsed.fdef, why)
        scope[a] = _Tainted(NotExpressible(parsed.fdef, why))
    result.args = {a: v for a, v in scope.items() if isinstance(v, str)}
    if parsed.is_method:
        # a first pass finds what the function keeps in self between calls (self.x = value)
        first = Lowerer(feats, ctx, parsed.batched)
        with contextlib.suppress(NotExpressible):
            first.block(parsed.fdef.body, dict(scope), {}, lambda node, why: None)
        low.previous = dict(first.remembered)
    assigned: dict[str, ast.expr] = {}
    try:
        value = low.block(parsed.fdef.body, scope, assigned, issue)
    except NotExpressible as exc:
        issue(exc.node, exc.why)
        value = None
    ret = next((s for s in reversed(parsed.fdef.body) if isinstance(s, ast.Return)), None)
    comps: list[tuple[str, Any, ast.expr]] = []
    total_node: ast.expr | None = None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], _Tainted) and ret is not None \
            and isinstance(ret.value, ast.Tuple) and isinstance(ret.value.elts[1], ast.Name) \
            and isinstance(scope.get(ret.value.elts[1].id), Dict):
        value = (value[0], scope[ret.value.elts[1].id])
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Dict) and not value[1].items \
            and ret is not None and isinstance(ret.value, ast.Tuple):
        # (total, {}): the total alone, split where it is a sum
        ret = ast.copy_location(ast.Return(ret.value.elts[0]), ret)
        value = value[0]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Dict):
        comps = list(value[1].items)
        if ret is not None and isinstance(ret.value, ast.Tuple):
            total_node = ret.value.elts[0]
        comps = _drop_total(comps, value[0], total_node, result)
    elif isinstance(value, Dict):
        comps = list(value.items)
    elif value is not None and not isinstance(value, tuple):
        comps = _split_sum(ret, value, scope, low, result, function)
    elif value is None and ret is not None and ret.value is not None and not isinstance(ret.value, ast.Tuple):
        # one value the design language cannot hold whole: its parts where it is a sum, each
        # on its own (a part that fails is reported; with allow_code, a code term)
        failed = _Tainted(NotExpressible(ret, "the returned value is not expressible (see the lines above)"))
        comps = _split_sum(ret, failed, scope, low, result, function)
        if len(comps) == 1 and allow_code:
            result.notes.append(f"the whole of {function} is one sandboxed code term")
    else:
        raise ImportError_(
            f"{function} cannot be imported: it must return a value, (total, {{name: value}}) or a dict"
            + "".join(f"\n{i}" for i in issues)
        )
    counts: dict[str, int] = {}
    for n in ast.walk(parsed.fdef):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            counts[n.id] = counts.get(n.id, 0) + 1
    found = _weights(low, scope, assigned, total_node, comps, counts) if total_node is not None else None
    weights = found[0] if found is not None else None
    for i, (coef, node) in enumerate(found[1] if found is not None else []):
        label = node.id if isinstance(node, ast.Name) else f"other_{i + 1}"
        try:
            v = low.expr(node, dict(scope))
        except NotExpressible as exc:
            v = _Tainted(exc)
        assert weights is not None
        weights[label] = coef
        comps.append((label, v, node))
        result.notes.append(f"'{ast.unparse(node)}' is part of the total but of no component: term '{label}'")
    if total_node is not None and weights is None:
        result.weights_from_total = False
        issue(total_node, "the total is not a weighted sum of the components: each term keeps weight 1 "
                          "(the check below tells whether their sum still equals the total)")
    taken: set[str] = {result.design.root.name}  # names are unique in the whole tree
    terms: list[Term] = []
    for cname, v, node in comps:
        ident = _ident(cname, taken)
        w_total = weights.get(cname, 0.0) if weights is not None else 1.0
        if w_total == 0.0 and weights is not None:
            result.notes.append(f"component '{cname}' does not enter the total: left out")
            continue
        try:
            if isinstance(v, _Tainted):
                raise v.exc
            if isinstance(v, Shaped):
                src, shape, params, w = v.source, v.shape, dict(v.params), 1.0
            else:
                src, shape, params, w = fold_weight(text(v, node))
            parse(src, feats)
            terms.append(Term(ident, src, shape, params, weight=w * w_total,
                              description=f"imported from line {node.lineno}: {ast.unparse(node)}"))
            result.terms.append(ident)
            result.components[ident] = (cname, w_total)
        except (NotExpressible, ExpressionError) as exc:
            where = exc.node if isinstance(exc, NotExpressible) else node
            why = exc.why if isinstance(exc, NotExpressible) else str(exc)
            issue(where, f"component '{cname}' cannot be a term: {why}")
            if allow_code and not parsed.is_method:
                feature = f"code_{ident}"
                cname = TOTAL if cname == function and len(comps) == 1 else cname
                terms.append(Term(ident, feature, weight=w_total, description=f"sandboxed code: component '{cname}' of {function}"))
                result.code_terms.append(CodeTerm(cname, feature, parsed.args))
                result.components[ident] = (cname, w_total)
            else:
                result.skipped.append(cname)
    if low.previous:
        result.remembered = sorted(set(low.remembered_lines))
        for attr, expr in low.previous.items():
            result.notes.append(f"self.{attr} (kept between calls) is read as prev({expr}): "
                                "its value one step earlier")
    for st in low.carried:
        line = getattr(st, "lineno", 0)
        result.carried.append(line)
        if all(i.line != line for i in issues):
            issue(st, "state carried between calls: not part of any term")
    result.design.root.children = list(terms)
    result.design.meta = {"origin": "import", "function": function,
                          "code_terms": {c.feature: c.name for c in result.code_terms}}
    if result.code_terms:
        from studio.export.importer.parse import strip_decorators

        result.design.meta["code_source"] = strip_decorators(source)
        result.design.meta["code_function"] = function
        result.design.meta["code_inputs"] = parsed.args
    if not terms:
        raise ImportError_(f"{function}: no component could be imported\n" + result.report())
    return result


def _drop_total(comps: list[tuple[str, Any, ast.expr]], total: Any, total_node: ast.expr | None,
                result: ImportResult) -> list[tuple[str, Any, ast.expr]]:
    out = []
    total_src = ast.unparse(total_node) if total_node is not None else None
    for k, v, node in comps:
        same = (total_src is not None and ast.unparse(node) == total_src) or (
            isinstance(v, str) and isinstance(total, str) and v == total)
        if same and len(comps) > 1:  # a lone component that is the total is the reward itself
            result.notes.append(f"component '{k}' is the total itself: left out of the components")
            continue
        out.append((k, v, node))
    return out


def _split_sum(ret: ast.Return | None, value: Any, scope: dict[str, Any], low: Lowerer,
               result: ImportResult, function: str) -> list[tuple[str, Any, ast.expr]]:
    """One value: its additive parts as terms when the return is a sum, else one term."""
    node = ret.value if ret is not None and ret.value is not None else None
    parts: list[tuple[float, ast.expr]] = []

    def go(n: ast.expr, sign: float) -> None:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            go(n.left, sign)
            go(n.right, sign if isinstance(n.op, ast.Add) else -sign)
        else:
            parts.append((sign, n))

    if node is not None:
        go(node, 1.0)
    if len(parts) < 2:
        generic = {"reward", "rew", "r", "total", "total_reward"}
        label = node.id if isinstance(node, ast.Name) and node.id not in generic else function
        return [(label, value, node if node is not None else ast.Constant(0))]
    out = []
    for i, (sign, n) in enumerate(parts):
        label = n.id if isinstance(n, ast.Name) else f"part_{i + 1}"
        try:
            v = low.expr(n, dict(scope))
            v = (-v if is_const(v) else f"(-{text(v, n)})") if sign < 0 else v
        except NotExpressible as exc:
            v = _Tainted(exc)
        out.append((label, v, n))
    result.notes.append(f"the returned sum became {len(out)} terms")
    return out


def _weights(low: Lowerer, scope: dict[str, Any], assigned: dict[str, ast.expr], total: ast.expr,
             comps: list[tuple[str, Any, ast.expr]], counts: dict[str, int]
             ) -> tuple[dict[str, float], list[tuple[float, ast.expr]]] | None:
    """Weights w with total = sum(w_k * component_k) + sum(c_j * rest_j), read from the code.

    ``rest`` are the total's additive parts that are no component; None when the total is
    no such sum (a product of components...).
    """
    atoms: dict[str, tuple[str, float]] = {}
    for k, _, node in comps:
        sign, n = 1.0, node
        while True:
            if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
                sign, n = -sign, n.operand
                continue
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                c = _const_of(low, scope, n.left)
                if c is not None:
                    sign, n = sign * c, n.right
                    continue
                c = _const_of(low, scope, n.right)
                if c is not None:
                    sign, n = sign * c, n.left
                    continue
            break
        if isinstance(n, ast.Name) and sign != 0:
            atoms[n.id] = (k, sign)
        else:
            atoms[ast.unparse(node)] = (k, 1.0)
    out: dict[str, float] = {k: 0.0 for k, _, _ in comps}
    seen: set[str] = set()

    def go(n: ast.expr, coef: float, expanded: bool) -> bool:
        key = n.id if isinstance(n, ast.Name) else ast.unparse(n)
        if key in atoms:
            k, c = atoms[key]
            out[k] += coef / c
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            return go(n.left, coef, expanded) and go(n.right, coef if isinstance(n.op, ast.Add) else -coef, expanded)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return go(n.operand, -coef, expanded)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for a, b in ((n.left, n.right), (n.right, n.left)):
                factor = _const_of(low, scope, a)
                if factor is not None:
                    return go(b, coef * factor, expanded)
        if isinstance(n, ast.Name) and n.id in assigned and n.id not in seen and counts.get(n.id, 0) == 1:
            seen.add(n.id)
            return go(assigned[n.id], coef, True)
        # Not a component: a part of its own, read in the final scope. That is only right
        # when none of its names changed after it was written.
        if expanded and any(isinstance(m, ast.Name) and counts.get(m.id, 0) > 1 for m in ast.walk(n)):
            return False
        rest.append((coef, n))
        return True

    rest: list[tuple[float, ast.expr]] = []
    return (out, rest) if go(total, 1.0, False) else None


def _const_of(low: Lowerer, scope: dict[str, Any], node: ast.expr) -> float | None:
    try:
        v = low.expr(node, dict(scope))
    except NotExpressible:
        return None
    if is_const(v) and not isinstance(v, tuple):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    return None


def parsed_of(source: str, function: str) -> Parsed:
    """The parsed function (for the verification stage)."""
    return parse_source(source, function)
