"""Messages pickle; failures are described for a person; CUDA when present."""

from __future__ import annotations

import pickle
import signal

import pytest
import torch

from studio.core.compile import RewardNaNError
from studio.train.loop import describe_failure
from studio.train.messages import (
    Checkpointed,
    Failed,
    Finished,
    Marker,
    Metrics,
    Pause,
    Progress,
    Resume,
    Snapshot,
    Stop,
    UpdateDesign,
)
from studio.train.process import exit_cause


def test_every_message_and_command_pickles() -> None:
    msgs = [
        Metrics("r", 10, {"charts/SPS": 1.0}),
        Snapshot("r", 10, {"w": torch.ones(2)}, {"mean": [0.0], "var": [1.0], "count": 1.0}),
        Marker(10, "design", {"version_id": "v2"}),
        Checkpointed(10, "/x/checkpoint.pt"),
        Failed("boom", "tb", term="t"),
        Finished(10, "completed"),
        Progress(10, 100, 5.0, 18.0, float("nan")),
        Pause(), Resume(), Stop(), UpdateDesign({"name": "d"}, "v3"),
    ]
    for m in msgs:
        back = pickle.loads(pickle.dumps(m))
        assert type(back) is type(m)
    snap = pickle.loads(pickle.dumps(msgs[1]))
    assert torch.equal(snap.policy_state_dict["w"], torch.ones(2))


def test_failures_are_described_with_a_remedy() -> None:
    nan = describe_failure(RewardNaNError("speed_log", 3, 1, "NaN"))
    assert nan.term == "speed_log" and "speed_log" in nan.cause and "division by zero" in nan.cause
    oom = describe_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert "CUDA ran out of memory" in oom.cause and "--device cpu" in oom.cause and oom.term is None
    other = describe_failure(ValueError("bad thing"))
    assert other.cause == "ValueError: bad thing"


def test_exit_causes() -> None:
    assert exit_cause(-signal.SIGKILL) == "the training process was killed by signal 9 (SIGKILL)"
    assert "code 3" in exit_cause(3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_short_run_on_cuda() -> None:
    from studio.train.envs import catalog_names, make_env, task_design_document
    from studio.train.ppo import PPO, PPOConfig

    cfg = PPOConfig(total_timesteps=4096, num_envs=8, device="auto", max_episode_steps=100)
    env = make_env("HalfCheetah-v5", 8, 1, 100)
    trainer = PPO(cfg, env, task_design_document("HalfCheetah-v5"), feature_names=catalog_names("HalfCheetah-v5"))
    out = list(trainer.run())
    env.close()
    assert trainer.device.type == "cuda" and trainer.agent.critic[0].weight.is_cuda
    assert any(isinstance(m, Metrics) and "charts/task_score" in m.values for m in out)
