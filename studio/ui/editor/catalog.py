"""The searchable feature catalogue: every quantity of the task a term can read."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.core.features import FeatureCatalog, FeatureSpec

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Feature", "Unit", "Typical range", "Description")


class FeatureTableModel(QAbstractTableModel):
    """The features that match the filter text, one per row."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.catalog = FeatureCatalog()
        self.rows: list[FeatureSpec] = []
        self._filter = ""

    def set_catalog(self, catalog: FeatureCatalog | None) -> None:
        """Show ``catalog`` (None shows nothing)."""
        self.catalog = catalog if catalog is not None else FeatureCatalog()
        self.set_filter(self._filter)

    def set_filter(self, text: str) -> None:
        """Keep the features whose name, description or group has every word of ``text``."""
        self.beginResetModel()
        self._filter = text
        self.rows = self.catalog.search(text) if text.strip() else list(self.catalog)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        spec = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (spec.name, spec.unit, f"{spec.low:.3g} … {spec.high:.3g}",
                    spec.description)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{spec.name} ({spec.group})\n{spec.description}\nunit: {spec.unit or '-'}"
                    f"\ntypical range: [{spec.low:.4g}, {spec.high:.4g}]")
        return None


class _Table(QTableView):
    activatedByKey = Signal(QModelIndex)  # noqa: N815

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activatedByKey.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class FeatureCatalogWidget(QWidget):
    """A filter box over a table of features.

    Signals:
        featureActivated(str): a feature was double-clicked or Enter was pressed on it.
    """

    featureActivated = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Search features (name, description, body…)")
        self.filter.setClearButtonEnabled(True)
        self.model = FeatureTableModel(self)
        self.table = _Table()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        h.setStretchLastSection(True)
        self.table.setColumnWidth(0, 150)
        self.hint = QLabel("Double-click or Enter: use the feature for the selected term, "
                           "or add a new term")
        self.hint.setStyleSheet("color: palette(mid);")
        self.hint.setWordWrap(True)
        lay.addWidget(self.filter)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.hint)
        self.filter.textChanged.connect(self.model.set_filter)
        self.filter.returnPressed.connect(self._activate_first)
        self.table.doubleClicked.connect(self._activate)
        self.table.activatedByKey.connect(self._activate)

    def set_catalog(self, catalog: FeatureCatalog | None) -> None:
        """Show the features of ``catalog``."""
        self.model.set_catalog(catalog)

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.featureActivated.emit(self.model.rows[index.row()].name)

    def _activate_first(self) -> None:
        if self.model.rows:
            self.table.selectRow(0)
            self.featureActivated.emit(self.model.rows[0].name)
