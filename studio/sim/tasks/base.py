"""The task adapter: one MuJoCo task described as batched numpy functions of states.

A :class:`Task` knows everything the fast stepping layer (:mod:`studio.sim.vector`) needs
to reproduce a Gymnasium MuJoCo environment without running it: the model, the frame
skip, the observation, the termination rule, the reset distribution and the exact task
reward, all as functions of a :class:`~studio.sim.state.StateBatch` (one row per
environment). It also publishes the *features* that reward designs are written in:
semantic ones (``x_velocity``, ``healthy``, ``ctrl_sq``...) defined here per task, and
the automatic per-body/joint/actuator/sensor ones of :mod:`studio.sim.auto_features`.

Features are functions of a transition ``(s, a, s')``: ``before`` is the state before
the step, ``after`` the state after it (both as Gymnasium's ``MjData`` holds them:
derived quantities such as ``xpos`` lag one physics substep behind ``qpos`` after a
step, exactly as Gymnasium reads them) and ``action`` the action applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mujoco
import numpy as np

from studio.core.design import Design, Group
from studio.core.features import FeatureCatalog, FeatureSpec
from studio.sim.state import StateBatch

FeatureFn = Callable[[StateBatch, StateBatch, np.ndarray], np.ndarray]
"""``fn(before, after, action) -> float64 [B]``."""

CONTACT_FIELD = "cfrc_ext"
"""The one state field that costs an extra pass (``mj_rnePostConstraint``) to compute."""


@dataclass(frozen=True)
class TaskFeature:
    """A semantic feature: its spec, how to compute it, and what it reads."""

    spec: FeatureSpec
    """Name, description, unit, typical range and group."""
    fn: FeatureFn
    """``fn(before, after, action)`` -> float64 [B]."""
    needs: frozenset[str] = frozenset()
    """State fields beyond the always-available ones, e.g. ``{"cfrc_ext"}``."""
    fixed_range: bool = False
    """Keep the declared range instead of a measured one (flags: 0..1)."""


def feature(
    name: str,
    description: str,
    unit: str,
    fn: FeatureFn,
    *,
    low: float = -1.0,
    high: float = 1.0,
    needs: Iterable[str] = (),
    fixed_range: bool = False,
) -> TaskFeature:
    """Shorthand for a semantic :class:`TaskFeature` (group ``task``)."""
    spec = FeatureSpec(name, description, unit, low, high, group="task")
    return TaskFeature(spec, fn, frozenset(needs), fixed_range)


def flag(name: str, description: str, fn: FeatureFn, needs: Iterable[str] = ()) -> TaskFeature:
    """A 0/1 semantic feature (its typical range stays 0..1)."""
    return feature(name, description, "1", fn, low=0.0, high=1.0, needs=needs, fixed_range=True)


def body_id(model: mujoco.MjModel, name: str) -> int:
    """The id of body ``name``; a missing body is reported with the model's body names."""
    bid = int(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name))
    if bid < 0:
        known = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, i) for i in range(model.nbody)]
        raise KeyError(f"model has no body {name!r} (bodies: {', '.join(map(str, known))})")
    return bid


def ctrl_sq(before: StateBatch, after: StateBatch, action: np.ndarray) -> np.ndarray:
    """Sum of squared actions per row (the control cost before its weight)."""
    del before, after
    a = np.asarray(action, dtype=np.float64)
    return np.asarray(np.sum(np.square(a), axis=-1))


class Task:
    """A MuJoCo task as batched numpy functions; subclasses add semantic features.

    The base class is the *generic* adapter for any model: observation
    ``concat(qpos, qvel)``, never terminates, no task reward, reset to ``qpos0`` plus
    uniform noise of ``reset_noise_scale`` on positions (in the tangent space, so
    quaternions stay unit) and velocities.

    Args:
        env_id: the task's identifier (a Gymnasium id or an MJCF path).
        model: the compiled model the simulation runs.
        frame_skip: physics steps per control step.
        max_episode_steps: the episode length limit (Gymnasium's TimeLimit), or None.
        reset_noise_scale: half-width of the generic uniform reset noise.
        model_path: where the model was loaded from, if a file.
    """

    has_task_reward: bool = False
    """True when :meth:`task_reward` reproduces an environment's reward from states."""
    native: bool = True
    """True when the vector layer can step this task from states alone (no Gymnasium env)."""
    extra_fields: tuple[str, ...] = ()
    """MjData fields the observation reads beyond :class:`StateBatch` (``cinert``...)."""
    obs_needs: frozenset[str] = frozenset()
    """Special state fields (``cfrc_ext``) that observation, reward or termination read."""
    title: str = ""
    """One-line human name of the task."""

    def __init__(
        self,
        env_id: str,
        model: mujoco.MjModel,
        frame_skip: int,
        *,
        max_episode_steps: int | None = 1000,
        reset_noise_scale: float = 0.1,
        model_path: str | None = None,
    ) -> None:
        self.env_id = env_id
        self.model = model
        self.model_path = model_path
        self.frame_skip = int(frame_skip)
        self.dt = float(model.opt.timestep) * self.frame_skip
        self.max_episode_steps = max_episode_steps
        self.reset_noise_scale = float(reset_noise_scale)
        self.init_qpos = np.array(model.qpos0, dtype=np.float64)
        self.init_qvel = np.zeros(model.nv, dtype=np.float64)
        self.act_dim = int(model.nu)
        ctrlrange = np.asarray(model.actuator_ctrlrange, dtype=np.float64).reshape(-1, 2)
        limited = np.asarray(model.actuator_ctrllimited, dtype=bool).reshape(-1)
        self.action_low = np.where(limited, ctrlrange[:, 0], -np.inf).astype(np.float32)
        self.action_high = np.where(limited, ctrlrange[:, 1], np.inf).astype(np.float32)
        self._semantic: dict[str, TaskFeature] = {f.spec.name: f for f in self.semantic_features()}
        self.obs_dim = int(self._probe_obs_dim())

    # -- what subclasses define ----------------------------------------------------------------

    def semantic_features(self) -> list[TaskFeature]:
        """The task's own named quantities (none for a generic model)."""
        return []

    def observation(
        self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Observations [B, obs_dim] float64 of the states (``extra``: :attr:`extra_fields`)."""
        del extra
        return np.concatenate([state.qpos, state.qvel], axis=1)

    def terminated(self, state: StateBatch) -> np.ndarray:
        """bool [B]: whether each state ends its episode (generic: never)."""
        return np.zeros(state.size, dtype=bool)

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The environment's own reward [B] and its signed, weighted parts (as Gymnasium's info).

        Generic models have no task reward: zeros and no parts.
        """
        del before, action
        return np.zeros(after.size), {}

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(qpos, qvel)`` of a fresh episode, drawing from ``rng`` as Gymnasium does."""
        s = self.reset_noise_scale
        # Perturb positions in the tangent space so that free/ball joint quaternions stay unit.
        qpos = self.init_qpos.copy()
        mujoco.mj_integratePos(self.model, qpos, rng.uniform(low=-s, high=s, size=self.model.nv), 1.0)
        qvel = self.init_qvel + rng.uniform(low=-s, high=s, size=self.model.nv)
        return qpos, qvel

    def task_design(self) -> Design:
        """The task's reward as an editable design (empty for a generic model)."""
        return Design(name=f"{self.env_id} (task reward)", task=self.env_id, root=Group("reward"))

    def describe(self) -> str:
        """Text describing the environment (observation, action, reward) for LLM prompts."""
        from studio.sim.tasks.describe import describe_task

        return describe_task(self)

    def observation_layout(self) -> list[tuple[str, int]]:
        """The observation as (meaning, size) blocks, in order (used by :meth:`describe`)."""
        return [("qpos (generalised positions)", self.model.nq), ("qvel (generalised velocities)", self.model.nv)]

    # -- features ------------------------------------------------------------------------------

    @cached_property
    def _auto(self) -> Any:
        """The automatic feature extractor, or None where that module is unavailable."""
        try:
            from studio.sim.auto_features import AutoFeatures
        except ImportError:  # pragma: no cover - the module lands separately
            return None
        return AutoFeatures(self.model)

    def _auto_specs(self) -> list[FeatureSpec]:
        auto = self._auto
        if auto is None:
            return []
        return [s for s in auto.specs if s.name not in self._semantic]

    @cached_property
    def _arrays(self) -> Any:
        """The array features (``qpos``, ``action``, ``body_<name>_pos``...; see
        :mod:`studio.sim.array_features`)."""
        from studio.sim.array_features import ArrayFeatures

        return ArrayFeatures(self.model)

    @cached_property
    def _auto_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self._auto_specs())

    @cached_property
    def _auto_contact(self) -> frozenset[str]:
        return frozenset(s.name for s in self._auto_specs() if s.group == "contact")

    def feature_names(self) -> list[str]:
        """Every feature name: semantic first, then automatic."""
        return list(self._semantic) + [s.name for s in self._auto_specs()]

    @cached_property
    def catalog(self) -> FeatureCatalog:
        """All features with typical ranges (measured once, cached in ``assets/feature_ranges``)."""
        from studio.sim.tasks.ranges import load_ranges

        arrays = [s for s in self._arrays.specs if s.name not in self._semantic and s.name not in self._auto_names]
        base = FeatureCatalog.of([f.spec for f in self._semantic.values()] + self._auto_specs() + arrays)
        fixed = {n for n, f in self._semantic.items() if f.fixed_range}
        return base.with_ranges({k: v for k, v in load_ranges(self).items() if k not in fixed})

    def state_feature_fields(self, names: Iterable[str]) -> frozenset[str]:
        """Special state fields (``cfrc_ext``) that computing ``names`` requires."""
        out: set[str] = set()
        for n in names:
            if n in self._semantic:
                out |= self._semantic[n].needs
            elif n in self._auto_contact or (n not in self._auto_names and self._arrays.needs_contact([n])):
                out.add(CONTACT_FIELD)
        return frozenset(out)

    def check_features(self, names: Iterable[str]) -> None:
        """Raise KeyError naming any unknown feature (and where to look for valid ones)."""
        unknown = [n for n in names if n not in self._semantic and n not in self._auto_names and n not in self._arrays]
        if unknown:
            raise KeyError(
                f"{self.env_id} has no feature(s) {', '.join(sorted(unknown))}; "
                "see Task.catalog for the names"
            )

    def features(
        self,
        before: StateBatch,
        after: StateBatch,
        action: np.ndarray,
        names: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Feature values of B transitions: name -> float64 [B], only for ``names`` (default all)."""
        wanted = self.feature_names() if names is None else list(names)
        self.check_features(wanted)
        action = np.asarray(action, dtype=np.float64).reshape(after.size, -1)
        out: dict[str, np.ndarray] = {}
        auto_wanted = []
        for n in wanted:
            f = self._semantic.get(n)
            if f is None and n not in self._auto_names and n in self._arrays:
                out[n] = self._arrays.compute(after, action, n)  # [B, *shape]
            elif f is None:
                auto_wanted.append(n)
            else:
                # Always a fresh array: a feature must not be a view of live simulation state.
                out[n] = np.array(np.broadcast_to(f.fn(before, after, action), (after.size,)), dtype=np.float64)
        if auto_wanted:
            for n, v in self._auto.compute(after, action, auto_wanted).items():
                out[n] = np.array(v, dtype=np.float64)
        return {n: out[n] for n in wanted}

    # -- helpers -------------------------------------------------------------------------------

    def _probe_obs_dim(self) -> int:
        d = mujoco.MjData(self.model)
        mujoco.mj_forward(self.model, d)
        state = StateBatch.from_datas([d])
        extra = {k: np.asarray(getattr(d, k))[None].copy() for k in self.extra_fields}
        return int(self.observation(state, extra).shape[1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.env_id!r}, obs_dim={self.obs_dim}, act_dim={self.act_dim})"
