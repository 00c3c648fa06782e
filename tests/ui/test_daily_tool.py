"""The app as a daily tool: choosing a task, design files, messages, checks before training, help."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from studio.core.design import Design, Group, Term
from studio.store import Workspace, repo
from studio.ui.editor.tree import LEVEL_ROLE

HOPPER = "Hopper-v5"


def _designs(path):
    with Workspace.open(path) as ws, ws.session() as s:
        return {(d.name, d.task.env_id, len(repo.design_history(s, d.id))) for d in repo.list_designs(s)}


# --- choosing a task ---------------------------------------------------------------------


def test_an_empty_workspace_asks_for_a_task_and_the_picker_creates_a_hopper_design(
        make_main_window, tmp_path, qtbot):
    win = make_main_window(tmp_path / "ws", pick_task=True)
    picker = win.task_picker
    assert picker is not None and picker.isVisible()
    assert win.session.loading_task is None  # nothing starts before the user chose
    ids = [picker.tasks.item(i).data(Qt.ItemDataRole.UserRole) for i in range(picker.tasks.count())]
    assert len(ids) >= 10 and HOPPER in ids
    assert all(not picker.tasks.item(i).icon().isNull() for i in range(10))  # thumbnails
    hopper = picker.tasks.item(ids.index(HOPPER))
    assert "hop" in hopper.text().lower()  # its one-line description
    rect = picker.tasks.visualItemRect(hopper)
    picker.tasks.scrollToItem(hopper)
    rect = picker.tasks.visualItemRect(hopper)
    qtbot.mouseClick(picker.tasks.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picker.design_name() == "hopper"
    with qtbot.waitSignal(win.session.taskReady, timeout=30_000):
        picker.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: win.context.current_version_id is not None, timeout=5_000)
    assert win.context.task.env_id == HOPPER
    assert win.context.design.task == HOPPER and win.context.design.name == "hopper"
    assert win.context.design.find("healthy") is not None or len(win.context.design.terms()) >= 3
    assert not win.context.design_model.dirty  # kept as the workspace's first version
    win.close()
    assert _designs(tmp_path / "ws") == {("hopper", HOPPER, 1)}


def test_file_new_design_for_a_task_replaces_the_design_as_one_undo_step(make_main_window, tmp_path, qtbot):
    win = make_main_window(tmp_path / "ws")
    cheetah = win.context.design
    picker = win.new_for_task_dialog()
    picker.select(HOPPER)
    picker.name_edit.setText("hop_fast")
    picker.name_edit.textEdited.emit("hop_fast")
    with qtbot.waitSignal(win.session.taskReady, timeout=30_000):
        picker.accept()
    qtbot.waitUntil(lambda: win.context.design.name == "hop_fast", timeout=5_000)
    assert win.context.design.task == HOPPER
    assert win.context.current_version_id is None and win.context.design_model.dirty
    win.act_undo.trigger()
    assert win.context.design is cheetah


def test_the_picker_takes_a_gymnasium_id_or_an_mjcf_file(qtbot, tmp_path):
    from studio.ui.task_picker import TaskPicker, design_name_for

    picker = TaskPicker()
    qtbot.addWidget(picker)
    ok = picker.buttons.button(QDialogButtonBox.StandardButton.Ok)
    picker.gym_combo.setCurrentText("Hopper-v4")
    assert picker.gym_radio.isChecked() and picker.selected_task() == "Hopper-v4" and ok.isEnabled()
    picker.file_edit.setText(str(tmp_path / "missing.xml"))
    assert picker.file_radio.isChecked() and not ok.isEnabled()  # no such file
    model = tmp_path / "robot.xml"
    model.write_text("<mujoco/>")
    picker.file_edit.setText(str(model))
    assert ok.isEnabled() and picker.design_name() == "robot"
    assert design_name_for("InvertedDoublePendulum-v5") == "inverted_double_pendulum"


def test_task_on_the_command_line_opens_the_workspace_on_that_task(make_main_window, tmp_path):
    from studio.cli import main

    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "--task", HOPPER,
                 "--screenshot", str(tmp_path / "shot.png"), "--size", "900x700"]) == 0
    assert (tmp_path / "shot.png").stat().st_size > 0
    assert _designs(ws) == {("task_reward", HOPPER, 1)}
    # Again, in a window: the task's existing design is opened, nothing new is saved.
    win = make_main_window(ws, task=HOPPER)
    assert win.context.design.task == HOPPER and win.context.current_version_id is not None
    win.close()
    assert _designs(ws) == {("task_reward", HOPPER, 1)}


# --- design files ------------------------------------------------------------------------


def test_save_design_as_and_open_design_file_round_trip(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    win.context.design_model.edit(win.context.design.find("forward"), {"weight": 2.5})
    path = tmp_path / "mine.json"
    assert win.save_design_as(path)
    assert json.loads(path.read_text())["name"] == win.context.design.name
    win.act_undo.trigger()
    assert win.open_design_file(path)
    assert win.context.design.find("forward").weight == 2.5
    assert win.context.current_version_id is None  # not a workspace version until saved
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    win.interactive = False  # errors to the log, not a dialog
    assert not win.open_design_file(bad)
    assert win.context.design.find("forward").weight == 2.5  # the design is untouched


# --- messages ----------------------------------------------------------------------------


def test_a_long_expression_error_leaves_the_editor_and_window_widths_alone(make_main_window, tmp_path, qtbot):
    win = make_main_window(tmp_path / "ws")
    editor = win.editor
    editor.select(win.context.design.find("forward"))
    QApplication.processEvents()
    widths = (win.width(), editor.width(), editor.inspector_scroll.width(), win.minimumSizeHint().width())
    source = editor.term_inspector.source
    source.set_text("x_velocity + " + " + ".join(f"no_such_feature_{i}" for i in range(40)))
    source.line.committed.emit()
    QApplication.processEvents()
    label = source.error_label
    assert label.isVisibleTo(editor) and label.level == "error"
    assert "no_such_feature_0" in label.toolTip()
    assert label.minimumSizeHint().width() == 0
    after = (win.width(), editor.width(), editor.inspector_scroll.width(), win.minimumSizeHint().width())
    assert after == widths
    win.status_task.setText("loading " + "/very/long/path" * 60)
    QApplication.processEvents()
    assert win.minimumSizeHint().width() == widths[3] and win.width() == widths[0]


# --- checks before training --------------------------------------------------------------


def _editor_and_training(make_editor, qtbot, design):
    from studio.ui.dashboard import TrainingPanel

    editor = make_editor(design)
    panel = TrainingPanel(editor.context)
    qtbot.addWidget(panel)
    editor.update_derived()
    return editor, panel


def test_start_is_disabled_with_the_reason_while_the_design_is_invalid(make_editor, qtbot):
    design = Design("d", "HalfCheetah-v5", Group("reward", [Term("fwd", "x_velocity"),
                                                             Term("bad", "x_velocity +")]))
    editor, panel = _editor_and_training(make_editor, qtbot, design)
    assert not panel.start_button.isEnabled()
    assert "bad" in panel.start_button.toolTip() and "bad" in panel.start_blocker
    assert panel.status.level == "warning" and "Start is disabled" in panel.status.text()
    editor.model.edit(design.find("bad"), {"source": "x_velocity + 1"})
    editor.update_derived()
    assert panel.start_button.isEnabled() and panel.start_blocker is None
    assert panel.status.level == ""  # the message went with its cause


def test_an_empty_group_is_a_draft_with_a_hint_that_holds_training(make_editor, qtbot):
    editor, panel = _editor_and_training(make_editor, qtbot, Design("d", "HalfCheetah-v5", Group(
        "reward", [Term("fwd", "x_velocity")])))
    group = editor.add_group()
    editor.update_derived()
    index = editor.tree_model.index_of(group, 0)
    assert index.data(LEVEL_ROLE) == "draft"
    assert editor.tree_model.index_of(group, 1).data() == "empty: add a term"
    assert not panel.start_button.isEnabled() and "empty" in panel.start_blocker


def test_a_term_giving_nan_on_typical_states_is_flagged_while_editing(make_editor):
    design = Design("d", "HalfCheetah-v5", Group("reward", [Term("fwd", "x_velocity"),
                                                             Term("speed", "abs(x_velocity)")]))
    editor = make_editor(design)
    term = design.find("speed")
    editor.select(term)
    editor.model.edit(term, {"source": "log(x_velocity)"})
    editor.update_derived()
    index = editor.tree_model.index_of(term, 0)
    assert index.data(LEVEL_ROLE) == "warning" and "NaN" in index.data(Qt.ItemDataRole.ToolTipRole)
    check = editor.term_inspector.check_label
    assert check.isVisibleTo(editor) and check.level == "warning" and "NaN" in check.text()
    assert editor.tree_model.index_of(design.find("fwd"), 0).data(LEVEL_ROLE) is None
    editor.model.edit(term, {"source": "log(abs(x_velocity) + 1)"})
    editor.update_derived()
    assert index.data(LEVEL_ROLE) is None and not check.isVisibleTo(editor)


# --- help --------------------------------------------------------------------------------


def test_keyboard_shortcuts_are_generated_from_the_actions(make_main_window, tmp_path):
    win = make_main_window(tmp_path / "ws")
    dialog = win.show_shortcuts()
    rows = dialog.rows()
    keys = {(what, k) for _, what, k in rows}
    assert ("Save version", "Ctrl+S") in keys and ("Undo", "Ctrl+Z") in keys
    assert ("Duplicate", "Ctrl+D") in keys  # an editor action outside the menus' top level
    win.act_save.setShortcut("Ctrl+Alt+V")  # change an action: the table follows
    dialog.close()
    dialog = win.show_shortcuts()
    assert ("Save version", "Ctrl+Alt+V") in {(w, k) for _, w, k in dialog.rows()}
    dialog.close()


def test_the_guide_covers_the_workflow_and_every_shape_with_its_curve(make_main_window, tmp_path):
    from studio.core.shapes import SHAPES
    from studio.ui.help import shape_image

    win = make_main_window(tmp_path / "ws")
    dialog = win.show_documentation()
    text = dialog.browser.toPlainText()
    assert "The workflow" in text and "The design language" in text and "share" in text
    for name in SHAPES:
        assert f"\n{name}\n" in text
    image = shape_image("linear")  # scale·x + offset: a rising line, left low, right high
    column = [image.pixelColor(8, y).blue() - image.pixelColor(8, y).red() for y in range(image.height())]
    right = [image.pixelColor(image.width() - 9, y).blue() - image.pixelColor(image.width() - 9, y).red()
             for y in range(image.height())]
    assert max(range(len(column)), key=column.__getitem__) > max(range(len(right)), key=right.__getitem__)
    dialog.close()
