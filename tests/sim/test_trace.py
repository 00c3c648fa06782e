"""Recorded states replay through MuJoCo, and features recomputed from them equal the live ones."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from studio.app.rollouts import RolloutTrace, record_rollout
from studio.sim.registry import get_task
from studio.sim.state import StateBatch
from studio.sim.trace import StateCapture, TraceFeatures, stored_arrays
from studio.sim.vector import VectorEnv


def _data_at(model: mujoco.MjModel, trace: RolloutTrace, row: int) -> mujoco.MjData:
    """A fresh MjData holding stored state ``row`` (positions, velocities, activations, warm start)."""
    assert trace.states is not None
    d = mujoco.MjData(model)
    d.qpos[:] = trace.states["qpos"][row]
    d.qvel[:] = trace.states["qvel"][row]
    d.act[:] = trace.states["act"][row]
    d.qacc_warmstart[:] = trace.states["qacc_warmstart"][row]
    d.time = float(trace.states["time"][row])
    return d


def test_six_halfcheetah_steps_store_six_different_states_that_replay() -> None:
    # The reported defect: six steps gave six copies of the reset pose.
    task = get_task("HalfCheetah-v5")
    trace = record_rollout(task, None, "random", steps=6, seed=3)
    assert trace.qpos is not None and trace.qvel is not None and trace.qpos.shape[0] == 7
    assert len({row.tobytes() for row in trace.qpos}) == 7
    m = task.model
    for t in range(6):
        # Re-simulate step t with plain MuJoCo from the stored state t and the stored action.
        d = _data_at(m, trace, t)
        d.ctrl[:] = trace.actions[t]
        mujoco.mj_step(m, d, nstep=task.frame_skip)
        np.testing.assert_allclose(d.qpos, trace.qpos[t + 1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(d.qvel, trace.qvel[t + 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("env_id", ["Hopper-v5", "HalfCheetah-v5"])
def test_replaying_the_episode_gives_the_stored_features_and_next_states(env_id: str) -> None:
    # Hopper: RK4 integrator, ground contacts; HalfCheetah: Euler. One episode, no autoreset.
    task = get_task(env_id)
    names = ["x_velocity", "ctrl_sq"] + [n for n in task.feature_names() if "contact" in n][:2]
    trace = record_rollout(task, None, "random", steps=40, seed=1, extra_features=names,
                           episode=True)
    m = task.model
    d = _data_at(m, trace, 0)
    mujoco.mj_forward(m, d)  # a reset state is read after mj_forward
    before = StateBatch.from_datas([d])
    for t in range(trace.length):
        d.ctrl[:] = trace.actions[t]
        mujoco.mj_step(m, d, nstep=task.frame_skip)
        mujoco.mj_rnePostConstraint(m, d)  # contact forces, as Gymnasium reads them
        after = StateBatch.from_datas([d])
        np.testing.assert_array_equal(d.qpos, trace.qpos[t + 1])
        feats = task.features(before, after, trace.actions[t:t + 1], names)
        for n in names:
            assert abs(feats[n][0] - trace.features[n][t]) <= 1e-9, (n, t)
        before = after


def _live_and_recomputed(env_id: str, steps: int) -> tuple[dict, dict, TraceFeatures, np.ndarray]:
    env = VectorEnv(env_id, 1, seed=0)
    names = env.task.feature_names()
    env.set_feature_names(names)
    env.reset(seed=0)
    cap = StateCapture(env.model, env.task.frame_skip)
    cap.start(env.data(0))
    rng = np.random.default_rng(0)
    live: dict[str, list[float]] = {n: [] for n in names}
    live_prev: dict[str, list[float]] = {n: [] for n in names}
    actions, rewards = [], []
    for _ in range(steps):
        a = rng.uniform(-1.0, 1.0, size=(1, env.act_dim))
        res = env.step(a)
        ended = bool(res.terminated[0] or res.truncated[0])
        cap.step(a[0], None if ended else env.data(0))
        if ended:
            cap.start(env.data(0))
        for n in names:
            live[n].append(res.features[n][0])
            live_prev[n].append(res.prev_features[n][0])
        actions.append(a[0])
        rewards.append(res.task_reward[0])
    env.close()
    recomputed = TraceFeatures(env.task, stored_arrays(cap.arrays()), np.array(actions))
    return live, live_prev, recomputed, np.array(rewards)


@pytest.mark.parametrize("env_id", ["Hopper-v5", "HalfCheetah-v5"])  # RK4 with falls; Euler
def test_every_recomputed_feature_equals_the_live_one_across_resets(env_id: str) -> None:
    live, live_prev, recomputed, rewards = _live_and_recomputed(env_id, 120)
    if env_id == "Hopper-v5":
        assert recomputed.stored["reset_steps"].size >= 1  # episodes restarted inside
    feats, prev = recomputed.features(list(live))
    for n in live:
        np.testing.assert_allclose(feats[n], live[n], rtol=0, atol=1e-9, err_msg=n)
        np.testing.assert_allclose(prev[n], live_prev[n], rtol=0, atol=1e-9, err_msg=n)
    np.testing.assert_allclose(recomputed.task_reward(), rewards, rtol=0, atol=1e-9)


def test_a_saved_trace_recomputes_the_features_it_recorded(tmp_path) -> None:
    task = get_task("InvertedPendulum-v5")
    trace = record_rollout(task, None, "random", steps=30, seed=2,
                           extra_features=["pole_angle", "cart_velocity"])
    trace.save(tmp_path / "t.npz")
    back = RolloutTrace.load(tmp_path / "t.npz")
    assert back.states is not None and back.terminated.any()  # restarts inside the trace
    feats, prev = TraceFeatures(task, stored_arrays(back.states), back.actions).features(
        ["pole_angle", "cart_velocity"])
    for n in ("pole_angle", "cart_velocity"):
        np.testing.assert_allclose(feats[n], trace.features[n], rtol=0, atol=1e-9)
        np.testing.assert_allclose(prev[n], trace.prev_features[n], rtol=0, atol=1e-9)


def test_a_trace_without_states_is_refused_with_a_remedy() -> None:
    with pytest.raises(KeyError, match="record the rollout again"):
        stored_arrays({"qpos": np.zeros((2, 1))})
