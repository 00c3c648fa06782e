"""The local runner: one real training process per run, queued beyond its slots."""

from __future__ import annotations

import time
from pathlib import Path

from studio.train.envs import task_design_document
from studio.train.messages import Finished
from studio.train.ppo import PPOConfig
from studio.train.runners import make_runner
from studio.train.runners.local import LocalRunner


def test_runs_beyond_the_slots_wait_in_order_then_all_finish(tmp_path: Path) -> None:
    runner = make_runner("local", cpu_slots=1, gpu=False)
    assert isinstance(runner, LocalRunner)
    doc = task_design_document("InvertedPendulum-v5")
    config = PPOConfig(total_timesteps=128, num_envs=2, num_steps=64, num_minibatches=2,
                       update_epochs=1, device="auto")
    handles = [runner.factory(config, doc, "InvertedPendulum-v5", str(tmp_path / f"r{i}"),
                              run_key=str(i)) for i in range(2)]
    for h in handles:
        h.start()
    assert handles[0].state == "running" and handles[0].place.startswith("local pid")
    assert handles[1].state == "queued" and handles[1].place == "queued (next)"
    assert handles[0].device == handles[1].device == "cpu"
    finished: dict[int, Finished] = {}
    deadline = time.monotonic() + 120
    while len(finished) < 2 and time.monotonic() < deadline:
        for i, h in enumerate(handles):
            for m in h.poll():
                if isinstance(m, Finished):
                    finished[i] = m
        # never more than one process at once with one slot
        assert sum(h.state == "running" and h.is_alive() for h in handles) <= 1
        time.sleep(0.05)
    assert sorted(finished) == [0, 1] and all(f.reason == "completed" for f in finished.values())
    assert all((tmp_path / f"r{i}" / "checkpoint.pt").is_file() for i in range(2))
    runner.close()


def test_a_queued_run_stopped_before_it_starts_never_runs(tmp_path: Path) -> None:
    runner = LocalRunner(cpu_slots=1, gpu=False)
    doc = task_design_document("InvertedPendulum-v5")
    config = PPOConfig(total_timesteps=64, num_envs=1, num_steps=64, num_minibatches=1, update_epochs=1)
    first = runner.factory(config, doc, "InvertedPendulum-v5", str(tmp_path / "a"))
    second = runner.factory(config, doc, "InvertedPendulum-v5", str(tmp_path / "b"))
    first.start()
    second.start()
    second.stop()
    assert second.state == "ended" and not second.is_alive()
    first.kill()
    deadline = time.monotonic() + 30
    while first.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.tick()
    assert second.process is None and not (tmp_path / "b" / "checkpoint.pt").exists()
