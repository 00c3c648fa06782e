"""The Ray runner against a real local Ray instance started by the test (loopback only).

Each run trains in a Ray actor in a folder of its own; the handle brings checkpoints back
into the run's folder, a killed worker becomes a ``Failed`` with its cause, and a retry
resumes from the checkpoint that came back.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from studio.train.envs import task_design_document
from studio.train.messages import Checkpointed, Failed, Finished, Message, Metrics
from studio.train.ppo import PPOConfig

if importlib.util.find_spec("ray") is None:
    pytest.skip("Ray is an optional extra: pip install 'reward-studio[ray]'", allow_module_level=True)

from studio.train.runners.ray_backend import import_ray  # noqa: E402

ray = import_ray(local=True)
pytestmark = pytest.mark.slow

ENV = "InvertedPendulum-v5"


@pytest.fixture(scope="module")
def runner() -> Iterator[Any]:
    from studio.train.runners import make_runner

    r = make_runner("ray", num_cpus=2)
    yield r
    r.close()
    ray.shutdown()


def _config(steps: int) -> PPOConfig:
    return PPOConfig(total_timesteps=steps, num_envs=1, num_steps=64, num_minibatches=1,
                     update_epochs=1, device="cpu")


def _poll_until(handle: Any, done: type | tuple[type, ...], timeout: float = 180) -> list[Message]:
    seen: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += handle.poll()
        if any(isinstance(m, done) for m in seen):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"no {done} within {timeout} s; got {[type(m).__name__ for m in seen]}")


def test_the_local_instance_listens_on_loopback_only(runner: Any) -> None:
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]


def test_a_run_on_ray_brings_its_metrics_and_checkpoint_into_the_run_folder(
        runner: Any, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    handle = runner.factory(_config(128), task_design_document(ENV), ENV, str(run_dir),
                            run_key="a", checkpoint_every=1)
    handle.start()
    assert handle.place.startswith("ray ") and "pid" in handle.place
    msgs = _poll_until(handle, Finished | Failed)
    assert not [m for m in msgs if isinstance(m, Failed)], msgs
    assert any(isinstance(m, Metrics) for m in msgs)
    ckpts = [m for m in msgs if isinstance(m, Checkpointed)]
    assert ckpts and all(Path(m.path).parent == run_dir for m in ckpts)
    state = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert state["global_step"] == 128
    assert not handle.is_alive()


def test_a_killed_worker_fails_with_its_cause_and_a_retry_resumes(runner: Any,
                                                                  tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    handle = runner.factory(_config(100_000), task_design_document(ENV), ENV, str(run_dir),
                            run_key="b", checkpoint_every=1)
    handle.start()
    _poll_until(handle, Checkpointed)  # at least one checkpoint came back
    first = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    os.kill(ray.get(handle._actor.pid.remote()), signal.SIGKILL)
    msgs = _poll_until(handle, Failed, timeout=60)
    (failed,) = [m for m in msgs if isinstance(m, Failed)]
    assert "Ray worker" in failed.cause and "died" in failed.cause
    assert not handle.is_alive()

    handle.retry()
    msgs = _poll_until(handle, Checkpointed)
    restored = [m for m in msgs if getattr(m, "kind", None) == "restored"]
    assert restored, "the retry resumed from the checkpoint copied back"
    handle.stop()
    _poll_until(handle, Finished | Failed)
    last = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert last["global_step"] > first["global_step"]
