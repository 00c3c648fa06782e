"""The design tree: groups and terms, the events and the potential shaping, as a Qt model.

:class:`DesignTreeModel` mirrors a :class:`~studio.ui.editor.model.DesignModel`; it never
changes the design itself except through the model's undoable methods (drops become
``DesignModel.move``). :class:`DesignTreeView` adds the keyboard: Insert adds a term,
Delete removes, Ctrl+Up/Down reorders.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from studio.core.design import EventTerm, Group, Shaping, Term
from studio.core.schedule import Schedule
from studio.ui.editor.model import Change, DesignModel

MIME = "application/x-reward-studio-node"
EVENTS = "events"
"""The object of the Events folder row."""
COLUMNS = ("Name", "Source", "Weight", "Scale")
_Index = QModelIndex | QPersistentModelIndex

DOMINANT_COLOR = QColor("#c77700")
ERROR_COLOR = QColor("#d0302f")
MUTED_COLOR = QColor("#8a8a8a")
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 1
"""Data role: a node's worst finding, ``"error"``, ``"warning"``, ``"draft"`` or None."""


class _Item:
    __slots__ = ("children", "obj", "parent", "row")

    def __init__(self, obj: Any, parent: _Item | None, row: int) -> None:
        self.obj = obj
        self.parent = parent
        self.row = row
        self.children: list[_Item] = []


def _fmt(value: Any) -> str:
    if isinstance(value, Schedule):
        return f"{value.kind} {value.start:g}→{value.end:g}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class DesignTreeModel(QAbstractItemModel):
    """A read-mostly Qt model of a design; edits go through the ``DesignModel``."""

    def __init__(self, model: DesignModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self._top: list[_Item] = []
        self._by_id: dict[int, _Item] = {}
        self.scales: dict[str, float] = {}
        self.dominant: set[str] = set()
        self.problems: dict[str, str] = {}
        self.notes: dict[str, tuple[str, str]] = {}
        """Node name -> (level, text) of findings that are not errors: warnings, drafts."""
        self._build()
        model.changed.connect(self._on_change)

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        d = self.model.design
        self._by_id = {}

        def add(obj: Any, parent: _Item | None, row: int) -> _Item:
            item = _Item(obj, parent, row)
            self._by_id[id(obj)] = item
            kids = obj.children if isinstance(obj, Group) else d.events if obj is EVENTS else []
            item.children = [add(c, item, i) for i, c in enumerate(kids)]
            return item

        self._top = [add(d.root, None, 0), add(EVENTS, None, 1)]
        if d.shaping is not None:
            self._top.append(add(d.shaping, None, 2))

    def _on_change(self, change: Change) -> None:
        if change.kind == "edit":
            item = self._by_id.get(id(change.node))
            if item is not None:
                self._row_changed(item)
            return
        self.beginResetModel()
        self._build()
        self.endResetModel()

    def _row_changed(self, item: _Item) -> None:
        left = self.createIndex(item.row, 0, item)
        right = self.createIndex(item.row, len(COLUMNS) - 1, item)
        self.dataChanged.emit(left, right)

    def set_derived(self, scales: dict[str, float], dominant: set[str],
                    problems: dict[str, str], notes: dict[str, tuple[str, str]] | None = None) -> None:
        """Show effective scales, flag dominating terms and mark nodes with problems.

        ``notes``: findings that are not errors, ``name -> (level, text)`` with level
        ``warning`` (e.g. NaN on typical states) or ``draft`` (an empty group).
        """
        self.scales, self.dominant, self.problems = scales, dominant, problems
        self.notes = notes or {}
        if self._by_id:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._top) - 1, len(COLUMNS) - 1))
            for item in self._by_id.values():
                self._row_changed(item)

    # --- lookup ------------------------------------------------------------------------------
    def node(self, index: _Index) -> Any:
        """The object behind ``index``: a Term, Group, EventTerm, Shaping, ``EVENTS`` or None."""
        if not index.isValid():
            return None
        return self._item(index).obj

    def index_of(self, obj: Any, column: int = 0) -> QModelIndex:
        """The index of ``obj`` (by identity), or an invalid index."""
        item = self._by_id.get(id(obj))
        return QModelIndex() if item is None else self.createIndex(item.row, column, item)

    def _item(self, index: _Index) -> _Item:
        return index.internalPointer()  # type: ignore[no-any-return]

    # --- QAbstractItemModel ------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        items = self._item(parent).children if parent.isValid() else self._top
        if 0 <= row < len(items) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, items[row])
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        p = self._item(index).parent
        return QModelIndex() if p is None else self.createIndex(p.row, 0, p)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid():
            return len(self._item(parent).children) if parent.column() == 0 else 0
        return len(self._top)

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
        obj = self._item(index).obj
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(obj, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(obj)
        if role == LEVEL_ROLE:
            return self.level(getattr(obj, "name", None))
        if role == Qt.ItemDataRole.DecorationRole and col == 1 and isinstance(obj, Term | EventTerm):
            from studio.ui.term_colours import term_colour

            return QColor(term_colour(obj.name))  # the term's colour in every chart
        if role == Qt.ItemDataRole.ForegroundRole:
            name = getattr(obj, "name", None)
            if name in self.problems and col in (0, 1):
                return QBrush(ERROR_COLOR)
            level = self.notes.get(name, ("", ""))[0] if name else ""
            if level and col in (0, 1):
                return QBrush(DOMINANT_COLOR if level == "warning" else MUTED_COLOR)
            if col == 3 and name in self.dominant:
                return QBrush(DOMINANT_COLOR)
            if getattr(obj, "enabled", True) is False:
                return QBrush(MUTED_COLOR)
        if role == Qt.ItemDataRole.FontRole:
            if isinstance(obj, Group) or obj is EVENTS or (col == 3 and getattr(obj, "name", None) in self.dominant):
                f = QFont()
                f.setBold(True)
                return f
            if getattr(obj, "enabled", True) is False:
                f = QFont()
                f.setStrikeOut(col == 0)
                return f
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and hasattr(obj, "enabled") and obj is not self.model.design.root:
            return Qt.CheckState.Checked if obj.enabled else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, obj: Any, col: int) -> str:
        if obj is EVENTS:
            return ("Events", f"{len(self.model.design.events)} one-off payments", "", "")[col]
        name = obj.name
        if col == 0:
            return f"⚠ {name}" if self.level(name) in ("error", "warning") else name
        if col == 1:
            if isinstance(obj, Term):
                return f"{obj.shape}({obj.source})"
            if isinstance(obj, Group):
                if not obj.children and obj is not self.model.design.root:
                    return "empty: add a term"
                return f"{obj.combiner} of {len(obj.children)}"
            if isinstance(obj, EventTerm):
                return obj.trigger if obj.trigger != "condition" else f"when {obj.condition}"
            if isinstance(obj, Shaping):
                return f"γΦ(s')−Φ(s), Φ = {obj.potential}"
        if col == 2:
            return _fmt(obj.weight)
        if col == 3 and isinstance(obj, Term) and name in self.scales:
            mark = " ◆" if name in self.dominant else ""
            return f"{self.scales[name]:.3g}{mark}"
        return ""

    def level(self, name: str | None) -> str | None:
        """The worst finding on node ``name``: ``error``, ``warning``, ``draft`` or None."""
        if name in self.problems:
            return "error"
        note = self.notes.get(name) if name else None
        return note[0] if note else None

    def _tooltip(self, obj: Any) -> str | None:
        name = getattr(obj, "name", None)
        if name in self.problems:
            return self.problems[name]
        if name in self.notes:
            return self.notes[name][1]
        if name in self.dominant:
            return (f"{name} dominates the reward: its effective scale (|weight| × typical "
                    "magnitude) is most of the total. Lower its weight or normalise it.")
        if isinstance(obj, Term):
            return f"{obj.description or obj.name}\nsource: {obj.source}\nshape: {obj.shape}"
        return getattr(obj, "description", None) or None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        obj = self._item(index).obj
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if isinstance(obj, Group | EventTerm | Term) and obj is not self.model.design.root:
            f |= Qt.ItemFlag.ItemIsDragEnabled
        if isinstance(obj, Group) or obj is EVENTS:
            f |= Qt.ItemFlag.ItemIsDropEnabled
        if index.column() == 0 and hasattr(obj, "enabled") and obj is not self.model.design.root:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        obj = self._item(index).obj
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.model.edit(obj, {"enabled": checked}, f"{'Enable' if checked else 'Disable'} {obj.name}")
        return True

    # --- drag and drop -----------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]  # noqa: N802
        names = []
        for index in indexes:
            name = getattr(self.node(index), "name", None)
            if index.column() == 0 and name and name not in names:
                names.append(name)
        data = QMimeData()
        data.setData(MIME, QByteArray("\n".join(names).encode()))
        return data

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                        column: int, parent: _Index) -> bool:
        if not data.hasFormat(MIME):
            return False
        target = self.node(parent) if parent.isValid() else None
        for name in bytes(data.data(MIME).data()).decode().split("\n"):
            node = self.model.find(name)
            if node is None or isinstance(node, Shaping):
                return False
            if isinstance(node, EventTerm) != (target is EVENTS):
                return False
            if target is not EVENTS and not isinstance(target, Group):
                return False
        return True

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                     column: int, parent: _Index) -> bool:
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self.node(parent)
        group = target if isinstance(target, Group) else None
        names = bytes(data.data(MIME).data()).decode().split("\n")
        # Several nodes move as one undo step; a single refused move leaves no empty step.
        macro = len(names) > 1
        if macro:
            self.model.undo_stack.beginMacro(f"Move {', '.join(names)}")
        moved = False
        try:
            for name in names:
                node = self.model.find(name)
                lst = group.children if group is not None else self.model.design.events
                if self.model.move(node, group, len(lst) if row < 0 else row):  # type: ignore[arg-type]
                    moved = True
                    where = self.model.container_of(node)
                    if row >= 0 and where is not None:
                        row = where[1] + 1  # the next dragged node goes after this one
        finally:
            if macro:
                self.model.undo_stack.endMacro()
        return moved


class DesignTreeView(QTreeView):
    """The tree with the editor's keyboard.

    Signals:
        addRequested(): Insert was pressed.
        removeRequested(): Delete was pressed.
        moveRequested(int): Ctrl+Up (-1) or Ctrl+Down (+1).
    """

    addRequested = Signal()  # noqa: N815
    removeRequested = Signal()  # noqa: N815
    moveRequested = Signal(int)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setAnimated(False)

    def setModel(self, model: Any) -> None:  # noqa: N802
        super().setModel(model)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.setColumnWidth(0, 130)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_Insert:
            self.addRequested.emit()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl:
            self.removeRequested.emit()
        elif ctrl and key == Qt.Key.Key_Up:
            self.moveRequested.emit(-1)
        elif ctrl and key == Qt.Key.Key_Down:
            self.moveRequested.emit(+1)
        else:
            super().keyPressEvent(event)
            return
        event.accept()
