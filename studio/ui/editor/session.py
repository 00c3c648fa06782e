"""The design session: the open workspace, the task, and the life cycle of the design.

:class:`DesignSession` is what the main window's File menu drives: open a workspace and
return to where the user left off (the unsaved draft, else the last version, else the
default task's own reward saved as a first version), load and save versions, start new
designs, and load the task (MuJoCo, torch) in a worker thread. It asks no questions and
shows no dialogs: failures are emitted as ``failed(title, exception)`` for the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.design import Design, DesignError
from studio.ui.context import AppContext
from studio.ui.editor.templates import TEMPLATES
from studio.ui.workers import TaskRunner, TaskState

DEFAULT_TASK = "HalfCheetah-v5"
DRAFT_KEY = "ui.draft"


def load_task(env_id: str, state: TaskState) -> Any:
    """Build the task and its catalogue, and import torch-backed analysis (worker thread)."""
    state.set_status(f"loading {env_id}…")
    import studio.core.analysis  # noqa: F401 - warm the import (torch) off the GUI thread
    from studio.sim.registry import get_task

    task = get_task(env_id)
    _ = task.catalog  # measure/load typical ranges here, not on the GUI thread
    return task


class DesignSession(QObject):
    """The workspace service and the design lifecycle behind one window.

    Signals:
        taskReady(object): a task finished loading (None when it failed).
        status(str): what the task loader is doing, for the status bar.
        failed(str, object): a title and the exception of something that went wrong.
    """

    taskReady = Signal(object)  # noqa: N815
    status = Signal(str)
    failed = Signal(str, object)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.service: Any = None
        """The open :class:`~studio.app.workspace_service.WorkspaceService`, or None."""
        self.loading_task: str | None = None
        """The id of the task being loaded, or None."""
        self._pending: tuple[str, str, bool] | None = None
        """(task, design name, save as a first version) of a design waiting for its task."""
        self.on_empty: Any = None
        """Called (instead of starting on the default task) when an opened workspace holds
        no design and no task was asked for: the window asks the user for a task."""
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._task_loaded)
        self.runner.failed.connect(self._task_failed)
        self.runner.status.connect(self.status)

    @property
    def writable(self) -> bool:
        """Whether a workspace is open for writing."""
        return self.service is not None and not self.service.workspace.read_only

    # --- workspace ---------------------------------------------------------------------------
    def open(self, path: Path, task: str | None = None) -> bool:
        """Open the workspace at ``path`` (closing the current one) and restore its design.

        ``task``: the task to work on (``--task``): the last design of that task is
        opened, or, when there is none, the task's own reward is saved as a first version.
        """
        from studio.app.workspace_service import WorkspaceService

        if self.service is not None and Path(path).expanduser().absolute() == self.service.root:
            return True  # already open (opening it again would meet our own lock)
        try:
            service = WorkspaceService.open(path, read_only_if_held=True)
        except Exception as exc:  # noqa: BLE001 - reported to the user by the window
            self.failed.emit("Cannot open the workspace", exc)
            return False
        self.close()
        self.service = service
        self.context.set_workspace(service.workspace)
        self.context.log("info", f"opened workspace {service.root}")
        if service.read_only_reason:
            self.context.log("warning", service.read_only_reason)
        for notice in service.interrupted_notices():
            self.context.log("warning", notice)
        if task:
            self._open_task(task)
        else:
            self._restore_design()
        return True

    def close(self) -> None:
        """Release the workspace (safe to call twice)."""
        if self.service is not None:
            self.service.close()
            self.service = None

    def save_state(self, layout: dict[str, Any]) -> None:
        """Keep ``layout``, the open version and any unsaved edits (as a draft)."""
        if not self.writable:
            return
        m = self.context.design_model
        self.service.set_layout(layout)
        draft = {"design": m.design.to_json(), "version_id": m.version_id} if m.dirty else None
        self.service.set(DRAFT_KEY, draft)
        if m.version_id is not None:
            self.service.remember_version(m.version_id)

    def _restore_design(self) -> None:
        draft = self.service.get(DRAFT_KEY)
        if isinstance(draft, dict) and "design" in draft:
            try:
                design = Design.from_json(draft["design"])
            except DesignError as exc:
                self.context.log("warning", f"the unsaved draft could not be read: {exc}")
            else:
                base = draft.get("version_id")
                self.context.set_design(design, base if isinstance(base, int) else None)
                self.context.design_model.mark_unsaved()  # a draft is not its saved version
                self.ensure_task(design.task)
                self.context.log("info", "restored unsaved changes from the last session")
                return
        vid = self.service.last_version_id()
        if vid is not None and self.load_version(vid):
            return
        if callable(self.on_empty) and self.writable:  # an empty workspace: ask which task
            self.on_empty()
            return
        # No one to ask: start from the default task's own reward, once it is loaded
        # (unsaved in a read-only workspace).
        self.new_for_task(DEFAULT_TASK, "task_reward", save=self.writable)

    def _open_task(self, task: str) -> None:
        """Work on ``task``: its design opened last, else its own reward as a first version."""
        vid = self.service.version_for_task(task)
        if vid is not None and self.load_version(vid):
            return
        self.new_for_task(task, "task_reward", save=self.writable)

    def new_for_task(self, task: str, name: str, save: bool = False) -> None:
        """Start design ``name`` from ``task``'s own reward once the task has loaded.

        ``save``: keep it as the first version (an empty workspace); otherwise it is a
        new unsaved design that replaces the current one as one undo step.
        """
        self._pending = (task, name, save)
        current = self.context.task
        if current is not None and getattr(current, "env_id", None) == task:
            self._finish_pending(current)
        else:
            self.ensure_task(task)

    # --- task --------------------------------------------------------------------------------
    def ensure_task(self, env_id: str) -> None:
        """Load task ``env_id`` in the background unless it is current or already loading."""
        current = getattr(self.context.task, "env_id", None)
        if not env_id or env_id in (current, self.loading_task):
            return
        self.loading_task = env_id
        self.status.emit(f"loading {env_id}…")
        self.runner.start(load_task, env_id)

    def _task_loaded(self, task: Any) -> None:
        self.loading_task = None
        self.context.set_task(task)
        self.status.emit(f"{task.env_id}: {len(task.catalog)} features")
        self.context.log("info", f"task {task.env_id} ready ({len(task.catalog)} features)")
        self._finish_pending(task)
        self.taskReady.emit(task)

    def _finish_pending(self, task: Any) -> None:
        if self._pending is None or self._pending[0] != task.env_id:
            return
        _, name, save = self._pending
        self._pending = None
        design = task.task_design()
        design.name = name
        if save:
            self.context.set_design(design)
            self.save(f"{task.env_id}'s own reward", design)
        else:
            self.start(design, name)

    def _task_failed(self, message: str, _traceback: str) -> None:
        env_id, self.loading_task = self.loading_task, None
        if self._pending is not None and self._pending[0] == env_id:
            self._pending = None
        self.status.emit(f"{env_id}: not available")
        self.context.log("error", f"could not load the task {env_id}: {message}")
        self.taskReady.emit(None)

    # --- versions ----------------------------------------------------------------------------
    def _read(self, version_id: int) -> tuple[Design, Any] | None:
        try:
            return self.service.load(version_id)  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - a bad stored design is reported, not raised
            self.failed.emit(f"Cannot open version {version_id}", exc)
            return None

    def load_version(self, version_id: int, undoable: bool = False) -> bool:
        """Load a saved version into the editor (and its task in the background).

        ``undoable``: one undo step (Ctrl+Z brings back the design it replaced, unsaved
        edits included) rather than a fresh start of the history.
        """
        loaded = self._read(version_id) if self.service is not None else None
        if loaded is None:
            return False
        design, info = loaded
        if undoable:
            self.context.design_model.replace(design, version_id, f"Open {info.label}")
        else:
            self.context.set_design(design, version_id)
        self.service.remember_version(version_id)
        self.ensure_task(design.task)
        self.context.log("info", f"opened {info.label}")
        return True

    def load_pair(self, a: int, b: int) -> tuple[tuple[Design, Any], tuple[Design, Any]] | None:
        """Two versions with their descriptions, for a comparison."""
        if self.service is None:
            return None
        first = self._read(a)
        second = self._read(b) if first is not None else None
        return None if first is None or second is None else (first, second)

    def save(self, message: str, design: Design | None = None) -> int | None:
        """Save ``design`` (the current one) as a new immutable version; returns its id."""
        if not self.writable:
            return None
        from studio.core.design import validate

        m = self.context.design_model
        design = design if design is not None else m.design
        if design is m.design and m.version_id is not None and not m.dirty:
            self.context.log("info", "no changes since the version in the editor: nothing to save")
            return m.version_id
        cat = self.context.catalog
        problems = validate(design, cat.names() if cat is not None and len(cat) else None)
        try:
            info = self.service.save(design, message, parent_version_id=m.version_id)
            self.service.set(DRAFT_KEY, None)
        except Exception as exc:  # noqa: BLE001 - reported to the user by the window
            self.failed.emit("Cannot save the version", exc)
            return None
        self.context.announce_saved(info.id)
        note = f" ({len(problems)} problems to fix before training)" if problems else ""
        self.context.log("warning" if problems else "info", f"saved {info.label}{note}")
        return int(info.id)

    # --- new designs -------------------------------------------------------------------------
    def task_id(self) -> str:
        """The task new designs are for: the loaded one, else the design's, else the default."""
        return getattr(self.context.task, "env_id", None) or self.context.design.task or DEFAULT_TASK

    def from_template(self, key: str) -> Design:
        """Built-in template ``key`` for the current task."""
        cat = self.context.catalog
        return TEMPLATES[key][1](self.task_id(), cat.names() if cat is not None else [])

    def from_task(self) -> Design | None:
        """The current task's own reward (None while no task is loaded)."""
        task = self.context.task
        if task is None:
            self.context.log("warning", "the task is still loading: try again in a moment")
            return None
        design: Design = task.task_design()
        design.name = "task_reward"
        return design

    def from_version(self, version_id: int) -> Design | None:
        """A copy of a saved version, named ``<name>_copy``, that remembers its origin."""
        loaded = self._read(version_id) if self.service is not None else None
        if loaded is None:
            return None
        design, info = loaded
        design.meta = {**design.meta, "origin": f"version {version_id} ({info.label})"}
        design.name = f"{info.design_name}_copy"
        return design

    def start(self, design: Design, name: str) -> None:
        """Edit ``design`` as a new, not yet saved design called ``name``."""
        design.name = name
        # One undo step: Ctrl+Z returns to the design it replaced (no "discard?" question).
        self.context.design_model.replace(design, None, f"New design {name}", saved=False)
        self.ensure_task(design.task)
