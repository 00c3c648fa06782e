"""The main window: docks, session restore, saving versions, diffs, errors as dialogs."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.store import Workspace
from studio.ui.version_diff import STATUS_ROLE, VersionDiffDialog, diff_designs

DOCKS = ["Workspace", "Reward editor", "Viewer", "Plots", "Training", "Log"]


def test_window_has_the_agreed_docks_and_menus(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    assert list(win.docks) == DOCKS
    for title in ("Viewer", "Plots", "Training"):
        assert win.panels[title].objectName() == f"placeholder_{title.lower()}"
    menus = [a.text() for a in win.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&View", "&Tools", "&Help"]
    assert win.act_undo.shortcut().toString() == "Ctrl+Z"
    assert win.act_redo.shortcut().toString() == "Ctrl+Shift+Z"
    assert win.act_save.shortcut().toString() == "Ctrl+S"


def test_empty_workspace_starts_from_the_tasks_own_reward(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    design = win.context.design
    assert design.task == "HalfCheetah-v5" and [t.name for t in design.terms()] == ["forward", "ctrl_cost"]
    assert win.context.current_version_id is not None  # saved as version 1
    assert [v.number for v in win.browser.versions()] == [1]


def test_close_and_reopen_restores_workspace_design_and_layout(make_main_window, tmp_path, qtbot):
    ws = tmp_path / "ws"
    win = make_main_window(ws)
    ctx = win.context
    vid = win.save_version("second")
    term = ctx.design.find("ctrl_cost")
    ctx.design_model.edit(term, {"weight": -0.25})  # an unsaved edit
    win.docks["Log"].hide()
    default = win.docks["Workspace"].width()
    win.resizeDocks([win.docks["Workspace"]], [260], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    width = win.docks["Workspace"].width()
    # Wider than the default layout gives it (the 790-px test window limits how much wider).
    assert width > default + 30
    win.close()

    again = make_main_window(ws)
    qtbot.wait(20)
    assert again.context.current_version_id == vid  # the same design and version...
    assert again.context.design.find("ctrl_cost").weight == -0.25  # ...with the unsaved edit
    assert again.context.design_model.dirty
    assert not again.docks["Log"].isVisible()  # ...and the same layout
    assert abs(again.docks["Workspace"].width() - width) <= 2


def test_recent_workspaces_remember_the_last_one_first(make_main_window, tmp_path):
    from studio.ui.main_window import recent_workspaces

    win = make_main_window(tmp_path / "one")
    assert win.open_workspace(tmp_path / "two")
    assert recent_workspaces()[:2] == [str(tmp_path / "two"), str(tmp_path / "one")]
    win._fill_recent()
    assert [a.text() for a in win.recent_menu.actions()][:2] == recent_workspaces()[:2]


def test_reopening_the_open_workspace_is_a_no_op(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    service = win.service
    assert win.open_workspace(tmp_path / "ws")
    assert win.service is service
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_save_makes_a_new_version_and_the_diff_highlights_the_weight(make_main_window, tmp_path,
                                                                      qtbot):
    win = make_main_window(tmp_path / "ws")
    first = win.context.current_version_id
    term = win.context.design.find("ctrl_cost")
    win.context.design_model.edit(term, {"weight": -0.5})
    with qtbot.waitSignal(win.context.versionSaved) as saved:
        second = win.save_version("stronger control cost")
    assert saved.args == [second] and second != first
    assert not win.context.design_model.dirty
    assert [v.number for v in win.browser.versions()] == [1, 2]
    assert win.browser.version_item(second) is not None

    win.compare_versions(first, second)
    dialog: VersionDiffDialog = win.diff_dialog
    assert ("ctrl_cost", "weight", "-0.1", "-0.5") in dialog.changed_cells()
    row = next(r for r in range(dialog.table.rowCount())
               if dialog.table.item(r, 2).text() == "weight")
    item = dialog.table.item(row, 4)
    assert item.text() == "-0.5" and item.font().bold()
    assert dialog.table.item(row, 0).data(STATUS_ROLE) == "changed"
    same = dialog.table.item(row, 0).background().color()
    assert same != dialog.table.palette().base().color()  # the changed row is highlighted
    assert dialog.left.extraSelections()  # the JSON panes mark the changed lines
    dialog.close()


def test_a_click_selects_a_version_double_click_loads_it_and_undo_brings_back_the_draft(
        make_main_window, tmp_path, qtbot):
    win = make_main_window(tmp_path / "ws")
    first = win.context.current_version_id
    win.context.design_model.edit(win.context.design.find("forward"), {"weight": 2.0})
    second = win.save_version("faster")
    win.context.design_model.edit(win.context.design.find("forward"), {"weight": 3.0})  # a draft
    tree = win.browser.tree
    item = win.browser.version_item(first)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.context.current_version_id == second  # a click only selects
    assert win.context.design.find("forward").weight == 3.0
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.context.current_version_id == first
    assert win.context.design.find("forward").weight == 1.0
    assert not win.context.design_model.dirty
    assert not [w for w in win.findChildren(QMessageBox) if w.isVisible()]  # no modal question
    win.act_undo.trigger()  # the draft comes back, still unsaved, on top of its version
    assert win.context.design.find("forward").weight == 3.0
    assert win.context.current_version_id == second and win.context.design_model.dirty


def test_new_design_from_template_and_from_version(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    first = win.context.current_version_id
    win.new_from_template("krc_example", name="krc")
    d = win.context.design
    assert d.name == "krc" and d.find("fast_and_level").combiner == "krc"
    assert win.context.current_version_id is None and win.context.design_model.dirty
    vid = win.save_version("a KRC design")
    win.new_from_version(first, name="branch")
    assert win.context.design.name == "branch" and win.context.design.find("forward") is not None
    assert {v.design_name for v in win.browser.versions()} == {"task_reward", "krc"}
    assert vid is not None


def test_a_workspace_another_process_holds_opens_read_only_with_a_banner(make_main_window, tmp_path, qtbot):
    ws = tmp_path / "ws"
    holder = Workspace.open(ws)  # a second open of the lock conflicts, as another process's would
    try:
        win = make_main_window()
        assert win.open_workspace(ws)
        assert not win.session.writable and not win.act_save.isEnabled()
        assert win.read_only_bar.isVisibleTo(win)
        assert win.read_only_banner.text().startswith(f"Read-only: {ws} is open in process")
        assert "Read-only" in win.log_panel.text()
        assert not [w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.isVisible()]
    finally:
        holder.close()


def test_corrupt_workspace_is_a_dialog(make_main_window, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "studio.db").write_bytes(b"this is not a database" * 100)
    win = make_main_window()
    assert not win.open_workspace(ws)
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "damaged" in box.text()
    box.close()


def test_diff_lists_added_and_removed_terms():
    from studio.core.design import Design, Group, Term

    a = Design("d", "t", Group("reward", [Term("x", "f"), Term("y", "g")]))
    b = Design("d", "t", Group("reward", [Term("x", "f", weight=2.0), Term("z", "h")]))
    by = {d.name: d for d in diff_designs(a, b)}
    assert by["x"].status == "changed" and by["x"].fields == {"weight": (1.0, 2.0)}
    assert by["y"].status == "removed" and by["z"].status == "added"
    assert by["reward"].fields == {"children": ("x, y", "x, z")}
    dialog = VersionDiffDialog(a, b, "d v1", "d v2")
    status = {dialog.table.item(r, 0).text(): dialog.table.item(r, 0).data(STATUS_ROLE)
              for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text()}
    assert status == {"x": "changed", "y": "removed", "z": "added", "reward": "changed"}
    colours = {s: next(dialog.table.item(r, 0).background().color().name()
                       for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == n)
               for n, s in (("y", "removed"), ("z", "added"), ("x", "changed"))}
    assert len(set(colours.values())) == 3  # removed, added and changed look different
    dialog.deleteLater()


def test_window_module_imports_neither_torch_nor_mujoco():
    code = ("import sys; import studio.ui.main_window, studio.ui.app; "
            "print(sorted(m for m in ('torch', 'mujoco') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "[]"


def test_a_bad_stored_design_is_a_dialog_naming_the_path(make_main_window, tmp_path):
    from studio.store import repo

    win = make_main_window(tmp_path / "ws")
    with win.service.workspace.session() as s:
        bad = repo.save_design_version(s, "HalfCheetah-v5", "broken", {"root": {"type": "nope"}})
    before = win.context.current_version_id
    assert not win.load_version(bad.id, confirm=False)
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "root.type" in box.text() and "Traceback" not in box.text()
    box.close()
    assert win.context.current_version_id == before  # the editor kept its design


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo_in_the_window(make_main_window, tmp_path, qtbot):
    win = make_main_window(tmp_path / "ws")
    term = win.context.design.find("forward")
    win.context.design_model.edit(term, {"weight": 3.0})
    with qtbot.waitActive(win):
        win.activateWindow()
    win.editor.tree.setFocus()
    qtbot.keyClick(win.editor.tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert term.weight == 1.0
    qtbot.keyClick(win.editor.tree, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert term.weight == 3.0
    assert "Weight" in win.act_undo.text() or "weight" in win.act_undo.text()


def test_an_expression_being_typed_is_kept_when_the_window_closes(make_main_window, tmp_path,
                                                                    qtbot):
    ws = tmp_path / "ws"
    win = make_main_window(ws)
    with qtbot.waitActive(win):
        win.activateWindow()
    line = win.editor.term_inspector.source.line
    line.setFocus()
    line.setPlainText("x_velocity - 0.5")  # typed, Enter not pressed
    win.close()
    again = make_main_window(ws)
    assert again.context.design.find("forward").source == "x_velocity - 0.5"


def test_tools_menu_opens_the_epic_comparison_with_the_current_version(make_main_window, tmp_path, qtbot):
    from studio.ui.distance_view import DistanceDialog

    win = make_main_window(tmp_path / "ws")
    win.act_epic.trigger()
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, DistanceDialog) and w.isVisible()]
    assert len(dialogs) == 1
    assert dialogs[0].widget.checked_ids() == [win.context.current_version_id]
    dialogs[0].close()
    assert win.act_import.text() == "&Import reward code…"


def test_the_real_window_follows_a_slider_drag_in_the_curve_the_plots_and_the_viewer(
        make_main_window, tmp_path, qtbot):
    import numpy as np
    import pytest

    win = make_main_window(tmp_path / "ws", external_panels=True, task="InvertedPendulum-v5")
    viewer, plots = win.panels["Viewer"], win.panels["Plots"]
    assert type(viewer).__name__ == "ViewerPanel" and type(plots).__name__ == "PlotsPanel"
    term = win.context.design.find("alive")  # healthy (1 while balanced) × weight
    tree = win.editor.tree
    rect = tree.visualRect(win.editor.tree_model.index_of(term, 0))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.editor.selected() is term
    qtbot.waitUntil(lambda: plots.evaluated is not None and "alive" in plots.evaluated.components,
                    timeout=60_000)
    qtbot.waitUntil(lambda: viewer.view.overlay is not None
                    and viewer.view.overlay.components.get("alive") == pytest.approx(1.0), timeout=30_000)
    recorded = plots.evaluated.components["alive"].copy()
    assert recorded.max() == pytest.approx(1.0)

    slider = win.editor.term_inspector.weight.slider
    slider.setSliderDown(True)  # a drag, as the mouse makes it
    for pos in range(slider.value(), slider.value() + 200, 40):
        slider.setValue(pos)
    slider.setSliderDown(False)
    weight = term.weight
    assert weight > 1.5

    curve = win.editor.term_inspector.curve
    _, shaped = curve.curve.getData()
    _, weighted = curve.weighted.getData()
    np.testing.assert_allclose(weighted, weight * shaped)
    qtbot.waitUntil(lambda: np.allclose(plots.evaluated.components["alive"], weight * recorded),
                    timeout=30_000)
    qtbot.waitUntil(lambda: viewer.view.overlay.components.get("alive") == pytest.approx(weight),
                    timeout=30_000)
