"""Automatic features checked against values read straight from MjData."""

from __future__ import annotations

import keyword

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from studio.sim.auto_features import AutoFeatures, typical_ranges
from studio.sim.state import StateBatch

ENV_IDS = ["HalfCheetah-v5", "Ant-v5", "Humanoid-v5"]


def _states(env_id: str, n: int = 3) -> tuple[mujoco.MjModel, list[mujoco.MjData]]:
    """``n`` different non-trivial states of ``env_id``, each a copy of the env's MjData."""
    env = gym.make(env_id)
    env.reset(seed=1)
    env.action_space.seed(1)
    model = env.unwrapped.model
    datas: list[mujoco.MjData] = []
    for _ in range(n):
        for _ in range(7):
            env.step(env.action_space.sample())
        d = _copy_data(model, env.unwrapped.data)
        mujoco.mj_rnePostConstraint(model, d)
        datas.append(d)
    env.close()
    return model, datas


def _copy_data(model: mujoco.MjModel, src: mujoco.MjData) -> mujoco.MjData:
    d = mujoco.MjData(model)
    mujoco.mj_copyData(d, model, src)
    return d


@pytest.fixture(scope="module", params=ENV_IDS)
def case(request: pytest.FixtureRequest) -> tuple[mujoco.MjModel, list[mujoco.MjData]]:
    return _states(request.param)


def test_every_kind_matches_mjdata(case: tuple[mujoco.MjModel, list[mujoco.MjData]]) -> None:
    model, datas = case
    auto = AutoFeatures(model)
    batch = StateBatch.from_datas(datas)
    values = auto.compute(batch, np.stack([d.ctrl for d in datas]))
    assert set(values) == set(auto.names())
    for v in values.values():
        assert v.shape == (len(datas),) and v.dtype == np.float64
    # The states differ, so a feature mixed up between rows would show.
    assert not np.allclose(datas[0].qpos, datas[1].qpos)

    res = np.zeros(6)
    for row, d in enumerate(datas):
        for b in range(1, model.nbody):
            name = _body_prefix(auto, b)
            for a, ax in enumerate("xyz"):
                assert values[f"{name}_{ax}"][row] == pytest.approx(d.xpos[b, a], abs=1e-12)
            # Frame-origin velocity: mjOBJ_XBODY (mjOBJ_BODY is at the centre of mass).
            mujoco.mj_objectVelocity(model, d, mujoco.mjtObj.mjOBJ_XBODY, b, res, 0)
            for a, ax in enumerate("xyz"):
                assert values[f"{name}_w{ax}"][row] == pytest.approx(res[a], abs=1e-9)
                assert values[f"{name}_v{ax}"][row] == pytest.approx(res[3 + a], abs=1e-9)
            assert values[f"{name}_upright"][row] == pytest.approx(d.xmat[b, 8], abs=1e-9)
            assert values[f"{name}_contact_force"][row] == pytest.approx(
                np.linalg.norm(d.cfrc_ext[b, 3:6]), abs=1e-9
            )
        for j in range(model.njnt):
            jname = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j)
            qadr, dadr = model.jnt_qposadr[j], model.jnt_dofadr[j]
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
                for a, ax in enumerate("xyz"):
                    assert values[f"joint_{jname}_{ax}"][row] == d.qpos[qadr + a]
                    assert values[f"joint_{jname}_v{ax}"][row] == d.qvel[dadr + a]
                    assert values[f"joint_{jname}_w{ax}"][row] == d.qvel[dadr + 3 + a]
            else:
                assert values[f"joint_{jname}_pos"][row] == d.qpos[qadr]
                assert values[f"joint_{jname}_vel"][row] == d.qvel[dadr]
        for i in range(model.nu):
            # Gymnasium's Ant names no actuator: they are named after their joint.
            aname = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) or (
                mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[i, 0])
            )
            assert values[f"act_{aname}_ctrl"][row] == d.ctrl[i]
            assert values[f"act_{aname}_force"][row] == d.actuator_force[i]
    # The centre-of-mass variant equals mjOBJ_BODY, for every body at once.
    com_vel = auto.body_velocity(batch, np.arange(1, model.nbody), at="com")
    for row, d in enumerate(datas):
        for b in range(1, model.nbody):
            mujoco.mj_objectVelocity(model, d, mujoco.mjtObj.mjOBJ_BODY, b, res, 0)
            np.testing.assert_allclose(com_vel[row, b - 1], res, rtol=0, atol=1e-9)
    # Something actually moves and touches, or the comparisons above prove little.
    speeds = [values[n] for n in values if n.endswith("_vx")]
    assert max(np.abs(s).max() for s in speeds) > 1e-3
    forces = [values[n] for n in values if n.endswith("_contact_force")]
    assert max(f.max() for f in forces) > 0.0


def _body_prefix(auto: AutoFeatures, body: int) -> str:
    """The ``body_<name>`` prefix of ``body``, from the catalogue (robust to unnamed bodies)."""
    name = mujoco.mj_id2name(auto.model, mujoco.mjtObj.mjOBJ_BODY, body)
    return f"body_{name}" if name else f"body_body{body}"


def test_lazy_subset_is_the_same_as_full() -> None:
    model, datas = _states("Ant-v5", n=2)
    auto = AutoFeatures(model)
    batch = StateBatch.from_datas(datas)
    full = auto.compute(batch)
    pick = ["body_torso_wz", "joint_hip_1_pos", "body_torso_vx", "act_hip_1_force"]
    part = auto.compute(batch, names=pick)
    assert list(part) == pick
    for n in pick:
        np.testing.assert_array_equal(part[n], full[n])
    entry = auto.entries["body_torso_wz"]
    assert (entry.kind, entry.index, entry.component) == ("vel", 1, 2)
    with pytest.raises(TypeError):
        auto.entries["x"] = entry  # type: ignore[index]
    with pytest.raises(KeyError, match="no_such"):
        auto.compute(batch, names=["no_such"])


CUSTOM = """
<mujoco>
  <worldbody>
    <body name="arm-1" pos="0 0 1">
      <joint name="shoulder joint" type="hinge" axis="0 1 0"/>
      <geom type="capsule" size=".05" fromto="0 0 0 .3 0 0"/>
      <body pos=".3 0 0">
        <joint type="slide" axis="1 0 0"/>
        <geom size=".04"/>
        <site name="tip" size=".01"/>
      </body>
    </body>
    <body name="arm.1" pos="1 0 1"><freejoint/><geom size=".1"/></body>
    <body pos="2 0 1"><joint type="ball"/><geom size=".1"/></body>
  </worldbody>
  <actuator><motor joint="shoulder joint" name="m 1"/></actuator>
  <sensor>
    <accelerometer site="tip" name="tip accel"/>
    <jointpos joint="shoulder joint"/>
  </sensor>
</mujoco>
"""


def test_custom_model_names_are_identifiers_and_sensors_match() -> None:
    model = mujoco.MjModel.from_xml_string(CUSTOM)
    auto = AutoFeatures(model)
    names = auto.names()
    assert len(names) == len(set(names))
    for n in names:
        assert n.isidentifier() and not keyword.iskeyword(n), n
    # Unnamed bodies get their id; clashing sanitised names are deduplicated.
    assert "body_body2_x" in names and "body_body4_upright" in names
    assert "body_arm_1_x" in names and "body_arm_1_2_x" in names
    assert "joint_shoulder_joint_pos" in names and "joint_joint1_pos" in names
    assert "joint_joint2_vx" in names and "joint_joint3_wz" in names
    assert "act_m_1_force" in names
    assert auto.catalog()["act_m_1_force"].unit == "N*m"
    assert {"sensor_tip_accel_0", "sensor_tip_accel_1", "sensor_tip_accel_2"} <= set(names)
    assert "sensor_sensor1" in names
    assert {s.group for s in auto.specs} == {"body", "joint", "actuator", "contact", "sensor"}
    assert "joint_joint2_quat" in auto.skipped

    datas = []
    for k in range(2):
        d = mujoco.MjData(model)
        d.qpos[0] = 0.3 * (k + 1)
        d.ctrl[0] = 0.5 - k
        mujoco.mj_step(model, d, nstep=5)
        datas.append(d)
    values = auto.compute(StateBatch.from_datas(datas))
    for row, d in enumerate(datas):
        for k in range(3):
            assert values[f"sensor_tip_accel_{k}"][row] == d.sensordata[k]
        assert values["sensor_sensor1"][row] == d.sensordata[3]
    assert values["sensor_sensor1"][0] != values["sensor_sensor1"][1]


def test_typical_ranges_cover_rollouts() -> None:
    model = gym.make("HalfCheetah-v5").unwrapped.model
    auto = AutoFeatures(model)
    ranges = typical_ranges(model, steps=60, episodes=3, seed=0, features=auto)
    assert set(ranges) == set(auto.names())
    for lo, hi in ranges.values():
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    lo, hi = ranges["body_torso_vx"]
    assert lo < 0.0 < hi and hi - lo > 0.1  # random flailing moves the torso both ways
    lo, hi = ranges["act_bthigh_ctrl"]
    assert -1.0 <= lo < -0.8 and 0.8 < hi <= 1.0  # uniform controls in ctrlrange [-1, 1]
    assert ranges == typical_ranges(model, steps=60, episodes=3, seed=0)  # deterministic
    cat = auto.catalog(ranges)
    assert cat["body_torso_vx"].low == ranges["body_torso_vx"][0]
