"""Arms and pendulums: Reacher-v5, Pusher-v5, InvertedPendulum-v5, InvertedDoublePendulum-v5.

In v5, Reacher and Pusher compute their distance rewards *after* the simulation step
(v4 and earlier read them before it), from ``get_body_com`` = ``xpos``, which after a
step lags one physics substep behind ``qpos``, as MuJoCo leaves it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from studio.core.design import Design, Group, Term
from studio.sim.state import StateBatch
from studio.sim.tasks.base import TaskFeature, ctrl_sq, feature
from studio.sim.tasks.gym_base import GymTask, normal_vel_reset, uniform_reset


def _design(task: GymTask, terms: list[Term | Group]) -> Design:
    return Design(name=f"{task.env_id} task reward", task=task.env_id, root=Group("reward", terms),
                  description="Gymnasium's own reward, term for term.", meta={"origin": "task"})


class ReacherTask(GymTask):
    """Reacher-v5: move a two-joint arm's fingertip to a random target."""

    ENV_ID = "Reacher-v5"
    XML = "reacher.xml"
    FRAME_SKIP = 2
    DIST_WEIGHT = 1.0
    CTRL_WEIGHT = 1.0
    title = "Reacher: a planar two-joint arm whose fingertip should reach a random target"

    def _vec(self, s: StateBatch) -> np.ndarray:
        return np.asarray(s.xpos[:, self.body("fingertip")] - s.xpos[:, self.body("target")])

    def semantic_features(self) -> list[TaskFeature]:
        return [
            feature("dist_to_target", "Distance from the fingertip to the target (after the step).", "m",
                    lambda b, a, u: np.linalg.norm(self._vec(a), axis=1)),
            feature("ctrl_sq", "Sum of squared actions (the control cost before its weight).", "1", ctrl_sq),
            feature("fingertip_x", "Fingertip x.", "m", lambda b, a, u: a.xpos[:, self.body("fingertip"), 0]),
            feature("fingertip_y", "Fingertip y.", "m", lambda b, a, u: a.xpos[:, self.body("fingertip"), 1]),
            feature("target_x", "Target x.", "m", lambda b, a, u: a.qpos[:, 2]),
            feature("target_y", "Target y.", "m", lambda b, a, u: a.qpos[:, 3]),
            feature("arm_speed_sq", "Sum of squared joint velocities of the two arm joints.", "rad^2/s^2",
                    lambda b, a, u: np.sum(np.square(a.qvel[:, :2]), axis=1)),
        ]

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        theta = state.qpos[:, :2]
        return np.concatenate([np.cos(theta), np.sin(theta), state.qpos[:, 2:], state.qvel[:, :2],
                               self._vec(state)[:, :2]], axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        return [("cos of the two joint angles", 2), ("sin of the two joint angles", 2),
                ("target x, y", 2), ("joint angular velocities", 2), ("fingertip - target (x, y)", 2)]

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        dist = -np.linalg.norm(self._vec(after), axis=1) * self.DIST_WEIGHT
        ctrl = -np.square(np.asarray(action, dtype=np.float64)).sum(axis=1) * self.CTRL_WEIGHT
        return dist + ctrl, {"reward_dist": dist, "reward_ctrl": ctrl}

    def task_design(self) -> Design:
        return _design(self, [
            Term("distance", "dist_to_target", weight=-self.DIST_WEIGHT, description="reward_dist_weight"),
            Term("ctrl_cost", "ctrl_sq", weight=-self.CTRL_WEIGHT, description="reward_control_weight"),
        ])

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        qpos = rng.uniform(low=-0.1, high=0.1, size=self.model.nq) + self.init_qpos
        while True:
            goal = rng.uniform(low=-0.2, high=0.2, size=2)
            if np.linalg.norm(goal) < 0.2:
                break
        qpos[-2:] = goal
        qvel = self.init_qvel + rng.uniform(low=-0.005, high=0.005, size=self.model.nv)
        qvel[-2:] = 0
        return qpos, qvel


class PusherTask(GymTask):
    """Pusher-v5: push a cylinder to a goal with a seven-joint arm."""

    ENV_ID = "Pusher-v5"
    XML = "pusher_v5.xml"
    FRAME_SKIP = 5
    NEAR_WEIGHT = 0.5
    DIST_WEIGHT = 1.0
    CTRL_WEIGHT = 0.1
    title = "Pusher: a seven-joint arm that should push a cylinder onto a goal position"

    def _com(self, s: StateBatch, name: str) -> np.ndarray:
        return s.xpos[:, self.body(name)]

    def semantic_features(self) -> list[TaskFeature]:
        return [
            feature("dist_to_target", "Distance from the object to the goal (after the step).", "m",
                    lambda b, a, u: np.linalg.norm(self._com(a, "object") - self._com(a, "goal"), axis=1)),
            feature("dist_tip_to_object", "Distance from the arm's tip to the object (after the step).", "m",
                    lambda b, a, u: np.linalg.norm(self._com(a, "object") - self._com(a, "tips_arm"), axis=1)),
            feature("ctrl_sq", "Sum of squared actions (the control cost before its weight).", "1", ctrl_sq),
            feature("object_x", "Object x.", "m", lambda b, a, u: self._com(a, "object")[:, 0]),
            feature("object_y", "Object y.", "m", lambda b, a, u: self._com(a, "object")[:, 1]),
        ]

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        return np.concatenate([state.qpos[:, :7], state.qvel[:, :7], self._com(state, "tips_arm"),
                               self._com(state, "object"), self._com(state, "goal")], axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        return [("arm joint angles", 7), ("arm joint velocities", 7), ("tip position xyz", 3),
                ("object position xyz", 3), ("goal position xyz", 3)]

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        obj = self._com(after, "object")
        near = -np.linalg.norm(obj - self._com(after, "tips_arm"), axis=1) * self.NEAR_WEIGHT
        dist = -np.linalg.norm(obj - self._com(after, "goal"), axis=1) * self.DIST_WEIGHT
        ctrl = -np.square(np.asarray(action, dtype=np.float64)).sum(axis=1) * self.CTRL_WEIGHT
        return dist + ctrl + near, {"reward_dist": dist, "reward_ctrl": ctrl, "reward_near": near}

    def task_design(self) -> Design:
        return _design(self, [
            Term("distance", "dist_to_target", weight=-self.DIST_WEIGHT, description="reward_dist_weight"),
            Term("ctrl_cost", "ctrl_sq", weight=-self.CTRL_WEIGHT, description="reward_control_weight"),
            Term("near", "dist_tip_to_object", weight=-self.NEAR_WEIGHT, description="reward_near_weight"),
        ])

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        qpos = self.init_qpos.copy()
        goal = np.asarray([0, 0])
        while True:
            cylinder = np.concatenate([rng.uniform(low=-0.3, high=0, size=1), rng.uniform(low=-0.2, high=0.2, size=1)])
            if np.linalg.norm(cylinder - goal) > 0.17:
                break
        qpos[-4:-2] = cylinder
        qpos[-2:] = goal
        qvel = self.init_qvel + rng.uniform(low=-0.005, high=0.005, size=self.model.nv)
        qvel[-4:] = 0
        return qpos, qvel


class InvertedPendulumTask(GymTask):
    """InvertedPendulum-v5: balance a pole on a cart; +1 per step while balanced."""

    ENV_ID = "InvertedPendulum-v5"
    XML = "inverted_pendulum.xml"
    FRAME_SKIP = 2
    RESET_NOISE_SCALE = 0.01
    MAX_ANGLE = 0.2
    title = "InvertedPendulum: keep a pole balanced upright on a sliding cart"

    def is_healthy(self, state: StateBatch) -> np.ndarray:
        """bool [B]: finite state and |pole angle| <= 0.2 rad."""
        finite = np.isfinite(state.qpos).all(axis=1) & np.isfinite(state.qvel).all(axis=1)
        return np.asarray(finite & ~(np.abs(state.qpos[:, 1]) > self.MAX_ANGLE))

    def terminated(self, state: StateBatch) -> np.ndarray:
        return ~self.is_healthy(state)

    def semantic_features(self) -> list[TaskFeature]:
        return [
            feature("healthy", "1 while the pole is within 0.2 rad of upright, else 0 (the episode ends).",
                    "1", lambda b, a, u: self.is_healthy(a).astype(np.float64), low=0.0, high=1.0, fixed_range=True),
            feature("pole_angle", "Pole angle from upright.", "rad", lambda b, a, u: a.qpos[:, 1]),
            feature("pole_angular_velocity", "Pole angular velocity.", "rad/s", lambda b, a, u: a.qvel[:, 1]),
            feature("cart_position", "Cart position along the rail.", "m", lambda b, a, u: a.qpos[:, 0]),
            feature("cart_velocity", "Cart velocity.", "m/s", lambda b, a, u: a.qvel[:, 0]),
            feature("ctrl_sq", "Sum of squared actions.", "1", ctrl_sq),
        ]

    def observation_layout(self) -> list[tuple[str, int]]:
        return [("cart position, pole angle", 2), ("cart velocity, pole angular velocity", 2)]

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        alive = self.is_healthy(after).astype(np.float64)
        return alive, {"reward_survive": alive}

    def task_design(self) -> Design:
        return _design(self, [Term("alive", "healthy", weight=1.0, description="+1 per step while balanced")])

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return uniform_reset(self, rng, self.reset_noise_scale)


class InvertedDoublePendulumTask(GymTask):
    """InvertedDoublePendulum-v5: balance two chained poles on a cart."""

    ENV_ID = "InvertedDoublePendulum-v5"
    XML = "inverted_double_pendulum.xml"
    FRAME_SKIP = 5
    RESET_NOISE_SCALE = 0.1
    HEALTHY_REWARD = 10.0
    extra_fields = ("qfrc_constraint",)
    title = "InvertedDoublePendulum: keep two chained poles balanced upright on a sliding cart"

    def semantic_features(self) -> list[TaskFeature]:
        return [
            feature("healthy", "1 while the tip is above 1 m, else 0 (the episode ends).", "1",
                    lambda b, a, u: (~self.terminated(a)).astype(np.float64), low=0.0, high=1.0, fixed_range=True),
            feature("tip_x", "x of the tip of the second pole.", "m", lambda b, a, u: a.site_xpos[:, 0, 0]),
            feature("tip_height", "Height (z) of the tip of the second pole, about 1.2 m fully upright "
                    "('y' in Gymnasium's code, whose penalty (y - 2)^2 never reaches 0).", "m", lambda b, a, u: a.site_xpos[:, 0, 2]),
            feature("cart_position", "Cart position.", "m", lambda b, a, u: a.qpos[:, 0]),
            feature("hinge1_velocity", "Angular velocity of the first pole.", "rad/s", lambda b, a, u: a.qvel[:, 1]),
            feature("hinge2_velocity", "Angular velocity of the second pole.", "rad/s", lambda b, a, u: a.qvel[:, 2]),
            feature("ctrl_sq", "Sum of squared actions.", "1", ctrl_sq),
        ]

    def terminated(self, state: StateBatch) -> np.ndarray:
        return state.site_xpos[:, 0, 2] <= 1

    def observation(self, state: StateBatch, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        if extra is None:
            raise ValueError("InvertedDoublePendulum's observation needs the extra field qfrc_constraint")
        return np.concatenate([state.qpos[:, :1], np.sin(state.qpos[:, 1:]), np.cos(state.qpos[:, 1:]),
                               np.clip(state.qvel, -10, 10), np.clip(extra["qfrc_constraint"], -10, 10)[:, :1]],
                              axis=1)

    def observation_layout(self) -> list[tuple[str, int]]:
        return [("cart position", 1), ("sin of the two hinge angles", 2), ("cos of the two hinge angles", 2),
                ("velocities (cart, hinge 1, hinge 2), clipped to +-10", 3),
                ("constraint force on the cart, clipped to +-10", 1)]

    def task_reward(
        self, before: StateBatch, after: StateBatch, action: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x, y = after.site_xpos[:, 0, 0], after.site_xpos[:, 0, 2]
        v1, v2 = after.qvel[:, 1], after.qvel[:, 2]
        dist_penalty = 0.01 * x**2 + (y - 2) ** 2
        vel_penalty = 1e-3 * v1**2 + 5e-3 * v2**2
        alive = self.HEALTHY_REWARD * (~self.terminated(after))
        reward = alive - dist_penalty - vel_penalty
        return reward, {"reward_survive": alive, "distance_penalty": -dist_penalty, "velocity_penalty": -vel_penalty}

    def task_design(self) -> Design:
        return _design(self, [
            Term("alive", "healthy", weight=self.HEALTHY_REWARD, description="healthy_reward while the tip is up"),
            Term("distance_penalty", "0.01 * tip_x ** 2 + (tip_height - 2) ** 2", weight=-1.0,
                 description="tip away from upright"),
            Term("velocity_penalty", "0.001 * hinge1_velocity ** 2 + 0.005 * hinge2_velocity ** 2", weight=-1.0,
                 description="pole angular velocities"),
        ])

    def sample_reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return normal_vel_reset(self, rng, self.reset_noise_scale)
