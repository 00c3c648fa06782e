"""One action-bounds rule: training, rollouts and the viewer clip a policy's actions alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.app import rollouts
from studio.sim.actions import action_bounds, sampling_bounds
from studio.train import runtime

MJCF = """<mujoco>
  <worldbody>
    <body name="cart"><joint name="slide" type="slide" axis="1 0 0"/>
      <geom type="box" size=".1 .1 .1" mass="1"/></body>
  </worldbody>
  <actuator>
    <motor name="limited" joint="slide" ctrllimited="true" ctrlrange="-0.5 0.5"/>
    <motor name="free" joint="slide" ctrllimited="false"/>
  </actuator>
</mujoco>"""


def _model_path(tmp_path: Path) -> Path:
    path = tmp_path / "cart.xml"
    path.write_text(MJCF)
    return path


def test_every_layer_uses_the_same_rule() -> None:
    assert rollouts.action_bounds is runtime.action_bounds is action_bounds


def test_an_unlimited_actuator_is_not_clipped_and_is_sampled_in_minus_one_one(tmp_path: Path) -> None:
    env = rollouts.make_env(str(_model_path(tmp_path)), 1, 0)
    try:
        low, high = action_bounds(env)
        np.testing.assert_array_equal(low, [-0.5, -np.inf])
        np.testing.assert_array_equal(high, [0.5, np.inf])
        lo, hi = sampling_bounds(low, high)
        np.testing.assert_array_equal(lo, [-0.5, -1.0])
        np.testing.assert_array_equal(hi, [0.5, 1.0])
    finally:
        env.close()


def test_a_rollout_keeps_the_policys_action_on_an_unlimited_actuator(tmp_path: Path) -> None:
    trace = rollouts.record_rollout(str(_model_path(tmp_path)), None,
                                    lambda obs: np.array([[3.0, 3.0]]), steps=3, record_states=False)
    # The limited actuator is clipped to its range, the other keeps 3.0 as in training.
    np.testing.assert_array_equal(trace.actions, [[0.5, 3.0]] * 3)
