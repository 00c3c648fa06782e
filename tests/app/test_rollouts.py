"""record_rollout and heatmap_grid against the compiled design."""

from __future__ import annotations

import numpy as np
import torch

from studio.app.rollouts import evaluate_trace, record_rollout
from studio.core.analysis import heatmap as heatmap_grid
from studio.core.compile import compile_design
from studio.core.design import Design, Group, Term


class _State:
    def __init__(self, stop_at: float = 101.0) -> None:
        self.progress: list[float] = []
        self.stop_at = stop_at

    def set_progress(self, p: float) -> None:
        self.progress.append(p)

    def is_interruption_requested(self) -> bool:
        return bool(self.progress) and self.progress[-1] >= self.stop_at


def _pendulum_design() -> Design:
    return Design("p", "InvertedPendulum-v5", Group("reward", [
        Term("alive", "healthy"),
        Term("angle", "pole_angle * pole_angle", weight=-2.0),
    ]))


def test_record_rollout_components_sum_to_total_and_states_replay() -> None:
    state = _State()
    trace = record_rollout("InvertedPendulum-v5", _pendulum_design(), "random", steps=60, seed=0,
                           state=state)
    assert trace.length == 60 and state.progress[-1] == 100.0
    assert set(trace.components) == {"alive", "angle"}
    np.testing.assert_allclose(trace.components["alive"] + trace.components["angle"], trace.total)
    np.testing.assert_allclose(trace.components["angle"], -2.0 * trace.values["angle"])
    np.testing.assert_array_equal(trace.task_reward, trace.features["healthy"])  # v5: 0 on falling
    assert trace.terminated.any()  # a random policy drops the pole within 60 steps
    # Every step replays in MuJoCo from its stored start state (an episode's reset state
    # where one began) to the stored state after it.
    import mujoco

    from studio.sim.registry import get_task

    task = get_task("InvertedPendulum-v5")
    assert trace.qpos is not None and trace.states is not None and trace.qpos.shape[0] == 61
    s = trace.states
    starts = {int(t): j for j, t in enumerate(s["reset_steps"])}
    d = mujoco.MjData(task.model)
    for t in range(trace.length):
        src, row = (("reset_", starts[t]) if t in starts else ("", t))
        mujoco.mj_resetData(task.model, d)
        d.qpos[:], d.qvel[:] = s[src + "qpos"][row], s[src + "qvel"][row]
        d.qacc_warmstart[:] = s[src + "qacc_warmstart"][row]
        d.ctrl[:] = trace.actions[t]
        mujoco.mj_step(task.model, d, nstep=task.frame_skip)
        np.testing.assert_allclose(d.qpos, trace.qpos[t + 1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(d.qvel, trace.qvel[t + 1], rtol=0, atol=1e-12)


def test_record_rollout_can_be_cancelled_and_zero_policy() -> None:
    trace = record_rollout("InvertedPendulum-v5", _pendulum_design(), "zero", steps=500,
                           state=_State(stop_at=10.0))
    assert 0 < trace.length < 500 and np.all(trace.actions == 0)


def test_evaluate_trace_zero_weight_gives_zero_component() -> None:
    d = _pendulum_design()
    trace = record_rollout("InvertedPendulum-v5", d, "random", steps=20)
    d.root.children[1].weight = 0.0
    evaluate_trace(trace, d)
    assert np.all(trace.components["angle"] == 0.0)


def test_heatmap_grid_matches_compiled_design_at_grid_points() -> None:
    d = Design("h", "T", Group("reward", [
        Term("speed", "v", shape="linear"),
        Term("effort", "u * u + w", weight=-0.5),
    ]))
    base = {"v": 0.3, "u": 0.1, "w": 2.0}
    xs, ys, z = heatmap_grid(d, base, "v", "u", (-1, 1), (-2, 2), resolution=9)
    assert z.shape == (9, 9)
    compiled = compile_design(d, dtype=torch.float64)
    for iy, ix in [(0, 0), (4, 7), (8, 3)]:
        out = compiled({"v": [xs[ix]], "u": [ys[iy]], "w": [2.0]})
        assert abs(float(out.total[0]) - z[iy, ix]) < 1e-12
    _, _, ze = heatmap_grid(d, base, "v", "u", (-1, 1), (-2, 2), which="effort", resolution=9)
    assert abs(ze[8, 0] - (-0.5 * (4.0 + 2.0))) < 1e-12


def test_policy_from_snapshot_matches_the_trainers_actor() -> None:
    from studio.app.rollouts import policy_from_snapshot
    from studio.train.ppo import Agent

    torch.manual_seed(0)
    agent = Agent(5, 2, (16, 8))
    mean, var = np.arange(5.0), np.full(5, 4.0)
    act = policy_from_snapshot(agent.state_dict(), {"mean": mean, "var": var, "clip": 10.0})
    obs = np.random.default_rng(0).normal(size=(3, 5)) * 3
    x = torch.as_tensor(np.clip((obs - mean) / np.sqrt(var + 1e-8), -10, 10), dtype=torch.float32)
    with torch.no_grad():
        expected = agent.actor_mean(x).numpy()
    np.testing.assert_allclose(act(obs), expected, atol=1e-5)


def test_trace_save_load_round_trip(tmp_path) -> None:
    from studio.app.rollouts import RolloutTrace

    trace = record_rollout("InvertedPendulum-v5", _pendulum_design(), "random", steps=15)
    trace.save(tmp_path / "t.npz")
    back = RolloutTrace.load(tmp_path / "t.npz")
    assert back.env_id == trace.env_id and back.meta == trace.meta
    np.testing.assert_array_equal(back.qpos, trace.qpos)
    np.testing.assert_array_equal(back.components["angle"], trace.components["angle"])
    assert set(back.features) == set(trace.features) and back.terminated.dtype == bool
