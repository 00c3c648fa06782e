"""``ast.parse`` behind one process-wide lock, for code that parses in worker threads.

CPython 3.11 keeps the AST constructor's recursion depth in state shared by every thread,
so two threads parsing at once can fail with ``SystemError: AST constructor recursion depth
mismatch`` (CPython issue gh-106905, fixed in later versions). The studio parses in several
workers at a time (export previews, expression checks, the live agreement, the importer);
every parse in the studio goes through :func:`parse` so none of them sees that error.
Parsing a reward expression or module takes microseconds, so the lock costs nothing visible.

>>> parse("x + 1", mode="eval").body.op.__class__.__name__
'Add'
"""

from __future__ import annotations

import ast
import threading
from typing import Literal, overload

__all__ = ["parse"]

_LOCK = threading.Lock()


@overload
def parse(source: str, mode: Literal["exec"] = "exec") -> ast.Module: ...
@overload
def parse(source: str, mode: Literal["eval"]) -> ast.Expression: ...


def parse(source: str, mode: str = "exec") -> ast.Module | ast.Expression:
    """``ast.parse(source, mode=mode)``, one thread at a time (raises ``SyntaxError`` as it)."""
    with _LOCK:
        tree = ast.parse(source, mode=mode)
    assert isinstance(tree, ast.Module | ast.Expression)
    return tree
