"""Record what a policy does under a design: per-step features, term values and task reward.

:func:`record_rollout` steps one environment of a task with a policy (random, zero, or any
callable such as :func:`policy_from_snapshot`), and evaluates the design on every
transition. The :class:`RolloutTrace` it returns feeds the plots (per-term time series,
histograms, statistics), the detectors, and replay in the viewer (``qpos``/``qvel``).
It also keeps the simulator states of every step (:class:`studio.sim.trace.StateCapture`),
from which any feature can be recomputed later without simulating
(:class:`studio.sim.trace.TraceFeatures`).
It is a plain function with an Orange-style ``state`` for progress and cancellation, so the
UI runs it in a worker thread and tests call it directly.

>>> trace = record_rollout("InvertedPendulum-v5", None, steps=5, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from studio.app.policies import (
    CheckpointFileError,
    Policy,
    policy_from_checkpoint,
    policy_from_snapshot,
    random_policy,
    zero_policy,
)
from studio.core.compile import compile_design
from studio.core.design import Design
from studio.sim.actions import action_bounds, sampling_bounds
from studio.sim.trace import StateCapture
from studio.train.envs import make_env  # the one way to build a vector env (training's)

__all__ = [
    "CheckpointFileError", "Policy", "RolloutTrace", "action_bounds", "evaluate_features", "evaluate_trace", "load_task", "make_env", "policy_from_checkpoint",
    "policy_from_snapshot", "random_policy", "record_rollout", "zero_policy",
]

class _State(Protocol):
    def set_progress(self, percent: float) -> None: ...
    def is_interruption_requested(self) -> bool: ...


# --- environments ------------------------------------------------------------------------------


def load_task(task_or_id: Any) -> Any:
    """The task object for an env id (``studio.sim.registry.get_task``), or ``task_or_id`` itself.

    Returns the id unchanged when the task registry is not available, so that
    :func:`make_env` can fall back to plain Gymnasium.
    """
    if not isinstance(task_or_id, str):
        return task_or_id
    try:
        from studio.sim.registry import get_task
    except ImportError:
        return task_or_id
    return get_task(task_or_id)


def task_env_id(task: Any) -> str:
    """The env id of a task object or id."""
    return task if isinstance(task, str) else str(getattr(task, "env_id", task))


def env_model(env: Any) -> Any:
    """The ``MjModel`` behind a vector env."""
    model = getattr(env, "model", None)
    if model is None:
        task = getattr(env, "task", None)
        model = getattr(task, "model", None)
    if model is None:
        raise AttributeError("the env exposes no MuJoCo model (.model or .task.model)")
    return model


# --- recording ---------------------------------------------------------------------------------


@dataclass
class RolloutTrace:
    """One rollout of ``steps`` transitions (episodes may restart inside it)."""

    env_id: str
    features: dict[str, np.ndarray]
    """Feature name -> [T] values of s' (what the design read)."""
    values: dict[str, np.ndarray]
    """Term -> [T] shaped, unweighted value."""
    components: dict[str, np.ndarray]
    """Component -> [T] signed, weighted contribution; their sum is ``total``."""
    total: np.ndarray
    """[T] the design's reward."""
    task_reward: np.ndarray
    """[T] the task's own reward (the task score per step)."""
    terminated: np.ndarray
    truncated: np.ndarray
    actions: np.ndarray
    """[T, act_dim]"""
    obs: np.ndarray
    """[T, obs_dim] observation before each action."""
    qpos: np.ndarray | None = None
    """[T + 1, nq] simulator positions: row 0 the start, row t + 1 after step t (before a reset)."""
    qvel: np.ndarray | None = None
    action_low: np.ndarray | None = None
    action_high: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    prev_features: dict[str, np.ndarray] = field(default_factory=dict)
    """Feature name -> [T] values of s (the previous step's, or the reset state's)."""
    states: dict[str, np.ndarray] | None = None
    """Every stored simulator state (:meth:`studio.sim.trace.StateCapture.arrays`)."""

    @property
    def act(self) -> np.ndarray | None:
        """[T + 1, na] actuator activations, where the model has any."""
        if self.states is None or self.states["act"].shape[-1] == 0:
            return None
        return self.states["act"]

    @property
    def length(self) -> int:
        """Number of transitions."""
        return int(self.total.shape[0])

    def episode_returns(self) -> dict[str, float]:
        """Sum of each component, of ``total`` and of the task reward over the trace."""
        out = {k: float(np.sum(v)) for k, v in self.components.items()}
        out["total"] = float(np.sum(self.total))
        out["task_score"] = float(np.sum(self.task_reward))
        return out

    def feature_state(self, t: int) -> dict[str, float]:
        """Every recorded feature's value at step ``t`` (a state to hold a heat map at)."""
        return {k: float(v[t]) for k, v in self.features.items()}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trace as a compressed ``.npz`` (a stored state sequence for replay)."""
        arrays: dict[str, np.ndarray] = {}
        for prefix, group in (("f", self.features), ("v", self.values), ("c", self.components),
                              ("p", self.prev_features), ("s", self.states or {})):
            for k, v in group.items():
                arrays[f"{prefix}/{k}"] = np.asarray(v)
        if self.act is not None:
            arrays["act"] = self.act
        for name in ("total", "task_reward", "terminated", "truncated", "actions", "obs",
                     "qpos", "qvel", "action_low", "action_high"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value)
        arrays["meta"] = np.array(json.dumps({"env_id": self.env_id, **self.meta}, default=str))
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RolloutTrace:
        """Read a trace written by :meth:`save`.

        Raises:
            FileNotFoundError: there is no file at ``path``.
            ValueError: the file is truncated, damaged or not a trace (the message names it).
        """
        try:
            return cls._load(path)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib, numpy and json raise a zoo
            # (BadZipFile, EOFError, NotImplementedError, RuntimeError for "encrypted"...)
            raise ValueError(f"{os.fspath(path)} is not a readable rollout trace (truncated "
                             f"or damaged: {type(exc).__name__}: {exc})") from exc

    @classmethod
    def _load(cls, path: str | os.PathLike[str]) -> RolloutTrace:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data.pop("meta")))
        groups: dict[str, dict[str, np.ndarray]] = {"f": {}, "v": {}, "c": {}, "p": {}, "s": {}}
        data.pop("act", None)  # a copy of s/act, kept at the top for other readers
        for k in [k for k in data if "/" in k]:
            prefix, name = k.split("/", 1)
            groups[prefix][name] = data.pop(k)
        env_id = meta.pop("env_id")
        return cls(env_id=env_id, features=groups["f"], values=groups["v"],
                   components=groups["c"], total=data["total"], task_reward=data["task_reward"],
                   terminated=data["terminated"], truncated=data["truncated"],
                   actions=data["actions"], obs=data["obs"], qpos=data.get("qpos"),
                   qvel=data.get("qvel"), action_low=data.get("action_low"),
                   action_high=data.get("action_high"), meta=meta,
                   prev_features=groups["p"], states=groups["s"] or None)


def evaluate_features(design: Design, feats: Mapping[str, np.ndarray],
                      prev: Mapping[str, np.ndarray], terminated: np.ndarray,
                      truncated: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(total[T], components, values)`` of ``design`` over T recorded transitions.

    ``prev``: the features of each transition's s as the stepper gave them
    (``StepResult.prev_features``), needed by potential shaping.
    """
    compiled = compile_design(design, dtype=torch.float64)
    t = terminated.shape[0]
    if t == 0:
        return np.zeros(0), {}, {}
    kwargs: dict[str, Any] = {"terminated": terminated, "truncated": truncated}
    if compiled.needs_previous:
        # The stepper's own previous-step features, recorded with the transitions: at an
        # episode start they are the reset state's, which no shift of ``feats`` can give.
        missing = sorted(n for n in compiled.required_features if n not in prev)
        if missing:
            raise KeyError(f"the rollout has no previous-step values of {', '.join(missing)}, which "
                           "the design's potential shaping reads: record the rollout again")
        kwargs["prev_features"] = prev
    if not compiled.initial_state(1):
        out = compiled(feats, check_finite=False, **kwargs)
        return (out.total.numpy(), {k: v.numpy() for k, v in out.components.items()},
                {k: v.numpy() for k, v in out.values.items()})
    # Condition events carry state: one step at a time.
    state = compiled.initial_state(1)
    totals, comps, vals = [], [], []
    for i in range(t):
        step_kw: dict[str, Any] = {"terminated": terminated[i:i + 1], "truncated": truncated[i:i + 1]}
        if compiled.needs_previous:
            step_kw["prev_features"] = {k: v[i:i + 1] for k, v in prev.items()}
        out = compiled({k: v[i:i + 1] for k, v in feats.items()}, state=state,
                       check_finite=False, **step_kw)
        state = out.state
        totals.append(out.total.numpy())
        comps.append({k: v.numpy() for k, v in out.components.items()})
        vals.append({k: v.numpy() for k, v in out.values.items()})
    return (np.concatenate(totals), {k: np.concatenate([c[k] for c in comps]) for k in comps[0]},
            {k: np.concatenate([v[k] for v in vals]) for k in vals[0]})


def evaluate_trace(trace: RolloutTrace, design: Design | None) -> RolloutTrace:
    """The same transitions under another design (features it needs must be in the trace).

    ``None`` gives an empty reward. Terms whose weight is zero keep their values but their
    components are zero.
    """
    if design is None:
        trace.values, trace.components = {}, {}
        trace.total = np.zeros(trace.length)
        return trace
    total, comps, vals = evaluate_features(design, trace.features, trace.prev_features,
                                           trace.terminated, trace.truncated)
    trace.total, trace.components, trace.values = total, comps, vals
    return trace


def record_rollout(task: Any, design: Design | None, policy: Policy | str | None = None,
                   steps: int = 1000, seed: int = 0, record_states: bool = True,
                   extra_features: Sequence[str] = (), state: _State | None = None,
                   env: Any = None, episode: bool = False) -> RolloutTrace:
    """Step ``task`` ``steps`` times with ``policy`` and evaluate ``design`` on every transition.

    ``policy``: None or ``"random"`` (uniform actions), ``"zero"``, or a callable
    obs [1, obs_dim] -> action [1, act_dim]. ``extra_features`` are recorded too (for heat
    maps over features the design does not read). ``state`` reports progress and may cancel:
    the trace then holds the steps done so far. ``env`` reuses an open vector env.
    ``episode``: stop when the first episode ends (at most ``steps`` steps); otherwise
    finished episodes restart inside the trace. ``record_states`` keeps every step's
    simulator state (``qpos``/``qvel`` and :attr:`RolloutTrace.states`).
    """
    own_env = env is None
    env = make_env(task, 1, seed) if own_env else env
    try:
        names: list[str] = []
        if design is not None:
            names = sorted(compile_design(design).required_features)
        names += [n for n in extra_features if n not in names]
        env.set_feature_names(names)
        low, high = action_bounds(env)  # training's rule: unlimited actuators are not clipped
        if policy is None or policy == "random":
            act: Policy = random_policy(*sampling_bounds(low, high), seed)
        elif policy == "zero":
            act = zero_policy(env.act_dim)
        elif callable(policy):
            act = policy
        else:
            raise ValueError(f"unknown policy {policy!r}: use None, 'random', 'zero' or a callable")
        obs = env.reset(seed=seed)
        # The states come from the env's own MjData, read again after every step (a copy
        # taken once would stay the reset state), and from a shadow replay of each step.
        capture = StateCapture(env_model(env), env.task.frame_skip) if record_states else None
        if capture is not None:
            capture.start(env.data(0))
        feats = {n: np.zeros(steps) for n in names}
        prev = {n: np.zeros(steps) for n in names}
        task_reward, term, trunc = np.zeros(steps), np.zeros(steps, bool), np.zeros(steps, bool)
        actions, all_obs = np.zeros((steps, env.act_dim)), np.zeros((steps, env.obs_dim))
        done = 0
        for t in range(steps):
            if state is not None and state.is_interruption_requested():
                break
            a = np.clip(np.asarray(act(obs), dtype=np.float64).reshape(1, -1), low, high)
            all_obs[t], actions[t] = obs[0], a[0]
            res = env.step(a)
            for n in names:
                feats[n][t] = res.features[n][0]
                prev[n][t] = res.prev_features[n][0]
            task_reward[t], term[t], trunc[t] = res.task_reward[0], res.terminated[0], res.truncated[0]
            ended = bool(term[t] or trunc[t])
            if capture is not None:
                capture.step(a[0], None if ended else env.data(0))
                if ended and not episode:
                    capture.start(env.data(0))  # the autoreset's new episode
            obs = res.obs
            done = t + 1
            if ended and episode:
                break
            if state is not None and (t % 50 == 0 or t == steps - 1):
                state.set_progress(100.0 * done / steps)
        cut = slice(0, done)
        stored = capture.arrays() if capture is not None else None
        feats = {k: v[cut] for k, v in feats.items()}
        prev = {k: v[cut] for k, v in prev.items()}
        if design is not None:
            total, comps, vals = evaluate_features(design, feats, prev, term[cut], trunc[cut])
        else:
            total, comps, vals = np.zeros(done), {}, {}
        return RolloutTrace(
            env_id=task_env_id(task), features=feats, values=vals, components=comps, total=total,
            task_reward=task_reward[cut], terminated=term[cut], truncated=trunc[cut],
            actions=actions[cut], obs=all_obs[cut],
            qpos=None if stored is None else stored["qpos"],
            qvel=None if stored is None else stored["qvel"],
            action_low=low, action_high=high,
            meta={"seed": seed, "design": None if design is None else design.name},
            prev_features=prev, states=stored,
        )
    finally:
        if own_env:
            env.close()
