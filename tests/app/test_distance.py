"""EPIC between designs over HalfCheetah random-policy states, and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.app.distance import epic_matrix, main, random_pool
from studio.core.design import Design, Group, Shaping, Term


def _design() -> Design:
    return Design("base", "HalfCheetah-v5", Group("reward", [
        Term("forward", "x_velocity", "tanh", {"scale": 2.0}),
        Term("ctrl", "ctrl_sq", weight=-0.1),
        Term("level", "torso_angle", "tolerance", {"lower": -0.2, "upper": 0.2, "margin": 0.5}, weight=0.3),
    ]))


@pytest.fixture(scope="module")
def pool():
    return random_pool("HalfCheetah-v5", states=800, envs=4, seed=0)


def test_shaped_rescaled_copy_is_close_and_negation_far(pool) -> None:
    base = _design()
    shaped = base.copy()
    shaped.name = "shaped"
    shaped.root.weight = 3.0
    shaped.shaping = Shaping("2 * torso_height + sin(torso_angle)", gamma=0.99, weight=1.0)
    neg = base.copy()
    neg.name = "negated"
    neg.root.weight = -1.0
    m = epic_matrix([base, shaped, neg], samples=300, pool=pool, gamma=0.99)
    assert m[0, 1] <= 0.05
    assert m[0, 2] >= 0.95
    assert np.allclose(m, m.T)
    print(f"EPIC base-shaped {m[0, 1]:.2e}, base-negated {m[0, 2]:.4f}")


def test_cli_prints_result_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(_design().dumps())
    other = _design()
    other.root.children[0].weight = 0.0
    b.write_text(other.dumps())
    assert main([str(a), str(b), "--samples", "40"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("RESULT epic=")
    assert 0.0 < float(last.split("=")[1]) <= 1.0


def test_pool_keeps_terminal_states() -> None:
    """A Hopper that fell is in the pool, so an alive bonus is not a constant to EPIC."""
    from studio.sim.registry import get_task

    hopper = random_pool("Hopper-v5", states=400, envs=8, seed=1)
    assert hopper.terminal.any() and (hopper.pred >= 0).sum() > 300
    base = get_task("Hopper-v5").task_design()
    more_alive = base.copy()
    more_alive.root.children[-1].weight = 5.0
    assert epic_matrix([base, more_alive], samples=150, pool=hopper)[0, 1] > 0.01
