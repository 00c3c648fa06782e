"""Count the examples every fuzz test ran, and report the total (for the issue's note).

Hypothesis calls a test's ``hypothesis.inner_test`` once per example (generated, replayed
or shrunk); wrapping it counts real calls, whatever the settings say.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

EXAMPLES_RUN: dict[str, int] = {}
"""Test name -> examples it ran this session."""

_HERE = Path(__file__).parent


def _counting(name: str, inner: Any) -> Any:
    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        EXAMPLES_RUN[name] = EXAMPLES_RUN.get(name, 0) + 1
        return inner(*args, **kwargs)

    counted.studio_counted = True  # type: ignore[attr-defined]
    return counted


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Wrap the inner test of every Hypothesis test under ``tests/fuzz``."""
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is None or _HERE not in Path(str(item.path)).parents:
            continue
        if not getattr(handle.inner_test, "studio_counted", False):
            handle.inner_test = _counting(item.name, handle.inner_test)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line with the total, then the examples of each test."""
    if not EXAMPLES_RUN:
        return
    total = sum(EXAMPLES_RUN.values())
    terminalreporter.write_sep("-", f"fuzz tests: {total} examples ran in {len(EXAMPLES_RUN)} tests")
    for name, n in sorted(EXAMPLES_RUN.items()):
        terminalreporter.write_line(f"  {n:6d}  {name}")
