"""The ``gymnasium`` export: ``wrap(env)`` puts the design's reward on the task's environment.

The module holds the whole ``python`` export (features from mujoco, the reward) and a
:class:`gymnasium.Wrapper` that replaces the reward, puts each component in
``info["reward_components"]`` and keeps the environment's own reward as
``info["task_reward"]``.
"""

from __future__ import annotations

from typing import Any

from studio.core.design import Design
from studio.export.python_export import format_source, python_parts

_USAGE = '''
Usage::

    import gymnasium as gym
    env = wrap(gym.make("{task}"))   # or simply: env = make()
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    info["reward_components"]   # name -> signed, weighted float; they sum to reward
    info["task_reward"]         # the environment's own reward

Schedules follow ``wrapper.training_step``. Your trainer sets it (with Stable-Baselines3,
from a callback: ``env.set_attr("training_step", self.num_timesteps)``); or
``wrap(env, count_steps=True)`` counts this wrapper's own steps. It stays 0 otherwise, so
that the same seed and actions always give the same rewards (``check_env`` asks that).
The episode memory of events and potential shaping is reset on ``reset()``.
'''

_WRAPPER = '''
# --- the Gymnasium wrapper ---------------------------------------------------------------------

TASK = {task!r}


class DesignRewardWrapper(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Replaces the environment's reward with the design's (see the module docstring)."""

    def __init__(self, env, count_steps=False):
        gymnasium.utils.RecordConstructorArgs.__init__(self, count_steps=count_steps)
        gymnasium.Wrapper.__init__(self, env)
        self.count_steps = count_steps
        unwrapped = env.unwrapped
        if not hasattr(unwrapped, "model") or not hasattr(unwrapped, "data"):
            raise TypeError("wrap() needs a Gymnasium MuJoCo environment (with .model and .data)")
        self.training_step = 0
        self.state = RewardState()

    def reset(self, *, seed=None, options=None):
        """Reset the environment and the reward's episode memory."""
        self.state.reset()
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        """Step the environment; the reward is the design's."""
        unwrapped = self.env.unwrapped
        before = copy.copy(unwrapped.data)
        obs, task_reward, terminated, truncated, info = self.env.step(action)
        total, components = compute_reward(
            unwrapped.model,
            before,
            np.asarray(action, dtype=np.float64),
            unwrapped.data,
            step=self.training_step,
            state=self.state,
            terminated=terminated,
            truncated=truncated,
        )
        if self.count_steps:
            self.training_step += 1
        info = dict(info)
        info["reward_components"] = components
        info["task_reward"] = float(task_reward)
        return obs, total, terminated, truncated, info


def wrap(env, count_steps=False):
    """``env`` with the design's reward; warns when it is not the design's task.

    ``count_steps``: advance ``training_step`` (which schedules follow) on every step.
    """
    spec_id = getattr(getattr(env, "spec", None), "id", None)
    if spec_id is not None and spec_id != TASK:
        import warnings

        warnings.warn(f"this reward was designed for {{TASK}}, not {{spec_id}}", stacklevel=2)
    return DesignRewardWrapper(env, count_steps=count_steps)


def make(count_steps=False, **kwargs):
    """``wrap(gymnasium.make(TASK, **kwargs), count_steps)``."""
    return wrap(gymnasium.make(TASK, **kwargs), count_steps=count_steps)
'''


def export_gymnasium(design: Design, task: Any) -> str:
    """The module with ``wrap(env)`` for ``design`` on ``task``'s Gymnasium environment."""
    parts = python_parts(
        design,
        task,
        kind="Gymnasium wrapper",
        usage=_USAGE.replace("{task}", design.task),
        requires="gymnasium, numpy and mujoco only",
        imports="import copy\n\nimport gymnasium\n",
    )
    parts.append(_WRAPPER.format(task=design.task).strip())
    return format_source("\n\n\n".join(parts) + "\n")
