"""SAC on the real stepper: buffer re-labelling on design edits, the training loop, snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.app.rollouts import policy_from_snapshot
from studio.core.design import Design, Group, Term
from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.loop import RunSpec, checkpoint_path, load_checkpoint, run_training
from studio.train.messages import Checkpointed, Finished, Marker, Message, Metrics, Snapshot
from studio.train.sac import SAC, SACConfig

ENV = "HalfCheetah-v5"


class Recorder:
    """The real VectorEnv, remembering each step's observation and Gymnasium's forward reward."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.obs: list[np.ndarray] = []
        self.forward: list[np.ndarray] = []
        self.task: list[np.ndarray] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, seed: int | None = None) -> np.ndarray:
        self.last = self.env.reset(seed=seed)
        return self.last  # type: ignore[no-any-return]

    def step(self, actions: np.ndarray) -> Any:
        res = self.env.step(actions)
        self.obs.append(np.array(self.last))
        self.forward.append(np.array(res.task_parts["reward_forward"]))
        self.task.append(np.array(res.task_reward))
        self.last = res.obs
        return res


def _sac(steps: int, **kw: Any) -> tuple[SAC, Recorder]:
    cfg = SACConfig(total_timesteps=steps, num_envs=2, learning_starts=10**9, report_every=100, device="cpu",
                    max_episode_steps=50, snapshot_every=0, **kw)
    env = Recorder(make_env(ENV, cfg.num_envs, cfg.seed, cfg.max_episode_steps))
    return SAC(cfg, env, task_design_document(ENV), feature_names=catalog_names(ENV)), env


def test_after_an_edit_every_sampled_transition_carries_the_new_designs_reward() -> None:
    trainer, env = _sac(400)
    trainer.train_update()  # 100 transitions under the task's reward
    trainer.train_update()
    # The edit: only the forward term, tripled. Its reward is 3 x Gymnasium's forward reward,
    # which the recorder took from the simulator's own task reward, not from the buffer.
    edited = Design("fast", ENV, Group("reward", [Term("forward", "x_velocity", weight=3.0)]))
    trainer.update_design(edited.to_json(), "v2")
    messages = trainer.train_update()  # the switch happens first, then 100 more transitions
    marker = next(m for m in messages if isinstance(m, Marker))
    assert marker.kind == "design" and marker.payload["relabelled"] == 200
    assert marker.payload["relabel_s"] >= 0.0 and "dropped" not in marker.payload

    expected = 3.0 * np.concatenate(env.forward)  # insertion order: step by step, env by env
    recorded_obs = np.concatenate(env.obs)
    assert trainer.buffer.size == 300 == expected.size
    batch = trainer.buffer.sample(1000)
    idx = batch["index"].numpy()
    np.testing.assert_allclose(batch["obs"].numpy(), recorded_obs[idx], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(batch["rewards"].numpy(), expected[idx], rtol=1e-5, atol=1e-5)
    stale = np.concatenate(env.task)[idx]  # what the rows held before: the task's reward
    assert np.mean(np.abs(batch["rewards"].numpy() - stale) > 1e-3) > 0.5


def test_an_edit_reading_a_feature_the_buffer_lacks_drops_the_old_transitions() -> None:
    trainer, _ = _sac(300)
    trainer.train_update()
    edited = Design("tall", ENV, Group("reward", [Term("height", "torso_height")]))
    trainer.update_design(edited.to_json(), "v3")
    marker = next(m for m in trainer.train_update() if isinstance(m, Marker))
    assert marker.payload["relabelled"] == 0 and marker.payload["dropped"] == 100
    assert marker.payload["missing"] == ["torso_height"]
    assert trainer.buffer.size == 100 and trainer.buffer.names == ["torso_height"]  # the new transitions only


def test_a_rejected_edit_keeps_the_buffer_and_the_design() -> None:
    trainer, _ = _sac(300)
    trainer.train_update()
    before = trainer.buffer.rewards[:100].clone()
    trainer.update_design(Design("x", ENV, Group("reward", [Term("bad", "no_such_feature")])).to_json(), "v4")
    marker = next(m for m in trainer.train_update() if isinstance(m, Marker))
    assert marker.kind == "design_rejected" and "no_such_feature" in marker.payload["error"]
    assert torch.equal(trainer.buffer.rewards[:100], before)


def test_sac_runs_in_the_training_loop_with_checkpoints_that_resume(tmp_path: Path) -> None:
    cfg = SACConfig(total_timesteps=120, learning_starts=60, batch_size=32, report_every=40, device="cpu",
                    hidden=(16, 16), snapshot_every=1)
    doc = task_design_document(ENV)
    out: list[Message] = []
    assert run_training(RunSpec(cfg, doc, ENV, str(tmp_path), checkpoint_every=1), out.append) == 0
    assert isinstance(out[-1], Finished) and out[-1].step == 120
    metrics = [m for m in out if isinstance(m, Metrics)]
    assert [m.step for m in metrics] == [40, 80, 120]
    assert "losses/qf1_loss" in metrics[-1].values and "losses/qf1_loss" not in metrics[0].values
    assert any(isinstance(m, Checkpointed) for m in out)
    state = load_checkpoint(checkpoint_path(tmp_path))  # weights_only=True
    assert state["algo"] == "sac" and state["global_step"] == 120 and state["grad_steps"] == 60

    more = SACConfig(**{**cfg.__dict__, "total_timesteps": 160})
    resumed: list[Message] = []
    assert run_training(RunSpec(more, doc, ENV, str(tmp_path), resume=True), resumed.append) == 0
    assert isinstance(resumed[0], Marker) and resumed[0].kind == "restored"
    # The buffer came back with the checkpoint: its 120 transitions, not an empty one.
    assert isinstance(resumed[1], Marker) and resumed[1].kind == "replay"
    assert resumed[1].payload["restored"] == 120 and "reason" not in resumed[1].payload
    assert [m.step for m in resumed if isinstance(m, Metrics)] == [160]


def test_a_resumed_run_gets_back_the_same_transitions_relabelled_under_its_design() -> None:
    trainer, env = _sac(400)
    trainer.train_update()
    trainer.train_update()
    edited = Design("fast", ENV, Group("reward", [Term("forward", "x_velocity", weight=3.0)]))
    trainer.update_design(edited.to_json(), "v2")
    trainer.train_update()
    state, replay = trainer.state_dict(), trainer.replay_state()

    # A new process: built from the original design, then the checkpoint and its buffer.
    fresh, _ = _sac(400)
    fresh.load_state_dict(state)
    done = fresh.load_replay(replay)
    assert done.relabelled == 300 and fresh.buffer.size == 300 and fresh.buffer.pos == trainer.buffer.pos
    np.testing.assert_array_equal(fresh.buffer.obs[:300].numpy(), np.concatenate(env.obs).astype(np.float32))
    # Rewards recomputed under the checkpoint's design: 3 x Gymnasium's forward reward.
    np.testing.assert_allclose(fresh.buffer.rewards[:300].numpy(), 3.0 * np.concatenate(env.forward),
                               rtol=1e-5, atol=1e-5)


def test_a_buffer_from_another_step_is_not_restored_and_the_run_goes_on(tmp_path: Path) -> None:
    cfg = SACConfig(total_timesteps=80, learning_starts=40, batch_size=16, report_every=40, device="cpu",
                    hidden=(16, 16), snapshot_every=0)
    doc = task_design_document(ENV)
    assert run_training(RunSpec(cfg, doc, ENV, str(tmp_path), checkpoint_every=1), lambda m: None) == 0
    # A kill between the two writes: the buffer file is from the update after the checkpoint.
    replay = tmp_path / "replay.pt"
    stale = load_checkpoint(replay)
    torch.save({**stale, "global_step": 120}, replay)
    out: list[Message] = []
    more = SACConfig(**{**cfg.__dict__, "total_timesteps": 120})
    assert run_training(RunSpec(more, doc, ENV, str(tmp_path), resume=True), out.append) == 0
    marker = next(m for m in out if isinstance(m, Marker) and m.kind == "replay")
    assert marker.payload["restored"] == 0 and "step 120" in marker.payload["reason"]
    assert isinstance(out[-1], Finished) and out[-1].step == 120


def test_the_viewer_plays_a_sac_snapshot_as_the_actor_acts() -> None:
    trainer, env = _sac(100, hidden=(32, 32))
    snap = trainer.snapshot()
    assert isinstance(snap, Snapshot)
    obs = np.random.default_rng(0).normal(size=(5, env.obs_dim))
    with torch.no_grad():
        _, _, deterministic = trainer.actor(torch.as_tensor(obs, dtype=torch.float32))
    act = policy_from_snapshot(snap.policy_state_dict, snap.obs_rms)(obs)
    np.testing.assert_allclose(act, deterministic.numpy(), rtol=1e-4, atol=1e-5)
    assert np.all(np.abs(act) <= 1.0)  # HalfCheetah's control range is [-1, 1]


def test_a_torn_buffer_file_is_named_without_torchs_unsafe_advice_and_the_run_goes_on(tmp_path: Path) -> None:
    cfg = SACConfig(total_timesteps=80, learning_starts=40, batch_size=16, report_every=40, device="cpu",
                    hidden=(16, 16), snapshot_every=0)
    doc = task_design_document(ENV)
    assert run_training(RunSpec(cfg, doc, ENV, str(tmp_path), checkpoint_every=1), lambda m: None) == 0
    (tmp_path / "replay.pt").write_bytes(b"\x80\x02 not a torch file" * 40)
    out: list[Message] = []
    more = SACConfig(**{**cfg.__dict__, "total_timesteps": 120})
    assert run_training(RunSpec(more, doc, ENV, str(tmp_path), resume=True), out.append) == 0
    marker = next(m for m in out if isinstance(m, Marker) and m.kind == "replay")
    reason = marker.payload["reason"]
    assert marker.payload["restored"] == 0 and reason.startswith("replay.pt is unreadable")
    assert "weights_only" not in reason
    assert isinstance(out[-1], Finished) and out[-1].step == 120
