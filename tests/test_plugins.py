"""Plugin discovery: a broken third-party plugin is reported and skipped, a good one is loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.plugins import load_group


@pytest.fixture()
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real installed distribution (a .dist-info on sys.path) with two term plugins."""
    (tmp_path / "good_terms.py").write_text(
        "import numpy\n"
        "from studio.core.shapes import ShapeDef, ParamSpec\n"
        "def cube(xp, x, k=1.0):\n"
        "    return k * x * x * x\n"
        "def register(registry):\n"
        "    registry.add_shape(ShapeDef('cube_test', cube, (ParamSpec('k', 1.0, 'gain'),), 'k x^3', 'k·x³'))\n"
    )
    (tmp_path / "broken_terms.py").write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    info = tmp_path / "thirdparty_terms-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-terms\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[reward_studio.terms]\ngood = good_terms:register\nbroken = broken_terms:register\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for mod in ("good_terms", "broken_terms"):
        sys.modules.pop(mod, None)


def test_broken_plugin_is_reported_and_skipped(third_party: Path, caplog: pytest.LogCaptureFixture) -> None:
    from studio.core.shapes import SHAPES
    from studio.core.terms_registry import TermRegistry

    registry = TermRegistry()
    failures = load_group("reward_studio.terms", registry)
    assert [f.name for f in failures] == ["broken"]
    assert "broken on purpose" in failures[0].error
    assert "failed and was skipped" in caplog.text
    assert "cube_test" in SHAPES  # the good plugin loaded despite its broken neighbour
    SHAPES.pop("cube_test")


def test_builtin_plugins_load_without_failures() -> None:
    from studio.core.terms_registry import TermRegistry

    assert load_group("reward_studio.terms", TermRegistry()) == []
