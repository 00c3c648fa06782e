"""Source snippets the exporters paste: helper code, copied functions, docstrings.

Shapes and combiners are copied with :func:`plain_source`, which drops type hints and
refuses a function that reads a global the exported module will not define;
:func:`fold_constants` evaluates constant sub-expressions once, at export time.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import textwrap

from studio.core import pyast
from studio.core.expr import parse
from studio.core.schedule import schedule_value


class ExportError(ValueError):
    """A design or feature that cannot be exported; the message names it and says why."""

    user_facing = True


# --- constant folding --------------------------------------------------------------------------


def fold_constants(text: str) -> str:
    """``text`` with every constant sub-expression replaced by its (finite) value.

    ``exp(2) * x`` becomes ``7.38905609893065 * x``: exported torch code then never calls a
    tensor function on a Python float, and numpy code never divides two Python floats.
    """
    tree = pyast.parse(text.strip(), mode="eval")

    class Folder(ast.NodeTransformer):
        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            node.value = self.visit(node.value)  # the index stays whole numbers
            return node

        def generic_visit(self, node: ast.AST) -> ast.AST:
            node = super().generic_visit(node)
            foldable = isinstance(node, ast.expr) and not isinstance(node, ast.Constant | ast.Name)
            if not foldable or not _is_constant(node):  # type: ignore[arg-type]
                return node
            try:
                value = float(parse(ast.unparse(node)).evaluate(None, {}))
            except Exception:  # leave it for the runtime to report
                return node
            # inf prints as 1e309 and nan as (1e309-1e309): the exported code then gives the
            # studio's inf/nan instead of raising ZeroDivisionError on Python floats.
            const: ast.expr = ast.Constant(abs(value))
            if math.copysign(1.0, value) < 0:
                const = ast.UnaryOp(ast.USub(), const)
            return ast.copy_location(const, node)

    return ast.unparse(Folder().visit(tree))


def _is_constant(node: ast.expr) -> bool:
    """True when ``node`` reads no feature (function names and pi/e are not features)."""
    callees = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return not any(
        isinstance(n, ast.Name) and id(n) not in callees and n.id not in ("pi", "e")
        for n in ast.walk(node)
    )


# --- helper sources -----------------------------------------------------------------------------

SCHEDULE_SRC = inspect.getsource(schedule_value) + '''

class Schedule:
    """A number that follows the training step (linear, cosine or piecewise)."""

    def __init__(self, kind, start=0.0, end=0.0, steps=1, begin=0, points=()):
        self.kind, self.start, self.end = kind, start, end
        self.steps, self.begin, self.points = steps, begin, tuple(points)

    def value(self, step):
        """The value at training step ``step``."""
        return schedule_value(
            self.kind, self.start, self.end, self.steps, self.begin, self.points, step
        )

    def __repr__(self):
        return f"Schedule({self.kind!r}, start={self.start}, end={self.end}, steps={self.steps})"


def _param(p, step):
    """The value of a constant or a schedule at the training step."""
    return p.value(step) if isinstance(p, Schedule) else p
'''

BACKEND_HELPERS = {
    "np": '''
def _as_batch(v, ones):
    """A constant or a [B] array as a float64 array [B]."""
    v = np.asarray(v, dtype=np.float64)
    return v if v.shape == ones.shape else v * ones


def _flags(v, ones):
    """terminated / truncated (a bool or [B] bools) as a bool array [B]."""
    return np.broadcast_to(np.asarray(v, dtype=bool), ones.shape)
''',
    "torch": '''
def _as_batch(v, ones):
    """A constant or a [B] tensor as a tensor [B] of the batch's dtype."""
    if isinstance(v, torch.Tensor):
        return v.to(ones.dtype) if v.shape == ones.shape else v * ones
    return float(v) * ones


def _flags(v, ones):
    """terminated / truncated (a bool or [B] bools) as a bool tensor [B]."""
    return torch.as_tensor(v, device=ones.device).bool().expand(ones.shape)
''',
}


def fn_source(fn: object) -> str:
    return textwrap.dedent(inspect.getsource(fn))  # type: ignore[arg-type]


def docstring(summary: str, *paragraphs: str, indent: int = 4) -> str:
    """A wrapped triple-quoted docstring: the summary, then each paragraph."""
    pad = " " * indent
    width = 96 - indent
    first, *rest = textwrap.wrap(_doc_escape(summary), width - 6) or [""]
    lines = [f'{pad}"""{first}'] + [pad + r for r in rest]
    for body in paragraphs:
        if not body:
            continue
        lines.append("")
        lines += [pad + r for r in textwrap.wrap(_doc_escape(body), width)]
    if len(lines) == 1:
        return lines[0] + '"""'
    return "\n".join(lines) + f'\n{pad}"""'


def comment(text: str) -> list[str]:
    """``# text`` wrapped to the line length."""
    return ["# " + line for line in textwrap.wrap(text, 90)]


def _doc_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"""', "'''")


def plain_source(fn: object, rename: str | None = None, what: str = "") -> str:
    """The function's source without type hints, optionally renamed (``shape_<name>``).

    Raises:
        ExportError: the function has no Python source (a C function, a lambda in a REPL).
    """
    what = what or getattr(fn, "__name__", "function")
    try:
        src = fn_source(fn)
    except (OSError, TypeError) as exc:
        raise ExportError(f"the {what} has no Python source to export ({exc})") from exc
    tree = pyast.parse(src)
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef):
        raise ExportError(f"the {what} is not a plain function and cannot be exported")
    if rename:
        fdef.name = rename
    fdef.returns = None
    for arg in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
        arg.annotation = None
    fdef.decorator_list = []
    _check_free_names(fn, fdef, what)
    return ast.unparse(tree)


# Globals a copied shape or combiner may use: the generated module defines these.
_MODULE_GLOBALS = {"math", "np", "torch", "_tolerance_sigmoid", "_clip", "_pick", "_reduce"}


def _check_free_names(fn: object, fdef: ast.FunctionDef, what: str) -> None:
    """Refuse a function that reads a global the exported module will not have.

    A plugin's shape that calls its own helper (or scipy) would otherwise export as code
    that fails with a NameError in the user's project.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    bound = set(code.co_varnames) | set(code.co_cellvars)
    loads = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    missing = sorted(
        n for n in loads - bound - _MODULE_GLOBALS if not hasattr(builtins, n)
    )
    if missing:
        raise ExportError(
            f"the {what} uses {', '.join(missing)}, which an exported module does not define: "
            "write it against xp only (see studio.core.shapes), or inline its helpers"
        )
