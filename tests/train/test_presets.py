"""Training presets: RL Zoo's settings carried over with SB3's meaning, and the PPO options they use."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.app.rollouts import policy_from_snapshot
from studio.sim.registry import list_tasks
from studio.train.bench_sb3 import sb3_ppo_kwargs
from studio.train.ppo import PPO, Agent, mlp
from studio.train.presets import (
    GPU_SCALE,
    TASKS,
    default_preset,
    get_preset,
    ppo_config,
    preset_names,
    sb3_ppo_settings,
)


def test_every_builtin_task_has_the_tuned_and_the_earlier_preset() -> None:
    tasks = {env_id.split("-")[0] for env_id in list_tasks()}
    assert tasks == set(TASKS)
    for task in TASKS:
        assert preset_names(f"{task}-v5") == ["zoo", "zoo-gpu", "cleanrl"]
        assert preset_names(f"{task}-v5", "sac") == ["zoo"]


def test_the_halfcheetah_preset_is_the_zoo_entry() -> None:
    # hyperparams/ppo.yml, HalfCheetah-v4, copied by hand.
    c = ppo_config("HalfCheetah-v5", "zoo")
    assert (c.num_envs, c.num_steps, c.minibatch_size, c.update_epochs) == (1, 512, 64, 20)
    assert (c.gamma, c.gae_lambda, c.clip_coef, c.max_grad_norm) == (0.98, 0.92, 0.1, 0.8)
    assert c.learning_rate == 2.0633e-05 and not c.anneal_lr and c.ent_coef == 0.000401762
    assert (c.hidden, c.activation, c.ortho_init, c.log_std_init) == ((256, 256), "relu", False, -2.0)
    assert c.norm_obs and c.norm_reward
    assert 0.5 * c.vf_coef == pytest.approx(0.58096) and not c.clip_vloss  # SB3 weighs the full MSE


@pytest.mark.parametrize("task", TASKS)
def test_a_zoo_preset_translated_back_to_sb3_is_the_zoo_entry(task: str) -> None:
    zoo = sb3_ppo_settings(task)
    kw = sb3_ppo_kwargs(ppo_config(f"{task}-v5", "zoo"))
    c = ppo_config(f"{task}-v5", "zoo")
    assert c.num_envs == zoo["n_envs"] and kw["n_steps"] == zoo["n_steps"]
    # SB3 cuts a rollout shorter than batch_size into one minibatch of the whole rollout.
    assert kw["batch_size"] == min(zoo["batch_size"], zoo["n_envs"] * zoo["n_steps"])
    for ours, theirs in (("n_epochs", "n_epochs"), ("learning_rate", "learning_rate"), ("gamma", "gamma"),
                         ("gae_lambda", "gae_lambda"), ("clip_range", "clip_range"), ("ent_coef", "ent_coef"),
                         ("vf_coef", "vf_coef"), ("max_grad_norm", "max_grad_norm")):
        assert kw[ours] == pytest.approx(zoo[theirs]), ours
    pk = kw["policy_kwargs"]
    assert pk["net_arch"] == {"pi": list(zoo["net"]), "vf": list(zoo["net"])}
    assert pk["ortho_init"] == zoo["ortho_init"] and pk["log_std_init"] == zoo["log_std_init"]
    assert pk["activation_fn"].__name__.lower() == zoo["activation"]


def test_the_default_is_the_tuned_preset_for_the_device() -> None:
    assert default_preset("Hopper-v5", "cpu") == "zoo"
    assert default_preset("Hopper-v5", "cuda") == "zoo-gpu"
    assert ppo_config("Hopper-v5").learning_rate == 9.80828e-05  # Hopper-v4's tuned rate
    cpu, gpu = ppo_config("Walker2d-v5", "zoo"), ppo_config("Walker2d-v5", "zoo-gpu")
    assert gpu.num_envs == GPU_SCALE * cpu.num_envs and gpu.minibatch_size == GPU_SCALE * cpu.minibatch_size
    assert gpu.num_steps == cpu.num_steps and gpu.update_epochs == cpu.update_epochs


def test_an_unknown_preset_names_the_choices() -> None:
    with pytest.raises(KeyError, match="zoo, zoo-gpu, cleanrl"):
        get_preset("Hopper-v5", "fast")
    with pytest.raises(KeyError, match="use --preset cleanrl"):
        get_preset("MyRobot-v0", "zoo")
    assert default_preset("MyRobot-v0") == "cleanrl"


def test_orthogonal_initialisation_can_be_turned_off() -> None:
    torch.manual_seed(0)
    w_ortho = mlp([64, 32, 1], 1.0, "relu", ortho=True)[0].weight.detach()
    w_default = mlp([64, 32, 1], 1.0, "relu", ortho=False)[0].weight.detach()
    # Orthogonal rows with gain sqrt(2): W W^T = 2 I. torch's default (uniform in +-1/sqrt(64))
    # has row norms about sqrt(64 * (1/64) / 3) = 0.58, far from sqrt(2).
    np.testing.assert_allclose((w_ortho @ w_ortho.T).numpy(), 2 * np.eye(32), atol=1e-5)
    assert float(w_default.norm(dim=1).mean()) == pytest.approx(math.sqrt(1 / 3), rel=0.2)


def test_a_relu_policy_plays_in_the_viewer_as_it_acts_in_training() -> None:
    torch.manual_seed(1)
    agent = Agent(5, 2, (8, 8), activation="relu", ortho_init=False, log_std_init=-2.0)
    assert torch.equal(agent.actor_logstd.detach(), torch.full((1, 2), -2.0))
    obs = np.random.default_rng(2).normal(size=(4, 5))
    state = {k: v.detach() for k, v in agent.state_dict().items()}
    head = {"mean": np.zeros(5), "var": np.ones(5), "clip": 10.0, "activation": "relu"}
    with torch.no_grad():
        expected = agent.actor_mean(torch.as_tensor(obs, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(policy_from_snapshot(state, head)(obs), expected, rtol=1e-5, atol=1e-6)


def test_step_by_step_reward_scaling_is_vecnormalizes() -> None:
    from stable_baselines3.common.running_mean_std import RunningMeanStd as SB3RunningMeanStd

    from studio.train.envs import catalog_names, make_env, task_design_document

    cfg = ppo_config("InvertedPendulum-v5", "zoo", device="cpu", num_envs=2)
    env = make_env("InvertedPendulum-v5", 2, 1, 1000)
    trainer = PPO(cfg, env, task_design_document("InvertedPendulum-v5"), feature_names=catalog_names(env.task.env_id))
    env.close()
    rng = np.random.default_rng(3)
    rewards = rng.normal(1.0, 2.0, size=(6, 2))
    dones = np.zeros((6, 2))
    dones[2, 0] = dones[4, 1] = 1.0
    ours = trainer._scale_rewards(torch.as_tensor(rewards), torch.as_tensor(dones)).numpy()
    # SB3's VecNormalize.step_wait, written out: update with the returns, scale, reset at dones.
    rms, returns, expected = SB3RunningMeanStd(shape=()), np.zeros(2), np.zeros_like(rewards)
    for t in range(6):
        returns = returns * cfg.gamma + rewards[t]
        rms.update(returns)
        expected[t] = np.clip(rewards[t] / np.sqrt(rms.var + 1e-8), -10.0, 10.0)
        returns[dones[t] > 0] = 0.0
    np.testing.assert_allclose(ours, expected, rtol=1e-5)


@pytest.mark.parametrize("task", ["Reacher", "Pusher", "Hopper"])
def test_presets_keep_the_tasks_registered_time_limit(task: str) -> None:
    import gymnasium as gym

    limit = gym.spec(f"{task}-v5").max_episode_steps  # Reacher 50, Pusher 100, Hopper 1000
    assert ppo_config(f"{task}-v5", "zoo").max_episode_steps == limit
    assert ppo_config(f"{task}-v5", "cleanrl").max_episode_steps == limit
    assert get_preset(f"{task}-v5", "zoo", "sac").fields["max_episode_steps"] == limit
