"""The export dialog: the preview follows the format, saving writes it, errors are messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio.core.design import Design, Group, Term
from studio.ui.export_dialog import (
    ExportDialog,
    default_file_name,
    generate_export,
    open_export_dialog,
)
from studio.ui.workers import TaskState


@pytest.fixture
def make_dialog(qtbot: Any, make_context: Any, no_leaked_widgets: None) -> Any:
    """``make_dialog(design=None, workspace=None)``: an export dialog whose first preview is ready."""
    made: list[ExportDialog] = []

    def make(design: Design | None = None, workspace: Any = None) -> ExportDialog:
        ctx = make_context(design)
        if workspace is not None:
            ctx.set_workspace(workspace)
        dialog = ExportDialog(ctx)
        qtbot.addWidget(dialog)
        made.append(dialog)
        dialog.show()
        wait_ready(qtbot, dialog)
        return dialog

    yield make
    for d in made:
        d.runner.wait(10)
        d.close()


def wait_ready(qtbot: Any, dialog: ExportDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.runner.is_running(), timeout=20_000)


def choose(qtbot: Any, dialog: ExportDialog, fmt: str) -> None:
    dialog.format_box.setCurrentIndex(dialog.format_box.findData(fmt))
    assert dialog.runner.is_running() and dialog.busy.isVisibleTo(dialog)
    assert not dialog.save_button.isEnabled()  # nothing to save while it generates
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        pass


def test_generate_export_runs_without_qt_state(cheetah_task: Any) -> None:
    out = generate_export((cheetah_task.task_design(), "python", cheetah_task), TaskState())
    assert "def compute_reward" in out.text and not out.error


def test_preview_follows_the_format(make_dialog: Any, qtbot: Any) -> None:
    dialog = make_dialog()
    assert dialog.fmt == "python"
    python = dialog.text()
    assert "def compute_reward" in python and dialog.save_button.isEnabled()
    assert dialog.preview.isReadOnly()
    choose(qtbot, dialog, "json")
    assert dialog.text() != python and dialog.text().lstrip().startswith("{")
    assert "\"forward\"" in dialog.text()
    choose(qtbot, dialog, "torch")
    assert "torch" in dialog.text() and dialog.text() != python
    assert not dialog.busy.isVisibleTo(dialog)
    tips = [dialog.format_box.itemData(i, 3) for i in range(dialog.format_box.count())]
    assert all(tips) and dialog.description.text()  # every format explains itself


def test_preview_follows_design_edits(make_dialog: Any, qtbot: Any) -> None:
    dialog = make_dialog()
    m = dialog._ctx.design_model
    m.edit(m.design.find("ctrl_cost"), {"weight": -0.375})
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        pass
    assert "0.375" in dialog.text()


def test_save_writes_the_file(make_dialog: Any, tmp_path: Path) -> None:
    dialog = make_dialog()
    assert dialog.default_path().name == default_file_name(dialog._ctx.design.name, "python", ".py")
    target = tmp_path / "out" / dialog.default_path().name
    assert dialog.save_to(target)
    assert target.read_text() == dialog.text() and "def compute_reward" in target.read_text()
    assert "saved to" in dialog.status.text()


def test_default_file_names() -> None:
    assert default_file_name("run fast", "python", ".py") == "run_fast_reward.py"
    assert default_file_name("run", "torch", ".py") == "run_reward_torch.py"
    assert default_file_name("run", "json", ".json") == "run.json"


def test_unexportable_design_shows_an_error_label(make_dialog: Any) -> None:
    bad = Design("imported", "HalfCheetah-v5",
                 Group("reward", [Term("fwd", "x_velocity"), Term("thigh", "code_thigh")]))
    dialog = make_dialog(bad)
    assert dialog.error_label.isVisibleTo(dialog)
    text = dialog.error_label.text()
    assert "code_thigh" in text and "sandboxed code term" in text and "Traceback" not in text
    assert dialog.text() == "" and not dialog.save_button.isEnabled()
    assert not dialog.copy_button.isEnabled()


def test_header_names_the_saved_version(make_dialog: Any, qtbot: Any, tmp_path: Path,
                                        cheetah_task: Any) -> None:
    from studio.app.workspace_service import WorkspaceService

    svc = WorkspaceService.open(tmp_path / "ws")
    try:
        design = cheetah_task.task_design()
        design.name = "runner"
        svc.save(design, "first")
        info = svc.save(design, "second")
        dialog = make_dialog(design, svc.workspace)
        assert "(version" not in dialog.text()  # not loaded from a version yet
        with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
            dialog._ctx.set_design(design, info.id)
        assert "Design:        runner (version 2)" in dialog.text()
        assert "version 2" in dialog.source_label.text()
        m = dialog._ctx.design_model
        with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
            m.edit(m.design.find("forward"), {"weight": 1.5})
        assert "(version 2, with unsaved edits)" in dialog.text()
    finally:
        svc.close()


def test_open_export_dialog_is_deleted_on_close(qtbot: Any, make_context: Any,
                                                no_leaked_widgets: None) -> None:
    dialog = open_export_dialog(make_context(), None)
    qtbot.waitUntil(lambda: not dialog.runner.is_running(), timeout=20_000)
    assert dialog.isVisible() and "def compute_reward" in dialog.text()
    dialog.close()


def test_the_main_windows_export_opens_this_dialog(make_main_window: Any, tmp_path: Path, qtbot: Any) -> None:
    win = make_main_window(tmp_path / "ws")
    win.export()
    (dialog,) = win.findChildren(ExportDialog)
    wait_ready(qtbot, dialog)
    assert "(version 1)" in dialog.text()  # the workspace's first version, as saved
    dialog.close()
