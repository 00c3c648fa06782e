"""Fast vectorised stepping of a task's environments, Gymnasium-exact.

:class:`VectorEnv` runs ``num_envs`` copies of a :class:`~studio.sim.tasks.Task` and
returns batched observations, the exact Gymnasium task reward, termination and
truncation, and the features a reward design asks for, every step.

>>> env = VectorEnv("HalfCheetah-v5", num_envs=4, seed=0)
>>> env.set_feature_names(["x_velocity", "ctrl_sq"])
>>> obs = env.reset()
>>> res = env.step(np.zeros((4, env.act_dim)))
>>> obs.shape, res.task_reward.shape, sorted(res.features), res.features["ctrl_sq"].tolist()
((4, 17), (4,), ['ctrl_sq', 'x_velocity'], [0.0, 0.0, 0.0, 0.0])
>>> env.close()

How it is fast, and why this design
    The physics runs in :class:`mujoco.batch.Batch` (new in MuJoCo 4): each simulation
    is a row of a state array, stepped ``frame_skip`` substeps at a time on a C++ thread
    pool with the GIL released, and the derived fields we bind (``xpos``, ``cvel``...)
    are copied out into ``[E, ...]`` arrays by the same threads. Python then does a
    constant number of numpy operations per step, whatever the number of
    environments: observation, reward, termination and features are batched
    functions of those arrays. The batch is bit-identical to stepping one ``MjData``
    per environment (the tests compare with Gymnasium to the last bit).

    ``python -m studio.sim.bench_sim`` compares it with the same workload run natively
    (``mujoco.rollout``: the same batch, frame skip and controls, physics only, on as many
    threads), with a Python thread pool over one ``MjData`` per env (``--backends``: its
    per-env control writes and copies hold the GIL) and with Gymnasium's vector envs;
    the README gives the figures with the load average they were measured at. Under
    heavy load from other processes, more threads can be slower than one, because every
    step waits for its slowest thread.

    The batch is *persistent* (one MjData per simulation) so that tasks whose
    observation or features read contact forces (``cfrc_ext``: Ant, Humanoid, contact
    features) can run ``mj_rnePostConstraint`` after the step as Gymnasium does, on a
    copy of the simulation's MjData (``Batch.get_data``): the one per-environment
    Python loop left, paid only by those tasks (about 5-8% for Ant: 9.2k against 9.9k
    env steps/s for 16 envs).

Semantics (identical to ``gym.make(env_id)`` with default kwargs)
    * Actions are not clipped (Gymnasium's MuJoCo envs do not; MuJoCo clamps the
      control to ``ctrlrange`` when the actuator is ``ctrllimited``). They are taken
      as float64: Gymnasium computes control costs in the action's own dtype, so
      float32 actions give costs that differ by float32 rounding (about 1e-7).
    * Seeding: environment ``i`` behaves as ``gym.make(env_id).reset(seed=seed + i)``
      followed by argument-less resets, each with its own numpy Generator.
    * Truncation as TimeLimit: after ``max_episode_steps`` steps (the task's
      registered limit unless given; both flags can be true together).
    * Same-step autoreset: a finished environment is reset inside ``step``; ``obs``
      holds the first observation of its new episode, ``final_obs`` the last one of
      the old episode (``final_obs == obs`` for the others).
    * ``prev_features``: the features of the previous transition, i.e. the state
      features of ``s``; after a reset they are computed on the reset state (with
      ``before = after = reset state`` and a zero action), so velocities and control
      costs are 0 there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import mujoco
import numpy as np
from mujoco import batch as mjbatch

from studio.sim.state import StateBatch
from studio.sim.tasks.base import CONTACT_FIELD, Task

_DERIVED = ("xpos", "xquat", "xipos", "cvel", "actuator_force", "sensordata", "subtree_com", "site_xpos")
_STAGE_NONE = mujoco.mjtStage.mjSTAGE_NONE.value


@dataclass
class StepResult:
    """What one step of all environments returns."""

    obs: np.ndarray
    """[E, obs_dim] observations, after autoreset of finished environments."""
    task_reward: np.ndarray
    """[E] the environment's own reward (Gymnasium-exact)."""
    terminated: np.ndarray
    """bool [E] the episode ended in a terminal state."""
    truncated: np.ndarray
    """bool [E] the episode hit the time limit."""
    final_obs: np.ndarray
    """[E, obs_dim] last observation of finished episodes; equal to ``obs`` elsewhere."""
    features: dict[str, np.ndarray] = field(default_factory=dict)
    """Requested features of the transition (s, a, s'), name -> [E]."""
    prev_features: dict[str, np.ndarray] = field(default_factory=dict)
    """The same features one step earlier (state features of s), name -> [E]."""
    episode_return: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """[E] task-reward return of episodes that ended this step, NaN elsewhere."""
    episode_length: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """[E] length of episodes that ended this step, 0 elsewhere."""
    task_parts: dict[str, np.ndarray] = field(default_factory=dict)
    """Signed, weighted parts of the task reward (Gymnasium's ``reward_*`` info), name -> [E]."""


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _resolve_task(task_or_id: Task | str) -> Task:
    if isinstance(task_or_id, Task):
        return task_or_id
    from studio.sim.registry import get_task

    return get_task(task_or_id)


class VectorEnv:
    """``num_envs`` copies of a task stepped together on a thread pool.

    Tasks that are not steppable from states (a Gymnasium id without a built-in
    adapter, ``task.native`` False) run through one Gymnasium env per environment
    instead: same API and semantics, Gymnasium's speed.

    Args:
        task_or_id: a :class:`Task` or an id/path for :func:`studio.sim.registry.get_task`.
        num_envs: number of environments E.
        seed: environment ``i`` is seeded ``seed + i`` at the first reset.
        threads: physics threads including the caller's (default: min(E, usable cores)).
            On a machine busy with other work, fewer threads can be faster: each step
            waits for its slowest thread.
        max_episode_steps: time limit; None takes the task's registered limit.

    Use an instance from one thread at a time (the batch serialises its calls, and
    ``step`` keeps per-step state).
    """

    def __init__(
        self,
        task_or_id: Task | str,
        num_envs: int,
        seed: int = 0,
        threads: int | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.task = _resolve_task(task_or_id)
        self.num_envs = int(num_envs)
        self.seed = int(seed)
        self.max_episode_steps = (
            self.task.max_episode_steps if max_episode_steps is None else int(max_episode_steps)
        )
        self.threads = int(min(num_envs, usable_cores()) if threads is None else threads)
        m = self.task.model
        self.model = m
        self._scratch = mujoco.MjData(m)
        self._gym_envs: list[Any] | None = None
        if self.task.native:
            self._batch = mjbatch.Batch(m, self.num_envs, nthread=self.threads, persistent=True)
            b = self._batch
            self._qpos, self._qvel, self._ctrl = b.bind("qpos"), b.bind("qvel"), b.bind("ctrl")
            self._time = b.bind("time")
            self._derived = {name: self._bind(name) for name in _DERIVED}
            self._extra = {name: self._bind(name) for name in self.task.extra_fields}
        else:
            self._gym_envs = [self.task.make_env() for _ in range(self.num_envs)]  # type: ignore[attr-defined]
            self._extra = {}
        self._cfrc = np.full((self.num_envs, m.nbody, 6), np.nan)
        self._rngs: list[np.random.Generator] = []
        self._gym_seeds: list[int | None] = []
        self._feature_names: list[str] = []
        self._needs_contact = CONTACT_FIELD in self.task.obs_needs
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._return = np.zeros(self.num_envs)
        self._obs = np.zeros((self.num_envs, self.task.obs_dim))
        self._before: StateBatch | None = None
        self._prev: dict[str, np.ndarray] = {}
        self._data_views: _DataViews | None = None
        self._closed = False

    # -- set-up ------------------------------------------------------------------------------

    def _bind(self, name: str) -> np.ndarray:
        template = np.asarray(getattr(self._scratch, name))
        if template.size == 0:  # nothing to copy out (no sites, no sensors)
            return np.zeros((self.num_envs, *template.shape))
        return np.asarray(self._batch.bind(name))

    @property
    def obs_dim(self) -> int:
        """Observation size."""
        return self.task.obs_dim

    @property
    def act_dim(self) -> int:
        """Action size."""
        return self.task.act_dim

    @property
    def action_low(self) -> np.ndarray:
        """[act_dim] lower action bounds (float32, -inf where the actuator is unlimited)."""
        return self.task.action_low

    @property
    def action_high(self) -> np.ndarray:
        """[act_dim] upper action bounds (float32, +inf where the actuator is unlimited)."""
        return self.task.action_high

    @property
    def dt(self) -> float:
        """Seconds of simulated time per step."""
        return self.task.dt

    def set_feature_names(self, names: Iterable[str]) -> None:
        """Compute these features every step (e.g. a compiled design's ``required_features``)."""
        wanted = sorted(set(names))
        self.task.check_features(wanted)
        self._feature_names = wanted
        self._needs_contact = CONTACT_FIELD in (self.task.obs_needs | self.task.state_feature_fields(wanted))
        if self._before is not None:
            if self._needs_contact and self._gym_envs is None:
                # What Gymnasium's MjData holds: post-step forces, or zeros right after a reset.
                stepped = self._elapsed > 0
                self._refresh_contacts(np.flatnonzero(stepped), post=True)
                self._refresh_contacts(np.flatnonzero(~stepped), post=False)
                self._before = self._current().copy_all()
            zeros = np.zeros((self.num_envs, self.act_dim))
            self._prev = self.task.features(self._before, self._before, zeros, wanted)

    @property
    def feature_names(self) -> list[str]:
        """The features computed every step."""
        return list(self._feature_names)

    # -- state -------------------------------------------------------------------------------

    def _current(self) -> _LiveState:
        """The current states of all environments (live arrays for the batch)."""
        if self._gym_envs is not None:
            s = StateBatch.from_datas([e.data for e in self._gym_envs])
            return _LiveState(**s.__dict__)
        d = self._derived
        return _LiveState(
            qpos=self._qpos, qvel=self._qvel, xpos=d["xpos"], xquat=d["xquat"], xipos=d["xipos"],
            cvel=d["cvel"], cfrc_ext=self._cfrc, ctrl=self._ctrl, actuator_force=d["actuator_force"],
            sensordata=d["sensordata"], subtree_com=d["subtree_com"], site_xpos=d["site_xpos"],
            time=self._time,
        )

    def _refresh_contacts(self, ids: np.ndarray, post: bool) -> None:
        """Fill ``cfrc_ext`` rows from each simulation's MjData (after ``mj_rnePostConstraint``)."""
        scratch = self._scratch
        for i in ids:
            self._batch.get_data(int(i), scratch)
            if post:
                mujoco.mj_rnePostConstraint(self.model, scratch)
            self._cfrc[i] = scratch.cfrc_ext

    def _reset_rows(self, ids: np.ndarray) -> np.ndarray:
        """New episodes for rows ``ids`` (Gymnasium's reset); returns their observations."""
        self._elapsed[ids] = 0
        self._return[ids] = 0.0
        if self._gym_envs is not None:
            out = []
            for i in ids:
                seed, self._gym_seeds[i] = self._gym_seeds[i], None
                out.append(self._gym_envs[i].reset(seed=seed)[0])
            return np.stack(out).astype(np.float64)
        starts = [self.task.sample_reset(self._rngs[i]) for i in ids]
        self._batch.reset(ids, stage=_STAGE_NONE)
        self._qpos[ids] = np.stack([s[0] for s in starts])
        self._qvel[ids] = np.stack([s[1] for s in starts])
        self._batch.forward(ids)
        if self._needs_contact:
            self._refresh_contacts(ids, post=False)
        state = self._current().select(ids)
        return self.task.observation(state, {k: v[ids] for k, v in self._extra.items()})

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start new episodes in every environment; returns observations [E, obs_dim].

        With ``seed`` (or at the first reset, the constructor's seed) environment ``i``
        is reseeded ``seed + i``; otherwise each continues its own random stream.
        """
        if seed is not None or not self._rngs:
            base = self.seed if seed is None else int(seed)
            self._rngs = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(base + i)))
                          for i in range(self.num_envs)]
            self._gym_seeds = [base + i for i in range(self.num_envs)]
        obs = self._reset_rows(np.arange(self.num_envs))
        self._before = self._current().copy_all()
        zeros = np.zeros((self.num_envs, self.act_dim))
        self._prev = self.task.features(self._before, self._before, zeros, self._feature_names)
        return obs

    def _advance(
        self, actions: np.ndarray
    ) -> tuple[StateBatch, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Step the physics; (after, obs, reward, parts, terminated)."""
        task = self.task
        if self._gym_envs is not None:
            outs = [env.step(a) for env, a in zip(self._gym_envs, actions, strict=True)]
            after = self._current()
            obs = np.stack([o[0] for o in outs]).astype(np.float64)
            reward = np.array([o[1] for o in outs], dtype=np.float64)
            terminated = np.array([bool(o[2]) for o in outs])
            return after, obs, reward, {}, terminated
        self._ctrl[:] = actions
        self._batch.step(nstep=task.frame_skip)
        if self._needs_contact:
            self._refresh_contacts(np.arange(self.num_envs), post=True)
        after = self._current()
        obs = task.observation(after, self._extra)
        reward, parts = task.task_reward(self._before, after, actions)  # type: ignore[arg-type]
        return after, obs, reward, parts, task.terminated(after)

    def step(self, actions: np.ndarray) -> StepResult:
        """Apply ``actions`` [E, act_dim] for one control step (``frame_skip`` physics steps)."""
        if self._before is None:
            raise RuntimeError("call reset() before step()")
        task, before, E = self.task, self._before, self.num_envs
        actions = np.asarray(actions, dtype=np.float64).reshape(E, self.act_dim)
        after, obs, reward, parts, terminated = self._advance(actions)
        names = self._feature_names
        feats = task.features(before, after, actions, names) if names else {}
        prev = self._prev

        self._elapsed += 1
        self._return += reward
        if self.max_episode_steps is None:
            truncated = np.zeros(E, dtype=bool)
        else:
            truncated = self._elapsed >= self.max_episode_steps
        done = terminated | truncated
        ep_return = np.full(E, np.nan)
        ep_length = np.zeros(E, dtype=np.int64)
        final_obs = obs
        self._prev = feats
        if done.any():
            ids = np.flatnonzero(done)
            ep_return[ids] = self._return[ids]
            ep_length[ids] = self._elapsed[ids]
            final_obs = obs.copy()
            obs[ids] = self._reset_rows(ids)
            if names:
                reset_state = self._current().select(ids)
                zeros = np.zeros((ids.size, self.act_dim))
                self._prev = {k: v.copy() for k, v in feats.items()}
                for k, v in task.features(reset_state, reset_state, zeros, names).items():
                    self._prev[k][ids] = v
        self._before = self._current().copy_all()
        return StepResult(
            obs=obs, task_reward=reward, terminated=terminated, truncated=truncated,
            final_obs=final_obs, features=feats, prev_features=prev,
            episode_return=ep_return, episode_length=ep_length, task_parts=parts,
        )

    # -- rendering and clean-up ----------------------------------------------------------------

    def data(self, index: int = 0, out: mujoco.MjData | None = None) -> mujoco.MjData:
        """Environment ``index``'s whole current MjData, copied into ``out`` (or a new one)."""
        out = mujoco.MjData(self.model) if out is None else out
        if self._gym_envs is not None:
            mujoco.mj_copyData(out, self.model, self._gym_envs[index].data)
            return out
        return self._batch.get_data(int(index), out)

    @property
    def datas(self) -> Sequence[mujoco.MjData]:
        """Per-environment MjData snapshots, e.g. ``env.datas[0]`` to render env 0.

        Indexing copies that environment's current state into an MjData kept for it
        (no allocation after the first time); the snapshot does not follow later steps.
        """
        if self._data_views is None:
            self._data_views = _DataViews(self)
        return self._data_views

    def close(self) -> None:
        """Release the thread pool and the simulations."""
        if self._closed:
            return
        self._closed = True
        if self._gym_envs is not None:
            for env in self._gym_envs:
                env.close()
        else:
            del self._batch

    def __enter__(self) -> VectorEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _DataViews(Sequence[mujoco.MjData]):
    """``VectorEnv.datas``: one reusable MjData per environment, refreshed when indexed."""

    def __init__(self, env: VectorEnv) -> None:
        self._env = env
        self._datas: dict[int, mujoco.MjData] = {}

    def __len__(self) -> int:
        return self._env.num_envs

    @overload
    def __getitem__(self, index: int) -> mujoco.MjData: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[mujoco.MjData]: ...

    def __getitem__(self, index: int | slice) -> mujoco.MjData | Sequence[mujoco.MjData]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index) + (len(self) if index < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(f"environment index {index} out of range for {len(self)} envs")
        data = self._datas.get(i)
        if data is None:
            data = self._datas[i] = mujoco.MjData(self._env.model)
        return self._env.data(i, data)


class _LiveState(StateBatch):
    """A StateBatch over the batch's live arrays; :meth:`copy_all` freezes it."""

    def copy_all(self) -> StateBatch:
        """A StateBatch of copies, safe from the next step."""
        return StateBatch(**{k: np.array(v, copy=True) for k, v in self.__dict__.items()})
