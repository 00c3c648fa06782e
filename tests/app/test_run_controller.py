"""RunController persists what the trainer reports into a real SQLite workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from studio.app.run_controller import RunController
from studio.core.design import Design, Group, Term
from studio.store import RunStatus, Workspace, repo
from studio.train.messages import (
    Checkpointed,
    Failed,
    Finished,
    Marker,
    Message,
    Metrics,
    Pause,
    Progress,
    Resume,
    Snapshot,
    Stop,
    UpdateDesign,
)
from studio.train.ppo import PPOConfig


class FakeProcess:
    """Records commands; ``poll`` hands out whatever the test queued."""

    def __init__(self, config: Any, doc: dict, env_id: str, run_dir: str, **kw: Any) -> None:
        self.run_dir = Path(run_dir)
        self.kw = kw
        self.commands: list[Any] = []
        self.pending: list[Message] = []
        self.started = False

    def start(self) -> None:
        self.started = True

    def pause(self) -> None:
        self.commands.append(Pause())

    def resume(self) -> None:
        self.commands.append(Resume())

    def stop(self) -> None:
        self.commands.append(Stop())

    def update_design(self, document: dict, version_id: str) -> None:
        self.commands.append(UpdateDesign(document, version_id))

    def poll(self, max_items: int = 100) -> list[Message]:
        out, self.pending = self.pending[:max_items], self.pending[max_items:]
        return out

    def is_alive(self) -> bool:
        return True


def _design() -> Design:
    return Design("fast", "HalfCheetah-v5", Group("reward", [Term("forward", "x_velocity"),
                                                             Term("ctrl", "ctrl_sq", weight=-0.1)]))


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def test_metrics_markers_checkpoints_and_status_are_persisted(ws: Workspace) -> None:
    procs: list[FakeProcess] = []

    def factory(*a: Any, **kw: Any) -> FakeProcess:
        procs.append(FakeProcess(*a, **kw))
        return procs[-1]

    ctl = RunController(ws, factory)
    run_id = ctl.start(_design(), config=PPOConfig(total_timesteps=4096))
    proc = procs[0]
    assert proc.started and proc.kw["run_key"] == str(run_id)
    assert proc.run_dir.is_dir() and ws.root in proc.run_dir.parents
    with ws.session() as s:
        assert repo.get_run(s, run_id).status == "running"

    proc.pending = [
        Metrics(str(run_id), 2048, {"charts/episodic_return": 1.5, "Episode_Reward/forward": 2.0}),
        Progress(2048, 4096, 1000.0, 2.0, 1.5),
        Snapshot(str(run_id), 2048, {"w": torch.zeros(1)}, {}),
        Metrics(str(run_id), 4096, {"charts/episodic_return": 2.5, "charts/SPS": float("nan")}),
        Marker(4096, "design", {"version_id": "7", "name": "fast"}),
        Checkpointed(4096, str(proc.run_dir / "checkpoint.pt")),
    ]
    got = ctl.poll()
    assert [m.step for m in got.metrics] == [2048, 4096]
    assert got.progress is not None and got.snapshot is ctl.latest_snapshot
    with ws.session() as s:
        assert repo.metric_series(s, run_id, "charts/episodic_return") == ([2048, 4096], [1.5, 2.5])
        assert repo.metric_series(s, run_id, "Episode_Reward/forward") == ([2048], [2.0])
        assert [(m.step, m.kind, m.payload["version_id"]) for m in repo.run_markers(s, run_id)] == [
            (4096, "design", "7")]
        (ck,) = repo.list_checkpoints(s, run_id)
        assert ck.path == f"media/runs/run-{run_id}/checkpoint.pt"

    ctl.pause()
    ctl.resume()
    vid = ctl.apply_design(_design().to_json())
    assert isinstance(proc.commands[-1], UpdateDesign) and proc.commands[-1].version_id == str(vid)
    ctl.stop()
    assert isinstance(proc.commands[-1], Stop)
    proc.pending = [Finished(4096, "stopped")]
    assert ctl.poll().finished is not None and not ctl.active
    with ws.session() as s:
        run = repo.get_run(s, run_id)
        assert run.status == RunStatus.STOPPED and run.ended_at is not None
    assert ctl.poll().empty


def test_failure_cause_is_stored(ws: Workspace) -> None:
    ctl = RunController(ws, FakeProcess)
    run_id = ctl.start(_design())
    ctl._process.pending = [Failed("the reward is not finite: term 'ctrl'", "Traceback...", term="ctrl")]
    res = ctl.poll()
    assert res.failed is not None and ctl.failure is res.failed
    with ws.session() as s:
        run = repo.get_run(s, run_id)
        assert run.status == "failed" and "ctrl" in run.error
    with pytest.raises(RuntimeError):
        ctl.apply_design(_design().to_json())
