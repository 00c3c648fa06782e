"""A short training started from the dashboard delivers metrics to its curves and the store."""

from __future__ import annotations

import pytest

pytest.importorskip("pyqtgraph")

from studio.core.design import Design, Group, Term  # noqa: E402
from studio.store import Workspace, repo  # noqa: E402
from studio.ui.context import AppContext  # noqa: E402
from studio.ui.dashboard import TrainingPanel, hub_for  # noqa: E402
from studio.ui.dashboard.curves import RETURN  # noqa: E402

ENV = "InvertedPendulum-v5"
TINY = {"num_envs": 2, "num_steps": 64, "num_minibatches": 2, "update_epochs": 1,
        "snapshot_every": 1, "torch_threads": 1, "device": "cpu", "max_episode_steps": 50}


def _design() -> Design:
    return Design("balance", ENV, Group("reward", [
        Term("alive", "healthy"), Term("angle", "pole_angle * pole_angle", weight=-1.0)]))


@pytest.fixture
def setup(qtbot, tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    ctx = AppContext()
    ctx.set_workspace(ws)
    ctx.set_design(_design())
    panel = TrainingPanel(ctx)
    qtbot.addWidget(panel)
    panel.config_overrides = dict(TINY)
    yield ctx, panel, ws
    panel.shutdown()
    ws.close()


def test_training_from_the_ui_draws_curves_and_persists(setup, qtbot) -> None:
    ctx, panel, ws = setup
    snaps = []
    hub_for(ctx).snapshot.connect(snaps.append)
    panel.steps_spin.setValue(1_000)  # the minimum: 8 updates of 128 steps
    with qtbot.waitSignal(panel.metrics_received, timeout=90_000):
        panel.start_run()
    rid = panel.run_id
    assert rid is not None and not panel.start_button.isEnabled()
    data = panel.curves.curve_data(rid, "losses/value_loss")
    assert data is not None and len(data[0]) >= 1
    with qtbot.waitSignal(panel.run_finished, timeout=90_000) as blocker:
        pass
    assert blocker.args == [rid, "completed"]
    x, y = panel.curves.curve_data(rid, RETURN)
    assert len(x) >= 1
    assert snaps, "snapshots are relayed to the viewer through the hub"
    with ws.session() as s:
        steps, _ = repo.metric_series(s, rid, "charts/SPS")
        assert steps and steps[-1] >= 1_000
        assert repo.get_run(s, rid).status == "completed"
        assert repo.list_checkpoints(s, rid)
    assert panel.start_button.isEnabled()


def test_apply_design_marks_the_curves_and_failure_shows_cause(setup, qtbot) -> None:
    ctx, panel, ws = setup
    panel.config_overrides["total_timesteps"] = 100_000
    with qtbot.waitSignal(panel.metrics_received, timeout=90_000):
        panel.start_run()
    rid = panel.run_id
    ctx.design_model.edit(ctx.design.find("angle"), {"weight": -3.0})
    panel.apply_design()
    qtbot.waitUntil(lambda: any(m[0] == rid and m[2].startswith("v")
                                for m in panel.curves.marker_labels()), timeout=60_000)
    panel.toggle_pause()
    assert panel.pause_button.text() == "Resume"
    panel.toggle_pause()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as blocker:
        panel.stop_run()
    assert blocker.args == [rid, "stopped"]

    # a design that reads a feature the task lacks fails with a readable cause
    bad = _design()
    bad.root.children.append(Term("oops", "1 / (pole_angle - pole_angle)"))
    ctx.set_design(bad)
    panel.config_overrides["total_timesteps"] = 1_000
    with qtbot.waitSignal(panel.run_finished, timeout=90_000) as blocker:
        panel.start_run()
    assert blocker.args[1] == "failed"
    assert "failed" in panel.status.text() and "oops" in panel.status.text()

    # the stored runs can be overlaid
    panel.refresh_runs()
    qtbot.waitUntil(lambda: panel.runs_list.count() == 2, timeout=10_000)
    panel.compare([])  # drops the curves of everything but the live run
    assert panel.curves.curve_data(rid, RETURN) is None
    panel.compare([rid])  # reloads them from the store in a worker
    qtbot.waitUntil(lambda: panel.curves.curve_data(rid, RETURN) is not None, timeout=10_000)
