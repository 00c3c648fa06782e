"""Planar runners: HalfCheetah-v5, Hopper-v5, Walker2d-v5 and Swimmer-v5.

Their rewards are forward progress ``(x_after - x_before) / dt`` (root slide joint),
minus a control cost on the action, plus (Hopper, Walker2d) a healthy reward of
``healthy_reward * is_healthy`` (Gymnasium v5 pays it only while healthy, whatever
``terminate_when_unhealthy`` says).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from studio.core.design import Design, Group, Term
from studio.sim.state import StateBatch
from studio.sim.tasks.base import TaskFeature, ctrl_sq, feature
from studio.sim.tasks.gym_base import GymTask, dx_dt, normal_vel_reset, uniform_reset


class _Runner(GymTask):
    """Shared parts: a root slide joint ``qpos[0]`` along x, a forward reward, a control cost."""

    FORWARD_WEIGHT = 1.0
    CTRL_WEIGHT = 0.1
    SKIP_QPOS = 1
    """Leading qpos entries left out of the observation (exclude_current_positions...)."""
    CLIP_QVEL: float | None = None

    def semantic_features(self) -> list[TaskFeature]:
        dt = self.dt
        return [
            feature(
                "x_velocity",
                "Forward velocity of the root, (x after - x before) / dt, as the task reward reads it.",
                "m/s",
                lambda b, a, u: dx_dt(b.qpos[:, 0], a.qpos[:, 0], dt),
            ),
            feature("x_position", "Root x position (distance travelled from the start).", "m",
                    lambda b, a, u: a.qpos[:, 0]),
            feature("ctrl_sq", "Sum of squared actions (the control cost before its weight).", "1",
                    ctrl_sq),
        ]

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        qvel = state.qvel if self.CLIP_QVEL is None else np.clip(state.qvel, -self.CLIP_QVEL, self.CLIP_QVEL)
        return np.concatenate([state.qpos[:, self.SKIP_QPOS:], qvel], axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        clip = "" if self.CLIP_QVEL is None else f", clipped to +-{self.CLIP_QVEL:g}"
        return [
            (f"qpos[{self.SKIP_QPOS}:] (joint positions without the root's horizontal position)",
             self.model.nq - self.SKIP_QPOS),
            (f"qvel (joint velocities{clip})", self.model.nv),
        ]

    def _forward_and_ctrl(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        x_velocity = dx_dt(before.qpos[:, 0], after.qpos[:, 0], self.dt)
        forward = self.FORWARD_WEIGHT * x_velocity
        ctrl = self.CTRL_WEIGHT * np.sum(np.square(np.asarray(action, dtype=np.float64)), axis=-1)
        return forward, ctrl

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        forward, ctrl = self._forward_and_ctrl(before, after, action)
        return forward - ctrl, {"reward_forward": forward, "reward_ctrl": -ctrl}

    def task_design(self) -> Design:
        return Design(
            name=f"{self.env_id} task reward",
            task=self.env_id,
            root=Group("reward", [
                Term("forward", "x_velocity", weight=self.FORWARD_WEIGHT,
                     description="forward velocity (forward_reward_weight)"),
                Term("ctrl_cost", "ctrl_sq", weight=-self.CTRL_WEIGHT,
                     description="control cost (ctrl_cost_weight)"),
            ]),
            description="Gymnasium's own reward, term for term.",
            meta={"origin": "task"},
        )


class HalfCheetahTask(_Runner):
    """HalfCheetah-v5: run forward as fast as possible; never terminates."""

    ENV_ID = "HalfCheetah-v5"
    XML = "half_cheetah.xml"
    FRAME_SKIP = 5
    RESET_NOISE_SCALE = 0.1
    title = "HalfCheetah: a planar two-legged cat that should run forward fast"

    def semantic_features(self) -> list[TaskFeature]:
        torso = self.body("torso")
        return [
            *super().semantic_features(),
            feature("torso_height", "World z of the torso frame.", "m",
                    lambda b, a, u: a.xpos[:, torso, 2]),
            feature("torso_angle", "Pitch of the torso (root hinge angle; 0 level, positive nose down).",
                    "rad", lambda b, a, u: a.qpos[:, 2]),
            feature("torso_angular_velocity", "Pitch rate of the torso.", "rad/s",
                    lambda b, a, u: a.qvel[:, 2]),
        ]

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return normal_vel_reset(self, rng, self.reset_noise_scale)


class _Hopping(_Runner):
    """Hopper and Walker2d: healthy reward, termination when unhealthy, clipped velocities."""

    CTRL_WEIGHT = 1e-3
    HEALTHY_REWARD = 1.0
    HEALTHY_Z = (0.7, float("inf"))
    HEALTHY_ANGLE = (-0.2, 0.2)
    CLIP_QVEL = 10.0
    RESET_NOISE_SCALE = 5e-3

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        """bool [B]: Gymnasium's ``is_healthy`` (strict inequalities)."""
        z, angle = state.qpos[:, 1], state.qpos[:, 2]
        (zmin, zmax), (amin, amax) = self.HEALTHY_Z, self.HEALTHY_ANGLE
        return (zmin < z) & (z < zmax) & (amin < angle) & (angle < amax)

    def terminated(self, state: StateBatch) -> np.ndarray:
        return ~self.is_healthy(state)

    def semantic_features(self) -> list[TaskFeature]:
        lo, hi = self.HEALTHY_Z
        return [
            *super().semantic_features(),
            feature("healthy", f"1 while the torso is in its healthy range (z in ({lo:g}, {hi:g}), "
                    f"angle in {self.HEALTHY_ANGLE}), else 0; the episode ends when it drops to 0.",
                    "1", lambda b, a, u: self.is_healthy(a).astype(np.float64), low=0.0, high=1.0, fixed_range=True),
            feature("torso_height", "Height of the torso (root z).", "m", lambda b, a, u: a.qpos[:, 1]),
            feature("torso_angle", "Pitch of the torso (0 upright).", "rad", lambda b, a, u: a.qpos[:, 2]),
            feature("z_velocity", "Vertical velocity of the torso.", "m/s", lambda b, a, u: a.qvel[:, 1]),
        ]

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        forward, ctrl = self._forward_and_ctrl(before, after, action)
        healthy = self.is_healthy(after) * self.HEALTHY_REWARD
        reward = (forward + healthy) - ctrl
        return reward, {"reward_forward": forward, "reward_ctrl": -ctrl, "reward_survive": healthy}

    def task_design(self) -> Design:
        d = super().task_design()
        d.root.children.append(
            Term("alive", "healthy", weight=self.HEALTHY_REWARD, description="healthy_reward while healthy")
        )
        return d

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return uniform_reset(self, rng, self.reset_noise_scale)


class HopperTask(_Hopping):
    """Hopper-v5: hop forward on one leg without falling."""

    ENV_ID = "Hopper-v5"
    XML = "hopper.xml"
    FRAME_SKIP = 4
    HEALTHY_STATE = (-100.0, 100.0)
    title = "Hopper: a planar one-legged robot that should hop forward without falling"

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        lo, hi = self.HEALTHY_STATE
        rest = np.concatenate([state.qpos[:, 2:], state.qvel], axis=1)
        return np.asarray(super().is_healthy(state) & np.all((lo < rest) & (rest < hi), axis=1))


class Walker2dTask(_Hopping):
    """Walker2d-v5: walk forward on two legs without falling."""

    ENV_ID = "Walker2d-v5"
    XML = "walker2d_v5.xml"
    FRAME_SKIP = 4
    HEALTHY_Z = (0.8, 2.0)
    HEALTHY_ANGLE = (-1.0, 1.0)
    title = "Walker2d: a planar two-legged robot that should walk forward without falling"


class SwimmerTask(_Runner):
    """Swimmer-v5: swim forward in a viscous fluid; never terminates."""

    ENV_ID = "Swimmer-v5"
    XML = "swimmer.xml"
    FRAME_SKIP = 4
    CTRL_WEIGHT = 1e-4
    SKIP_QPOS = 2
    title = "Swimmer: a three-link snake in a viscous fluid that should swim forward (+x)"

    def semantic_features(self) -> list[TaskFeature]:
        dt = self.dt
        return [
            *super().semantic_features(),
            feature("y_velocity", "Sideways velocity of the root, (y after - y before) / dt.", "m/s",
                    lambda b, a, u: dx_dt(b.qpos[:, 1], a.qpos[:, 1], dt)),
            feature("y_position", "Root y position.", "m", lambda b, a, u: a.qpos[:, 1]),
            feature("distance_from_origin", "Horizontal distance of the root from the start.", "m",
                    lambda b, a, u: np.hypot(a.qpos[:, 0], a.qpos[:, 1])),
            feature("heading", "Yaw of the front segment (0 facing +x).", "rad",
                    lambda b, a, u: a.qpos[:, 2]),
        ]

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return uniform_reset(self, rng, self.reset_noise_scale)
