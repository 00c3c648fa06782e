"""A recorded episode's simulator states, and features recomputed from them with no simulation.

What a step's features read is not one stored state. They are functions of the
transition ``(s, a, s')`` as :class:`~studio.sim.vector.VectorEnv` holds it after the step
(see :mod:`studio.sim.tasks.base`): ``qpos``/``qvel`` of the new state, but derived
quantities (``xpos``, ``cvel``, ``sensordata``, contact forces...) computed by MuJoCo at
the start of the *last physics substep*, as ``mj_step`` leaves them and Gymnasium reads
them. So a trace stores, per step:

* ``qpos``, ``qvel``, ``act``, ``qacc_warmstart``, ``time`` ``[T + 1]``: row 0 the start
  state, row ``t + 1`` the state after step ``t`` (before any reset);
* the same fields as ``fwd_*`` ``[T]``: the state at the start of step ``t``'s last
  substep, which ``mj_forward`` (plus ``mj_rnePostConstraint`` for contact forces) turns
  into exactly the derived quantities seen live; with the RK4 integrator, that one
  substep is replayed instead, since RK4 leaves the quantities of its last stage;
* ``reset_*`` ``[K]`` and ``reset_steps`` ``[K]``: the start state of each episode that
  begins inside the trace, and the step it begins at.

:class:`StateCapture` fills these while an environment is stepped (a shadow ``MjData``
replays each step's substeps from the full state, which is bit-identical to the vector
env's batch), :func:`transition_states` rebuilds the ``before``/``after``
:class:`~studio.sim.state.StateBatch` of every step with MuJoCo forward kinematics only,
and :class:`TraceFeatures` evaluates the task's own feature functions on them, cached per
feature name. Warm-start accelerations are kept so that the constraint solver starts
where it did live: the contact forces then match to the last bits, not just to the
solver's tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from studio.sim.state import StateBatch
from studio.sim.tasks.base import Task

__all__ = [
    "STATE_FIELDS", "StateCapture", "TraceFeatures", "after_states", "before_states",
    "stored_arrays", "transition_states",
]

STATE_FIELDS = ("qpos", "qvel", "act", "qacc_warmstart", "time")
"""The MjData fields a stored state holds (the rest is the model's default)."""

_DERIVED = ("xpos", "xquat", "xipos", "cvel", "cfrc_ext", "actuator_force", "sensordata",
            "subtree_com", "site_xpos")


def _read(data: mujoco.MjData) -> dict[str, np.ndarray]:
    return {k: np.array(getattr(data, k), dtype=np.float64, copy=True) for k in STATE_FIELDS}


def _write(data: mujoco.MjData, row: Mapping[str, np.ndarray]) -> None:
    for k in STATE_FIELDS:
        if k == "time":
            data.time = float(row[k])
        elif k in row:
            getattr(data, k)[:] = row[k]


class StateCapture:
    """Collects the states of one environment while it is stepped (see the module doc).

    Call :meth:`start` with the environment's ``MjData`` after a reset (the start of
    every episode), then :meth:`step` with each action after the environment stepped;
    :meth:`arrays` returns what to store.

    Args:
        model: the task's model.
        frame_skip: physics substeps per environment step.
    """

    def __init__(self, model: mujoco.MjModel, frame_skip: int) -> None:
        self.model = model
        self.frame_skip = int(frame_skip)
        self._shadow = mujoco.MjData(model)
        self._rows: list[dict[str, np.ndarray]] = []
        self._fwd: list[dict[str, np.ndarray]] = []
        self._resets: list[dict[str, np.ndarray]] = []
        self._reset_steps: list[int] = []
        self._current: dict[str, np.ndarray] | None = None

    def start(self, data: mujoco.MjData) -> None:
        """A new episode starts from ``data``'s state (step 0, or after an autoreset)."""
        state = _read(data)
        if not self._rows:
            self._rows.append(state)
        else:
            self._resets.append(state)
            self._reset_steps.append(len(self._fwd))
        self._current = state

    def step(self, action: np.ndarray, live: mujoco.MjData | None = None) -> dict[str, np.ndarray]:
        """Replay one step from the current state with ``action``; returns the state after it.

        ``live``: the environment's own ``MjData`` after the step when the episode goes
        on (not after an autoreset). Its state becomes the stored one, so the trace
        follows the environment even if the shadow replay ever drifted from it.
        """
        if self._current is None:
            raise RuntimeError("call StateCapture.start() with the reset state first")
        d, m = self._shadow, self.model
        mujoco.mj_resetData(m, d)
        _write(d, self._current)
        d.ctrl[:] = np.asarray(action, dtype=np.float64).reshape(-1)
        if self.frame_skip > 1:
            mujoco.mj_step(m, d, nstep=self.frame_skip - 1)
        self._fwd.append(_read(d))
        mujoco.mj_step(m, d)
        after = _read(live if live is not None else d)
        self._rows.append(after)
        self._current = after
        return after

    def __len__(self) -> int:
        return len(self._fwd)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{field, fwd_field, reset_field, reset_steps}`` arrays for the steps taken."""
        out: dict[str, np.ndarray] = {}
        for k in STATE_FIELDS:
            out[k] = np.stack([r[k] for r in self._rows])
            out[f"fwd_{k}"] = (np.stack([r[k] for r in self._fwd]) if self._fwd
                               else np.zeros((0, *out[k].shape[1:])))
            out[f"reset_{k}"] = (np.stack([r[k] for r in self._resets]) if self._resets
                                 else np.zeros((0, *out[k].shape[1:])))
        out["reset_steps"] = np.asarray(self._reset_steps, dtype=np.int64)
        return out


def _derive(model: mujoco.MjModel, rows: Mapping[str, np.ndarray], ctrl: np.ndarray,
            substep: bool) -> dict[str, np.ndarray]:
    """Derived quantities of each stored state, as MuJoCo leaves them.

    ``substep``: the state is the start of a step's last substep, and the quantities are
    those ``mj_step`` leaves after it (plus ``mj_rnePostConstraint`` for contact forces).
    With the Euler and implicit integrators (HalfCheetah, Swimmer...) they come from the
    step's forward pass, so ``mj_forward`` on the stored state gives them. With RK4
    (Hopper, Walker2d, Ant, Humanoid...) they come from the last Runge-Kutta stage, which
    no stored state holds, so that one substep runs. Otherwise the state is an episode's
    reset state, read after ``mj_forward`` as :class:`~studio.sim.vector.VectorEnv` reads it.
    """
    n = int(rows["qpos"].shape[0])
    d = mujoco.MjData(model)
    out = {k: np.zeros((n, *np.shape(getattr(d, k)))) for k in _DERIVED}
    # Every row overwrites the whole state and the control; the other inputs (applied
    # forces, mocap poses) stay at their defaults, which stepping never changes.
    qpos, qvel, act, warm, time = (rows[k] for k in STATE_FIELDS)
    views = [(out[k], getattr(d, k)) for k in _DERIVED]
    rk4 = substep and model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
    for i in range(n):
        d.qpos[:], d.qvel[:], d.act[:], d.qacc_warmstart[:] = qpos[i], qvel[i], act[i], warm[i]
        d.time = float(time[i])
        d.ctrl[:] = ctrl[i]
        if rk4:
            mujoco.mj_step(model, d)
        else:
            mujoco.mj_forward(model, d)
        if substep:
            mujoco.mj_rnePostConstraint(model, d)
        for dst, src in views:
            dst[i] = src
    return out


def _batch(derived: Mapping[str, np.ndarray], qpos: np.ndarray, qvel: np.ndarray,
           ctrl: np.ndarray, time: np.ndarray) -> StateBatch:
    return StateBatch(qpos=qpos, qvel=qvel, ctrl=ctrl, time=time,
                      **{k: derived[k] for k in _DERIVED})


def after_states(model: mujoco.MjModel, stored: Mapping[str, np.ndarray],
                 actions: np.ndarray) -> tuple[StateBatch, StateBatch, np.ndarray]:
    """``(after[T], starts[S], start_steps[S])`` rebuilt from stored states.

    ``after`` is each step's state as the live environment held it after the step;
    ``starts`` the reset state of every episode (step 0 included), beginning at
    ``start_steps``. MuJoCo computes the derived quantities (see :func:`_derive`); the
    episode is not simulated again.
    """
    actions = np.asarray(actions, dtype=np.float64).reshape(len(stored["fwd_qpos"]), -1)
    n = actions.shape[0]
    fwd = {k: stored[f"fwd_{k}"] for k in STATE_FIELDS}
    derived = _derive(model, fwd, actions, substep=True)
    after = _batch(derived, stored["qpos"][1:n + 1], stored["qvel"][1:n + 1], actions,
                   stored["time"][1:n + 1])
    start_steps = np.concatenate([[0], stored["reset_steps"]]).astype(np.int64)
    start_rows = {k: np.concatenate([stored[k][:1], stored[f"reset_{k}"]]) for k in STATE_FIELDS}
    zeros = np.zeros((start_steps.size, model.nu))
    sdev = _derive(model, start_rows, zeros, substep=False)
    starts = _batch(sdev, start_rows["qpos"], start_rows["qvel"], zeros, start_rows["time"])
    return after, starts, start_steps


def before_states(after: StateBatch, starts: StateBatch, start_steps: np.ndarray) -> StateBatch:
    """``before[t]``: ``after[t - 1]``, or the reset state where an episode starts at ``t``."""
    n = after.size
    src = np.maximum(np.arange(n) - 1, 0)
    fields: dict[str, np.ndarray] = {}
    for k, v in after.__dict__.items():
        col = v[src]  # a gathered copy
        first = starts.__dict__[k]
        for j, t in enumerate(start_steps):
            if t < n:
                col[t] = first[j]
        fields[k] = col
    return StateBatch(**fields)


def transition_states(model: mujoco.MjModel, stored: Mapping[str, np.ndarray],
                      actions: np.ndarray) -> tuple[StateBatch, StateBatch, StateBatch, np.ndarray]:
    """``(before[T], after[T], starts[S], start_steps[S])``: :func:`after_states` and
    :func:`before_states` together."""
    after, starts, start_steps = after_states(model, stored, actions)
    return before_states(after, starts, start_steps), after, starts, start_steps


@dataclass
class TraceFeatures:
    """Features of a stored trace, recomputed on demand and cached per name.

    Args:
        task: the task the trace was recorded on.
        stored: the state arrays of :class:`StateCapture`.
        actions: [T, act_dim] the actions applied.
    """

    task: Task
    stored: Mapping[str, np.ndarray]
    actions: np.ndarray
    _states: tuple[StateBatch, StateBatch, np.ndarray] | None = None
    _cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def length(self) -> int:
        """Number of steps."""
        return int(np.shape(self.actions)[0])

    def warm(self) -> None:
        """Compute the states now (once), so that later feature requests are quick."""
        if self._states is None:
            self._states = after_states(self.task.model, self.stored, self.actions)

    def states(self) -> tuple[StateBatch, StateBatch, StateBatch, np.ndarray]:
        """:func:`transition_states` of the trace.

        Only ``after`` and the reset states are kept (computed once); ``before`` is
        gathered from them on each call, which halves what a cached rollout holds.
        """
        self.warm()
        assert self._states is not None
        after, starts, start_steps = self._states
        return before_states(after, starts, start_steps), after, starts, start_steps

    def features(self, names: Iterable[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(features, prev_features)``: name -> [T] as the live env gave them each step.

        ``prev_features[t]`` is ``features[t - 1]``, or at an episode's first step the
        features of its reset state (before = after = reset, zero action), as in
        :class:`~studio.sim.vector.VectorEnv`.
        """
        wanted = list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in self._cache]
        if missing:
            self.task.check_features(missing)
            before, after, starts, start_steps = self.states()
            act = np.asarray(self.actions, dtype=np.float64).reshape(self.length, -1)
            feats = self.task.features(before, after, act, missing)
            zeros = np.zeros((starts.size, act.shape[1]))
            at_start = self.task.features(starts, starts, zeros, missing)
            for n in missing:
                prev = np.concatenate([feats[n][:1], feats[n][:-1]])
                for j, t in enumerate(start_steps):
                    if t < self.length:
                        prev[t] = at_start[n][j]
                self._cache[n] = (feats[n], prev)
        return ({n: self._cache[n][0] for n in wanted}, {n: self._cache[n][1] for n in wanted})

    def task_reward(self) -> np.ndarray:
        """[T] the task's own reward recomputed from the states."""
        before, after, _, _ = self.states()
        reward, _ = self.task.task_reward(before, after, np.asarray(self.actions, np.float64))
        return np.asarray(reward, dtype=np.float64)


def stored_arrays(source: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The state arrays of a trace file's contents (keys of :meth:`StateCapture.arrays`)."""
    keys = [*STATE_FIELDS, *(f"fwd_{k}" for k in STATE_FIELDS),
            *(f"reset_{k}" for k in STATE_FIELDS), "reset_steps"]
    missing = [k for k in keys if k not in source]
    if missing:
        raise KeyError(f"the trace holds no {', '.join(missing)}: it was recorded before "
                       "states were stored; record the rollout again")
    return {k: np.asarray(source[k]) for k in keys}
