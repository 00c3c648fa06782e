"""The hyperparameter table and the run notes of the training dashboard.

:class:`HyperparameterTable` lines up the settings of the runs being compared, one column
per run, the settings that differ first and in bold (so what changed between two runs is
the first thing read). :class:`RunNotes` edits the selected run's name and notes; both
are saved in the workspace at once (``studio.app.run_records.set_run_label``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from studio.app.run_records import RunRecord, hyperparameter_rows

__all__ = ["DIFFERS_ROLE", "HyperparameterTable", "RunNotes"]

DIFFERS_ROLE = Qt.ItemDataRole.UserRole + 2
"""Data role of a row's first cell: True when the runs' values of that setting differ."""
DIFFER_BG = QColor("#fff4d6")
MAX_COLUMN = 115


class HyperparameterTable(QTableWidget):
    """Settings (rows) of several runs (columns); differing settings first, in bold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 1, parent)
        self.setObjectName("hyperparameter_table")
        self.setMinimumWidth(300)  # the setting and two runs side by side
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.setToolTip("The settings each run trained with; the ones that differ come first, "
                        "in bold")
        self.records: list[RunRecord] = []

    def show_runs(self, records: Sequence[RunRecord]) -> None:
        """Compare ``records`` (one column each)."""
        self.records = list(records)
        rows = hyperparameter_rows(self.records)
        rows.sort(key=lambda r: (not r[2], r[0]))  # differing settings first
        meta = [("name", [r.name or "—" for r in self.records]), ("design", [r.design for r in self.records]),
                ("task", [r.env_id for r in self.records]), ("status", [r.status for r in self.records])]
        self.clear()
        self.setColumnCount(1 + len(self.records))
        self.setHorizontalHeaderLabels(["setting"] + [f"run {r.id}" for r in self.records])
        self.setRowCount(len(meta) + len(rows))
        bold = QFont()
        bold.setBold(True)
        for i, (key, values) in enumerate(meta):
            self._row(i, key, values, len(set(values)) > 1, italic=True)
        for j, (key, values, differs) in enumerate(rows):
            self._row(len(meta) + j, key, values, differs)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.resizeColumnsToContents()
        for c in range(self.columnCount()):  # long values (a design name) elide; tooltips hold them
            self.setColumnWidth(c, min(self.columnWidth(c), MAX_COLUMN))

    def _row(self, r: int, key: str, values: list[str], differs: bool, italic: bool = False) -> None:
        font = QFont()
        font.setBold(differs)
        font.setItalic(italic)
        for c, text in enumerate([key, *values]):
            item = QTableWidgetItem(text)
            item.setFont(font)
            if differs:
                item.setBackground(QBrush(DIFFER_BG))
            item.setToolTip(f"{key}: {text}")
            self.setItem(r, c, item)
        self.item(r, 0).setData(DIFFERS_ROLE, differs)

    def differing(self) -> list[str]:
        """The settings whose values differ between the shown runs."""
        return [self.item(r, 0).text() for r in range(self.rowCount())
                if self.item(r, 0).data(DIFFERS_ROLE) and not self.item(r, 0).font().italic()]

    def value(self, setting: str, run_id: int) -> str | None:
        """The shown value of ``setting`` for run ``run_id``."""
        col = next((i + 1 for i, r in enumerate(self.records) if r.id == run_id), None)
        row = next((r for r in range(self.rowCount()) if self.item(r, 0).text() == setting), None)
        return None if col is None or row is None else self.item(row, col).text()


class RunNotes(QWidget):
    """Name and notes of one run, saved with *Save* (or Enter in the name).

    Signals:
        saved(int, str, str): run id, name, notes, after they were stored.
    """

    saved = Signal(int, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_id: int | None = None
        self._workspace: Any = None
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("a name for the run (e.g. baseline)")
        self.name_edit.returnPressed.connect(self.save)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("notes: what this run tries, what you saw")
        self.notes_edit.setMaximumHeight(90)
        self.save_button = QPushButton("Save name and notes")
        self.save_button.clicked.connect(self.save)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name_edit)
        form.addRow("Notes", self.notes_edit)
        form.addRow("", self.save_button)
        self.setEnabled(False)

    def show_run(self, workspace: Any, record: RunRecord | None) -> None:
        """Edit ``record``'s name and notes (None: nothing selected)."""
        self._workspace = workspace
        self.run_id = None if record is None else record.id
        self.name_edit.setText("" if record is None else record.name)
        self.notes_edit.setPlainText("" if record is None else record.notes)
        self.setEnabled(record is not None)

    def save(self) -> None:
        """Store the name and notes of the shown run."""
        if self.run_id is None or self._workspace is None:
            return
        from studio.app.run_records import set_run_label

        name, notes = self.name_edit.text().strip(), self.notes_edit.toPlainText().strip()
        set_run_label(self._workspace, self.run_id, name, notes)
        self.saved.emit(self.run_id, name, notes)
