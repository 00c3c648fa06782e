"""Closing the window during training asks, stops the run with a checkpoint, and a second close forces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from studio.app.run_controller import RunController
from studio.core.design import Design, Group, Term
from studio.store import Workspace, repo
from studio.train.ppo import PPOConfig
from tests.app.test_run_controller import FakeProcess


def _design() -> Design:
    return Design("up", "InvertedPendulum-v5", Group("r", [Term("alive", "pole_angle", shape="tolerance")]))


def _run(ws_dir: Path, run_id: int) -> Any:
    with Workspace.open(ws_dir, read_only=True) as ws, ws.reading() as s:
        run = repo.get_run(s, run_id)
        return run.status, run.error, [c.step for c in repo.list_checkpoints(s, run_id)]


def test_close_asks_then_stops_a_real_run_with_a_checkpoint(qtbot: Any, make_main_window: Any,
                                                              tmp_path: Path) -> None:
    window = make_main_window(tmp_path / "ws", wait_task=False)
    ctl = RunController(window.context.workspace)
    window.panels["Training"].controller = ctl
    run_id = ctl.start(_design(), config=PPOConfig(total_timesteps=10**8, num_envs=2, num_steps=16,
                                                   num_minibatches=2, update_epochs=1))
    qtbot.waitUntil(lambda: ctl.poll().progress is not None or ctl.last_step > 0, timeout=120_000)
    asked: list[int] = []
    window.ask_stop_run = lambda w, c: asked.append(c.run_id) or True
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=120_000)
    assert asked == [run_id] and not ctl.active
    status, error, checkpoints = _run(tmp_path / "ws", run_id)
    assert status == "stopped" and error is None and checkpoints and checkpoints[-1] > 0


def test_cancel_keeps_the_window_and_the_run(qtbot: Any, make_main_window: Any, tmp_path: Path) -> None:
    window = make_main_window(tmp_path / "ws", wait_task=False)
    ctl = RunController(window.context.workspace, FakeProcess)
    window.panels["Training"].controller = ctl
    ctl.start(_design())
    window.ask_stop_run = lambda w, c: False
    window.close()
    QApplication.processEvents()
    assert window.isVisible() and ctl.active
    ctl.force_stop()


def test_a_second_close_while_stopping_forces(qtbot: Any, make_main_window: Any, tmp_path: Path) -> None:
    window = make_main_window(tmp_path / "ws", wait_task=False)
    ctl = RunController(window.context.workspace, FakeProcess)  # a trainer that never ends by itself
    window.panels["Training"].controller = ctl
    run_id = ctl.start(_design())

    def ask(w: Any, c: Any) -> bool:
        QTimer.singleShot(100, window.close)  # the user closes again, impatient
        return True

    window.ask_stop_run = ask
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    status, error, _ = _run(tmp_path / "ws", run_id)
    assert status == "stopped" and "stopped at once" in error
