"""UI test fixtures: offscreen Qt, factories for contexts, editors and main windows.

The factories follow napari's ``make_napari_viewer``: every widget they make is closed at
teardown, and a test that leaves a new visible top-level widget behind (a dialog opened
and forgotten, a window never closed) fails.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HALF_CHEETAH = "HalfCheetah-v5"


@pytest.fixture(scope="session", autouse=True)
def _user_settings_in_tmp(tmp_path_factory: Any) -> None:
    """Per-user Qt settings (recent workspaces) go to a temporary folder, not the home."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


@pytest.fixture(scope="session")
def cheetah_task() -> Any:
    """HalfCheetah-v5's task adapter (built once per session)."""
    from studio.sim.registry import get_task

    task = get_task(HALF_CHEETAH)
    _ = task.catalog
    return task


@pytest.fixture
def make_context(qtbot: Any, cheetah_task: Any) -> Callable[..., Any]:
    """``make_context(design=None, task=cheetah)``: an AppContext holding a design."""
    from studio.ui.context import AppContext

    made: list[Any] = []

    def make(design: Any = None, task: Any = cheetah_task) -> Any:
        ctx = AppContext()
        made.append(ctx)
        if task is not None:
            ctx.set_task(task)
            ctx.set_design(design if design is not None else task.task_design())
        elif design is not None:
            ctx.set_design(design)
        return ctx

    yield make
    for ctx in made:
        ctx.deleteLater()


def _visible_top_levels() -> set[int]:
    from PySide6.QtWidgets import QApplication

    return {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}


@pytest.fixture
def no_leaked_widgets(qapp: Any) -> Iterator[None]:
    """Fail if the test leaves a new visible top-level widget behind."""
    from PySide6.QtWidgets import QApplication

    before = _visible_top_levels()
    yield
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets()
              if w.isVisible() and id(w) not in before]
    for w in leaked:
        w.close()
    assert not leaked, f"leaked top-level widgets: {[type(w).__name__ for w in leaked]}"


@pytest.fixture
def make_editor(qtbot: Any, make_context: Callable[..., Any],
                no_leaked_widgets: None) -> Callable[..., Any]:
    """``make_editor(design=None)``: a shown RewardEditor over a fresh context."""
    from studio.ui.editor.panel import RewardEditor

    def make(design: Any = None) -> Any:
        ctx = make_context(design)
        editor = RewardEditor(ctx)
        qtbot.addWidget(editor)
        editor.resize(1000, 700)
        editor.show()
        editor.update_derived()
        return editor

    return make


@pytest.fixture
def make_main_window(qtbot: Any, no_leaked_widgets: None) -> Iterator[Callable[..., Any]]:
    """``make_main_window(workspace_path, external_panels=False, pick_task=False, task=None)``.

    A shown window on a workspace; ``pick_task`` lets an empty workspace ask for its task
    (the picker), ``task`` opens the workspace on that task (as ``--task`` does).

    The other packages' panels (viewer, plots, training) are replaced by placeholders
    unless asked for, to keep these tests fast and about the window itself.
    """
    from studio.ui.main_window import MainWindow

    made: list[Any] = []

    def make(workspace: Path | None = None, external_panels: bool = False,
             wait_task: bool = True, pick_task: bool = False, task: str | None = None) -> Any:
        window = MainWindow(external_panels=external_panels)
        window.pick_task_on_empty = pick_task  # the picker is tested on its own
        made.append(window)
        window.resize(790, 760)  # inside the offscreen screen (800x800), so geometry restores as saved
        window.show()
        window.fit_docks()
        if workspace is not None:
            assert window.open_workspace(workspace, task)
            if wait_task and window.session.loading_task is not None:
                with qtbot.waitSignal(window.session.taskReady, timeout=30_000):
                    pass
        return window

    yield make
    for window in made:
        if window.isVisible():
            window.close()
        window.deleteLater()
