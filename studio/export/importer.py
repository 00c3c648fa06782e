"""Import a Eureka-style reward function ``compute_reward(...) -> (total, components)`` as a design.

The source is parsed with :mod:`ast`, never run. Each component whose computation is
arithmetic over the function's arguments (feature names) with whitelisted functions
(``torch.exp``, ``np.abs``, ``torch.clamp``, ``torch.where``...) becomes a term the editor
can show and edit; ``exp(x / T)`` with a constant ``T`` becomes an ``exp_kernel`` shape
with ``temperature = T``, and a constant factor becomes the term's weight (taken from the
total when the total is a weighted sum of the components). Everything else is reported
with its line and the reason (:class:`ImportIssue`).

Components that cannot be expressed are not run by default. With ``allow_code=True`` they
become *code terms*: a term reading the pseudo-feature ``code_<name>``, whose values
:func:`evaluate_code_terms` computes by running the original function in the sandbox
(:mod:`studio.export.sandbox`), never in the app's process.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.design import Design, Group, Term
from studio.core.expr import ExpressionError, parse
from studio.export.sandbox import SandboxLimits, run_sandboxed

_MODULES = {"torch", "np", "numpy", "math"}
_UNARY = {"exp", "log", "sqrt", "tanh", "sin", "cos", "sign", "abs"}
_ALIASES = {"absolute": "abs", "square": None, "clamp": "clip", "clip": "clip", "where": "where",
            "minimum": "min", "maximum": "max", "fmin": "min", "fmax": "max"}


class ImportError_(ValueError):  # noqa: N801 - studio.errors recognises the suffix
    """The source cannot be imported at all (no function, a syntax error)."""

    user_facing = True


@dataclass
class ImportIssue:
    """A line of the source that did not become part of a term, and why."""

    line: int
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" + (f"\n    {self.code}" if self.code else "")


@dataclass
class CodeTerm:
    """A component computed by the original code, in the sandbox."""

    name: str
    feature: str
    """The pseudo-feature the term reads (``code_<name>``)."""
    inputs: list[str]
    """The function's arguments (feature names)."""


@dataclass
class ImportResult:
    """The imported design and the report."""

    design: Design
    issues: list[ImportIssue] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    """Components that became editable terms."""
    code_terms: list[CodeTerm] = field(default_factory=list)
    """Components that run as sandboxed code (only with ``allow_code``)."""
    skipped: list[str] = field(default_factory=list)
    """Components left out (not expressible, and code not allowed)."""
    source: str = ""
    function: str = "compute_reward"

    def report(self) -> str:
        """The human-readable import report."""
        lines = [f"imported {len(self.terms)} term(s): {', '.join(self.terms) or 'none'}"]
        if self.code_terms:
            lines.append(f"sandboxed code terms: {', '.join(c.name for c in self.code_terms)}")
        if self.skipped:
            lines.append(f"not imported (pass allow_code to run them sandboxed): {', '.join(self.skipped)}")
        lines += [str(i) for i in self.issues]
        return "\n".join(lines)


class _NotExpressible(Exception):
    def __init__(self, node: ast.AST, why: str) -> None:
        self.node = node
        self.why = why


class _Translator:
    """Translate Python expressions to the design language, following local variables."""

    def __init__(self, features: Collection[str]) -> None:
        self.features = set(features)
        self.env: dict[str, str] = {}
        self.consts: dict[str, float] = {}
        self.tainted: dict[str, _NotExpressible] = {}
        self.assigned: dict[str, ast.expr] = {}
        """The Python expression last assigned to each local variable."""

    def expr(self, n: ast.expr) -> str:
        if isinstance(n, ast.Constant) and isinstance(n.value, int | float) and not isinstance(n.value, bool):
            return repr(float(n.value))
        if isinstance(n, ast.Name):
            if n.id in self.tainted:
                raise self.tainted[n.id]
            if n.id in self.consts:
                return repr(self.consts[n.id])
            if n.id in self.env:
                return f"({self.env[n.id]})"
            if n.id in self.features:
                return n.id
            raise _NotExpressible(n, f"'{n.id}' is not a feature of the task")
        if isinstance(n, ast.BinOp):
            op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}.get(type(n.op))
            if op is None:
                raise _NotExpressible(n, f"operator {type(n.op).__name__} is not in the design language")
            return f"({self.expr(n.left)} {op} {self.expr(n.right)})"
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub | ast.UAdd):
            return f"({'-' if isinstance(n.op, ast.USub) else ''}{self.expr(n.operand)})"
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            op = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}.get(type(n.ops[0]))
            if op:
                return f"({self.expr(n.left)} {op} {self.expr(n.comparators[0])})"
        if isinstance(n, ast.Call):
            return self.call(n)
        raise _NotExpressible(n, f"'{ast.unparse(n)}' ({type(n).__name__}) is not in the design language")

    def call(self, n: ast.Call) -> str:
        f = n.func
        name = None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in _MODULES:
            name = f.attr
        elif isinstance(f, ast.Name) and f.id in ("abs", "min", "max"):
            name = f.id
        if name is None:
            raise _NotExpressible(n, f"call of '{ast.unparse(f)}' is not a whitelisted function")
        kw = {k.arg: k.value for k in n.keywords}
        args = list(n.args)
        if name in _UNARY and len(args) == 1 and not kw:
            return f"{name}({self.expr(args[0])})"
        if name in ("absolute",) and len(args) == 1:
            return f"abs({self.expr(args[0])})"
        if name == "square" and len(args) == 1:
            return f"({self.expr(args[0])} ** 2)"
        if name in ("clamp", "clip"):
            x = self.expr(args[0])
            lo = args[1] if len(args) > 1 else kw.get("min", kw.get("a_min"))
            hi = args[2] if len(args) > 2 else kw.get("max", kw.get("a_max"))
            if lo is not None and hi is not None:
                return f"clip({x}, {self.expr(lo)}, {self.expr(hi)})"
            if lo is not None:
                return f"max({x}, {self.expr(lo)})"
            if hi is not None:
                return f"min({x}, {self.expr(hi)})"
        if name in ("where",) and len(args) == 3:
            return f"where({', '.join(self.expr(a) for a in args)})"
        if name in ("minimum", "maximum", "fmin", "fmax", "min", "max") and len(args) >= 2 and not kw:
            fn = "min" if name in ("minimum", "fmin", "min") else "max"
            return f"{fn}({', '.join(self.expr(a) for a in args)})"
        raise _NotExpressible(n, f"'{ast.unparse(n)}': {name}() with these arguments is not in the design language")


def _const_value(text: str) -> float | None:
    try:
        e = parse(text)
    except ExpressionError:
        return None
    if e.names:
        return None
    try:
        return float(e.evaluate(None, {}))
    except Exception:
        return None


def _shape_of(text: str) -> tuple[str, str, dict[str, float], float]:
    """(source, shape, params, weight) of a component expression: constant factors become the
    weight, ``exp(x / T)`` an exp_kernel with temperature T."""
    tree = ast.parse(text, mode="eval").body
    weight = 1.0
    while isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        left = _const_value(ast.unparse(tree.left))
        right = _const_value(ast.unparse(tree.right))
        if left is not None:
            weight *= left
            tree = tree.right
        elif right is not None:
            weight *= right
            tree = tree.left
        else:
            break
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        weight, tree = -weight, tree.operand
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "exp" and len(tree.args) == 1:
        arg = tree.args[0]
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Div):
            temp = _const_value(ast.unparse(arg.right))
            if temp is not None and temp != 0:
                inner = arg.left
                if temp > 0:  # exp(x / T) = exp(-(-x) / T)
                    src = ast.unparse(inner.operand) if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub) else f"-({ast.unparse(inner)})"
                    return src, "exp_kernel", {"temperature": temp}, weight
                src = ast.unparse(inner)
                return src, "exp_kernel", {"temperature": -temp}, weight
    return ast.unparse(tree), "linear", {}, weight


def _linear_weights(t: _Translator, node: ast.expr, names: set[str]) -> dict[str, float] | None:
    """Coefficients of the total when it is a weighted sum of component variables."""
    out: dict[str, float] = {}

    def go(n: ast.expr, sign: float) -> bool:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub):
            return go(n.left, sign) and go(n.right, sign if isinstance(n.op, ast.Add) else -sign)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return go(n.operand, -sign)
        if isinstance(n, ast.Name) and n.id in names:
            out[n.id] = out.get(n.id, 0.0) + sign
            return True
        if isinstance(n, ast.Name) and n.id in t.assigned:
            return go(t.assigned[n.id], sign)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for a, b in ((n.left, n.right), (n.right, n.left)):
                if isinstance(b, ast.Name) and b.id in names:
                    try:
                        c = _const_value(t.expr(a))
                    except _NotExpressible:
                        c = None
                    if c is not None:
                        out[b.id] = out.get(b.id, 0.0) + sign * c
                        return True
        return False

    return out if go(node, 1.0) else None


def import_reward(
    source: str, task: str, features: Collection[str], *, function: str = "compute_reward",
    allow_code: bool = False, name: str = "imported",
) -> ImportResult:
    """Import ``source`` (a Eureka-style reward function) as a design for ``task``.

    ``features`` are the task's feature names; the function's arguments must be among
    them to be read. Nothing of ``source`` is executed here.
    """
    try:
        module = ast.parse(source)
    except SyntaxError as exc:
        raise ImportError_(f"line {exc.lineno}: syntax error: {exc.msg}") from None
    fdef = next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if fdef is None:
        raise ImportError_(f"no function called {function!r} in the source")
    lines = source.splitlines()
    issues: list[ImportIssue] = []

    def issue(node: ast.AST, msg: str) -> None:
        ln = getattr(node, "lineno", fdef.lineno)
        issues.append(ImportIssue(ln, msg, lines[ln - 1].strip() if 0 < ln <= len(lines) else ""))

    args = [a.arg for a in fdef.args.args]
    unknown = [a for a in args if a not in features]
    for a in unknown:
        issue(fdef, f"argument '{a}' is not a feature of {task}: components reading it cannot be terms")
    t = _Translator(set(args) & set(features))
    returned: ast.Return | None = None
    dicts: dict[str, ast.Dict] = {}
    for stmt in fdef.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring
        if isinstance(stmt, ast.Return):
            returned = stmt
            break
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.Dict):
            dicts[stmt.targets[0].id] = stmt.value
            continue
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and isinstance(
            target := (stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target), ast.Name
        ) and (not isinstance(stmt, ast.Assign) or len(stmt.targets) == 1) and stmt.value is not None:
            t.assigned[target.id] = stmt.value
            try:
                text = t.expr(stmt.value)
            except _NotExpressible as exc:
                t.tainted[target.id] = exc
                continue
            value = _const_value(text)
            if value is not None:
                t.consts[target.id] = value
            else:
                t.env[target.id] = text
            continue
        issue(stmt, f"statement '{type(stmt).__name__}' is not supported (only assignments and the return)")
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                t.tainted.setdefault(
                    n.id, _NotExpressible(stmt, f"'{n.id}' is set by an unsupported statement (line {stmt.lineno})")
                )
    comp_dict: ast.expr | None = None
    if returned is not None and isinstance(returned.value, ast.Tuple) and len(returned.value.elts) == 2:
        total_node, comp_dict = returned.value.elts
        if isinstance(comp_dict, ast.Name):
            comp_dict = dicts.get(comp_dict.id)
    if returned is None or not isinstance(comp_dict, ast.Dict):
        raise ImportError_(f"{function} must end with 'return total, {{\"name\": value, ...}}'")
    components: list[tuple[str, ast.expr]] = []
    for k, v in zip(comp_dict.keys, comp_dict.values, strict=True):
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
            issue(returned, "component names must be string literals")
            continue
        components.append((k.value, v))
    var_of = {ast.unparse(v): k for k, v in components if isinstance(v, ast.Name)}
    weights = _linear_weights(t, total_node, set(var_of))
    if weights is None:
        issue(returned, "the total is not a weighted sum of the components: each term keeps weight 1")
    terms: list[Term] = []
    result = ImportResult(Design(name, task, Group("reward")), issues, source=source, function=function)
    for cname, node in components:
        ident = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in cname) or "term"
        total_w = 1.0
        if weights is not None and isinstance(node, ast.Name):
            total_w = weights.get(node.id, 0.0)
        try:
            text = t.expr(node)
            src, shape, params, w = _shape_of(text)
            parse(src, features)
            terms.append(Term(ident, src, shape, dict(params), weight=w * total_w,
                              description=f"imported from line {node.lineno}: {ast.unparse(node)}"))
            result.terms.append(ident)
        except (_NotExpressible, ExpressionError) as exc:
            where = exc.node if isinstance(exc, _NotExpressible) else node
            why = exc.why if isinstance(exc, _NotExpressible) else str(exc)
            issue(where, f"component '{cname}' cannot be a term: {why}")
            if allow_code:
                feature = f"code_{ident}"
                terms.append(Term(ident, feature, weight=total_w,
                                  description=f"sandboxed code: component '{cname}' of {function}"))
                result.code_terms.append(CodeTerm(cname, feature, args))
            else:
                result.skipped.append(cname)
    result.design.root.children = list(terms)
    result.design.meta = {"origin": "import", "function": function,
                          "code_terms": {c.feature: c.name for c in result.code_terms}}
    if result.code_terms:
        result.design.meta["code_source"] = _strip_decorators(source)
    return result


def _strip_decorators(source: str) -> str:
    """The source without decorators (``@torch.jit.script`` needs files the sandbox refuses)."""
    tree = ast.parse(source)
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef):
            n.decorator_list = []
    return ast.unparse(tree)


def evaluate_code_terms(
    result: ImportResult, features: Mapping[str, Any], limits: SandboxLimits | None = None
) -> dict[str, np.ndarray]:
    """The pseudo-features ``code_<name>`` of the code terms, computed in the sandbox.

    Merge them into the features before evaluating the design.
    """
    if not result.code_terms:
        return {}
    inputs = {a: np.asarray(features[a], dtype=np.float64) for a in result.code_terms[0].inputs}
    _, parts = run_sandboxed(_strip_decorators(result.source), result.function, inputs, limits,
                             name=f"code of {result.function}")
    out = {}
    for c in result.code_terms:
        if c.name not in parts:
            raise ImportError_(f"the sandboxed code returned no component {c.name!r}")
        out[c.feature] = parts[c.name]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m studio.export.importer FILE --task ID -o DESIGN.json [--allow-code]``."""
    import argparse
    import sys
    from pathlib import Path

    p = argparse.ArgumentParser(
        prog="python -m studio.export.importer",
        description="Import a Eureka-style compute_reward(...) -> (total, components) as a design. "
        "The code is parsed, never run; the report lists every line that did not become a term.",
    )
    p.add_argument("file", help="Python file with the reward function")
    p.add_argument("--task", required=True, help="task id, e.g. HalfCheetah-v5")
    p.add_argument("--function", default="compute_reward")
    p.add_argument("--allow-code", action="store_true",
                   help="keep what cannot be expressed as sandboxed code terms")
    p.add_argument("-o", "--output", required=True, help="design JSON file to write")
    args = p.parse_args(argv)
    from studio.sim.registry import get_task

    try:
        source = Path(args.file).read_text()
        names = get_task(args.task).catalog.names()
        result = import_reward(source, args.task, names, function=args.function,
                               allow_code=args.allow_code, name=Path(args.file).stem)
    except (OSError, ImportError_) as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    Path(args.output).write_text(result.design.dumps() + "\n")
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
