"""The docstring examples of the core are the user docs: they must run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["studio.core.schedule", "studio.core.shapes", "studio.core.combine", "studio.core.expr",
           "studio.core.design", "studio.core.compile"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
