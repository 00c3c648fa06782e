"""Plugins through the app's own lookups: a third-party term library works end to end, a broken one is reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from studio.core.design import Design, Group, Term, validate
from studio.core.plugin_table import reset_term_plugins
from studio.core.shapes import SHAPES
from tests.plugin_dist import installed_plugin

CUBE = (
    "from studio.core.shapes import ShapeDef, ParamSpec\n"
    "def cube(xp, x, k=1.0):\n"
    "    return k * x * x * x\n"
    "def register(registry):\n"
    "    registry.add_shape(ShapeDef('cube_test', cube, (ParamSpec('k', 1.0, 'gain'),), 'k x^3', 'k x^3'))\n"
)


@pytest.fixture()
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution with a good and a broken ``reward_studio.terms`` plugin."""
    with installed_plugin(
            tmp_path, monkeypatch, "thirdparty-terms",
            {"good_terms": CUBE, "broken_terms": "raise RuntimeError('this plugin is broken on purpose')\n"},
            {"reward_studio.terms": {"good": "good_terms:register", "broken": "broken_terms:register"}}):
        reset_term_plugins()  # as a fresh process would: the next lookup loads the group
        yield tmp_path
    dict.pop(SHAPES, "cube_test", None)
    reset_term_plugins()


def _design() -> Design:
    return Design("cubed", "InvertedPendulum-v5", Group("reward", [
        Term("wobble", "pole_angle", shape="cube_test", params={"k": 2.0})]))


def test_a_third_party_shape_validates_compiles_and_rewards_a_rollout(third_party: Path) -> None:
    from studio.app.rollouts import record_rollout

    design = _design()
    assert validate(design) == []  # the app's lookup found the plugin's shape
    trace = record_rollout("InvertedPendulum-v5", design, "random", steps=20, seed=3,
                           record_states=False)
    angle = trace.features["pole_angle"]
    assert np.abs(angle).max() > 0  # the pole moved, so the check below means something
    np.testing.assert_allclose(trace.values["wobble"], 2.0 * angle ** 3, rtol=1e-6, atol=1e-12)


def test_the_shape_is_unknown_without_the_plugin() -> None:
    reset_term_plugins()
    problems = validate(_design())
    assert [p.path for p in problems] == ["root.children[0].shape"]


def test_broken_plugin_is_reported_with_its_reason_and_the_good_one_still_loads(
        third_party: Path, caplog: pytest.LogCaptureFixture) -> None:
    from studio.plugins import failures

    assert "cube_test" in SHAPES  # the first lookup loads the group
    broken = [f for f in failures() if f.group == "reward_studio.terms"]
    assert [f.name for f in broken] == ["broken"] and "broken on purpose" in broken[0].error
    assert "failed and was skipped" in caplog.text


def test_builtin_plugins_load_without_failures() -> None:
    from studio.core.terms_registry import TermRegistry
    from studio.plugins import load_group

    assert load_group("reward_studio.terms", TermRegistry()) == []
