"""Tools › Compare designs (EPIC)…: pairwise EPIC distances between saved design versions.

The user ticks versions of the current task and presses Compute. :func:`run_epic` (plain
Python, in a worker thread, cancellable between steps) samples states of the task under
a random policy, canonicalises each design's reward once and returns the [K, K] matrix of
EPIC distances. The matrix is shown colour-coded; selecting a cell shows, beside it, what
differs between that pair of designs, node by node (:func:`~studio.ui.version_diff.diff_designs`).

The widget keeps no copy of the workspace: the list is read from the store when the
workspace, the task or the saved versions change. It keeps only the last result (the
designs it was computed for and the matrix) so that the diff matches the numbers shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import Design
from studio.errors import user_message
from studio.ui.context import AppContext
from studio.ui.version_diff import ADDED, CHANGED, REMOVED, diff_designs
from studio.ui.workers import TaskRunner, TaskState

__all__ = ["EPIC_HELP", "DistanceMatrixWidget", "EpicInputs", "EpicOutcome", "distance_colour",
           "menu_actions", "open_distance_dialog", "run_epic"]

EPIC_HELP = (
    "<b>EPIC distance</b> (Gleave et al., 2021) compares what two rewards ask for, whatever "
    "their scale and potential shaping.<br>"
    "<b>0</b>: the same reward up to potential shaping and a positive scale "
    "(training on either gives the same optimal policies).<br>"
    "<b>about 0.7</b>: unrelated rewards.<br>"
    "<b>1</b>: opposite rewards (one is the other negated).<br>"
    "It is estimated from random-policy states of the task; with a few hundred samples "
    "differences below about 0.02 are noise."
)
_LOW, _MID, _HIGH = QColor("#b8e3b0"), QColor("#fff5b8"), QColor("#f7a98f")


def distance_colour(d: float) -> QColor:
    """Green at 0, yellow at 0.5, red at 1 (clipped), for a matrix cell's background."""
    d = float(np.clip(d, 0.0, 1.0)) if np.isfinite(d) else 0.5
    a, b, t = (_LOW, _MID, d / 0.5) if d <= 0.5 else (_MID, _HIGH, (d - 0.5) / 0.5)
    mix = [x + (y - x) * t for x, y in ((a.redF(), b.redF()), (a.greenF(), b.greenF()),
                                        (a.blueF(), b.blueF()))]
    return QColor.fromRgbF(mix[0], mix[1], mix[2])


# --- the work (Qt-free, in a worker thread) -------------------------------------------------


@dataclass
class EpicInputs:
    """What :func:`run_epic` compares."""

    designs: list[Design]
    labels: list[str]
    """One per design, for messages (``name v3``)."""
    env: str
    """The task whose states are sampled."""
    samples: int = 500
    """Coverage transitions and canonicalisation draws (the reference is 500 x 500)."""
    seed: int = 0
    gamma: float | None = None
    """Discount of the canonicalisation; default: the first enabled shaping's, else 0.99."""


@dataclass
class EpicOutcome:
    """The matrix [K, K], or a message for the user naming the design that failed."""

    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    error: str = ""


def run_epic(inputs: EpicInputs, state: TaskState) -> EpicOutcome | None:
    """EPIC distances of ``inputs.designs`` by ``studio.app.distance.epic_matrix``.

    Its progress hook reports sampling and each design; it returns None as soon as it sees
    a cancellation. A design that cannot be evaluated on the task's features (an unknown
    feature, a sandboxed code term) comes back as ``error``.
    """
    from studio.app.distance import EpicCancelled, EpicDesignError, epic_matrix

    def progress(percent: float, status: str) -> None:
        state.set_progress(percent)
        if status:
            state.set_status(status)

    try:
        matrix = epic_matrix(inputs.designs, inputs.samples, inputs.env, gamma=inputs.gamma,
                             seed=inputs.seed, labels=inputs.labels, progress=progress,
                             cancelled=state.is_interruption_requested)
    except EpicCancelled:
        return None
    except EpicDesignError as exc:
        return EpicOutcome(error=str(exc))
    return EpicOutcome(matrix)


# --- the widget -------------------------------------------------------------------------------


class DistanceMatrixWidget(QWidget):
    """Tick versions, Compute, read the matrix, select a cell to see what differs.

    Attributes for tests: ``versions`` (checkable list, item data: version id),
    ``samples``, ``compute_button``, ``cancel_button``, ``progress``, ``status``,
    ``table`` (the matrix), ``diff_title`` and ``diff_table`` (the selected pair),
    ``runner``; after a computation ``matrix``, ``labels`` and ``designs``.
    """

    DIFF_COLUMNS = ("Node", "Change", "Field", "Row design", "Column design")

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self.matrix: np.ndarray | None = None
        self.labels: list[str] = []
        self.designs: list[Design] = []
        self._pending: tuple[list[str], list[Design]] = ([], [])

        self.heading = QLabel()
        self.versions = QListWidget()
        self.versions.setToolTip("Tick two or more saved versions of this task to compare.")
        self.samples = QSpinBox()
        self.samples.setRange(20, 5000)
        self.samples.setSingleStep(100)
        self.samples.setValue(500)
        self.samples.setToolTip("Coverage transitions and canonicalisation draws: more is slower "
                                "and less noisy (500 is the reference).")
        self.compute_button = QPushButton("Compute")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("epic_matrix")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setToolTip(EPIC_HELP)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_cell)
        legend = QLabel("0 = same reward up to shaping and scale  ·  ≈0.7 = unrelated  ·  1 = opposite")
        legend.setToolTip(EPIC_HELP)
        legend.setStyleSheet("color: palette(mid);")

        self.diff_title = QLabel("Select a cell to see what differs between its two designs.")
        self.diff_title.setWordWrap(True)
        self.diff_table = QTableWidget(0, len(self.DIFF_COLUMNS))
        self.diff_table.setHorizontalHeaderLabels(list(self.DIFF_COLUMNS))
        self.diff_table.verticalHeader().hide()
        self.diff_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        h = self.diff_table.horizontalHeader()
        for i in range(3):
            h.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.heading)
        ll.addWidget(self.versions, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Samples:"))
        row.addWidget(self.samples)
        ll.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.compute_button)
        row.addWidget(self.cancel_button)
        ll.addLayout(row)
        ll.addWidget(self.progress)
        ll.addWidget(self.status)
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(QLabel("<b>EPIC distance</b> (hover for what it means)"))
        ml.addWidget(self.table, 1)
        ml.addWidget(legend)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.diff_title)
        rl.addWidget(self.diff_table, 1)
        split = QSplitter()
        for w in (left, middle, right):
            split.addWidget(w)
        split.setSizes([230, 380, 420])
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self.runner = TaskRunner(self)
        self.runner.progress.connect(lambda p: self.progress.setValue(int(p)))
        self.runner.status.connect(self.status.setText)
        self.runner.running_changed.connect(self._on_running)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button.clicked.connect(self.cancel)
        self.versions.itemChanged.connect(lambda _i: self._enable())
        context.workspaceChanged.connect(self.refresh)
        context.taskChanged.connect(self.refresh)
        context.versionSaved.connect(self.refresh)
        self.refresh()

    # --- the list of versions ----------------------------------------------------------------
    def task_id(self) -> str:
        """The task whose versions are listed: the loaded one, else the design's."""
        return str(getattr(self._ctx.task, "env_id", None) or self._ctx.design.task)

    def _service(self) -> Any:
        if self._ctx.workspace is None:
            return None
        from studio.app.workspace_service import WorkspaceService

        return WorkspaceService(self._ctx.workspace)  # a view on the open store; not ours to close

    def refresh(self, *_: Any) -> None:
        """List the saved versions of the current task, keeping the ticks."""
        ticked = set(self.checked_ids())
        self.versions.blockSignals(True)
        self.versions.clear()
        svc, task = self._service(), self.task_id()
        self.heading.setText(f"<b>Versions of {task}</b>")
        entries = [e for e in svc.overview().designs if e.task == task] if svc is not None else []
        for entry in entries:
            for v in entry.versions:
                item = QListWidgetItem(v.label + (f" — {v.message}" if v.message else ""))
                item.setData(Qt.ItemDataRole.UserRole, v.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if v.id in ticked else Qt.CheckState.Unchecked)
                self.versions.addItem(item)
        self.versions.blockSignals(False)
        if svc is None:
            self.status.setText("Open a workspace to compare its saved versions.")
        elif not entries:
            self.status.setText(f"No saved versions of {task} yet: save some with Ctrl+S.")
        self._enable()

    def _items(self) -> list[QListWidgetItem]:
        return [self.versions.item(i) for i in range(self.versions.count())]

    def checked_ids(self) -> list[int]:
        """The ticked version ids, in list order."""
        return [int(it.data(Qt.ItemDataRole.UserRole)) for it in self._items()
                if it.checkState() == Qt.CheckState.Checked]

    def set_checked(self, version_ids: list[int]) -> None:
        """Tick exactly ``version_ids`` (ids not listed are ignored)."""
        wanted = set(version_ids)
        for it in self._items():
            it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole) in wanted
                             else Qt.CheckState.Unchecked)
        self._enable()

    def _enable(self) -> None:
        running = self.runner.is_running()
        self.compute_button.setEnabled(not running and len(self.checked_ids()) >= 2)
        self.cancel_button.setEnabled(running)

    # --- computing ---------------------------------------------------------------------------
    def compute(self) -> bool:
        """Load the ticked versions and start the computation; False if it cannot start."""
        svc, ids = self._service(), self.checked_ids()
        if svc is None or len(ids) < 2:
            self.status.setText("Tick at least two versions to compare.")
            return False
        labels, designs = [], []
        for vid in ids:
            try:
                design, info = svc.load(vid)
            except Exception as exc:  # noqa: BLE001 - a bad stored version is a message
                self.status.setText(f"Cannot read version {vid}: {user_message(exc) or exc}")
                return False
            labels.append(info.label)
            designs.append(design)
        self._pending = (labels, designs)
        self.runner.start(run_epic, EpicInputs(designs, labels, self.task_id(), self.samples.value()))
        return True

    def cancel(self) -> None:
        """Stop the computation; the last matrix stays."""
        if self.runner.is_running():
            self.runner.cancel()
            self.status.setText("Cancelled.")

    def _on_running(self, running: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(running)
        self._enable()

    def _on_done(self, outcome: EpicOutcome | None) -> None:
        if outcome is None:
            return
        if outcome.error:
            self.status.setText(outcome.error)
            return
        self.labels, self.designs = self._pending
        self.matrix = outcome.matrix
        self.status.setText(f"{len(self.labels)} designs, {self.samples.value()} samples.")
        self._fill()

    def _on_failed(self, message: str, _traceback: str) -> None:
        self._ctx.log("error", f"EPIC comparison failed: {message}")
        self.status.setText(f"The comparison failed unexpectedly ({message}); see the log.")

    # --- showing -----------------------------------------------------------------------------
    def _fill(self) -> None:
        m, labels = self.matrix, self.labels
        assert m is not None
        self.table.clear()
        self.table.setRowCount(len(labels))
        self.table.setColumnCount(len(labels))
        self.table.setHorizontalHeaderLabels(labels)
        self.table.setVerticalHeaderLabels(labels)
        for i in range(len(labels)):
            for j in range(len(labels)):
                d = float(m[i, j])
                item = QTableWidgetItem(f"{d:.3f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(distance_colour(d)))
                item.setForeground(QBrush(QColor("#202020")))
                item.setToolTip(f"EPIC({labels[i]}, {labels[j]}) = {d:.3f}: {_meaning(d)}<br><br>{EPIC_HELP}")
                self.table.setItem(i, j, item)
        self.diff_table.setRowCount(0)
        self.diff_title.setText("Select a cell to see what differs between its two designs.")

    def select_pair(self, i: int, j: int) -> None:
        """Select matrix cell (i, j) (as a click does)."""
        self.table.setCurrentCell(i, j)

    def _on_cell(self) -> None:
        items = self.table.selectedItems()
        if not items or self.matrix is None:
            return
        i, j = items[0].row(), items[0].column()
        a, b = self.designs[i], self.designs[j]
        diffs = [d for d in diff_designs(a, b) if d.status != "same"]
        d = float(self.matrix[i, j])
        self.diff_title.setText(f"<b>{self.labels[i]}</b> (row) → <b>{self.labels[j]}</b> (column): "
                                f"EPIC {d:.3f}, {_meaning(d)}. "
                                + (f"{len(diffs)} node(s) differ." if diffs else "The designs are identical."))
        self.diff_table.setRowCount(0)
        colours = {"added": ADDED, "removed": REMOVED, "changed": CHANGED}
        for nd in diffs:
            for k, (fname, (va, vb)) in enumerate(nd.fields.items()):
                r = self.diff_table.rowCount()
                self.diff_table.insertRow(r)
                cells = (nd.name if k == 0 else "", f"{nd.kind} {nd.status}" if k == 0 else "", fname,
                         "" if va is None else str(va), "" if vb is None else str(vb))
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setBackground(QBrush(colours[nd.status]))
                    self.diff_table.setItem(r, c, item)

    def diff_rows(self) -> list[tuple[str, str, str, str]]:
        """(node, field, row value, column value) of the shown diff (tests, summaries)."""
        def text(r: int, c: int) -> str:
            item = self.diff_table.item(r, c)
            return item.text() if item is not None else ""

        out: list[tuple[str, str, str, str]] = []
        node = ""
        for r in range(self.diff_table.rowCount()):
            node = text(r, 0) or node
            out.append((node, text(r, 2), text(r, 3), text(r, 4)))
        return out

    def shutdown(self) -> None:
        """Stop a running computation (its result is dropped)."""
        self.runner.cancel()


def _meaning(d: float) -> str:
    if d < 0.05:
        return "the same reward up to shaping and scale"
    if d > 0.95:
        return "opposite rewards"
    if d > 0.6:
        return "largely unrelated"
    return "partly similar"


class DistanceDialog(QDialog):
    """:class:`DistanceMatrixWidget` in a window of its own (``widget``)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare designs (EPIC distance)")
        self.resize(1180, 560)
        self.widget = DistanceMatrixWidget(context, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.widget)
        lay.addWidget(buttons)
        self.finished.connect(lambda _r: self.widget.shutdown())


def open_distance_dialog(context: AppContext, parent: QWidget | None = None,
                         version_ids: list[int] | None = None, compute: bool = False) -> DistanceDialog:
    """Show the EPIC comparison (not modal) with ``version_ids`` ticked; start it if ``compute``."""
    dialog = DistanceDialog(context, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.widget.set_checked(list(version_ids or []))
    dialog.show()
    if compute:
        dialog.widget.compute()
    return dialog


def menu_actions(window: Any) -> list[QAction]:
    """``Tools › Compare designs (EPIC)…`` for the main window (``window.context``).

    The current version starts ticked; the user ticks the others.
    """
    action = QAction("Compare designs (&EPIC)…", window)
    action.setStatusTip("EPIC distances between saved versions of this task")

    def trigger() -> None:
        vid = window.context.current_version_id
        open_distance_dialog(window.context, window, [vid] if vid is not None else [])

    action.triggered.connect(trigger)
    return [action]
