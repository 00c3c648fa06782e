"""A stopped run continues from the dashboard: the same run, its steps counting on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pyqtgraph")

from studio.store import repo  # noqa: E402
from tests.ui.test_dashboard import setup  # noqa: E402,F401  (the fixture)


def test_continue_selected_run_resumes_it_from_its_checkpoint(setup, qtbot) -> None:  # noqa: F811
    ctx, panel, ws = setup
    panel.config_overrides["total_timesteps"] = 10**7
    with qtbot.waitSignal(panel.metrics_received, timeout=90_000):
        panel.start_run()
    rid = panel.run_id
    with qtbot.waitSignal(panel.run_finished, timeout=60_000):
        panel.stop_run()
    with ws.session() as s:
        first = repo.latest_checkpoint(s, rid).step
    qtbot.waitUntil(lambda: panel.runs_list.count() > 0, timeout=10_000)
    row = next(i for i in range(panel.runs_list.count())
               if panel.runs_list.item(i).data(Qt.ItemDataRole.UserRole) == rid)
    panel.runs_list.setCurrentRow(row)
    assert panel.resume_button.isEnabled()
    with qtbot.waitSignal(panel.metrics_received, timeout=90_000):
        assert panel.resume_selected_run()
    assert panel.run_id == rid and not panel.resume_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as blocker:
        panel.stop_run()
    assert blocker.args == [rid, "stopped"]
    with ws.session() as s:
        assert len(repo.list_runs(s)) == 1  # the same run, not a new one
        assert repo.latest_checkpoint(s, rid).step > first
        assert [m.kind for m in repo.run_markers(s, rid)].count("restored") == 1
