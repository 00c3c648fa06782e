"""The spawned training process: SIGKILL and resume, failure reports, live design updates."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from studio.core.design import Design, Group, Term
from studio.train.envs import task_design_document
from studio.train.loop import checkpoint_path, load_checkpoint
from studio.train.messages import Checkpointed, Failed, Finished, Marker, Message, Metrics
from studio.train.ppo import PPOConfig
from studio.train.process import TrainingProcess

ENV = "InvertedPendulum-v5"
FACTORY = None  # the real studio.sim.vector.VectorEnv


def _config(total: int) -> PPOConfig:
    # Tiny updates (256 steps): checkpoints come often, the test stays quick.
    return PPOConfig(total_timesteps=total, num_envs=2, num_steps=128, num_minibatches=2,
                     update_epochs=2, device="cpu", torch_threads=1, snapshot_every=0)


def _collect(proc: TrainingProcess, until: type, timeout: float = 60.0) -> list[Message]:
    """Poll until a message of type ``until`` (or Failed/Finished) arrives."""
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = proc.poll(50)
        out += got
        if any(isinstance(m, until | Failed | Finished) for m in got):
            return out
        time.sleep(0.02)
    raise AssertionError(f"no {until.__name__} within {timeout}s; got {out[-5:]}")


def test_sigkill_then_resume_continues_from_checkpoint(tmp_path: Path) -> None:
    doc = task_design_document(ENV)
    proc = TrainingProcess(_config(10**7), doc, ENV, str(tmp_path), checkpoint_every=2, env_factory=FACTORY)
    proc.start()
    msgs = _collect(proc, Checkpointed)
    assert isinstance(msgs[-1], Checkpointed), msgs[-1]
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    msgs = _collect(proc, Failed, timeout=5)
    assert isinstance(msgs[-1], Failed) and "signal 9" in msgs[-1].cause
    proc.close()

    saved = load_checkpoint(checkpoint_path(tmp_path))["global_step"]
    assert saved >= 512 and saved % 512 == 0  # every second update of 256 steps
    total = saved + 512
    again = TrainingProcess(_config(total), doc, ENV, str(tmp_path), resume=True,
                            checkpoint_every=2, env_factory=FACTORY)
    again.start()
    msgs = _collect(again, Finished)
    assert again.join(20) == 0
    again.close()
    restored = [m for m in msgs if isinstance(m, Marker) and m.kind == "restored"]
    assert restored and restored[0].step == saved
    steps = [m.step for m in msgs if isinstance(m, Metrics)]
    assert steps == [saved + 256, saved + 512]  # continues, nothing repeated
    assert isinstance(msgs[-1], Finished) and msgs[-1].step == total
    assert load_checkpoint(checkpoint_path(tmp_path))["global_step"] == total


def test_nan_reward_is_reported_with_the_term_and_nonzero_exit(tmp_path: Path) -> None:
    design = Design("bad", ENV, Group("reward", [
        Term("alive", "healthy"), Term("blowup", "1 / (cart_position * 0)")]))
    proc = TrainingProcess(_config(4096), design.to_json(), ENV, str(tmp_path), env_factory=FACTORY)
    proc.start()
    msgs = _collect(proc, Failed)
    assert proc.join(20) == 1
    failed = msgs[-1]
    assert isinstance(failed, Failed), failed
    assert failed.term == "blowup" and "blowup" in failed.cause
    assert "RewardNaNError" in failed.traceback_text
    assert proc.poll() == []  # reported once, not again from the exit code
    proc.close()


def test_live_design_update_and_pause_through_the_process(tmp_path: Path) -> None:
    proc = TrainingProcess(_config(10**7), task_design_document(ENV), ENV, str(tmp_path),
                           checkpoint_every=0, env_factory=FACTORY)
    proc.start()
    _collect(proc, Metrics)
    new = Design("tilt", ENV, Group("reward", [Term("upright", "healthy"),
                                               Term("angle_pen", "pole_angle * pole_angle", weight=-1.0)]))
    proc.update_design(new.to_json(), "v7")
    msgs = _collect(proc, Marker)
    i = next(i for i, m in enumerate(msgs) if isinstance(m, Marker))
    marker = msgs[i]
    assert marker.kind == "design" and marker.payload["version_id"] == "v7"
    msgs += _collect(proc, Metrics)
    after = next(m for m in msgs[i:] if isinstance(m, Metrics))
    assert after.step == marker.step + 256  # the very next update uses the new design
    assert "Episode_Reward/alive" not in after.values  # the old design's term is gone
    proc.pause()
    paused = _collect(proc, Marker)
    assert any(isinstance(m, Marker) and m.kind == "paused" for m in paused)
    time.sleep(0.5)
    assert not any(isinstance(m, Metrics) for m in proc.poll())
    proc.stop()
    msgs = _collect(proc, Finished)
    assert isinstance(msgs[-1], Finished) and msgs[-1].reason == "stopped"
    assert proc.join(20) == 0
    assert load_checkpoint(checkpoint_path(tmp_path))["design_version"] == "v7"
    proc.close()
