"""PPO learns: InvertedPendulum's task return rises; live design edits switch at an update."""

from __future__ import annotations

import numpy as np

from studio.core.design import Design, Group, Term
from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.messages import Marker, Metrics, Progress
from studio.train.ppo import PPO, PPOConfig

ENV = "InvertedPendulum-v5"


def _trainer(cfg: PPOConfig, design: Design | dict | None = None) -> PPO:
    env = make_env(ENV, cfg.num_envs, cfg.seed, cfg.max_episode_steps)
    doc = task_design_document(ENV) if design is None else design
    return PPO(cfg, env, doc, feature_names=catalog_names(ENV))


def _scores(messages: list) -> list[float]:
    return [m.values["charts/task_score"] for m in messages if isinstance(m, Metrics) and "charts/task_score" in m.values]


def test_inverted_pendulum_task_return_rises() -> None:
    cfg = PPOConfig(total_timesteps=30_720, num_envs=8, num_steps=256, seed=1, device="cpu")
    trainer = _trainer(cfg)
    messages = list(trainer.run())
    trainer.env.close()
    scores = _scores(messages)
    assert trainer.global_step == 30_720
    # A random policy balances ~5-10 steps; by the end, several hundred (1000 is the cap).
    assert np.mean(scores[:2]) < 30
    assert np.mean(scores[-3:]) > 300, scores
    metrics = [m for m in messages if isinstance(m, Metrics)]
    for key in (
        "charts/SPS", "charts/episodic_return", "charts/task_score", "charts/learning_rate",
        "Episode_Reward/alive", "losses/policy_loss", "losses/value_loss", "losses/approx_kl",
        "losses/clipfrac", "losses/entropy", "losses/explained_variance",
    ):
        assert key in metrics[-1].values, key
    # The design here *is* the task reward, so the two returns agree.
    last = metrics[-1].values
    assert last["charts/episodic_return"] == last["charts/task_score"]
    assert last["charts/learning_rate"] < cfg.learning_rate
    assert any(isinstance(m, Progress) for m in messages)


def test_reward_comes_from_the_design_not_the_task() -> None:
    cfg = PPOConfig(total_timesteps=1024, num_envs=4, num_steps=256, num_minibatches=4, update_epochs=1)
    design = Design("twice", ENV, Group("reward", [Term("alive2", "healthy", weight=2.0)]))
    trainer = _trainer(cfg, design)
    values = next(m for m in trainer.train_update() if isinstance(m, Metrics)).values
    trainer.env.close()
    assert values["charts/episodic_return"] == 2 * values["charts/task_score"]
    assert values["Episode_Reward/alive2"] == values["charts/episodic_return"]


def test_live_design_update_switches_at_next_update_with_marker() -> None:
    cfg = PPOConfig(total_timesteps=4096, num_envs=4, num_steps=256, num_minibatches=4, update_epochs=1)
    trainer = _trainer(cfg)
    first = trainer.train_update()
    assert not any(isinstance(m, Marker) for m in first)
    new = Design("tilt", ENV, Group("reward", [
        Term("upright", "healthy"), Term("angle_pen", "pole_angle * pole_angle", weight=-1.0)]))
    trainer.update_design(new.to_json(), "v2")
    assert trainer.reward.version == "initial"  # nothing changes mid-update
    second = trainer.train_update()
    trainer.env.close()
    marker = second[0]
    assert isinstance(marker, Marker) and marker.kind == "design"
    assert marker.step == 1024 and marker.payload["version_id"] == "v2"
    assert trainer.reward.version == "v2" and trainer.global_step == 2048
    values = next(m for m in second if isinstance(m, Metrics)).values
    assert "Episode_Reward/angle_pen" in values and "Episode_Reward/alive" not in values
    assert trainer.state_dict()["design"]["name"] == "tilt"


def test_bad_live_design_is_rejected_and_training_continues() -> None:
    cfg = PPOConfig(total_timesteps=4096, num_envs=2, num_steps=128, num_minibatches=2, update_epochs=1)
    trainer = _trainer(cfg)
    trainer.update_design({"format": "nonsense"}, "broken")
    out = trainer.train_update()
    assert isinstance(out[0], Marker) and out[0].kind == "design_rejected"
    assert trainer.reward.version == "initial" and trainer.global_step == 256
    other = Design("run", "HalfCheetah-v5", Group("reward", [Term("fwd", "x_velocity")]))
    trainer.update_design(other.to_json(), "wrong-task")
    out = trainer.train_update()
    trainer.env.close()
    assert out[0].kind == "design_rejected" and "HalfCheetah-v5" in out[0].payload["error"]
