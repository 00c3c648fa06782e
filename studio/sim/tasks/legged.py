"""3D legged robots: Ant-v5 and Humanoid-v5.

Both reward horizontal progress measured from positions before and after the step
(Ant: the torso frame ``xpos``; Humanoid: the mass-weighted mean of the bodies' centres
of mass ``xipos``), a healthy reward paid while healthy, a control cost and a contact
cost on ``cfrc_ext`` (read after ``mj_rnePostConstraint``, as Gymnasium does).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from studio.core.design import Design, Group, Term
from studio.sim.state import StateBatch
from studio.sim.tasks.base import CONTACT_FIELD, TaskFeature, ctrl_sq, feature
from studio.sim.tasks.gym_base import GymTask, dx_dt, normal_vel_reset, uniform_reset, upright

_CONTACT = frozenset({CONTACT_FIELD})


class _Legged(GymTask):
    FORWARD_WEIGHT = 1.0
    CTRL_WEIGHT = 0.5
    CONTACT_WEIGHT = 5e-4
    HEALTHY_REWARD = 1.0
    obs_needs = _CONTACT

    def xy(self, state: StateBatch) -> np.ndarray:
        """[B, 2] the horizontal position the forward reward differentiates."""
        raise NotImplementedError

    def contact_cost_raw(self, state: StateBatch) -> np.ndarray:
        """[B] the contact cost before its weight."""
        raise NotImplementedError

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        """bool [B]: Gymnasium's ``is_healthy``."""
        raise NotImplementedError

    def action_sq(self, before: StateBatch, after: StateBatch, action: np.ndarray) -> np.ndarray:
        """[B] the control cost before its weight."""
        return ctrl_sq(before, after, action)

    def terminated(self, state: StateBatch) -> np.ndarray:
        return ~self.is_healthy(state)

    def semantic_features(self) -> list[TaskFeature]:
        dt, torso = self.dt, self.body("torso")
        return [
            feature("x_velocity", "Forward (+x) velocity, from positions before and after the step, "
                    "as the task reward reads it.", "m/s",
                    lambda b, a, u: dx_dt(self.xy(b)[:, 0], self.xy(a)[:, 0], dt)),
            feature("y_velocity", "Sideways (+y) velocity, from positions before and after the step.", "m/s",
                    lambda b, a, u: dx_dt(self.xy(b)[:, 1], self.xy(a)[:, 1], dt)),
            feature("x_position", "Root x position.", "m", lambda b, a, u: a.qpos[:, 0]),
            feature("y_position", "Root y position.", "m", lambda b, a, u: a.qpos[:, 1]),
            feature("distance_from_origin", "Horizontal distance of the root from the start.", "m",
                    lambda b, a, u: np.hypot(a.qpos[:, 0], a.qpos[:, 1])),
            feature("torso_height", "Height of the torso (root z).", "m", lambda b, a, u: a.qpos[:, 2]),
            feature("upright", "z component of the torso's up axis: 1 upright, 0 on its side, -1 upside down.",
                    "1", lambda b, a, u: upright(a, torso)),
            feature("healthy", "1 while the torso height is in the healthy range, else 0 "
                    "(the episode ends when it drops to 0).", "1",
                    lambda b, a, u: self.is_healthy(a).astype(np.float64), low=0.0, high=1.0, fixed_range=True),
            feature("ctrl_sq", "Sum of squared actions (the control cost before its weight).", "1", self.action_sq),
            feature("contact_cost_raw", self.CONTACT_DESCRIPTION, "N^2",
                    lambda b, a, u: self.contact_cost_raw(a), needs=_CONTACT),
        ]

    CONTACT_DESCRIPTION = ""

    def _reward_parts(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        x_velocity = dx_dt(self.xy(before)[:, 0], self.xy(after)[:, 0], self.dt)
        forward = x_velocity * self.FORWARD_WEIGHT
        healthy = self.is_healthy(after) * self.HEALTHY_REWARD
        ctrl = self.CTRL_WEIGHT * self.action_sq(before, after, action)
        contact = self.contact_cost(after)
        return forward, healthy, ctrl, contact

    def contact_cost(self, state: StateBatch) -> np.ndarray:
        """[B] the weighted contact cost."""
        return self.CONTACT_WEIGHT * self.contact_cost_raw(state)

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        forward, healthy, ctrl, contact = self._reward_parts(before, after, action)
        reward = (forward + healthy) - (ctrl + contact)
        return reward, {"reward_forward": forward, "reward_ctrl": -ctrl, "reward_contact": -contact,
                        "reward_survive": healthy}

    def contact_term(self) -> Term:
        """The contact cost as a design term."""
        return Term("contact_cost", "contact_cost_raw", weight=-self.CONTACT_WEIGHT,
                    description="contact cost (contact_cost_weight)")

    def task_design(self) -> Design:
        return Design(
            name=f"{self.env_id} task reward",
            task=self.env_id,
            root=Group("reward", [
                Term("forward", "x_velocity", weight=self.FORWARD_WEIGHT, description="forward_reward_weight"),
                Term("alive", "healthy", weight=self.HEALTHY_REWARD, description="healthy_reward while healthy"),
                Term("ctrl_cost", "ctrl_sq", weight=-self.CTRL_WEIGHT, description="ctrl_cost_weight"),
                self.contact_term(),
            ]),
            description="Gymnasium's own reward, term for term.",
            meta={"origin": "task"},
        )


class AntTask(_Legged):
    """Ant-v5: a four-legged robot that should walk forward (+x)."""

    ENV_ID = "Ant-v5"
    XML = "ant.xml"
    FRAME_SKIP = 5
    RESET_NOISE_SCALE = 0.1
    HEALTHY_Z = (0.2, 1.0)
    CONTACT_RANGE = (-1.0, 1.0)
    MAIN_BODY = 1
    title = "Ant: a four-legged robot that should walk forward (+x) without flipping over"
    CONTACT_DESCRIPTION = ("Sum of squares of the external contact forces cfrc_ext of all bodies, "
                           "each component clipped to [-1, 1] (the contact cost before its weight).")

    def xy(self, state: StateBatch) -> np.ndarray:
        return state.xpos[:, self.MAIN_BODY, :2]

    def contact_forces(self, state: StateBatch) -> np.ndarray:
        """[B, nbody, 6] cfrc_ext clipped to the contact force range."""
        return np.asarray(np.clip(state.cfrc_ext, *self.CONTACT_RANGE))

    def contact_cost_raw(self, state: StateBatch) -> np.ndarray:
        return np.asarray(np.sum(np.square(self.contact_forces(state)), axis=(1, 2)))

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        finite = np.isfinite(state.qpos).all(axis=1) & np.isfinite(state.qvel).all(axis=1)
        z = state.qpos[:, 2]
        lo, hi = self.HEALTHY_Z
        return np.asarray(finite & (lo <= z) & (z <= hi))

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        forces = self.contact_forces(state)[:, 1:].reshape(state.size, -1)
        return np.concatenate([state.qpos[:, 2:], state.qvel, forces], axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        m = self.model
        return [
            ("qpos[2:] (torso z, torso orientation quaternion w x y z, 8 leg joint angles)", m.nq - 2),
            ("qvel (torso linear and angular velocity, 8 leg joint velocities)", m.nv),
            ("cfrc_ext[1:] (contact wrench per body, clipped to [-1, 1])", (m.nbody - 1) * 6),
        ]

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return normal_vel_reset(self, rng, self.reset_noise_scale)


class HumanoidTask(_Legged):
    """Humanoid-v5: a 3D biped that should walk forward (+x) without falling."""

    ENV_ID = "Humanoid-v5"
    XML = "humanoid.xml"
    FRAME_SKIP = 5
    RESET_NOISE_SCALE = 1e-2
    FORWARD_WEIGHT = 1.25
    CTRL_WEIGHT = 0.1
    CONTACT_WEIGHT = 5e-7
    CONTACT_MAX = 10.0
    HEALTHY_REWARD = 5.0
    HEALTHY_Z = (1.0, 2.0)
    extra_fields = ("cinert", "qfrc_actuator")
    title = "Humanoid: a 3D two-legged robot that should walk forward (+x) without falling"
    CONTACT_DESCRIPTION = ("Sum of squares of the external contact forces cfrc_ext of all bodies "
                           "(the contact cost before its weight; the task caps the weighted cost at 10).")

    def semantic_features(self) -> list[TaskFeature]:
        return [
            *super().semantic_features(),
            feature("com_height", "Height of the whole-body centre of mass.", "m",
                    lambda b, a, u: self._mass_center(a, 2)),
        ]

    def _mass_center(self, state: StateBatch, axis: int) -> np.ndarray:
        mass = np.asarray(self.model.body_mass, dtype=np.float64)
        return np.asarray(np.einsum("b,nb->n", mass, state.xipos[:, :, axis]) / mass.sum())

    def xy(self, state: StateBatch) -> np.ndarray:
        # Gymnasium's mass_center(): einsum over bodies, divided by the total mass.
        mass = np.asarray(self.model.body_mass, dtype=np.float64)
        num = np.einsum("b,nbj->nj", mass, state.xipos)
        return np.asarray((num / mass.sum())[:, 0:2])

    def action_sq(self, before: StateBatch, after: StateBatch, action: np.ndarray) -> np.ndarray:
        # Humanoid's control cost reads data.ctrl, the action as written into MjData.
        return np.asarray(np.sum(np.square(after.ctrl), axis=1))

    def contact_cost_raw(self, state: StateBatch) -> np.ndarray:
        return np.asarray(np.sum(np.square(state.cfrc_ext), axis=(1, 2)))

    def contact_cost(self, state: StateBatch) -> np.ndarray:
        return np.clip(self.CONTACT_WEIGHT * self.contact_cost_raw(state), -np.inf, self.CONTACT_MAX)

    def contact_term(self) -> Term:
        return Term("contact_cost", f"min({self.CONTACT_WEIGHT!r} * contact_cost_raw, {self.CONTACT_MAX!r})",
                    weight=-1.0, description="contact cost (contact_cost_weight), capped at contact_cost_range")

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        z = state.qpos[:, 2]
        lo, hi = self.HEALTHY_Z
        return (lo < z) & (z < hi)

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        if extra is None:
            raise ValueError("Humanoid's observation needs the extra fields cinert and qfrc_actuator")
        n = state.size
        return np.concatenate([
            state.qpos[:, 2:], state.qvel,
            extra["cinert"][:, 1:].reshape(n, -1), state.cvel[:, 1:].reshape(n, -1),
            extra["qfrc_actuator"][:, 6:], state.cfrc_ext[:, 1:].reshape(n, -1),
        ], axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        m = self.model
        return [
            ("qpos[2:] (torso z, torso quaternion w x y z, joint angles)", m.nq - 2),
            ("qvel (torso linear and angular velocity, joint velocities)", m.nv),
            ("cinert[1:] (com-based inertia per body)", (m.nbody - 1) * 10),
            ("cvel[1:] (com-based velocity per body)", (m.nbody - 1) * 6),
            ("qfrc_actuator[6:] (actuator force per joint)", m.nv - 6),
            ("cfrc_ext[1:] (external contact wrench per body)", (m.nbody - 1) * 6),
        ]

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return uniform_reset(self, rng, self.reset_noise_scale)
