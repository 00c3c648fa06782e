"""Every built-in task's own design, compiled in float64, pays Gymnasium's reward.

The real Gymnasium env runs with seeded random actions across resets; features are
computed by the task adapter from ``MjData`` states captured before and after each
step, and the compiled ``task_design()`` total must equal the env's reward.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.sim.registry import get_task
from studio.sim.state import StateBatch
from studio.sim.tasks import BUILTIN_TASKS

TASK_IDS = [cls.ENV_ID for cls in BUILTIN_TASKS]
STEPS = 200


def _rollout(env_id: str, steps: int, seed: int = 0):
    """Yield (before, after, action, reward, info, terminated) from the real env."""
    env = gym.make(env_id)
    data = env.unwrapped.data
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    for _ in range(steps):
        action = rng.uniform(low, high).astype(np.float64)
        before = StateBatch.from_datas([data])
        _, reward, terminated, truncated, info = env.step(action)
        after = StateBatch.from_datas([data])
        yield before, after, action[None], reward, info, terminated
        if terminated or truncated:
            env.reset()
    env.close()


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_task_design_pays_the_gymnasium_reward(env_id: str) -> None:
    task = get_task(env_id)
    design = task.task_design()
    compiled = compile_design(design, features=task.feature_names(), dtype=torch.float64)
    names = sorted(compiled.required_features)
    totals, rewards, direct, terminations = [], [], [], 0
    for before, after, action, reward, info, terminated in _rollout(env_id, STEPS):
        feats = task.features(before, after, action, names)
        assert set(feats) == set(names)
        out = compiled(feats, terminated=np.array([terminated]))
        totals.append(float(out.total[0]))
        rewards.append(float(reward))
        task_r, parts = task.task_reward(before, after, action)
        direct.append(float(task_r[0]))
        for key, value in parts.items():  # the signed parts are Gymnasium's info entries
            assert abs(float(value[0]) - float(info[key])) <= 1e-9, key
        terminations += bool(terminated)
        assert bool(task.terminated(after)[0]) == bool(terminated)
    np.testing.assert_allclose(totals, rewards, rtol=0, atol=1e-6)
    np.testing.assert_allclose(direct, rewards, rtol=0, atol=1e-9)


def test_rollouts_cross_resets_for_terminating_tasks() -> None:
    # The comparison above is only meaningful through resets if some episodes end.
    ends = sum(t for *_, t in _rollout("Hopper-v5", STEPS))
    assert ends >= 2
