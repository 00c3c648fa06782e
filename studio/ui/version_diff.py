"""Two design versions side by side: a per-node table of what changed, and the JSON.

:func:`diff_designs` is plain Python (no Qt): it lists, for every term, group, event and
the shaping, whether it was added, removed or changed, and which fields changed.
:class:`VersionDiffDialog` shows that table with the changes highlighted, and the
canonical JSON of both versions with the differing lines marked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import Design, EventTerm, Group, Term, param_json

ADDED = QColor("#dff3e0")
REMOVED = QColor("#fbe1e1")
CHANGED = QColor("#fff1cc")
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
"""Data role of every cell of a row: ``added``, ``removed``, ``changed`` or ``same``."""


@dataclass
class NodeDiff:
    """One node's difference between version A and version B."""

    name: str
    kind: str
    status: str
    """``added``, ``removed``, ``changed`` or ``same``."""
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Changed field -> (value in A, value in B); every field for added/removed nodes."""


def _node_fields(node: Any, parent: str) -> dict[str, Any]:
    # Order shows in the parent's "children" field, so a node does not read as changed
    # only because a sibling before it was added or removed.
    out: dict[str, Any] = {"parent": parent}
    if isinstance(node, Term):
        out.update(source=node.source, shape=node.shape)
        if node.factor is not None:  # a HERON factor: direction and margin multiplier
            out.update({"factor.direction": node.factor.direction, "factor.sigma": node.factor.sigma})
    elif isinstance(node, Group):
        out.update(combiner=node.combiner, children=", ".join(c.name for c in node.children))
    elif isinstance(node, EventTerm):
        out.update(trigger=node.trigger, condition=node.condition)
    for k, v in sorted(getattr(node, "params", {}).items()):
        out[f"params.{k}"] = param_json(v)
    out["weight"] = param_json(node.weight)
    out["enabled"] = node.enabled
    return out


def _flatten(design: Design) -> dict[str, tuple[str, dict[str, Any]]]:
    nodes: dict[str, tuple[str, dict[str, Any]]] = {}

    def go(group: Group, parent: str) -> None:
        for child in group.children:
            kind = "group" if isinstance(child, Group) else "term"
            nodes[child.name] = (kind, _node_fields(child, group.name))
            if isinstance(child, Group):
                go(child, child.name)

    nodes[design.root.name] = ("group", _node_fields(design.root, ""))
    go(design.root, design.root.name)
    for e in design.events:
        nodes[e.name] = ("event", _node_fields(e, "events"))
    if design.shaping is not None:
        s = design.shaping
        nodes[s.name] = ("shaping", {"potential": s.potential, "gamma": s.gamma,
                                     "weight": param_json(s.weight),
                                     "negative_slope": s.negative_slope, "enabled": s.enabled})
    return nodes


def diff_designs(a: Design, b: Design) -> list[NodeDiff]:
    """Every node of either design with what changed, in B's order then A's removed ones."""
    fa, fb = _flatten(a), _flatten(b)
    out: list[NodeDiff] = []
    for name, (kind, fields_b) in fb.items():
        if name not in fa:
            out.append(NodeDiff(name, kind, "added", {k: (None, v) for k, v in fields_b.items()}))
            continue
        fields_a = fa[name][1]
        changed = {k: (fields_a.get(k), fields_b.get(k)) for k in {**fields_a, **fields_b}
                   if fields_a.get(k) != fields_b.get(k)}
        out.append(NodeDiff(name, kind, "changed" if changed else "same", changed))
    for name, (kind, fields_a) in fa.items():
        if name not in fb:
            out.append(NodeDiff(name, kind, "removed", {k: (v, None) for k, v in fields_a.items()}))
    return out


def _fmt(v: Any) -> str:
    return "" if v is None else str(v)


class VersionDiffDialog(QDialog):
    """Compare version A (left) with version B (right)."""

    COLUMNS = ("Node", "Kind", "Field", "A", "B")

    def __init__(self, a: Design, b: Design, label_a: str, label_b: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {label_a} with {label_b}")
        self.resize(980, 620)
        self.diffs = diff_designs(a, b)
        n = {s: sum(d.status == s for d in self.diffs) for s in ("added", "removed", "changed")}
        summary = QLabel(f"<b>{label_a}</b> → <b>{label_b}</b>: {n['added']} added, "
                         f"{n['removed']} removed, {n['changed']} changed")
        self.show_same = QCheckBox("Show unchanged nodes")
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        h = self.table.horizontalHeader()
        for i in range(3):
            h.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.left = self._json_pane(a.dumps())
        self.right = self._json_pane(b.dumps())
        self._mark_lines()
        json_split = QSplitter()
        json_split.addWidget(self.left)
        json_split.addWidget(self.right)
        tabs = QTabWidget()
        changes = QWidget()
        cl = QVBoxLayout(changes)
        top = QHBoxLayout()
        top.addWidget(summary, 1)
        top.addWidget(self.show_same)
        cl.addLayout(top)
        cl.addWidget(self.table)
        tabs.addTab(changes, "Changes")
        tabs.addTab(json_split, "JSON side by side")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs)
        lay.addWidget(buttons)
        self.show_same.toggled.connect(self._fill)
        self._fill()

    def _fill(self) -> None:
        self.table.setRowCount(0)
        bold = QFont()
        bold.setBold(True)
        for d in self.diffs:
            if d.status == "same" and not self.show_same.isChecked():
                continue
            color = {"added": ADDED, "removed": REMOVED, "changed": CHANGED}.get(d.status)
            rows = list(d.fields.items()) or [("", (None, None))]
            for i, (fname, (va, vb)) in enumerate(rows):
                r = self.table.rowCount()
                self.table.insertRow(r)
                cells = (d.name if i == 0 else "", f"{d.kind} ({d.status})" if i == 0 else "",
                         fname, _fmt(va), _fmt(vb))
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(STATUS_ROLE, d.status)
                    if color is not None:
                        item.setBackground(QBrush(color))
                    if d.status == "changed" and c >= 2:
                        item.setFont(bold)
                    self.table.setItem(r, c, item)

    def changed_cells(self) -> list[tuple[str, str, str, str]]:
        """(node, field, A, B) of every highlighted field row (for tests and summaries)."""
        return [(d.name, f, _fmt(va), _fmt(vb)) for d in self.diffs if d.status != "same"
                for f, (va, vb) in d.fields.items()]

    @staticmethod
    def _json_pane(text: str) -> QPlainTextEdit:
        pane = QPlainTextEdit(text)
        pane.setReadOnly(True)
        pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        pane.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        return pane

    def _mark_lines(self) -> None:
        a = self.left.toPlainText().splitlines()
        b = self.right.toPlainText().splitlines()
        marks_a: list[int] = []
        marks_b: list[int] = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
            if tag != "equal":
                marks_a.extend(range(i1, i2))
                marks_b.extend(range(j1, j2))
        self._highlight(self.left, marks_a, REMOVED)
        self._highlight(self.right, marks_b, ADDED)

    @staticmethod
    def _highlight(pane: QPlainTextEdit, lines: list[int], color: QColor) -> None:
        sels = []
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        fmt.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
        for line in lines:
            sel = QTextEdit.ExtraSelection()
            cursor = QTextCursor(pane.document().findBlockByNumber(line))
            sel.cursor = cursor
            sel.format = fmt
            sels.append(sel)
        pane.setExtraSelections(sels)
