"""A HERON group as an ordered list of factors, with the tree's diagnostics beside it.

Each row is a factor: drag it (or Alt+Up / Alt+Down) to change its importance, toggle
whether more or less is better, set its margin multiplier sigma. Every edit goes through
the :class:`DesignModel` (one undo step each) and the view redraws from the model.

The diagnostics pair the transitions of a sample (a fresh random rollout, or a stored one)
with fixed partners and show how many pairs each level decides, how many tie at every level
(and are dropped), and how often each factor's direction agrees with the task score; they
follow every reorder, toggle and sigma change, so a margin too wide or too narrow shows at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import Factor, Group, Term
from studio.ui.editor.model import Change, DesignModel
from studio.ui.workers import TaskRunner

_NAME = Qt.ItemDataRole.UserRole


class FactorRow(QWidget):
    """One factor: its name, a direction toggle and a sigma spin box."""

    directionToggled = Signal(bool)
    """True: less is better (a cost)."""
    sigmaEdited = Signal(float)

    def __init__(self, term: Term, level: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        f = term.factor or Factor()
        self.label = QLabel(f"{level}. <b>{term.name}</b>" + ("" if term.enabled else " (disabled)"))
        self.label.setToolTip(term.source)
        self.direction = QToolButton()
        self.direction.setCheckable(True)
        self.direction.setChecked(f.direction == "less")
        self.direction.setToolTip("Whether more of this factor is better, or less (a cost)")
        self.show_direction(self.direction.isChecked())
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.0, 10.0)
        self.sigma.setDecimals(3)
        self.sigma.setSingleStep(0.05)
        self.sigma.setPrefix("σ ")
        self.sigma.setKeyboardTracking(False)
        self.sigma.setValue(f.sigma)
        self.sigma.setToolTip("Margin: this level decides a pair only when the values differ by "
                              "more than σ × the factor's standard deviation over the batch")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 1, 4, 1)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.direction)
        lay.addWidget(self.sigma)
        self.direction.toggled.connect(self._toggled)
        self.sigma.valueChanged.connect(self.sigmaEdited)

    def show_direction(self, less: bool) -> None:
        """Label the toggle with the direction it stands for."""
        self.direction.setText("↓ less is better" if less else "↑ more is better")

    def _toggled(self, less: bool) -> None:
        self.show_direction(less)
        self.directionToggled.emit(less)


class HeronList(QWidget):
    """The factors of one HERON group, in order, with the tree's diagnostics on a sample."""

    def __init__(self, model: DesignModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.group: Group | None = None
        self.trace: Any = None
        """The sampled transitions (a ``RolloutTrace``) the diagnostics use."""
        self.report: Any = None
        """The latest ``studio.app.heron.TreeReport`` (None when there is none)."""
        self.sample_steps: int | None = None
        """Transitions of a fresh random rollout (None: ``studio.app.heron.SAMPLE_STEPS``)."""
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setToolTip("Most important first: drag a factor to change its rank")
        self.list.model().rowsMoved.connect(self._rows_moved)
        self.up, self.down = QPushButton("Move up"), QPushButton("Move down")
        self.up.setToolTip("More important (Alt+Up)")
        self.down.setToolTip("Less important (Alt+Down)")
        self.up.clicked.connect(lambda: self._step(-1))
        self.down.clicked.connect(lambda: self._step(+1))
        for key, d in (("Alt+Up", -1), ("Alt+Down", +1)):
            QShortcut(QKeySequence(key), self.list, lambda d=d: self._step(d))
        self.resample = QPushButton("Fresh random rollout")
        self.resample.clicked.connect(self.sample_random)
        self.load = QPushButton("Stored rollout…")
        self.load.clicked.connect(self._pick_stored)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Level", "Decides", "Agrees with task score"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self.set_sample)
        self.runner.failed.connect(lambda msg, _tb: self.summary.setText(f"sampling failed: {msg}"))
        moves = QHBoxLayout()
        moves.addWidget(self.up)
        moves.addWidget(self.down)
        moves.addStretch(1)
        source = QHBoxLayout()
        source.addWidget(QLabel("Pairs from:"))
        source.addWidget(self.resample)
        source.addWidget(self.load)
        source.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("<b>Factors</b>, most important first"))
        lay.addWidget(self.list)
        lay.addLayout(moves)
        lay.addWidget(QLabel("<b>The tree on transition pairs</b>"))
        lay.addLayout(source)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        model.changed.connect(self._on_change)

    # --- the group ---------------------------------------------------------------------------
    def set_group(self, group: Group | None) -> None:
        """Show ``group`` (a HERON group) or nothing; samples the task once when needed."""
        self.group = group
        self.refresh()
        if group is not None and (self.trace is None or self.trace.env_id != self.model.design.task):
            self.sample_random()

    def refresh(self) -> None:
        """Rebuild the rows from the model, then the diagnostics."""
        self.list.blockSignals(True)
        self.list.clear()
        for i, child in enumerate(self.group.children if self.group is not None else []):
            if not isinstance(child, Term):
                continue
            item = QListWidgetItem()
            item.setData(_NAME, child.name)
            row = FactorRow(child, i + 1)
            row.directionToggled.connect(lambda less, t=child: self._set_factor(t, direction="less" if less else "more"))
            row.sigmaEdited.connect(lambda v, t=child: self._set_factor(t, sigma=v))
            item.setSizeHint(row.sizeHint())
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
        self.list.blockSignals(False)
        self.update_diagnostics()

    def row(self, index: int) -> FactorRow:
        """The row widget of factor ``index`` (for tests and keyboard focus)."""
        w = self.list.itemWidget(self.list.item(index))
        assert isinstance(w, FactorRow)
        return w

    def names(self) -> list[str]:
        """The factor names as the list shows them."""
        return [str(self.list.item(i).data(_NAME)) for i in range(self.list.count())]

    def _on_change(self, change: Change) -> None:
        if self.group is None:
            return
        if change.kind == "reset" or self.model.container_of(self.group) is None and self.group is not self.model.design.root:
            self.set_group(None)
        elif change.kind == "edit" and change.fields == ("factor",) and change.node in self.group.children:
            # Keep the row (and the spin box being stepped): show the value, redo the numbers.
            row = self.row(self.group.children.index(change.node))
            f = change.node.factor or Factor()
            for w in (row.direction, row.sigma):
                w.blockSignals(True)
            row.direction.setChecked(f.direction == "less")
            row.show_direction(f.direction == "less")
            row.sigma.setValue(f.sigma)
            for w in (row.direction, row.sigma):
                w.blockSignals(False)
            self.update_diagnostics()
        elif change.kind == "structure" or change.node is self.group or change.node in self.group.children:
            self.refresh()

    # --- edits -------------------------------------------------------------------------------
    def _set_factor(self, term: Term, direction: str | None = None, sigma: float | None = None) -> None:
        old = term.factor or Factor()
        new = Factor(direction or old.direction, old.sigma if sigma is None else float(sigma))
        what = f"direction of {term.name}: {new.direction}" if direction else f"σ of {term.name}: {new.sigma:g}"
        self.model.edit(term, {"factor": new}, what.capitalize())

    def _step(self, delta: int) -> None:
        row = self.list.currentRow()
        if self.group is None or row < 0:
            return
        target = row + delta
        if not 0 <= target < len(self.group.children):
            return
        node = self.group.children[row]
        # The model counts the index before removal: moving down skips over the node itself.
        self.model.move(node, self.group, target if delta < 0 else target + 1, f"Rank {node.name} {target + 1}")
        self.list.setCurrentRow(target)

    def _rows_moved(self, _parent: QModelIndex, start: int, _end: int, _dest: QModelIndex, row: int) -> None:
        # Apply after Qt has finished the drop: the model's change rebuilds the list.
        QTimer.singleShot(0, lambda: self._apply_move(start, row))

    def _apply_move(self, start: int, row: int) -> None:
        if self.group is None or not 0 <= start < len(self.group.children):
            return
        node = self.group.children[start]
        if not self.model.move(node, self.group, row, f"Move {node.name}"):
            self.refresh()  # a drop that changes nothing: redraw the rows Qt moved

    # --- diagnostics -------------------------------------------------------------------------
    def sample_random(self) -> None:
        """Sample a fresh random rollout of the task in a worker; diagnostics follow."""
        from studio.app.heron import SAMPLE_STEPS, random_sample

        self.summary.setText("sampling a random rollout…")
        self.runner.start(random_sample, (self.model.design.copy(), self.sample_steps or SAMPLE_STEPS, 0))

    def _pick_stored(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Stored rollout", "", "Rollouts (*.npz)")
        if path:
            from studio.app.heron import stored_sample

            try:
                self.set_sample(stored_sample(path))
            except (OSError, KeyError, ValueError) as exc:
                self.summary.setText(f"cannot read {path}: {exc}")

    def set_sample(self, trace: Any) -> None:
        """Use ``trace`` (a ``RolloutTrace``) for the diagnostics."""
        self.trace = trace
        self.update_diagnostics()

    def update_diagnostics(self) -> None:
        """Recompute the tree on the sample under the current design."""
        self.table.setRowCount(0)
        self.report = None
        if self.group is None or self.trace is None:
            return
        from studio.app.heron import tree_report

        try:
            rep = tree_report(self.model.design, self.group.name, self.trace)
        except KeyError as exc:
            self.summary.setText(f"{exc.args[0]}")
            return
        except Exception as exc:  # an expression being typed, a group without factors
            self.summary.setText(str(exc))
            return
        self.report = rep
        d = rep.diagnostics
        self.summary.setText(
            f"{d.pairs} pairs from {rep.source}: {d.pairs - d.ties} decided, "
            f"{d.ties} ({100 * d.ties / d.pairs:.0f}%) tied at every level and dropped")
        self.table.setRowCount(len(rep.factors))
        for i, name in enumerate(rep.factors):
            agree = d.direction_agreement[i]
            cells = [f"{i + 1}. {name}", f"{d.decided[i]} ({100 * d.decided[i] / d.pairs:.0f}%)",
                     "n/a" if agree != agree else f"{100 * agree:.0f}%"]
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))
