"""What every panel of the main window shares: the workspace, the task and the design.

Panels are built as ``Panel(context)`` and keep no copy of this state: they read it from
the context when they need it and subscribe to its signals to redraw.

Signals (all on the GUI thread):

``workspaceChanged(object)``
    The open :class:`studio.store.Workspace` (or None) after a workspace was opened.
``taskChanged(object)``
    The current task (``studio.sim.tasks.Task``, with ``.env_id`` and ``.catalog``) or None.
``designChanged(object)``
    The current :class:`studio.core.design.Design`, after it was loaded or edited (undo
    and redo included). Edits while a slider is dragged emit many of these: panels that
    do real work on it should throttle (e.g. a 100 ms single-shot QTimer).
``versionSaved(int)``
    The id of a design version that was just saved to the workspace.
``checksChanged(object)``
    The editor's checks before training (a list of ``studio.app.checks.Check``), after
    the design changed (throttled); :attr:`AppContext.checks` holds the newest.
``logMessage(str, str)``
    ``(level, text)`` with level ``"info"``, ``"warning"`` or ``"error"``; the Log dock
    shows them. Emit through :meth:`AppContext.log`.

Example, in a panel::

    class PlotsPanel(QWidget):
        def __init__(self, context: AppContext) -> None:
            super().__init__()
            self._ctx = context
            context.designChanged.connect(self._on_design)

        def _on_design(self, design: Design) -> None:
            ...  # context.current_version_id, context.workspace, context.task are current
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.design import Design
from studio.ui.editor.model import Change, DesignModel

__all__ = ["AppContext"]

LEVELS = ("info", "warning", "error")


class AppContext(QObject):
    """The shared state of one main window.

    Attributes:
        workspace: the open ``studio.store.Workspace``, or None.
        task: the current task (``studio.sim.tasks.Task``), or None while none is loaded.
        design_model: the :class:`~studio.ui.editor.model.DesignModel` being edited; its
            ``design`` is the current design and its ``undo_stack`` the edit history.
            Change the design only through its methods.
    """

    designChanged = Signal(object)  # noqa: N815 - Qt naming
    taskChanged = Signal(object)  # noqa: N815
    workspaceChanged = Signal(object)  # noqa: N815
    versionSaved = Signal(int)  # noqa: N815
    logMessage = Signal(str, str)  # noqa: N815
    checksChanged = Signal(object)  # noqa: N815

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.task: Any = None
        self.design_model = DesignModel(parent=self)
        self.checks: list[Any] | None = None
        """The newest checks before training of the current design (None: not computed)."""
        self.design_model.changed.connect(self._on_design_change)

    # --- read --------------------------------------------------------------------------------
    @property
    def design(self) -> Design:
        """The current design (do not mutate it; use ``design_model``)."""
        return self.design_model.design

    @property
    def current_version_id(self) -> int | None:
        """The saved version the current design was loaded from or last saved as."""
        return self.design_model.version_id

    @property
    def catalog(self) -> Any:
        """The current task's ``FeatureCatalog``, or None."""
        return getattr(self.task, "catalog", None)

    # --- write (the main window and the workspace service call these) ------------------------
    def set_workspace(self, workspace: Any) -> None:
        """Make ``workspace`` current and announce it."""
        self.workspace = workspace
        self.workspaceChanged.emit(workspace)

    def set_task(self, task: Any) -> None:
        """Make ``task`` current and announce it (nothing happens if it is the same one)."""
        if task is self.task:
            return
        self.task = task
        self.taskChanged.emit(task)

    def set_design(self, design: Design, version_id: int | None = None) -> None:
        """Load ``design`` into the editor (clears undo) and announce it."""
        self.design_model.reset(design, version_id)

    def announce_saved(self, version_id: int) -> None:
        """Record that the current design was saved as ``version_id`` and announce it."""
        self.design_model.mark_saved(version_id)
        self.versionSaved.emit(version_id)

    def set_checks(self, checks: list[Any]) -> None:
        """Record the checks of the current design and announce them."""
        self.checks = list(checks)
        self.checksChanged.emit(self.checks)

    def log(self, level: str, text: str) -> None:
        """Send a message to the Log dock (``level``: info, warning or error)."""
        self.logMessage.emit(level if level in LEVELS else "info", text)

    def _on_design_change(self, _change: Change) -> None:
        self.designChanged.emit(self.design_model.design)
