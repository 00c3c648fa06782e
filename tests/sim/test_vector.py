"""VectorEnv against Gymnasium's own single environments, step for step.

Convention under test: environment ``i`` of ``VectorEnv(task, E, seed=s)`` behaves as
``gym.make(env_id).reset(seed=s + i)`` followed by argument-less resets.
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from studio.sim.vector import VectorEnv

TOL = 1e-9


def _compare(env_id: str, steps: int, num_envs: int = 3, seed: int = 7, max_episode_steps: int | None = None,
             action_scale: float = 1.0) -> dict[str, int]:
    """Run both side by side with the same float64 actions; return counts of episode ends."""
    venv = VectorEnv(env_id, num_envs, seed=seed, max_episode_steps=max_episode_steps)
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    envs = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
    obs = venv.reset()
    for i, env in enumerate(envs):
        ref, _ = env.reset(seed=seed + i)
        np.testing.assert_allclose(obs[i], ref, rtol=0, atol=TOL)
    rng = np.random.default_rng(123)
    low, high = envs[0].action_space.low, envs[0].action_space.high
    counts = {"terminated": 0, "truncated": 0}
    for t in range(steps):
        actions = rng.uniform(low, high, size=(num_envs, venv.act_dim)) * action_scale
        res = venv.step(actions)
        for i, env in enumerate(envs):
            o, r, term, trunc, _ = env.step(actions[i])
            where = f"{env_id} step {t} env {i}"
            np.testing.assert_allclose(res.final_obs[i], o, rtol=0, atol=TOL, err_msg=where)
            assert abs(res.task_reward[i] - r) <= TOL, where
            assert bool(res.terminated[i]) == term and bool(res.truncated[i]) == trunc, where
            if term or trunc:
                counts["terminated"] += term
                counts["truncated"] += trunc
                assert res.episode_length[i] > 0 and np.isfinite(res.episode_return[i])
                o, _ = env.reset()
                np.testing.assert_allclose(res.obs[i], o, rtol=0, atol=TOL, err_msg=where + " (reset)")
            else:
                assert res.episode_length[i] == 0 and np.isnan(res.episode_return[i])
                np.testing.assert_array_equal(res.obs[i], res.final_obs[i])
    venv.close()
    return counts


def test_half_cheetah_matches_gymnasium_through_truncation() -> None:
    counts = _compare("HalfCheetah-v5", steps=130, max_episode_steps=60)
    assert counts["truncated"] == 6


def test_hopper_matches_gymnasium_through_terminations() -> None:
    # Large actions make the hopper fall within a few dozen steps.
    counts = _compare("Hopper-v5", steps=150, max_episode_steps=100, action_scale=3.0)
    assert counts["terminated"] >= 3


@pytest.mark.parametrize("env_id", ["Ant-v5"])
def test_contact_tasks_match_gymnasium(env_id: str) -> None:
    # Ant's observation carries clipped cfrc_ext: exercises mj_rnePostConstraint after the step.
    counts = _compare(env_id, steps=120, num_envs=2, max_episode_steps=50)
    assert counts["truncated"] + counts["terminated"] >= 2


def test_features_and_prev_features() -> None:
    venv = VectorEnv("HalfCheetah-v5", 2, seed=0, max_episode_steps=3)
    venv.set_feature_names(["x_velocity", "x_position"])
    venv.reset()
    first = venv.step(np.zeros((2, 6)))
    # After a reset, prev features are those of the reset state (velocities from a zero step).
    np.testing.assert_array_equal(first.prev_features["x_velocity"], 0.0)
    second = venv.step(np.ones((2, 6)))
    np.testing.assert_array_equal(second.prev_features["x_position"], first.features["x_position"])
    third = venv.step(np.ones((2, 6)))
    assert third.truncated.all()
    fourth = venv.step(np.ones((2, 6)))
    np.testing.assert_array_equal(fourth.prev_features["x_velocity"], 0.0)
    # The task reward's forward part is the feature, exactly.
    np.testing.assert_array_equal(second.task_parts["reward_forward"], second.features["x_velocity"])
    venv.close()


def test_reset_with_seed_is_reproducible() -> None:
    venv = VectorEnv("Hopper-v5", 2, seed=3)
    a = venv.reset()
    venv.step(np.ones((2, 3)))
    b = venv.reset(seed=3)
    np.testing.assert_array_equal(a, b)
    first = venv.datas[1]
    np.testing.assert_array_equal(first.qpos[1:], b[1, : venv.task.model.nq - 1])
    res = venv.step(np.ones((2, 3)))
    again = venv.datas[1]
    assert again is first  # reused, refreshed
    np.testing.assert_array_equal(again.qpos[1:], res.obs[1, : venv.task.model.nq - 1])
    assert len(venv.datas) == 2 and venv.datas[-1] is again
    venv.close()


def test_bench_runs_every_side_the_same_way_and_prints_each_sides_settings(
        capsys: pytest.CaptureFixture[str]) -> None:
    from studio.sim.bench_sim import main
    from studio.sim.vector import usable_cores

    # The comparison code itself, Gymnasium included, small: 2 rounds of short bursts, and a
    # batch that is not the core count, so the async side shows what it was given.
    envs = usable_cores() + 1
    assert main(["--env", "Hopper-v5", "--envs", str(envs), "--seconds", "0.02", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("RESULT studio_steps_per_s=")
    fields = dict(kv.split("=") for kv in last.split()[1:])
    for key in ("studio", "reference", "studio_features", "gym_sync", "gym_async"):
        assert float(fields[f"{key}_steps_per_s"]) > 0, key
    ratio = float(fields["studio_steps_per_s"]) / float(fields["reference_steps_per_s"])
    assert float(fields["share_of_reference"]) == pytest.approx(ratio, abs=1e-3)
    # AsyncVectorEnv gets one process per usable core, and every side says how it ran.
    assert int(fields["async_procs"]) == int(fields["cores"]) == usable_cores()
    assert f"AsyncVectorEnv, E={usable_cores()}" in out and f"mujoco.rollout, E={envs}" in out
    assert "best of 2 rounds, all sides in turn" in out and "load average after" in out


def test_bench_reference_is_frame_skip_mj_steps_under_the_held_control() -> None:
    from studio.sim.bench_sim import NativeReference

    ref = NativeReference("Hopper-v5", num_envs=3, threads=2)
    try:
        ref.step()
        model = ref.model
        for row in range(3):  # by hand: set the initial state, hold the control, frame_skip mj_step
            data = mujoco.MjData(model)
            mujoco.mj_setState(model, data, ref.initial, ref.spec)
            data.ctrl[:] = ref.actions[0, row]
            for _ in range(ref.frame_skip):
                mujoco.mj_step(model, data)
            expected = np.zeros_like(ref.initial)
            mujoco.mj_getState(model, data, expected, ref.spec)
            np.testing.assert_array_equal(ref.state[row], expected)
    finally:
        ref.close()


def test_requested_features_match_features_of_gymnasium_states() -> None:
    # HalfCheetah's own obs needs no contact forces; asking for a contact feature must
    # switch on mj_rnePostConstraint so that the value equals Gymnasium's MjData.
    from studio.sim.registry import get_task
    from studio.sim.state import StateBatch

    task = get_task("HalfCheetah-v5")
    names = ["body_bfoot_contact_force", "body_ffoot_z", "x_velocity", "ctrl_sq", "torso_angle"]
    venv = VectorEnv(task, 2, seed=11)
    venv.set_feature_names(names)
    venv.reset()
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=11)
    data = env.unwrapped.data
    rng = np.random.default_rng(5)
    touched = 0.0
    for _ in range(60):
        actions = rng.uniform(-1, 1, size=(2, 6))
        before = StateBatch.from_datas([data])
        env.step(actions[0])
        after = StateBatch.from_datas([data])
        ref = task.features(before, after, actions[:1], names)
        res = venv.step(actions)
        for n in names:
            assert res.features[n][0] == ref[n][0], n
        touched = max(touched, float(ref["body_bfoot_contact_force"][0]))
    assert touched > 0  # the foot did touch the ground
    venv.close()


def test_contact_features_switched_on_mid_episode_read_post_step_forces() -> None:
    venv = VectorEnv("HalfCheetah-v5", 1, seed=2)
    venv.reset()
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=2)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(60, 1, 6))[:38]  # foot on the ground
    for a in actions:
        venv.step(a)
        env.step(a[0])
    venv.set_feature_names(["body_bfoot_contact_force"])
    res = venv.step(np.zeros((1, 6)))
    from studio.sim.state import StateBatch

    ref = venv.task.features(StateBatch.from_datas([env.unwrapped.data]), StateBatch.from_datas([env.unwrapped.data]),
                             np.zeros((1, 6)), ["body_bfoot_contact_force"])
    assert ref["body_bfoot_contact_force"][0] > 0
    assert res.prev_features["body_bfoot_contact_force"][0] == ref["body_bfoot_contact_force"][0]
    venv.close()
