"""Common ground of the built-in adapters of Gymnasium's MuJoCo v5 environments.

Each adapter loads the environment's own XML asset, takes Gymnasium's default keyword
arguments as class constants (reward weights, health ranges, reset noise) and
reimplements ``step``/``reset_model`` as batched functions of states. The test
``tests/sim/test_from_task.py`` checks every adapter against the real environment.
"""

from __future__ import annotations

import os
from functools import cache

import mujoco
import numpy as np

from studio.sim.state import StateBatch
from studio.sim.tasks.base import Task, body_id


@cache
def gym_asset_path(xml_file: str) -> str:
    """Absolute path of one of Gymnasium's MuJoCo XML assets."""
    import gymnasium.envs.mujoco as gm

    path = os.path.join(os.path.dirname(gm.__file__), "assets", xml_file)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Gymnasium asset {xml_file!r} not found at {path}: check the gymnasium install")
    return path


def registered_limit(env_id: str, default: int | None = 1000) -> int | None:
    """The ``max_episode_steps`` Gymnasium registers for ``env_id`` (its TimeLimit)."""
    import gymnasium as gym

    try:
        return gym.spec(env_id).max_episode_steps
    except Exception:  # an unregistered id: keep the default
        return default


class GymTask(Task):
    """A built-in adapter of a Gymnasium MuJoCo v5 environment (default kwargs)."""

    ENV_ID = ""
    XML = ""
    FRAME_SKIP = 5
    RESET_NOISE_SCALE = 0.1
    has_task_reward = True

    def __init__(self) -> None:
        path = gym_asset_path(self.XML)
        model = mujoco.MjModel.from_xml_path(path)
        super().__init__(
            self.ENV_ID,
            model,
            self.FRAME_SKIP,
            max_episode_steps=registered_limit(self.ENV_ID),
            reset_noise_scale=self.RESET_NOISE_SCALE,
            model_path=path,
        )

    def body(self, name: str) -> int:
        """Body id by name."""
        return body_id(self.model, name)


# -- small helpers shared by the adapters ---------------------------------------------------------


def dx_dt(before: np.ndarray, after: np.ndarray, dt: float) -> np.ndarray:
    """``(after - before) / dt`` as Gymnasium computes velocities from positions."""
    return np.asarray((after - before) / dt)


def upright(state: StateBatch, body: int) -> np.ndarray:
    """z component of a body's local z axis in the world (1 upright, -1 upside down)."""
    q = state.xquat[:, body, :]
    return np.asarray(1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2))


def uniform_reset(task: Task, rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """qpos and qvel plus U(-scale, scale) noise, positions drawn first (most v5 tasks)."""
    qpos = task.init_qpos + rng.uniform(low=-scale, high=scale, size=task.model.nq)
    qvel = task.init_qvel + rng.uniform(low=-scale, high=scale, size=task.model.nv)
    return qpos, qvel


def normal_vel_reset(task: Task, rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """qpos plus U(-scale, scale), qvel plus scale * N(0, 1) (HalfCheetah, Ant)."""
    qpos = task.init_qpos + rng.uniform(low=-scale, high=scale, size=task.model.nq)
    qvel = task.init_qvel + scale * rng.standard_normal(task.model.nv)
    return qpos, qvel
