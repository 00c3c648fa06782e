"""A real installed distribution for plugin tests: modules and a .dist-info on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def installed_plugin(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                     modules: Mapping[str, str], entry_points: Mapping[str, Mapping[str, str]]) -> Iterator[Path]:
    """Write ``modules`` (name -> source) and a ``name``.dist-info declaring ``entry_points``
    (group -> {entry name: "module:callable"}) into ``folder``, on ``sys.path`` for the block.

    ``importlib.metadata.entry_points`` finds it exactly as it finds a pip-installed package.
    """
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source)
    info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in entry_points.items()))
    monkeypatch.syspath_prepend(str(folder))
    try:
        yield folder
    finally:
        for module in modules:
            sys.modules.pop(module, None)
