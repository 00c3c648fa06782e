"""The HERON editor: reorder, direction and sigma go through the model (undoable); diagnostics follow."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from studio.app.heron import random_sample
from studio.core.design import Design, Factor, Group, Term
from studio.ui.editor.heron_list import HeronList
from studio.ui.editor.model import DesignModel

ENV = "InvertedPendulum-v5"


def design() -> Design:
    tree = Group("tree", [
        Term("upright", "abs(pole_angle)", factor=Factor("less", 0.1)),
        Term("centred", "abs(cart_position)", factor=Factor("less", 0.2)),
        Term("calm", "abs(pole_angular_velocity)", factor=Factor("less", 0.5)),
    ], combiner="heron")
    return Design("heron", ENV, Group("reward", [tree]))


@pytest.fixture(scope="module")
def trace() -> Any:
    return random_sample((design(), 600, 0))


@pytest.fixture
def editor(qtbot: Any, trace: Any) -> HeronList:
    model = DesignModel(design())
    w = HeronList(model)
    qtbot.addWidget(w)
    w.trace = trace  # a known sample: no worker needed
    w.set_group(model.design.find("tree"))  # type: ignore[arg-type]
    return w


def children(w: HeronList) -> list[str]:
    assert w.group is not None
    return [c.name for c in w.group.children]


def test_the_list_shows_the_factors_in_order_with_direction_and_sigma(editor: HeronList) -> None:
    assert editor.names() == ["upright", "centred", "calm"]
    row = editor.row(1)
    assert row.direction.isChecked() and "less" in row.direction.text()
    assert row.sigma.value() == pytest.approx(0.2)
    d = editor.report.diagnostics
    assert d.pairs == editor.trace.length
    assert sum(d.decided) + d.ties == d.pairs
    assert editor.table.rowCount() == 3 and editor.table.item(0, 0).text() == "1. upright"


def test_dragging_a_factor_reorders_the_group_and_undo_restores_it(qtbot: Any, editor: HeronList) -> None:
    # A drop inside the list is a row move of its model: upright (row 0) to the end.
    editor.list.model().moveRow(QModelIndex(), 0, QModelIndex(), 3)
    qtbot.waitUntil(lambda: children(editor) == ["centred", "calm", "upright"])
    assert editor.names() == ["centred", "calm", "upright"]
    assert editor.report.factors == ["centred", "calm", "upright"]
    editor.model.undo_stack.undo()
    assert children(editor) == ["upright", "centred", "calm"] == editor.names()


def test_move_buttons_change_the_rank(qtbot: Any, editor: HeronList) -> None:
    editor.list.setCurrentRow(2)
    qtbot.mouseClick(editor.up, Qt.MouseButton.LeftButton)
    assert children(editor) == ["upright", "calm", "centred"]
    editor.list.setCurrentRow(0)
    qtbot.mouseClick(editor.down, Qt.MouseButton.LeftButton)
    assert children(editor) == ["calm", "upright", "centred"]


def test_the_first_level_decides_more_pairs_with_a_narrower_margin(editor: HeronList) -> None:
    before = editor.report.diagnostics.decided[0]
    editor.row(0).sigma.setValue(0.0)
    term = editor.group.children[0]  # type: ignore[union-attr]
    assert isinstance(term, Term) and term.factor == Factor("less", 0.0)
    assert editor.report.diagnostics.decided[0] > before
    editor.model.undo_stack.undo()
    assert term.factor == Factor("less", 0.1)


def test_a_sigma_edit_keeps_the_row_and_undo_shows_the_old_value(editor: HeronList) -> None:
    spin = editor.row(2).sigma
    spin.stepUp()
    assert editor.row(2).sigma is spin and spin.value() == pytest.approx(0.55)
    editor.model.undo_stack.undo()
    assert editor.row(2).sigma is spin and spin.value() == pytest.approx(0.5)
    editor.model.undo_stack.undo()  # nothing more to undo: the first state
    assert spin.value() == pytest.approx(0.5)


def test_margins_wider_than_every_spread_leave_every_pair_tied(editor: HeronList) -> None:
    for i in range(3):
        editor.row(i).sigma.setValue(10.0)
    d = editor.report.diagnostics
    assert d.ties == d.pairs and d.decided == [0, 0, 0]
    assert "100%" in editor.summary.text()


def test_flipping_a_direction_flips_its_agreement_with_the_task_score(editor: HeronList) -> None:
    before = editor.report.diagnostics.direction_agreement[1]
    editor.row(1).direction.click()
    term = editor.group.children[1]  # type: ignore[union-attr]
    assert isinstance(term, Term) and term.factor is not None and term.factor.direction == "more"
    after = editor.report.diagnostics.direction_agreement[1]
    # Pairs with a zero difference are left out, so the two fractions add up to one.
    assert after == pytest.approx(1.0 - before)
    assert "more" in editor.row(1).direction.text()


def test_a_fresh_sample_is_taken_in_a_worker(qtbot: Any) -> None:
    model = DesignModel(design())
    w = HeronList(model)
    qtbot.addWidget(w)
    w.sample_steps = 300
    with qtbot.waitSignal(w.runner.finished, timeout=60_000):
        w.set_group(model.design.find("tree"))  # type: ignore[arg-type]
    assert w.trace is not None and w.trace.env_id == ENV
    assert w.report is not None and "random rollout" in w.summary.text()


def test_the_model_metrics_of_a_run_are_drawn_on_the_dashboard() -> None:
    from studio.ui.dashboard.curves import plot_for

    # The names studio.train.heron_reward logs: on the dashboard's "Other losses" chart.
    for key in ("losses/heron/tree/loss", "losses/heron/tree/agreement"):
        assert plot_for(key) == "losses"


def test_the_version_diff_shows_a_new_rank_direction_and_sigma() -> None:
    from studio.ui.version_diff import diff_designs

    a, b = design(), design()
    tree = b.find("tree")
    assert isinstance(tree, Group)
    tree.children.reverse()
    calm = b.find("calm")
    assert isinstance(calm, Term)
    calm.factor = Factor("more", 0.7)
    diffs = {d.name: d for d in diff_designs(a, b)}
    assert diffs["tree"].fields["children"] == ("upright, centred, calm", "calm, centred, upright")
    assert diffs["calm"].fields == {"factor.direction": ("less", "more"), "factor.sigma": (0.5, 0.7)}
    assert diffs["upright"].status == "same"


def test_selecting_a_heron_group_in_the_editor_shows_its_factors_and_samples(qtbot: Any, make_editor: Any) -> None:
    tree = Group("tree", [Term("progress", "x_velocity", factor=Factor("more", 0.5)),
                          Term("power", "ctrl_sq", factor=Factor("less", 0.1))], combiner="heron")
    ed = make_editor(Design("h", "HalfCheetah-v5", Group("reward", [tree, Term("other", "x_velocity")])))
    heron = ed.group_inspector.heron
    heron.sample_steps = 300
    with qtbot.waitSignal(heron.runner.finished, timeout=60_000):
        ed.select(ed.model.design.find("tree"))
    assert heron.isVisible() and heron.names() == ["progress", "power"]
    assert heron.report is not None and heron.report.factors == ["progress", "power"]
    ed.select(ed.model.design.root)
    assert not heron.isVisible()
