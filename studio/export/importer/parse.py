"""Stage 1: read the source with :mod:`ast` (never run it) and find the reward function.

The function may be a module-level function (Eureka's ``compute_reward``), a method of a
class in the file, or a method pasted dedented out of its class (Gymnasium's
``_get_rew(self, ...)``). Decorators are dropped (``@torch.jit.script`` needs files the
sandbox refuses).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from studio.core import pyast


class ImportError_(ValueError):  # noqa: N801 - studio.errors recognises the suffix
    """The source cannot be imported at all (no function, a syntax error, an unknown task)."""

    user_facing = True


@dataclass
class Parsed:
    """The function to import and where it sits."""

    source: str
    """The whole file, as given."""
    fdef: ast.FunctionDef
    module: ast.Module
    is_method: bool
    """True when the first argument is ``self``: it reads the environment."""
    args: list[str]
    """Arguments after ``self``."""
    batched: bool
    """True for torch code over [num_envs, ...] tensors (the leading axis is the batch)."""

    def line(self, n: int) -> str:
        """Source line ``n`` (1-based), stripped."""
        lines = self.source.splitlines()
        return lines[n - 1].strip() if 0 < n <= len(lines) else ""


def parse_source(source: str, function: str) -> Parsed:
    """Parse ``source`` and find ``function`` (a function, or a method of any class in it)."""
    try:
        module = pyast.parse(source)
    except SyntaxError as exc:
        raise ImportError_(f"line {exc.lineno}: syntax error: {exc.msg}") from None
    found: ast.FunctionDef | None = None
    names: list[str] = []
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
            if node.name == function and found is None:
                found = node
    if found is None:
        known = ", ".join(sorted(set(names))) or "none"
        raise ImportError_(f"no function or method called {function!r} in the source (found: {known}); "
                           "pass --function NAME")
    args = [a.arg for a in found.args.args]
    is_method = bool(args) and args[0] == "self"
    if is_method:
        args = args[1:]
    batched = not is_method and "torch" in source
    return Parsed(source, found, module, is_method, args, batched)


def strip_decorators(source: str) -> str:
    """The source without decorators, as the sandbox runs it."""
    tree = pyast.parse(source)
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef):
            n.decorator_list = []
    return ast.unparse(tree)
