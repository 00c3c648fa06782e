"""Help › Keyboard shortcuts and Help › Documentation.

Both are generated from what the app really has, so they cannot drift from it:

* the shortcuts table lists every ``QAction`` of the window that has a shortcut, under
  the menu that holds it (actions outside the menus, such as the design tree's, under
  the panel that owns them);
* the guide is ``resources/guide.md`` (the workflow and the design language, shipped
  with the app) followed by one section per registered shape, each with its formula,
  its parameters and its curve drawn from the shape function itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

__all__ = ["GUIDE", "GuideDialog", "ShortcutsDialog", "guide_markdown", "shortcut_rows"]

GUIDE = Path(__file__).resolve().parent / "resources" / "guide.md"
CURVE_SIZE = (220, 110)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """``(where, what, keys)`` for every action of ``window`` that has a shortcut.

    Menu actions come first, in menu order, as ``File › New design``; the others follow
    under the name of the panel (dock) that holds them.
    """
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for act in menu.actions():
            if act.menu() is not None:
                walk(act.menu(), f"{path} › {_plain(act.text())}")
            elif act.shortcuts() and not act.isSeparator():
                seen.add(id(act))
                rows.append((path, _plain(act.text()), _keys(act)))

    bar = getattr(window, "menuBar", None)
    if callable(bar):
        for top in bar().actions():
            if top.menu() is not None:
                walk(top.menu(), _plain(top.text()))
    for act in window.findChildren(QAction):
        if id(act) in seen or not act.shortcuts() or not act.text():
            continue
        seen.add(id(act))
        rows.append((_owner(act), _plain(act.text()), _keys(act)))
    return rows


def _keys(act: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())


def _owner(act: QAction) -> str:
    """The title of the dock an action belongs to (else "Window")."""
    obj: Any = act.parent()
    while obj is not None:
        title = getattr(obj, "windowTitle", None)
        if callable(title) and type(obj).__name__ == "QDockWidget" and title():
            return str(title())
        obj = obj.parent()
    return "Window"


class ShortcutsDialog(QDialog):
    """A table of the window's shortcuts (see :func:`shortcut_rows`)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcuts_dialog")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c == 2:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(640, min(820, 110 + 30 * len(rows)))

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows."""
        return [tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
                for r in range(self.table.rowCount())]


# --- the guide ---------------------------------------------------------------------------


def guide_markdown() -> str:
    """The shipped guide followed by the generated shape reference (``shape:<name>`` images)."""
    from studio.core.shapes import SHAPES

    text = GUIDE.read_text(encoding="utf-8")
    parts = [text.rstrip(), "", "## Shapes", "",
             "Every shape maps the source value *x* to a number; the weight multiplies it. "
             "The curves below are drawn from the shape functions with their default "
             "parameters over −3…3.", ""]
    for name, shape in SHAPES.items():
        params = ", ".join(f"`{p.name}` = {p.default}" for p in shape.params) or "none"
        parts += [f"### {name}", "", f"![{name}](shape:{name})", "",
                  f"`{shape.formula}`: {shape.doc}", "", f"Parameters: {params}.", ""]
    return "\n".join(parts)


def shape_image(name: str) -> QImage:
    """The curve of shape ``name`` with default parameters over -3..3, as a small image."""
    from studio.core.shapes import SHAPES

    shape = SHAPES[name]
    x = np.linspace(-3.0, 3.0, 241)
    with np.errstate(all="ignore"):
        y = np.asarray(shape.fn(np, x, **shape.defaults()), dtype=np.float64) * np.ones_like(x)
    w, h = CURVE_SIZE
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    finite = np.isfinite(y)
    lo, hi = (float(np.min(y[finite])), float(np.max(y[finite]))) if finite.any() else (-1.0, 1.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 8.0
    plot = QRectF(pad, pad, w - 2 * pad, h - 2 * pad)

    def to_px(xv: float, yv: float) -> QPointF:
        return QPointF(plot.left() + (xv + 3.0) / 6.0 * plot.width(),
                       plot.bottom() - (yv - lo) / (hi - lo) * plot.height())

    p.setPen(QPen(QColor("#b0b0b0"), 1))
    p.drawLine(to_px(-3.0, 0.0), to_px(3.0, 0.0))
    p.drawLine(to_px(0.0, lo), to_px(0.0, hi))
    path = QPainterPath()
    drawing = False
    for xv, yv, ok in zip(x, y, finite, strict=True):
        if not ok:
            drawing = False
            continue
        pt = to_px(float(xv), float(yv))
        if drawing:
            path.lineTo(pt)
        else:
            path.moveTo(pt)
            drawing = True
    p.setPen(QPen(QColor("#2f6fbf"), 2))
    p.drawPath(path)
    p.setPen(QColor("#606060"))
    p.drawText(QRectF(0, 0, w - 4, 16), int(Qt.AlignmentFlag.AlignRight), f"{hi:.3g}")
    p.drawText(QRectF(0, h - 16, w - 4, 16), int(Qt.AlignmentFlag.AlignRight), f"{lo:.3g}")
    p.end()
    return image


class GuideDialog(QDialog):
    """The user guide (:func:`guide_markdown`) in a browser with the shape curves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtGui import QTextDocument

        from studio.core.shapes import SHAPES

        self.setWindowTitle("Reward Studio — user guide")
        self.setObjectName("guide_dialog")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        doc = self.browser.document()
        for name in SHAPES:
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"shape:{name}"),
                            shape_image(name))
        self.browser.setMarkdown(guide_markdown())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
        self.resize(760, 820)
