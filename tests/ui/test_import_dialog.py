"""The import dialog: the report names each component and line; nothing runs without opt-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio.ui.import_dialog import OPT_IN_TEXT, ImportDialog, menu_actions, report_rows

EUREKA = Path(__file__).parents[1] / "export" / "data" / "eureka_halfcheetah.py"


@pytest.fixture
def never_sandboxed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail the test if anything reaches the sandbox (nothing should run at import)."""
    calls: list[Any] = []

    def refuse(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        raise AssertionError("the import ran code")

    monkeypatch.setattr("studio.export.importer.run_sandboxed", refuse)
    monkeypatch.setattr("studio.export.sandbox.run_sandboxed", refuse)
    return calls


@pytest.fixture
def make_import(qtbot: Any, make_editor: Any) -> Any:
    """``make_import()``: (dialog, editor) over one context, the dialog shown."""
    def make() -> tuple[ImportDialog, Any]:
        editor = make_editor()
        dialog = ImportDialog(editor.context, editor)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog, editor

    return make


def editor_terms(editor: Any) -> list[str]:
    tm = editor.tree_model
    root = tm.index_of(editor.model.design.root)
    return [tm.data(tm.index(r, 0, root)) for r in range(tm.rowCount(root))]


def test_eureka_file_is_reported_and_imported_into_the_editor(make_import: Any, never_sandboxed: list[Any]) -> None:
    dialog, editor = make_import()
    assert dialog.allow_code.text() == OPT_IN_TEXT and not dialog.allow_code.isChecked()
    assert dialog.load_file(EUREKA)
    assert dialog.error_label.isHidden()
    by_name = {r.component: r for r in dialog.rows if r.component}
    assert {n for n, r in by_name.items() if r.outcome == "term"} == {
        "speed_reward", "level_reward", "ctrl_penalty", "height_bonus"}
    assert by_name["speed_reward"].line == 17 and "exp_kernel" in by_name["speed_reward"].detail
    # the component that is not expressible: its line and why, and it is not kept
    thigh = by_name["thigh_energy"]
    assert thigh.outcome == "not imported" and thigh.line == 30 and "pow(2).mean" in thigh.detail
    unsupported = dialog.unsupported_lines()
    assert 30 in unsupported and "mean" in unsupported[30]  # the batch statistic, with its line number
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "30" in texts  # the numbers are in the table the user reads
    assert "not imported" in dialog.summary.text()
    assert len(dialog.source.extraSelections()) == len([r for r in dialog.rows if r.line])

    assert dialog.import_button.isEnabled()
    design = dialog.import_as_new_design()
    assert design is not None and design.name == "eureka_halfcheetah_imported"
    ctx = editor.context
    assert ctx.design.name == design.name and ctx.current_version_id is None
    assert ctx.design_model.dirty  # a new design, not saved yet
    assert editor_terms(editor) == ["speed_reward", "level_reward", "ctrl_penalty", "height_bonus"]
    assert not dialog.isVisible()  # accepted
    assert never_sandboxed == []


def test_opt_in_keeps_code_terms_but_runs_nothing(make_import: Any, never_sandboxed: list[Any],
                                                 tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    src = tmp_path / "reward.py"
    src.write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "def compute_reward(x_velocity, ctrl_sq):\n"
        "    speed = x_velocity\n"
        "    weird = sorted(ctrl_sq)\n"
        "    return speed + weird, {'speed': speed, 'weird': weird}\n")
    dialog, editor = make_import()
    assert dialog.load_file(src)
    rows = {r.component: r for r in dialog.rows if r.component}
    assert rows["weird"].outcome == "not imported" and rows["weird"].line == 4
    assert "sorted" in rows["weird"].detail
    assert dialog.result.code_terms == [] and "code_source" not in dialog.result.design.meta

    dialog.allow_code.setChecked(True)  # re-reads: kept as a sandboxed code term, still not run
    rows = {r.component: r for r in dialog.rows if r.component}
    assert rows["weird"].outcome == "sandboxed code"
    assert [c.name for c in dialog.result.code_terms] == ["weird"]
    assert all(r.outcome in ("term", "sandboxed code") for r in dialog.rows)
    dialog.import_as_new_design()
    assert [t.source for t in editor.context.design.terms()] == ["x_velocity", "code_weird"]
    assert not marker.exists() and never_sandboxed == []


def test_unreadable_files_are_messages(make_import: Any, tmp_path: Path) -> None:
    dialog, editor = make_import()
    before = editor.context.design
    assert not dialog.load_file(tmp_path / "missing.py")
    assert "no such file" in dialog.error_label.text()
    bad = tmp_path / "bad.py"
    bad.write_text("def reward(x):\n    return x\n")
    assert not dialog.load_file(bad)
    text = dialog.error_label.text()  # one report, every reason, no traceback
    assert "argument 'x' is not a feature" in text and text.count("line 1:") == 1 and "Traceback" not in text
    assert not dialog.import_button.isEnabled() and dialog.import_as_new_design() is None
    assert editor.context.design is before


def test_report_rows_from_the_importer_directly(cheetah_task: Any) -> None:
    from studio.export.importer import import_reward

    result = import_reward(EUREKA.read_text(), cheetah_task.env_id, cheetah_task.catalog.names())
    rows = report_rows(result)
    assert [r.line for r in rows] == sorted(r.line for r in rows)
    assert {r.outcome for r in rows} >= {"term", "not imported"}


def test_menu_action_opens_the_dialog(qtbot: Any, make_context: Any, no_leaked_widgets: None) -> None:
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    window.context = make_context()  # type: ignore[attr-defined]
    (action,) = menu_actions(window)
    assert "Import reward code" in action.text()
    action.trigger()
    dialogs = window.findChildren(ImportDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    dialogs[0].close()


def test_import_from_the_main_window_starts_a_new_unsaved_design(make_main_window: Any, tmp_path: Path,
                                                                 never_sandboxed: list[Any]) -> None:
    from studio.ui.import_dialog import open_import_dialog

    win = make_main_window(tmp_path / "ws")
    saved = win.context.current_version_id
    dialog = open_import_dialog(win.context, win, EUREKA)
    assert dialog.isVisible() and dialog.result is not None
    dialog.import_as_new_design()
    assert win.context.design.name == "eureka_halfcheetah_imported"
    assert win.context.current_version_id is None and saved is not None
    assert "eureka_halfcheetah_imported (unsaved)" in win.windowTitle()
    assert [t.name for t in win.context.design.terms()] == [
        "speed_reward", "level_reward", "ctrl_penalty", "height_bonus"]


def test_gymnasium_method_is_checked_against_the_original_in_the_background(
    qtbot: Any, make_editor: Any, tmp_path: Path
) -> None:
    import inspect
    import textwrap

    import gymnasium as gym

    src = tmp_path / "cheetah_rew.py"  # Gymnasium's own method, as pasted from its source
    src.write_text(textwrap.dedent(inspect.getsource(type(gym.make("HalfCheetah-v5").unwrapped)._get_rew)))
    editor = make_editor()
    dialog = ImportDialog(editor.context, editor)
    qtbot.addWidget(dialog)
    assert dialog.load_file(src)
    assert dialog.function.currentText() == "_get_rew"
    terms = {r.component: r.detail for r in dialog.rows if r.outcome == "term"}
    assert terms["reward_ctrl"].startswith("linear(sum(square(action)))") and "weight -0.1" in terms["reward_ctrl"]
    qtbot.waitUntil(lambda: any(r.outcome == "check" for r in dialog.rows), timeout=60_000)  # a worker thread
    checks = {r.component: r.detail for r in dialog.rows if r.outcome == "check"}
    assert "(total)" in checks, checks
    assert checks["(total)"].startswith("matches") and set(checks) == {"(total)", "reward_forward", "reward_ctrl"}
    assert dialog.import_button.text() == "Import as new design"
