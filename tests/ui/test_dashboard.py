"""A short training started from the dashboard delivers metrics to its curves and the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

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
    pid = panel.controller._process.pid
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
    # The ended training process is collected at once (no zombie until the next run).
    qtbot.waitUntil(lambda: panel.controller._process is None, timeout=10_000)
    assert not Path(f"/proc/{pid}").exists()


def _versions(ws, name="balance"):
    with ws.session() as s:
        d = next(d for d in repo.list_designs(s) if d.name == name)
        return [(v.id, v.number) for v in repo.design_history(s, d.id)]


def test_apply_design_marks_the_curves_and_failure_shows_cause(setup, qtbot, tmp_path) -> None:
    ctx, panel, ws = setup
    with ws.session() as s:  # another design first, so version ids and numbers differ
        repo.save_design_version(s, ENV, "other", _design().to_json(), "unrelated")
    panel.config_overrides["total_timesteps"] = 100_000
    panel._set_settings({"gamma": 0.98})  # as Settings… leaves it: saved with the run
    logged: list[str] = []
    ctx.logMessage.connect(lambda _level, text: logged.append(text))
    with qtbot.waitSignal(panel.metrics_received, timeout=90_000):
        panel.start_run()
    rid = panel.run_id
    with ws.session() as s:
        assert repo.get_run(s, rid).config["gamma"] == 0.98
    panel._set_settings({})
    # Start saved the unsaved design as v1, and the editor follows it.
    (v1, n1), = _versions(ws)
    assert n1 == 1 and ctx.current_version_id == v1 and not ctx.design_model.dirty
    ctx.design_model.edit(ctx.design.find("angle"), {"weight": -3.0})
    assert ctx.design_model.dirty
    panel.apply_design()
    # Apply saved v2; the editor follows it (no "unsaved edits" left behind).
    (_, _), (v2, n2) = _versions(ws)
    assert n2 == 2 and v2 != 2 and ctx.current_version_id == v2 and not ctx.design_model.dirty
    qtbot.waitUntil(lambda: any(m[0] == rid for m in panel.curves.marker_labels()), timeout=60_000)
    assert [m[2] for m in panel.curves.marker_labels() if m[0] == rid] == ["v2"]  # number, not id
    panel.toggle_pause()
    assert panel.pause_button.text() == "Resume"
    panel.toggle_pause()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as blocker:
        panel.stop_run()
    assert blocker.args == [rid, "stopped"]
    # The run's life goes to the Log, each line naming the run.
    for what in ("started", "paused at step", "resumed", "applied to", "stopping", "stopped at step"):
        assert any(f"run {rid}" in line and what in line for line in logged), (what, logged)

    # Start with no change reuses the identical version instead of saving a copy.
    panel.config_overrides["total_timesteps"] = 1_000
    with qtbot.waitSignal(panel.run_finished, timeout=90_000):
        panel.start_run()
    again = panel.run_id
    with ws.session() as s:
        assert repo.get_run(s, again).design_version_id == v2
    assert len(_versions(ws)) == 2

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
    qtbot.waitUntil(lambda: panel.runs_list.count() == 3, timeout=10_000)
    panel.compare([])  # drops the curves of everything but the live run
    assert panel.curves.curve_data(rid, RETURN) is None
    panel.compare([rid])  # reloads them from the store in a worker
    qtbot.waitUntil(lambda: panel.curves.curve_data(rid, RETURN) is not None, timeout=10_000)

    # The hyperparameter table compares the ticked runs: what differs comes first.
    qtbot.waitUntil(lambda: panel.runs_list.count() == 3, timeout=10_000)
    failed = panel.run_id
    for i in range(panel.runs_list.count()):
        item = panel.runs_list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) in (rid, again):
            item.setCheckState(Qt.CheckState.Checked)
    table = panel.hparams
    assert {r.id for r in table.records} == {failed, rid, again}
    assert "total_timesteps" in table.differing() and "learning_rate" not in table.differing()
    assert "gamma" in table.differing() and table.value("gamma", rid) == "0.98"
    assert table.value("total_timesteps", rid) == "100000" and table.value("total_timesteps", again) == "1000"
    assert table.item(4, 0).text() in table.differing()  # differing settings come first

    # Names and notes are saved with the run and name it everywhere.
    panel.runs_list.setCurrentRow([panel.runs_list.item(i).data(Qt.ItemDataRole.UserRole)
                                   for i in range(panel.runs_list.count())].index(rid))
    panel.notes.name_edit.setText("baseline")
    panel.notes.notes_edit.setPlainText("angle weight raised mid-run")
    panel.notes.save()
    with ws.session() as s:
        run = repo.get_run(s, rid)
        assert (run.name, run.notes) == ("baseline", "angle weight raised mid-run")
    qtbot.waitUntil(lambda: any("“baseline”" in panel.runs_list.item(i).text()
                                for i in range(panel.runs_list.count())), timeout=10_000)
    assert panel.run_label(rid) == f"run {rid} “baseline”"

    # CSV export of a chart: the raw stored values, whatever the smoothing.
    qtbot.waitUntil(lambda: panel.curves.curve_data(rid, RETURN) is not None, timeout=10_000)
    panel.curves.set_smoothing(0.9)
    out = tmp_path / "return.csv"
    rows = panel.curves.export_csv("return", out)
    with ws.session() as s:
        steps, values = repo.metric_series(s, rid, RETURN)
    import csv

    with out.open() as fh:
        mine = [(int(r["step"]), float(r["value"])) for r in csv.DictReader(fh) if str(rid) in r["series"]]
    assert rows >= len(mine) and mine == list(zip(steps, values, strict=True))


def test_seeds_of_one_configuration_are_drawn_as_mean_and_band(setup, qtbot) -> None:
    import numpy as np

    from studio.app.run_records import RunRecord

    ctx, panel, ws = setup
    cfg = {"learning_rate": 3e-4, "num_envs": 2}
    recs = [RunRecord(i, "", "", "completed", ENV, "balance v1", seed, {**cfg, "seed": seed}, None, 7)
            for i, seed in ((11, 1), (12, 2))]
    recs.append(RunRecord(13, "", "", "completed", ENV, "balance v1", 3, {**cfg, "seed": 3,
                                                                          "learning_rate": 1e-3}, None, 7))
    panel.records = {r.id: r for r in recs}
    panel.series = {11: {RETURN: ([0, 100, 200], [0.0, 10.0, 20.0])},
                    12: {RETURN: ([0, 100, 200], [2.0, 4.0, 6.0])},
                    13: {RETURN: ([0, 100, 200], [5.0, 5.0, 5.0])}}
    panel._compared = [11, 12, 13]
    panel._redraw_compared()
    assert panel.curves.curve_data(11, RETURN) is not None  # seeds apart while the box is off
    panel.seeds_box.setChecked(True)
    assert panel.curves.curve_data(11, RETURN) is None and panel.curves.curve_data(12, RETURN) is None
    x, mean = panel.curves.curve_data("balance v1 × 2 seeds", RETURN)
    # Only runs 11 and 12 share a configuration (13 has another learning rate).
    np.testing.assert_allclose(np.interp([0, 100, 200], x, mean), [1.0, 7.0, 13.0])
    assert panel.curves.curve_data(13, RETURN) is not None
    assert ("run", "balance v1 × 2 seeds  (mean, band: min–max)") in panel.curves.legend_entries()


def test_each_chart_smooths_takes_a_log_scale_and_reads_values_under_the_mouse(qtbot, tmp_path) -> None:
    import numpy as np
    from PySide6.QtCore import QPointF

    from studio.ui.dashboard.curves import CurvesView, plot_for

    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    assert {plot_for(k) for k in ("losses/policy_loss", "losses/value_loss", "losses/entropy",
                                  "losses/approx_kl", "losses/clipfrac")} == {
        "policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac"}  # one chart each
    steps, values = [0, 10, 20], [0.0, 10.0, 10.0]
    view.set_series(1, {RETURN: (steps, values), "losses/value_loss": (steps, [1.0, 0.1, 0.01])},
                    live=True, label="run 1")
    view.set_smoothing(0.5)
    # TensorBoard's debiased EMA by hand: 0, (0.5*0 + 0.5*10)/0.75, (0.5*5 + 0.5*10)/0.875
    np.testing.assert_allclose(view.curve_data(1, RETURN)[1], [0.0, 10 / 1.5, 7.5 / 0.875])
    view.set_smoothing(0.0)
    np.testing.assert_allclose(view.curve_data(1, RETURN)[1], values)
    view.set_log("value_loss", True)
    assert view.plots["value_loss"].ctrl.logYCheck.isChecked()
    assert view.plots["value_loss"].property("log_action").isChecked()
    assert view.values_at("return", 12.0) == [("run 1", 10.0)]  # the recorded step nearest 12
    box = view.plots["return"].getViewBox()
    box.setXRange(0, 20, padding=0)
    scene = box.mapViewToScene(QPointF(19.0, 5.0))
    view.plots["return"].scene().sigMouseMoved.emit(scene)  # what a mouse move over the chart sends
    assert "step 19" in view.hover.text() and "run 1 10" in view.hover.text()
    assert view.export_csv("value_loss", tmp_path / "v.csv") == 3


def test_every_setting_of_the_preset_is_editable_and_bad_values_are_refused(setup, qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from studio.train.ppo import PPOConfig

    ctx, panel, ws = setup
    dialog = panel.edit_settings()
    shown = set(dialog.editors)
    assert {"learning_rate", "gamma", "gae_lambda", "clip_coef", "ent_coef", "vf_coef",
            "num_minibatches", "update_epochs", "num_steps", "seed", "hidden"} <= shown
    assert "Adam step size" in dialog.editors["learning_rate"].toolTip()  # the field's own doc
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.editors["learning_rate"].setText("fast")
    assert not ok.isEnabled() and dialog.error.level == "error" and "learning_rate" in dialog.error.text()
    dialog.editors["learning_rate"].setText("1e-3")
    dialog.editors["update_epochs"].setValue(4)
    dialog.editors["hidden"].setText("[32, 32]")
    assert ok.isEnabled() and dialog.error.level == ""
    assert dialog.editors["update_epochs"].font().bold() and not dialog.editors["gamma"].font().bold()
    ok.click()
    assert panel.settings_overrides == {"learning_rate": 1e-3, "update_epochs": 4, "hidden": (32, 32)}
    assert "3 changed" in panel.settings_button.text()
    config = panel.preset_box.config(ENV, 1_000, None, **panel.settings_overrides)
    assert isinstance(config, PPOConfig) and (config.learning_rate, config.update_epochs, config.hidden) == (
        1e-3, 4, (32, 32))
    again = panel.edit_settings()
    assert again.value("update_epochs") == 4  # the dialog opens on the changed settings
    again.reset_to_preset()
    again.accept()
    assert panel.settings_overrides == {} and panel.settings_button.text() == "Settings…"
