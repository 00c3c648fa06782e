"""Tasks the user adds: any Gymnasium MuJoCo env id, or an MJCF file.

* :class:`MjcfTask`: a bare model. Automatic features only, no task reward,
  observation ``concat(qpos, qvel)``, never terminates, ``frame_skip`` 5 by default.
* :class:`GymEnvTask`: a Gymnasium env id without a built-in adapter. Automatic
  features from its model; its reward, observation and termination are the env's own
  (no decomposition), so it is stepped through Gymnasium instances (``native`` False).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from typing import Any

import mujoco

from studio.sim.tasks.base import Task


class MjcfError(ValueError):
    """An MJCF file MuJoCo cannot compile; the message names the file and MuJoCo's error.

    ``user_facing``: the CLI and the app print it as it is, without a traceback.
    """

    user_facing = True


class MjcfTask(Task):
    """A task over a bare MJCF model: automatic features, no task reward."""

    def __init__(self, path: str, frame_skip: int = 5, max_episode_steps: int | None = 1000) -> None:
        full = os.path.abspath(os.path.expanduser(path))
        if not os.path.exists(full):
            raise FileNotFoundError(errno.ENOENT, f"MJCF file {path!r} not found", full)
        try:
            model = mujoco.MjModel.from_xml_path(full)
        except (ValueError, OSError, UnicodeError) as exc:
            detail = " ".join(str(exc).split())  # MuJoCo's message spans lines
            raise MjcfError(f"{path}: MuJoCo could not compile the model: {detail}. Fix the "
                            "file (mujoco's `simulate` shows the same error) or choose another "
                            "task.") from None
        super().__init__(
            path, model, frame_skip, max_episode_steps=max_episode_steps, reset_noise_scale=0.1, model_path=full
        )
        self.title = f"the MuJoCo model {os.path.basename(full)}"


class GymEnvTask(Task):
    """A Gymnasium MuJoCo env without a built-in adapter, stepped through Gymnasium itself."""

    native = False

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None) -> None:
        import gymnasium as gym
        from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

        self.env_kwargs = dict(env_kwargs or {})
        env = gym.make(env_id, **self.env_kwargs)
        try:
            raw = env.unwrapped
            if not isinstance(raw, MujocoEnv):
                raise ValueError(f"{env_id} is a Gymnasium env but not a MuJoCo one ({type(raw).__name__})")
            limit = env.spec.max_episode_steps if env.spec is not None else None
            model = mujoco.MjModel.from_xml_path(raw.fullpath)
            shape = env.observation_space.shape
            if not shape or len(shape) != 1:
                raise ValueError(f"{env_id}: expected a flat Box observation space, got {env.observation_space}")
            self._obs_dim = int(shape[0])
            super().__init__(
                env_id, model, raw.frame_skip, max_episode_steps=limit, model_path=raw.fullpath
            )
            self.title = f"Gymnasium's {env_id} (its own reward, not decomposed)"
        finally:
            env.close()

    def _probe_obs_dim(self) -> int:
        return self._obs_dim

    def make_env(self) -> Any:
        """A fresh Gymnasium env of this task, without a TimeLimit (the vector layer counts steps)."""
        import gymnasium as gym

        return gym.make(self.env_id, max_episode_steps=None, **self.env_kwargs).unwrapped

    def observation_layout(self) -> list[tuple[str, int]]:
        return [("the environment's own observation (see its documentation)", self.obs_dim)]


class UnknownTaskError(KeyError):
    """A task id that names no task; a ``KeyError`` whose message reads as one line.

    ``user_facing``: the CLI and the app print it as it is, without a traceback.
    """

    user_facing = True

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown task"


def gym_task(env_id: str, known: Sequence[str] = ()) -> Task:
    """A generic task for a Gymnasium id; an unknown id is reported with the known ones."""
    import gymnasium as gym

    if env_id not in gym.registry:
        hint = f" Registered tasks: {', '.join(known)}." if known else ""
        raise UnknownTaskError(
            f"unknown task {env_id!r}: not a registered task, a Gymnasium env id, or an MJCF file path.{hint}"
        )
    return GymEnvTask(env_id)
