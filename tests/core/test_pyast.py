"""The locked parser: many threads parse at once without the AST constructor's SystemError."""

from __future__ import annotations

import ast
import gc
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from studio.core import pyast

# Deep nesting keeps each parse inside the AST constructor long enough for threads to overlap.
DEEP = "(" * 60 + "x" + ")" * 60 + " + " + " + ".join(f"f{i}(y[{i}])" for i in range(200))


def _parse_many(n: int) -> int:
    for _ in range(n):
        tree = pyast.parse(DEEP, mode="eval")
        assert isinstance(tree.body, ast.BinOp)
    return n


@pytest.fixture
def switch_threads_inside_parses() -> Iterator[None]:
    """Let another thread run whenever the garbage collector runs, which it does while the AST
    constructor builds a large tree: the overlap that breaks an unlocked parse on Python 3.11."""
    def yield_gil(_phase: str, _info: dict[str, int]) -> None:
        time.sleep(0)

    threshold = gc.get_threshold()
    gc.set_threshold(50)
    gc.callbacks.append(yield_gil)
    try:
        yield
    finally:
        gc.callbacks.remove(yield_gil)
        gc.set_threshold(*threshold)


def test_threads_parsing_at_once_all_get_their_trees(switch_threads_inside_parses: None) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        done = list(pool.map(_parse_many, [30] * 6))
    assert done == [30] * 6


def test_it_parses_what_ast_parses() -> None:
    source = "def f(a):\n    return a * 2\n"
    assert ast.dump(pyast.parse(source)) == ast.dump(ast.parse(source))
    assert ast.dump(pyast.parse("a < b", mode="eval")) == ast.dump(ast.parse("a < b", mode="eval"))
