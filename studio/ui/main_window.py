"""The main window: dockable panels, menus, status bar, and where the user left off.

Docks: Workspace, Reward editor, Viewer, Plots, Training, Log. The Viewer, Plots and
Training panels belong to other packages and are imported lazily; a panel that cannot
be imported shows a placeholder instead of stopping the studio.

The task (MuJoCo model, feature catalogue) and torch load in a worker thread after the
window shows, so the window is interactive at once. Layout, the open design and unsaved
edits (as a draft) are kept in the workspace and restored when it is opened again.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from studio.core.design import Design
from studio.errors import user_message
from studio.ui.context import AppContext
from studio.ui.editor.panel import RewardEditor
from studio.ui.editor.session import DesignSession
from studio.ui.editor.templates import TEMPLATES
from studio.ui.log_panel import LogPanel
from studio.ui.widgets import MessageLabel
from studio.ui.workspace_browser import WorkspaceBrowser

log = logging.getLogger("studio.ui")

RECENT_KEY = "recent_workspaces"
MAX_RECENT = 8
LAYOUT_VERSION = 1
EXTERNAL_PANELS = (
    ("Viewer", "studio.ui.viewer", "ViewerPanel"),
    ("Plots", "studio.ui.plots", "PlotsPanel"),
    ("Training", "studio.ui.dashboard", "TrainingPanel"),
)


class MainWindow(QMainWindow):
    """The studio's window. Build it, ``show()`` it, then :meth:`open_workspace`.

    The workspace, the task and the design's life cycle live in ``self.session`` (a
    :class:`~studio.ui.editor.session.DesignSession`); the window adds the docks, the
    menus, the questions and the error dialogs.
    """

    def __init__(self, context: AppContext | None = None, external_panels: bool = True) -> None:
        """``external_panels=False`` shows placeholders for the viewer, plots and training."""
        super().__init__()
        self.context = context or AppContext(self)
        self.session = DesignSession(self.context, self)
        self._label_key: tuple[Any, ...] | None = None
        self._label = ""
        self.interactive = True
        """False in screenshot mode: errors go to the log and stderr, never to dialogs."""
        self.pick_task_on_empty = True
        """Ask for a task (the task picker) when an opened workspace holds no design."""
        self.task_picker: Any = None
        self.setWindowTitle("Reward Studio")
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        self.editor = RewardEditor(self.context)
        self.browser = WorkspaceBrowser()
        self.log_panel = LogPanel(self.context)
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {
            "Workspace": self.browser, "Reward editor": self.editor,
        }
        for title, module, cls in EXTERNAL_PANELS:
            self.panels[title] = (self._external_panel(title, module, cls) if external_panels
                                  else _placeholder(title, "turned off"))
        self.panels["Log"] = self.log_panel
        for title, widget in self.panels.items():
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
            dock.setWidget(widget)
            self.docks[title] = dock
        self._default_layout()

        self._build_menus()
        # One elided line each: a long task path or design name never widens the window.
        self.status_design = MessageLabel()
        self.status_task = MessageLabel()
        self.status_design.setMinimumWidth(160)
        self.status_task.setMinimumWidth(160)
        self.statusBar().addPermanentWidget(self.status_task)
        self.statusBar().addPermanentWidget(self.status_design)
        self.session.status.connect(self.status_task.setText)
        self.session.failed.connect(self.show_error)
        # A workspace another process holds opens read-only: a banner says so and why.
        self.read_only_banner = QLabel()
        self.read_only_banner.setObjectName("read_only_banner")
        self.read_only_banner.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 4px 8px;")
        self.read_only_bar = QToolBar("Read-only workspace", self)
        self.read_only_bar.setObjectName("read_only_bar")
        self.read_only_bar.setMovable(False)
        self.read_only_bar.addWidget(self.read_only_banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.read_only_bar)
        self.read_only_bar.setVisible(False)
        self.session.taskReady.connect(lambda _t: self.statusBar().clearMessage())

        # Not cleanChanged: QUndoStack emits it while being destroyed with the window.
        self.context.design_model.changed.connect(self._on_design_change)
        self.context.logMessage.connect(self._status_from_log)
        self.editor.message.connect(lambda text: self.context.log("warning", text))
        self.browser.versionSelected.connect(self.load_version)
        self.browser.compareRequested.connect(self.compare_versions)
        self.browser.newFromVersion.connect(self.new_from_version)
        self.context.versionSaved.connect(self._on_saved)
        # The browser follows the open workspace before anything is saved into it.
        self.context.workspaceChanged.connect(lambda _w: self.browser.set_service(self.session.service))
        self._update_title()

    @property
    def service(self) -> Any:
        """The open workspace service (see :class:`DesignSession`), or None."""
        return self.session.service

    def _on_saved(self, _version_id: int) -> None:
        self.browser.refresh()
        self._update_title()

    # --- panels and layout -------------------------------------------------------------------
    def _external_panel(self, title: str, module: str, cls: str) -> QWidget:
        try:
            widget = getattr(importlib.import_module(module), cls)(self.context)
        except Exception as exc:  # noqa: BLE001 - a missing or broken panel never stops the app
            log.warning("the %s panel is unavailable: %s", title, exc)
            return _placeholder(title, "not available in this build")
        return widget  # type: ignore[no-any-return]

    def _default_layout(self) -> None:
        d = self.docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, d["Workspace"])
        self.splitDockWidget(d["Workspace"], d["Reward editor"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["Reward editor"], d["Log"], Qt.Orientation.Vertical)
        self.addDockWidget(right, d["Viewer"])
        self.splitDockWidget(d["Viewer"], d["Plots"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["Plots"], d["Training"])
        d["Plots"].raise_()
        for dock in d.values():
            dock.show()

    def fit_docks(self) -> None:
        """Give the docks sensible sizes for the current window size.

        The viewer keeps at least its own minimum width; the workspace column takes about
        an eighth of the window and the editor the rest.
        """
        w, h = self.width(), self.height()
        d = self.docks
        viewer = max(d["Viewer"].minimumSizeHint().width(), int(w * 0.36))
        browser = min(280, max(170, int(w * 0.12)))
        editor = max(300, w - viewer - browser)
        self.resizeDocks([d["Workspace"], d["Reward editor"], d["Viewer"]],
                         [browser, editor, viewer], Qt.Orientation.Horizontal)
        log_h = max(90, int(h * 0.11))
        self.resizeDocks([d["Reward editor"], d["Log"]], [h - log_h, log_h], Qt.Orientation.Vertical)
        self.resizeDocks([d["Viewer"], d["Plots"]], [int(h * 0.5), int(h * 0.5)],
                         Qt.Orientation.Vertical)
        # inside the editor: the inspector (sliders, curve) gets a little more than the tree
        self.editor.split.setSizes([int(editor * 0.44), int(editor * 0.56)])

    def layout_state(self) -> dict[str, Any]:
        """The window's geometry and dock layout as JSON-able text."""
        return {
            "version": LAYOUT_VERSION,
            "geometry": bytes(self.saveGeometry().toBase64().data()).decode(),
            "state": bytes(self.saveState(LAYOUT_VERSION).toBase64().data()).decode(),
        }

    def restore_layout(self, layout: dict[str, Any]) -> bool:
        """Restore what :meth:`layout_state` gave; False (and nothing changed) if unusable."""
        if layout.get("version") != LAYOUT_VERSION:
            return False
        try:
            geometry = QByteArray.fromBase64(str(layout["geometry"]).encode())
            state = QByteArray.fromBase64(str(layout["state"]).encode())
        except (KeyError, TypeError):
            return False
        self.restoreGeometry(geometry)
        return bool(self.restoreState(state, LAYOUT_VERSION))

    # --- menus -------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        new = file.addMenu("&New design")
        self.act_new_task = new.addAction("For a &task…", self.new_for_task_dialog)
        self.act_new_task.setShortcut(QKeySequence.StandardKey.New)
        self.act_new_task.setToolTip("Choose a built-in task, any Gymnasium MuJoCo id or an "
                                     "MJCF file; the design starts from its own reward")
        templates = new.addMenu("From &template")
        for key, (label, _fn) in TEMPLATES.items():
            templates.addAction(label, lambda k=key: self.new_from_template(k))
        new.addAction("From the task's own &reward", self.new_from_task)
        new.addAction("From the &current version", self._new_from_current)
        file.addSeparator()
        self.act_open = file.addAction("&Open workspace…", self._open_workspace_dialog)
        self.act_open.setShortcut(QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.act_save = file.addAction("&Save version…", self.save_version_dialog)
        self.act_save.setShortcut(QKeySequence("Ctrl+S"))
        self.act_open_file = file.addAction("Open design &file…", self.open_design_file_dialog)
        self.act_open_file.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.act_save_as = file.addAction("Save design &as…", self.save_design_as_dialog)
        self.act_save_as.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.act_export = file.addAction("&Export…", self.export)
        self.act_export.setShortcut(QKeySequence("Ctrl+E"))
        self.act_import = file.addAction(
            "&Import reward code…", lambda: self._open_dialog("studio.ui.import_dialog", "open_import_dialog"))
        file.addSeparator()
        act_quit = file.addAction("&Quit", self.close)
        act_quit.setShortcut(QKeySequence("Ctrl+Q"))

        edit = bar.addMenu("&Edit")
        stack = self.context.design_model.undo_stack
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(self.act_undo)
        edit.addAction(self.act_redo)
        edit.addSeparator()
        for key in ("add_term", "add_group", "add_event", "duplicate", "remove", "find"):
            edit.addAction(self.editor.actions_[key])

        view = bar.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        view.addAction("Reset layout", self._reset_layout)

        tools = bar.addMenu("&Tools")
        self.act_epic = tools.addAction("Compare designs (&EPIC)…", self.compare_epic)
        self.act_rank = tools.addAction(
            "&Rank rollouts…", lambda: self._open_dialog("studio.ui.ranking", "open_ranking_dialog"))
        self.act_rank.setShortcut(QKeySequence("Ctrl+R"))
        self.act_refine = tools.addAction(
            "Re&finement…", lambda: self._open_dialog("studio.ui.refine", "open_refine_dialog"))
        self.act_refine.setToolTip("Rounds of candidates trained, ranked and improved (ICPL)")

        help_ = bar.addMenu("&Help")
        self.act_docs = help_.addAction("&Documentation", self.show_documentation)
        self.act_docs.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.act_shortcuts = help_.addAction("&Keyboard shortcuts", self.show_shortcuts)
        self.act_shortcuts.setShortcut(QKeySequence("Ctrl+/"))
        self.act_plugins = help_.addAction(
            "&Plugins", lambda: self._open_dialog("studio.ui.plugins_dialog", "open_plugins_dialog"))
        help_.addSeparator()
        help_.addAction("&About Reward Studio", self._about)

    def _reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            self.removeDockWidget(dock)
        self._default_layout()
        self.fit_docks()

    def _about(self) -> None:
        QMessageBox.about(self, "About Reward Studio",
                          "<b>Reward Studio</b><br>Design reward functions visually over "
                          "MuJoCo tasks, train policies live, and export the reward code.")

    def show_shortcuts(self) -> Any:
        """Help › Keyboard shortcuts: a table generated from the window's actions."""
        from studio.ui.help import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_documentation(self) -> Any:
        """Help › Documentation: the user guide shipped with the app."""
        from studio.ui.help import GuideDialog

        dialog = GuideDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- errors and status -------------------------------------------------------------------
    def show_error(self, title: str, exc: BaseException) -> None:
        """A dialog for ``exc``: its user message, or a plain summary (never a traceback)."""
        text = user_message(exc) or f"{type(exc).__name__}: {exc}"
        self.context.log("error", f"{title}: {text}")
        if not self.interactive:
            print(f"reward-studio: {title}: {text}", file=sys.stderr)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_dialog")
        box.open()

    def _status_from_log(self, level: str, text: str) -> None:
        if level != "info":
            self.statusBar().showMessage(text, 8000)

    def _on_design_change(self, _change: object) -> None:
        self._update_title()

    def _version_label(self) -> str:
        """``name v3`` or ``name (unsaved)``; the store is asked only when the version changes."""
        m = self.context.design_model
        key = (id(self.service), m.version_id, m.design.name)
        if key != self._label_key:
            version = self.service.version(m.version_id) if self.service and m.version_id else None
            self._label = f"{m.design.name} v{version.number}" if version else f"{m.design.name} (unsaved)"
            self._label_key = key
            self.browser.set_current(m.version_id)
        return self._label

    def _update_title(self) -> None:
        """Window title and status bar: design, version, modified, workspace (cheap: runs per edit)."""
        m = self.context.design_model
        label = self._version_label()
        star = " •" if m.dirty else ""
        ws = f" — {self.service.root.name}" if self.service else ""
        self.setWindowTitle(f"{label}{star}{ws} — Reward Studio")
        self.status_design.setText(f"{label}{' (modified)' if m.dirty else ''}")
        self.act_save.setEnabled(self.session.writable)

    # --- workspace ---------------------------------------------------------------------------
    def open_workspace(self, path: Path, task: str | None = None) -> bool:
        """Open the workspace at ``path``, its layout and its last design; False on error.

        ``task`` (``--task``): work on that task (its last design, else its own reward).
        An empty workspace without ``task`` asks for one (the task picker) when
        :attr:`pick_task_on_empty` is on.
        """
        self.session.on_empty = self._ask_task_for_empty_workspace if self.pick_task_on_empty else None
        if not self.session.open(path, task):
            return False
        self.browser.set_service(self.session.service)
        if self.interactive:  # screenshots and scripts do not change the user's recent list
            remember_workspace(self.session.service.root)
        layout = self.session.service.layout()
        if layout:
            self.restore_layout(layout)
        reason = self.session.service.read_only_reason
        self.read_only_banner.setText(reason or "")
        self.read_only_bar.setVisible(bool(reason))  # after the layout, which may toggle it
        if reason and not self.interactive:
            print(f"reward-studio: {reason}", file=sys.stderr)
        self._update_title()
        return True

    def _ask_task_for_empty_workspace(self) -> None:
        from studio.ui.editor.session import DEFAULT_TASK
        from studio.ui.task_picker import TaskPicker

        picker = TaskPicker(self, DEFAULT_TASK, "A new workspace: which task?")
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.accepted.connect(
            lambda: self.session.new_for_task(picker.selected_task(), picker.design_name(), save=True))
        # Cancelled: the default task, so the window is never left without a design.
        picker.rejected.connect(lambda: self.session.new_for_task(DEFAULT_TASK, "task_reward", save=True))
        self.task_picker = picker
        picker.open()

    def _open_workspace_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", str(Path.cwd()))
        if folder:
            self._switch_workspace(folder)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in recent_workspaces():
            self.recent_menu.addAction(path, lambda p=path: self._switch_workspace(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _switch_workspace(self, path: str) -> None:
        # Unsaved edits are kept as the old workspace's draft, so nothing needs confirming.
        self.save_session()
        self.open_workspace(Path(path))

    def save_session(self) -> None:
        """Store the layout, the open version and any unsaved edits in the workspace.

        Screenshot mode (``interactive`` off) leaves the user's saved session alone.
        """
        if not getattr(self, "interactive", True):
            return
        try:
            self.session.save_state(self.layout_state())
        except Exception as exc:  # noqa: BLE001 - closing must not fail
            log.warning("could not save the session: %s", exc)

    # --- designs and versions ----------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """Whether the design may be replaced: always, since replacing it is one undo step.

        Kept for dialogs that ask before replacing the design; unsaved edits are never lost
        (Ctrl+Z brings them back), so nothing blocks the window with a question.
        """
        if self.context.design_model.dirty:
            self.context.log("info", "the unsaved edits were replaced: Edit › Undo (Ctrl+Z) "
                                     "brings them back")
        return True

    def load_version(self, version_id: int, confirm: bool = True) -> bool:
        """Load a saved version into the editor; Ctrl+Z returns to the design it replaced.

        ``confirm`` is kept for callers of the old modal behaviour and has no effect.
        """
        del confirm
        if version_id == self.context.current_version_id and not self.context.design_model.dirty:
            return True
        dirty = self.context.design_model.dirty
        ok = self.session.load_version(version_id, undoable=True)
        if ok and dirty:
            self.context.log("info", "unsaved edits replaced: Edit › Undo (Ctrl+Z) brings them back")
        self._update_title()
        return ok

    def new_for_task_dialog(self) -> Any:
        """File › New design › For a task…: the task picker (non-modal to the app's work)."""
        from studio.ui.task_picker import TaskPicker

        current = getattr(self.context.task, "env_id", None) or self.context.design.task
        picker = TaskPicker(self, current)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.accepted.connect(lambda: self.new_for_task(picker.selected_task(), picker.design_name()))
        self.task_picker = picker
        picker.open()
        return picker

    def new_for_task(self, task: str, name: str) -> None:
        """Start a new design ``name`` from ``task``'s own reward (the task loads first)."""
        self.context.log("info", f"new design {name!r} for {task}: loading the task…")
        self.session.new_for_task(task, name)

    def open_design_file_dialog(self) -> None:
        """File › Open design file…: a design JSON as a new, unsaved design."""
        path, _ = QFileDialog.getOpenFileName(self, "Open design file", str(Path.cwd()),
                                              "Design files (*.json);;All files (*)")
        if path:
            self.open_design_file(Path(path))

    def open_design_file(self, path: Path) -> bool:
        """Open the design in ``path`` (one undo step); False with a message if it cannot."""
        try:
            design = Design.load(path)
        except Exception as exc:  # noqa: BLE001 - shown to the user, one line
            self.show_error("Cannot open the design file", exc)
            return False
        self.session.start(design, design.name or path.stem)
        self.context.log("info", f"opened {path} as the unsaved design {design.name!r} "
                                 f"({design.task}); Ctrl+S saves it as a version")
        return True

    def save_design_as_dialog(self) -> None:
        """File › Save design as…: write the design as a JSON file."""
        default = str(Path.cwd() / f"{self.context.design.name or 'design'}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save design as", default,
                                              "Design files (*.json);;All files (*)")
        if path:
            self.save_design_as(Path(path))

    def save_design_as(self, path: Path) -> bool:
        """Write the current design to ``path`` (the workspace versions are unchanged)."""
        try:
            path.write_text(self.context.design.dumps() + "\n")
        except OSError as exc:
            self.show_error("Cannot save the design file", exc)
            return False
        self.context.log("info", f"saved the design {self.context.design.name!r} to {path}")
        return True

    def new_from_template(self, key: str, name: str | None = None) -> None:
        """Start a new design from built-in template ``key``."""
        if self.confirm_discard():
            self._start_new(self.session.from_template(key), name)

    def new_from_task(self, name: str | None = None) -> None:
        """Start a new design from the current task's own reward."""
        if self.confirm_discard():
            self._start_new(self.session.from_task(), name)

    def new_from_version(self, version_id: int, name: str | None = None) -> None:
        """Start a new design as a copy of a saved version."""
        if self.confirm_discard():
            self._start_new(self.session.from_version(version_id), name)

    def _new_from_current(self) -> None:
        vid = self.context.current_version_id
        if vid is not None:
            self.new_from_version(vid)

    def _start_new(self, design: Design | None, name: str | None) -> None:
        if design is None:
            return
        if name is None:
            name, ok = QInputDialog.getText(self, "New design", "Name of the new design:",
                                            text=design.name)
            if not ok:
                return
        if name.strip():
            self.session.start(design, name.strip())
            self._update_title()

    def save_version_dialog(self) -> None:
        """Ask for a message and save the design as a new version (Ctrl+S)."""
        if not self.session.writable:
            self.context.log("warning", "open a workspace for writing first (File › Open workspace…)")
            return
        message, ok = QInputDialog.getText(self, "Save version", "What changed?")
        if ok:
            self.save_version(message)

    def save_version(self, message: str) -> int | None:
        """Save the current design as a new immutable version; returns its id."""
        return self.session.save(message)

    def compare_versions(self, a: int, b: int) -> None:
        """Open the side-by-side comparison of two versions."""
        from studio.ui.version_diff import VersionDiffDialog

        pair = self.session.load_pair(a, b)
        if pair is None:
            return
        (da, ia), (db, ib) = pair
        dialog = VersionDiffDialog(da, db, ia.label, ib.label, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.diff_dialog = dialog

    def _open_dialog(self, module: str, function: str, *args: object) -> None:
        """Open a dialog whose module is imported on first use (keeps start-up quick)."""
        try:
            getattr(importlib.import_module(module), function)(self.context, self, *args)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.show_error("Cannot open the dialog", exc)

    def compare_epic(self, version_ids: list[int] | None = None) -> None:
        """EPIC distances between saved versions (the current one ticked to start with)."""
        if version_ids is None:
            vid = self.context.current_version_id
            version_ids = [vid] if vid is not None else []
        self._open_dialog("studio.ui.distance_view", "open_distance_dialog", version_ids)

    def export(self) -> None:
        """Open the export dialog (``studio.ui.export_dialog``, added by the export work)."""
        try:
            module = importlib.import_module("studio.ui.export_dialog")
        except ImportError:
            self.context.log("warning", "export is not available in this build yet")
            return
        try:
            if hasattr(module, "open_export_dialog"):
                module.open_export_dialog(self.context, self)
            else:
                module.ExportDialog(self.context, self).open()
        except Exception as exc:  # noqa: BLE001
            self.show_error("Cannot export", exc)

    # --- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Keep the session (layout, design, draft) in the workspace, then release it.

        A live run is first stopped with a checkpoint (asked; a second close forces):
        :mod:`studio.ui.close_guard`.
        """
        from studio.ui.close_guard import allow_close

        if not allow_close(self, event):
            return
        focus = QApplication.focusWidget()
        if focus is not None:
            focus.clearFocus()  # an expression being typed is committed (and kept in the draft)
        self.save_session()
        self.session.runner.cancel()
        self.log_panel.detach()
        for panel in self.panels.values():
            close = getattr(panel, "shutdown", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # noqa: BLE001 - closing must not fail
                    log.warning("panel shutdown failed: %s", exc)
        self.session.close()
        for dialog in self.findChildren(QDialog):
            dialog.close()
        super().closeEvent(event)


def recent_workspaces() -> list[str]:
    """Workspace folders opened before, most recent first (a per-user Qt setting)."""
    value: Any = QSettings().value(RECENT_KEY, [])
    items = [value] if isinstance(value, str) else list(value or [])  # one item reads as a str
    return [str(p) for p in items if Path(str(p)).is_dir()]


def remember_workspace(path: Path) -> None:
    """Put ``path`` first in the recent workspaces."""
    items = [str(path)] + [p for p in recent_workspaces() if p != str(path)]
    QSettings().setValue(RECENT_KEY, items[:MAX_RECENT])


def _placeholder(title: str, why: str) -> QLabel:
    label = QLabel(f"{title}\n\n{why}")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: palette(mid); font-size: 13pt;")
    label.setObjectName(f"placeholder_{title.lower()}")
    return label


__all__ = ["MainWindow", "recent_workspaces", "remember_workspace"]


