"""Task adapters and the task registry: shapes, catalogue, plugins, generic tasks."""

from __future__ import annotations

import logging

import gymnasium as gym
import numpy as np
import pytest

from studio.core.compile import compile_design
from studio.sim.registry import TaskRegistry, get_task, list_tasks
from studio.sim.state import StateBatch
from studio.sim.tasks import BUILTIN_TASKS
from studio.sim.tasks.generic import GymEnvTask, MjcfTask
from studio.sim.vector import VectorEnv
from tests.plugin_dist import installed_plugin

TASK_IDS = [cls.ENV_ID for cls in BUILTIN_TASKS]


@pytest.fixture(autouse=True)
def _private_range_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges measured on first use go to a temporary folder, not the user's cache."""
    from studio.sim.tasks import ranges

    monkeypatch.setattr(ranges, "CACHE_DIR", tmp_path / "ranges-cache")

BALL_XML = """
<mujoco>
  <worldbody>
    <geom type="plane" size="5 5 .1"/>
    <body name="ball" pos="0 0 .5"><freejoint/><geom size=".1"/></body>
    <body name="arm" pos="1 0 .5"><joint name="hinge" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 .3 0 0" size=".05"/></body>
  </worldbody>
  <actuator><motor joint="hinge" ctrlrange="-1 1"/></actuator>
</mujoco>
"""


def test_builtins_are_registered_through_the_plugin_path() -> None:
    ids = list_tasks()
    assert ids[: len(TASK_IDS)] == TASK_IDS
    assert len(TASK_IDS) == 10


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_task_matches_the_gymnasium_env(env_id: str) -> None:
    task = get_task(env_id)
    env = gym.make(env_id)
    raw = env.unwrapped
    assert task.obs_dim == env.observation_space.shape[0]
    assert task.act_dim == env.action_space.shape[0]
    np.testing.assert_array_equal(task.action_low, env.action_space.low)
    np.testing.assert_array_equal(task.action_high, env.action_space.high)
    assert task.frame_skip == raw.frame_skip and task.dt == pytest.approx(raw.dt)
    assert task.max_episode_steps == env.spec.max_episode_steps
    np.testing.assert_array_equal(task.init_qpos, raw.init_qpos)
    env.close()


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_catalog_has_semantic_and_automatic_features_with_ranges(env_id: str) -> None:
    task = get_task(env_id)
    cat = task.catalog
    groups = {spec.group for spec in cat}
    assert "task" in groups and "body" in groups
    for spec in cat:
        assert spec.low < spec.high, spec.name
        assert spec.description
    assert "ctrl_sq" in cat
    # The task's own design reads only catalogue features (compile validates every name).
    compiled = compile_design(task.task_design(), features=cat.names())
    assert compiled.required_features <= set(cat.names())
    # Flags keep their declared 0..1 range rather than a measured one.
    if "healthy" in cat:
        assert (cat["healthy"].low, cat["healthy"].high) == (0.0, 1.0)


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_committed_ranges_cover_every_feature(env_id: str) -> None:
    # Fails when a feature is added or renamed: rerun `python -m studio.sim.tasks.ranges`.
    from studio.sim.tasks.ranges import load_ranges

    task = get_task(env_id)
    missing = set(task.feature_names()) - set(load_ranges(task, regenerate=False))
    assert not missing, f"stale assets/feature_ranges/{env_id}.json: {sorted(missing)[:5]}"


def test_features_are_lazy_fresh_and_checked() -> None:
    task = get_task("HalfCheetah-v5")
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=0)
    data = env.unwrapped.data
    before = StateBatch.from_datas([data])
    action = np.full((1, 6), 0.5)
    env.step(action[0])
    after = StateBatch.from_datas([data])
    out = task.features(before, after, action, ["x_velocity", "body_torso_z"])
    assert list(out) == ["x_velocity", "body_torso_z"]
    assert out["x_velocity"].dtype == np.float64 and out["x_velocity"].shape == (1,)
    assert not np.shares_memory(task.features(before, after, action, ["x_position"])["x_position"], after.qpos)
    np.testing.assert_allclose(task.features(before, after, action, ["ctrl_sq"])["ctrl_sq"], [1.5])
    with pytest.raises(KeyError, match="no_such_feature"):
        task.features(before, after, action, ["no_such_feature"])
    env.close()


def test_reacher_and_pusher_read_distances_after_the_step() -> None:
    # v5 computes these after do_simulation: the feature must follow the after-state.
    task = get_task("Reacher-v5")
    env = gym.make("Reacher-v5")
    env.reset(seed=1)
    data = env.unwrapped.data
    before = StateBatch.from_datas([data])
    action = np.ones((1, 2))
    _, _, _, _, info = env.step(action[0])
    after = StateBatch.from_datas([data])
    dist = task.features(before, after, action, ["dist_to_target"])["dist_to_target"]
    assert -dist[0] == pytest.approx(info["reward_dist"], abs=1e-12)
    env.close()


def test_describe_names_observation_action_and_reward() -> None:
    text = get_task("Hopper-v5").describe()
    assert "Observation: 11 float64 values" in text
    assert "torque on joint thigh_joint" in text
    assert "healthy" in text and "x_velocity" in text


def test_broken_plugin_is_logged_and_skipped(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from studio.plugins import failures

    # An installed plugin whose module fails to import, loaded by the one plugin loader.
    with installed_plugin(tmp_path, monkeypatch, "broken-envs",
                          {"broken_envs": "import missing_dependency\n"},
                          {"reward_studio.envs": {"broken": "broken_envs:register"}}), \
            caplog.at_level(logging.WARNING, logger="studio.plugins"):
        reg = TaskRegistry()
        assert "Hopper-v5" in reg.ids()  # the built-ins still load
    assert "missing_dependency" in reg.errors["broken"] and "missing_dependency" in caplog.text
    assert any(f.name == "broken" and f.group == "reward_studio.envs" for f in failures())


def test_source_checkout_without_metadata_still_has_the_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.plugins as plugins

    monkeypatch.setattr(plugins, "entry_points", lambda group: [])
    reg = TaskRegistry()
    assert reg.ids()[: len(TASK_IDS)] == TASK_IDS and not reg.errors


def test_third_party_plugin_registers_a_task(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ball.xml"
    path.write_text(BALL_XML)
    source = ("from studio.sim.tasks.generic import MjcfTask\n"
              "def register(registry):\n"
              f"    registry.register('Ball-v0', lambda: MjcfTask({str(path)!r}, frame_skip=2), title='a ball')\n")
    with installed_plugin(tmp_path, monkeypatch, "ball-envs", {"ball_envs": source},
                          {"reward_studio.envs": {"thirdparty": "ball_envs:register"}}):
        reg = TaskRegistry()
        task = reg.get("Ball-v0")
    assert task.frame_skip == 2 and reg.get("Ball-v0") is task
    assert [e.source for e in reg.entries() if e.env_id == "Ball-v0"] == ["thirdparty"]


def test_unknown_task_names_the_alternatives() -> None:
    with pytest.raises(KeyError, match="Registered tasks: HalfCheetah-v5"):
        get_task("NoSuchEnv-v0")


def test_generic_gymnasium_task_steps_with_the_env_reward() -> None:
    task = get_task("HumanoidStandup-v5")
    assert isinstance(task, GymEnvTask) and not task.native and not task.has_task_reward
    assert "body_torso_z" in task.catalog
    assert task.catalog["body_torso_z"].high > task.catalog["body_torso_z"].low
    venv = VectorEnv(task, 2, seed=5, max_episode_steps=4)
    venv.set_feature_names(["body_torso_z"])
    obs = venv.reset()
    ref = gym.make("HumanoidStandup-v5")
    ref_obs, _ = ref.reset(seed=5)
    np.testing.assert_array_equal(obs[0], ref_obs)
    action = np.full((2, task.act_dim), 0.1)
    for _ in range(4):
        res = venv.step(action)
        _, r, *_ = ref.step(action[0])
        assert res.task_reward[0] == pytest.approx(r, abs=1e-9)
        assert np.isfinite(res.features["body_torso_z"]).all()
    assert res.truncated.all() and np.isfinite(res.episode_return).all()
    venv.close()
    ref.close()


def test_mjcf_file_is_a_task(tmp_path) -> None:
    path = tmp_path / "ball.xml"
    path.write_text(BALL_XML)
    task = get_task(str(path))
    assert isinstance(task, MjcfTask) and task.frame_skip == 5
    assert task.obs_dim == task.model.nq + task.model.nv and task.act_dim == 1
    assert "body_ball_z" in task.catalog
    assert list((tmp_path / "ranges-cache").glob("ball-*.json"))  # measured once, cached
    with VectorEnv(task, 3, seed=0, max_episode_steps=60) as venv:
        venv.set_feature_names(["body_ball_z"])
        venv.reset()
        for _ in range(60):
            res = venv.step(np.zeros((3, 1)))
        np.testing.assert_array_equal(res.task_reward, 0.0)
        assert res.truncated.all()
        assert (res.features["body_ball_z"] < 0.15).all()  # it fell to the floor


@pytest.mark.parametrize("module", ["studio.sim.registry", "studio.sim.tasks", "studio.sim.vector"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
