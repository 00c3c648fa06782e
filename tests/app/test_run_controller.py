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


def test_a_failed_save_keeps_the_messages_and_the_next_poll_saves_the_end(ws: Workspace) -> None:
    from sqlalchemy import text

    from studio.store import WorkspaceError

    ctl = RunController(ws, FakeProcess)
    run_id = ctl.start(_design())
    ctl._process.pending = [Metrics(str(run_id), 2048, {"charts/SPS": 100.0}),
                            Marker(2048, "note", {}), Finished(2048, "completed")]
    # A real SQLite failure inside the save: the database refuses the marker's row.
    with ws.session() as s:
        s.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON run_events "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
    with pytest.raises(WorkspaceError, match="disk is full"):
        ctl.poll()
    assert ctl.active  # the end was not recorded, and not forgotten either
    with ws.session() as s:
        assert repo.get_run(s, run_id).status == "running"
        s.execute(text("DROP TRIGGER refuse"))
    got = ctl.poll()
    assert got.finished is not None and not ctl.active
    with ws.session() as s:
        assert repo.get_run(s, run_id).status == "completed"
        assert repo.metric_series(s, run_id, "charts/SPS") == ([2048], [100.0])


def test_force_stop_marks_the_run_stopped_and_ignores_the_killed_process(ws: Workspace) -> None:
    ctl = RunController(ws, FakeProcess)
    run_id = ctl.start(_design())
    proc = ctl._process
    proc.pending = [Metrics(str(run_id), 1024, {"charts/SPS": 1.0})]
    ctl.force_stop()
    proc.pending = [Failed("the training process was killed by signal 9 (SIGKILL)")]
    assert ctl.poll().empty and ctl.status == RunStatus.STOPPED
    with ws.session() as s:
        run = repo.get_run(s, run_id)
        assert run.status == "stopped" and "last checkpoint" in run.error
        assert repo.metric_series(s, run_id, "charts/SPS") == ([1024], [1.0])


def test_a_run_records_its_process_and_heartbeat(ws: Workspace) -> None:
    import os

    from studio.store.liveness import this_host

    ctl = RunController(ws, FakeProcess)
    run_id = ctl.start(_design())
    with ws.session() as s:
        run = repo.get_run(s, run_id)
        assert (run.pid, run.host) == (os.getpid(), this_host())
        first = run.heartbeat_at
    ctl._process.pending = [Progress(8, 16, 1.0, 1.0, 0.0)]
    ctl.poll()
    with ws.session() as s:
        assert repo.get_run(s, run_id).heartbeat_at > first


def test_resume_refuses_a_run_without_a_checkpoint(ws: Workspace) -> None:
    ctl = RunController(ws, FakeProcess)
    run_id = ctl.start(_design())
    ctl._process.pending = [Finished(0, "stopped")]
    ctl.poll()
    with pytest.raises(RuntimeError, match="no checkpoint to continue from"):
        ctl.resume_run(run_id)
    with pytest.raises(RuntimeError, match="there is no run 99"):
        ctl.resume_run(99)


def test_a_run_whose_trainer_was_killed_fails_then_retries_from_its_checkpoint(tmp_path: Path) -> None:
    import time

    from studio.sim.registry import get_task

    design = get_task("InvertedPendulum-v5").task_design()
    config = PPOConfig(total_timesteps=10_000_000, num_envs=1, num_steps=32, num_minibatches=1,
                       update_epochs=1, device="cpu")
    with Workspace.open(tmp_path / "ws") as ws:
        ctl = RunController(ws)  # a real training process
        run_id = ctl.start(design, config=config, checkpoint_every=1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ctl.poll().checkpoints:
            time.sleep(0.05)
        assert ctl._process is not None
        ctl._process.kill()  # the trainer dies without a word (SIGKILL)
        failed = None
        while time.monotonic() < deadline and failed is None:
            failed = ctl.poll().failed
            time.sleep(0.05)
        assert failed is not None and "signal 9" in failed.cause
        with ws.session() as s:
            run = repo.get_run(s, run_id)
            assert run is not None and run.status == "failed"
            killed_at = repo.latest_checkpoint(s, run_id)
            assert killed_at is not None
        # A retry continues the same run from the checkpoint it left.
        assert ctl.resume_run(run_id, total_timesteps=killed_at.step + 64) == run_id
        finished = None
        while time.monotonic() < deadline + 120 and finished is None:
            finished = ctl.poll().finished
            time.sleep(0.05)
        assert finished is not None and finished.reason == "completed"
        with ws.session() as s:
            run = repo.get_run(s, run_id)
            last = repo.latest_checkpoint(s, run_id)
            assert run is not None and run.status == "completed"
            assert last is not None and last.step == killed_at.step + 64
