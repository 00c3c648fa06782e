"""The EPIC comparison: a symmetric matrix with ~0 for a rescaled copy and ~1 for the negation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.core.design import Design
from studio.ui.distance_view import (
    EPIC_HELP,
    DistanceMatrixWidget,
    EpicInputs,
    distance_colour,
    menu_actions,
    open_distance_dialog,
    run_epic,
)
from studio.ui.workers import TaskState

SAMPLES = 60


def scaled(design: Design, name: str, factor: float) -> Design:
    out = design.copy()
    out.name = name
    for t in out.terms():
        t.weight = t.weight * factor
    return out


@pytest.fixture
def workspace(tmp_path: Path, cheetah_task: Any) -> Any:
    """A workspace holding the task's reward (v1), x3 of it, and its negation: (service, ids)."""
    from studio.app.workspace_service import WorkspaceService

    svc = WorkspaceService.open(tmp_path / "ws")
    base = cheetah_task.task_design()
    base.name = "base"
    ids = [svc.save(d, "").id for d in (base, scaled(base, "tripled", 3.0), scaled(base, "negated", -1.0))]
    yield svc, ids
    svc.close()


@pytest.fixture
def make_widget(qtbot: Any, make_context: Any, workspace: Any, no_leaked_widgets: None) -> Any:
    def make() -> DistanceMatrixWidget:
        ctx = make_context()
        ctx.set_workspace(workspace[0].workspace)
        w = DistanceMatrixWidget(ctx)
        qtbot.addWidget(w)
        w.samples.setValue(SAMPLES)
        w.resize(1100, 450)
        w.show()
        return w

    return make


def test_run_epic_directly(cheetah_task: Any) -> None:
    base = cheetah_task.task_design()
    designs = [base, scaled(base, "x", 2.0), scaled(base, "n", -1.0)]
    out = run_epic(EpicInputs(designs, ["a", "b", "c"], cheetah_task.env_id, SAMPLES), TaskState())
    assert out is not None and not out.error
    assert out.matrix[0, 1] < 0.02 and out.matrix[0, 2] > 0.98


def test_matrix_is_symmetric_and_a_cell_shows_the_diff(make_widget: Any, workspace: Any, qtbot: Any) -> None:
    w = make_widget()
    ids = workspace[1]
    assert sorted(w.versions.item(i).data(256) for i in range(w.versions.count())) == ids
    assert not w.compute_button.isEnabled()  # nothing ticked yet
    w.set_checked(ids)
    assert w.compute_button.isEnabled()
    with qtbot.waitSignal(w.runner.finished, timeout=30_000):
        assert w.compute()
        assert w.cancel_button.isEnabled() and w.progress.isVisibleTo(w)
        assert not w.compute_button.isEnabled()
    m = w.matrix
    assert m is not None and m.shape == (3, 3)
    base, tripled, negated = (w.labels.index(f"{n} v1") for n in ("base", "tripled", "negated"))
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 0)
    assert m[base, tripled] < 0.02  # a rescaled copy: the same reward
    assert m[base, negated] > 0.98 and m[tripled, negated] > 0.98  # the negation: opposite
    assert w.table.item(base, negated).text() == f"{m[base, negated]:.3f}"
    assert w.table.item(base, tripled).background().color() != w.table.item(base, negated).background().color()
    assert "EPIC distance" in w.table.toolTip() and "opposite" in w.table.item(base, negated).toolTip()
    assert not w.progress.isVisibleTo(w) and not w.cancel_button.isEnabled()

    w.select_pair(base, negated)
    rows = w.diff_rows()
    assert ("forward", "weight", "1.0", "-1.0") in rows
    assert "base v1" in w.diff_title.text() and "negated v1" in w.diff_title.text()
    assert "opposite" in w.diff_title.text()
    w.select_pair(1, 1)
    assert w.diff_rows() == [] and "identical" in w.diff_title.text()


def test_cancel_drops_the_result(make_widget: Any, workspace: Any, qtbot: Any) -> None:
    w = make_widget()
    w.set_checked(workspace[1][:2])
    w.compute()
    w.cancel()
    assert not w.runner.is_running() and w.status.text() == "Cancelled."
    assert w.compute_button.isEnabled() and not w.progress.isVisibleTo(w)
    w.runner.wait(30)
    qtbot.wait(50)
    assert w.matrix is None  # the cancelled run's matrix never arrives


def test_a_design_that_cannot_be_evaluated_is_a_message(make_widget: Any, workspace: Any,
                                                        qtbot: Any, cheetah_task: Any) -> None:
    from studio.core.design import Term

    svc, ids = workspace
    bad = cheetah_task.task_design()
    bad.name = "imported"
    bad.root.children.append(Term("weird", "code_weird"))
    bad_id = svc.save(bad, "").id
    w = make_widget()
    w.refresh()
    w.set_checked([ids[0], bad_id])
    with qtbot.waitSignal(w.runner.finished, timeout=30_000):
        w.compute()
    assert "imported v1 cannot be evaluated" in w.status.text() and w.matrix is None


def test_colours_and_dialog(qtbot: Any, make_context: Any, workspace: Any, no_leaked_widgets: None) -> None:
    assert distance_colour(0.0) != distance_colour(1.0)
    assert distance_colour(-0.1) == distance_colour(0.0)
    ctx = make_context()
    ctx.set_workspace(workspace[0].workspace)
    dialog = open_distance_dialog(ctx, None, workspace[1][:2])
    assert dialog.isVisible() and dialog.widget.checked_ids() == workspace[1][:2]
    assert "opposite" in EPIC_HELP and "shaping" in EPIC_HELP
    dialog.close()


def test_menu_action(qtbot: Any, make_context: Any, workspace: Any, no_leaked_widgets: None) -> None:
    from PySide6.QtWidgets import QMainWindow

    from studio.ui.distance_view import DistanceDialog

    window = QMainWindow()
    qtbot.addWidget(window)
    ctx = make_context()
    ctx.set_workspace(workspace[0].workspace)
    design, _ = workspace[0].load(workspace[1][2])
    ctx.set_design(design, workspace[1][2])
    window.context = ctx  # type: ignore[attr-defined]
    (action,) = menu_actions(window)
    action.trigger()
    (dialog,) = window.findChildren(DistanceDialog)
    assert dialog.widget.checked_ids() == [workspace[1][2]]  # the current version starts ticked
    dialog.close()
