"""Gymnasium's own v5 reward methods, pasted as found, import into exact designs.

The source of each ``_get_rew`` is read at test time from the installed Gymnasium
(``inspect.getsource``, dedented out of its class). InvertedPendulum-v5 computes its reward
inline in ``step``; :data:`INVERTED_PENDULUM_GET_REW` is the ``_get_rew`` it would have
(``reward = int(not terminated)``, with ``terminated`` as ``step`` computes it). Each design
is exported as a Gymnasium wrapper and stepped on the real environment with random actions:
the wrapper's reward must equal the environment's own (``info["task_reward"]``) to 1e-6.
"""

from __future__ import annotations

import importlib.util
import inspect
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest

from studio.export.gym_export import export_gymnasium
from studio.export.importer import import_reward
from studio.sim.registry import get_task

INVERTED_PENDULUM_GET_REW = '''
def _get_rew(self, terminated):
    reward = int(not terminated)
    return reward, {"reward_survive": reward}
'''

TASKS = ["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Swimmer-v5", "Ant-v5", "Humanoid-v5",
         "Reacher-v5", "Pusher-v5", "InvertedPendulum-v5", "InvertedDoublePendulum-v5"]


def gym_reward_source(env_id: str) -> str:
    """The env's own ``_get_rew``, as found in the installed package (dedented)."""
    if env_id == "InvertedPendulum-v5":
        return INVERTED_PENDULUM_GET_REW
    cls = type(gym.make(env_id).unwrapped)
    return textwrap.dedent(inspect.getsource(cls._get_rew))


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("env_id", TASKS)
def test_gymnasium_get_rew_imports_exactly(env_id: str, tmp_path: Path) -> None:
    task = get_task(env_id)
    result = import_reward(gym_reward_source(env_id), env_id, task.catalog.names(), function="_get_rew")
    assert not result.issues and not result.skipped, result.report()
    path = tmp_path / "wrapper.py"
    path.write_text(export_gymnasium(result.design, task))
    env = load_module(path, f"wrapped_{env_id.replace('-', '_')}").make()
    env.reset(seed=1)
    env.action_space.seed(1)
    worst, steps = 0.0, 0
    for _ in range(150):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        worst = max(worst, abs(reward - info["task_reward"]))
        steps += 1
        if terminated or truncated:
            env.reset()
    env.close()
    assert worst < 1e-6, f"{env_id}: largest difference {worst:g} over {steps} steps"


def test_epic_reads_array_features_of_an_imported_design() -> None:
    from studio.app.distance import distance
    from studio.core.design import Design, Group, Term

    task = get_task("Hopper-v5")
    imported = import_reward(gym_reward_source("Hopper-v5"), "Hopper-v5", task.catalog.names(),
                             function="_get_rew").design
    assert any("square(action)" in t.source for t in imported.terms())
    # the same reward written with the task's scalar features: EPIC distance 0
    assert distance(imported, task.task_design(), samples=60) < 1e-6
    effort_only = Design("effort", "Hopper-v5", Group("reward", [Term("e", "sum(square(action))")]))
    assert distance(imported, effort_only, samples=60) > 0.1
