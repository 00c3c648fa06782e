"""One implementation of each thing: a second definition of these names is a regression."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parents[1] / "studio"


def _module_level_definitions(name: str) -> list[str]:
    pattern = re.compile(rf"^def {name}\(", re.MULTILINE)
    return sorted(str(p.relative_to(STUDIO)) for p in STUDIO.rglob("*.py") if pattern.search(p.read_text()))


@pytest.mark.parametrize(("name", "home"), [
    ("make_env", "train/envs.py"),
    ("action_bounds", "sim/actions.py"),
    ("atomic_writer", "core/atomic.py"),
    ("load_group", "plugins.py"),
])
def test_defined_once(name: str, home: str) -> None:
    found = _module_level_definitions(name)
    # store/files.py wraps the atomic writer only to word its errors for the workspace.
    allowed = {home, "store/files.py"} if name == "atomic_writer" else {home}
    assert set(found) <= allowed and home in found, found


def test_rollouts_build_envs_as_training_does() -> None:
    from studio.app import rollouts
    from studio.train import envs

    assert rollouts.make_env is envs.make_env
    env = rollouts.make_env("Reacher-v5", 1, 0)
    try:
        assert env.max_episode_steps == 50  # the task's own limit, not training's default of 1000
    finally:
        env.close()


def test_the_ui_opens_no_store_sessions_itself() -> None:
    ui = STUDIO / "ui"
    offenders = [str(p.relative_to(STUDIO)) for p in ui.rglob("*.py")
                 if ".session()" in p.read_text() or "from studio.store" in p.read_text()]
    assert offenders == [], "reach the store through a studio.app service"


def test_every_parse_goes_through_the_locked_parser() -> None:
    # Raw ast.parse in a worker thread can fail beside another parse on Python 3.11.
    raw = sorted(str(p.relative_to(STUDIO)) for p in STUDIO.rglob("*.py")
                 if re.search(r"\bast\.parse\(", p.read_text()))
    assert raw == ["core/pyast.py"], raw
