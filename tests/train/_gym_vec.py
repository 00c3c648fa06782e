"""A small Gymnasium-backed stand-in for ``studio.sim.vector.VectorEnv``, for the train tests.

It has the same interface (``reset``, ``set_feature_names``, ``step`` -> :class:`StepResult`
with same-step autoreset, ``final_obs``, transition features and episode statistics) but
steps plain Gymnasium environments one after the other. Features are the numeric entries of
Gymnasium's ``info`` plus ``alive`` (1 unless the transition terminated), ``qpos_<i>`` and
``qvel_<i>`` of the next state.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from studio.core.design import Design, Group, Term
from studio.sim.vector import StepResult

TASK_DESIGNS = {
    "InvertedPendulum-v5": [Term("alive", "alive")],
    "HalfCheetah-v5": [Term("forward", "x_velocity"), Term("ctrl", "ctrl_cost", weight=-0.1)],
}


def task_design(env_id: str) -> Design:
    """The task's own reward as a design (what ``Task.task_design()`` gives)."""
    return Design(f"{env_id} task", env_id, Group("reward", list(TASK_DESIGNS[env_id])))


class GymVectorEnv:
    """``VectorEnv(task_or_id, num_envs, seed, threads, max_episode_steps)`` over Gymnasium."""

    def __init__(
        self,
        task_or_id: str,
        num_envs: int,
        seed: int = 0,
        threads: int | None = None,
        max_episode_steps: int = 1000,
    ) -> None:
        self.envs = [gym.make(task_or_id, max_episode_steps=max_episode_steps) for _ in range(num_envs)]
        self.num_envs = num_envs
        self.seed = seed
        space = self.envs[0].action_space
        self.obs_dim = int(np.prod(self.envs[0].observation_space.shape))
        self.act_dim = int(np.prod(space.shape))
        self.action_low = np.asarray(space.low, dtype=np.float64)
        self.action_high = np.asarray(space.high, dtype=np.float64)
        self.names: list[str] = []
        self._ret = np.zeros(num_envs)
        self._len = np.zeros(num_envs, dtype=np.int64)
        self._prev: list[dict[str, float]] = [{} for _ in range(num_envs)]

    @property
    def datas(self) -> list:
        """The MjData of every env."""
        return [e.unwrapped.data for e in self.envs]

    def set_feature_names(self, names: Sequence[str]) -> None:
        """Compute only these features from now on."""
        self.names = list(names)

    def _feats(self, i: int, info: dict, terminated: bool, action: np.ndarray) -> dict[str, float]:
        data = self.envs[i].unwrapped.data
        out = {k: float(v) for k, v in info.items() if np.ndim(v) == 0}
        out["alive"] = 0.0 if terminated else 1.0
        out["ctrl_cost"] = float(np.sum(np.square(action)))
        out.update({f"qpos_{j}": float(x) for j, x in enumerate(data.qpos)})
        out.update({f"qvel_{j}": float(x) for j, x in enumerate(data.qvel)})
        return out

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Reset every env; env i is seeded with ``seed + i``."""
        base = self.seed if seed is None else seed
        obs = [e.reset(seed=base + i)[0] for i, e in enumerate(self.envs)]
        self._ret[:] = 0
        self._len[:] = 0
        self._prev = [{} for _ in self.envs]
        return np.stack(obs).astype(np.float64)

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every env, resetting the ones whose episode ended in the same call."""
        n = self.num_envs
        obs = np.zeros((n, self.obs_dim))
        final_obs = np.zeros((n, self.obs_dim))
        rew = np.zeros(n)
        term = np.zeros(n, dtype=bool)
        trunc = np.zeros(n, dtype=bool)
        ep_ret = np.full(n, np.nan)
        ep_len = np.zeros(n, dtype=np.int64)
        feats = {k: np.zeros(n) for k in self.names}
        prev = {k: np.zeros(n) for k in self.names}
        for i, env in enumerate(self.envs):
            a = np.clip(actions[i], self.action_low, self.action_high)
            o, r, te, tr, info = env.step(a)
            f = self._feats(i, info, te, a)
            for k in self.names:
                feats[k][i] = f[k]
                prev[k][i] = self._prev[i].get(k, f[k])
            self._prev[i] = f
            rew[i], term[i], trunc[i] = r, te, tr
            self._ret[i] += r
            self._len[i] += 1
            final_obs[i] = o
            if te or tr:
                ep_ret[i], ep_len[i] = self._ret[i], self._len[i]
                self._ret[i], self._len[i] = 0.0, 0
                self._prev[i] = {}
                o, _ = env.reset()
            obs[i] = o
        return StepResult(obs, rew, term, trunc, final_obs, feats, prev, ep_ret, ep_len)

    def close(self) -> None:
        """Close every env."""
        for e in self.envs:
            e.close()
