"""Training on a HERON design: the model learns online, pays the reward, logs, survives edits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.core.design import Design, Factor, Group, Term
from studio.core.heron import load_models
from studio.train.envs import catalog_names, make_env
from studio.train.heron_reward import WEIGHTS_FILE, HeronReward, observation_features
from studio.train.loop import RunSpec, checkpoint_path, load_checkpoint, run_training
from studio.train.messages import Finished, Marker, Message, Metrics
from studio.train.ppo import PPO, PPOConfig

ENV = "InvertedPendulum-v5"


def heron_design(order: tuple[str, str] = ("upright", "centred")) -> Design:
    factors = {
        "upright": Term("upright", "abs(pole_angle)", factor=Factor("less", 0.1)),
        "centred": Term("centred", "abs(cart_position)", factor=Factor("less", 0.2)),
    }
    tree = Group("tree", [factors[n] for n in order], combiner="heron", params={"hidden": "64-64"})
    return Design("heron", ENV, Group("reward", [tree]))


def _config(updates: int) -> PPOConfig:
    return PPOConfig(total_timesteps=256 * updates, num_envs=2, num_steps=128, num_minibatches=2,
                     update_epochs=2, device="cpu", torch_threads=1, snapshot_every=0)


def test_a_short_run_trains_the_model_logs_it_and_writes_its_weights(tmp_path: Path) -> None:
    msgs: list[Message] = []
    spec = RunSpec(_config(3), heron_design().to_json(), ENV, str(tmp_path), checkpoint_every=0)
    assert run_training(spec, msgs.append) == 0
    assert isinstance(msgs[-1], Finished)
    metrics = [m.values for m in msgs if isinstance(m, Metrics)]
    assert len(metrics) == 3
    for values in metrics:
        assert values["losses/heron/tree/loss"] > 0.0  # a Bradley-Terry loss on labelled pairs
        assert 0.0 <= values["losses/heron/tree/agreement"] <= 1.0
        assert 0.0 < values["losses/heron/tree/labelled"] <= 1.0
        assert abs(values["losses/heron/tree/reward_mean"]) < 1.0
    assert any("charts/task_score" in v for v in metrics)
    models = load_models(tmp_path / WEIGHTS_FILE)
    assert list(models) == ["tree"]
    assert models["tree"].inputs == observation_features(catalog_names(ENV))
    assert models["tree"].inputs == ["joint_hinge_pos", "joint_hinge_vel", "joint_slider_pos", "joint_slider_vel"]
    # The checkpoint holds the model too, and loads without unpickling code.
    state = load_checkpoint(checkpoint_path(tmp_path))
    saved = state["heron"]["tree"]["model"]["net.0.weight"]
    assert torch.equal(saved.double(), models["tree"].model.net[0].weight)


def test_the_reward_is_the_trained_models_standardised_output() -> None:
    env = make_env(ENV, 2, 0, 1000, None)
    try:
        trainer = PPO(_config(2), env, heron_design(), feature_names=catalog_names(ENV))
        reward = trainer.reward
        assert isinstance(reward, HeronReward)
        before = [p.detach().clone() for p in reward.learners["tree"].heron.model.parameters()]
        trainer.train_update()
        after = list(reward.learners["tree"].heron.model.parameters())
        assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
        # Re-evaluating the last rollout gives the model's reward: standardised (mean ~0, std ~1
        # under the running statistics of a single rollout) and not the untrained zero.
        total, _ = super(HeronReward, reward).evaluate(0, torch.zeros(128, 2, dtype=torch.bool),
                                                       torch.zeros(128, 2, dtype=torch.bool))
        assert float(total.std()) > 0.1 and abs(float(total.mean())) < 1.0
    finally:
        env.close()


def test_a_live_reorder_keeps_the_model_and_takes_effect_at_the_next_update() -> None:
    env = make_env(ENV, 2, 0, 1000, None)
    try:
        trainer = PPO(_config(3), env, heron_design(), feature_names=catalog_names(ENV))
        trainer.train_update()
        learner = trainer.reward.learners["tree"]  # type: ignore[attr-defined]
        trainer.update_design(heron_design(("centred", "upright")).to_json(), "v2")
        msgs = trainer.train_update()
        assert any(isinstance(m, Marker) and m.kind == "design" and m.payload["version_id"] == "v2" for m in msgs)
        reward = trainer.reward
        assert isinstance(reward, HeronReward) and reward.learners["tree"] is learner
        tree = reward.design.find("tree")
        assert isinstance(tree, Group) and [c.name for c in tree.children] == ["centred", "upright"]
    finally:
        env.close()


def test_a_checkpoint_restores_the_model_its_optimiser_and_statistics(tmp_path: Path) -> None:
    from studio.train.loop import save_checkpoint

    env = make_env(ENV, 2, 0, 1000, None)
    try:
        trainer = PPO(_config(3), env, heron_design(), feature_names=catalog_names(ENV))
        trainer.train_update()
        save_checkpoint(trainer.state_dict(), tmp_path / "c.pt")
        again = PPO(_config(3), env, heron_design(), feature_names=catalog_names(ENV))
        again.load_state_dict(load_checkpoint(tmp_path / "c.pt"))  # weights_only loading
        a = trainer.reward.learners["tree"]  # type: ignore[attr-defined]
        b = again.reward.learners["tree"]  # type: ignore[attr-defined]
        for (k, x), (_, y) in zip(a.heron.model.state_dict().items(), b.heron.model.state_dict().items(), strict=True):
            assert torch.equal(x, y), k
        assert b.out_rms.started and float(b.out_rms.mean) == float(a.out_rms.mean)
        assert float(b.out_rms.var) == float(a.out_rms.var) != 1.0
        assert b.optimizer.state_dict()["state"][0]["step"] == a.optimizer.state_dict()["state"][0]["step"]
    finally:
        env.close()


def test_sac_refuses_a_heron_design_with_the_remedy() -> None:
    from studio.train.sac import SAC, SACConfig

    env = make_env(ENV, 1, 0, 1000, None)
    try:
        with pytest.raises(ValueError, match="choose PPO"):
            SAC(SACConfig(total_timesteps=100, device="cpu"), env, heron_design(), feature_names=catalog_names(ENV))
    finally:
        env.close()


def test_output_statistics_follow_a_drifting_model_offset() -> None:
    from studio.train.heron_reward import MovingStats

    stats = MovingStats(torch.device("cpu"), momentum=0.9)
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        stats.update(torch.randn(2048, generator=g, dtype=torch.float64))
    for _ in range(30):  # a fit moved the offset by 5 (Bradley-Terry cannot see it)
        stats.update(5.0 + torch.randn(2048, generator=g, dtype=torch.float64))
    # 0.9 ** 30 = 4% of the old mean is left: the current scores standardise to about 0,
    # where statistics pooled over the 80 rollouts would say (5 - 1.875) / 2.4 = 1.3.
    assert float(stats.mean) == pytest.approx(5.0 * (1 - 0.9 ** 30), abs=0.05)
