"""The grid of video cells: each paints the playhead's frame of its video and its marks.

A :class:`VideoCell` holds no clock: :meth:`VideoCell.show_frame` is called with the shared
playhead's position. It paints the frame fitted to the cell, its key number (what to
press to place it), its place in the ranking (gold border for the best, red for the
worst), a focus border for the video the timeline follows, and, only when the user asks,
the per-term returns. A video that is missing, unreadable or cut short says so in the
cell; frames past the end of a shorter video hold its last frame.

Cells can be dragged onto the ranking strip (the same drag as the strip's chips).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from studio.ui.ranking.decode import DecodedVideo

__all__ = ["MIME", "VideoCell", "VideoGrid", "cell_title", "grid_shape", "returns_text"]

MIME = "application/x-studio-rank-video"
"""Drag payload: the cell's 0-based index as text."""
BEST, WORST, FOCUS = QColor("#e0b400"), QColor("#d9432f"), QColor("#3d8fe0")


def cell_title(info: Any) -> str:
    """``rollout 12 · random · seed 3`` (a checkpoint by its file name)."""
    policy = str(info.policy or "?")
    if "/" in policy or "\\" in policy:  # a checkpoint: its file name says enough
        kind, _, path = policy.rpartition(":")
        policy = f"{kind or 'checkpoint'} {Path(path).name}"
    return f"rollout {info.id} · {policy} · seed {info.seed}"


def returns_text(info: Any) -> str:
    """The task score, the design's return and each term's return of a rollout, one a line."""
    lines = []
    if info.task_score is not None:
        lines.append(f"task score  {info.task_score:,.1f}")
    if info.design_return is not None:
        lines.append(f"design  {info.design_return:,.1f}")
    for name, value in sorted((info.term_returns or {}).items()):
        lines.append(f"  {name}  {value:,.2f}")
    return "\n".join(lines)


def grid_shape(n: int) -> tuple[int, int]:
    """``(rows, columns)`` for ``n`` videos: 2 → 1×2, 4 → 2×2, 6 → 2×3, 8 → 2×4."""
    if n <= 3:
        return 1, max(1, n)
    rows = 2 if n <= 8 else math.ceil(math.sqrt(n))
    return rows, math.ceil(n / rows)


class VideoCell(QWidget):
    """One video of the set.

    Signals:
        clicked(int): the cell was clicked (it becomes the focused video).
        fullScreenRequested(int): the cell was double-clicked.
    """

    clicked = Signal(int)
    fullScreenRequested = Signal(int)  # noqa: N815 - Qt naming

    def __init__(self, index: int, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.title = title
        self.video: DecodedVideo | None = None
        self.position = 0
        self.shown_frame = -1
        """The index of the video frame painted last (-1: none), what tests check."""
        self.place = ""
        self.mark = ""
        self.focused = False
        self.returns_text = ""
        self.show_returns = False
        self.message = "decoding…"
        self._image: QImage | None = None
        self._press: QPoint | None = None
        self.setMinimumSize(120, 100)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName(f"video_cell_{index}")

    # --- state -------------------------------------------------------------------------------
    def set_video(self, video: DecodedVideo) -> None:
        """Frames decoded so far (grows while decoding) and any problem with the file."""
        self.video = video
        self.message = video.problem
        self._image = None
        self.show_frame(self.position)

    def show_frame(self, position: int) -> None:
        """Paint the frame at the playhead's ``position``."""
        self.position = position
        frame = self.video.frame(position) if self.video is not None else None
        index = -1 if frame is None or self.video is None else min(position, self.video.count - 1)
        if index != self.shown_frame or self._image is None:
            self.shown_frame = index
            self._image = None if frame is None else _qimage(frame)
            self.update()

    def set_marks(self, place: str, mark: str) -> None:
        """The place label (``"1st"``, ``"=2nd"``) and ``"best"``/``"worst"``/``""``."""
        if (place, mark) != (self.place, self.mark):
            self.place, self.mark = place, mark
            self.update()

    def set_focused(self, focused: bool) -> None:
        """Whether the timeline shows this video."""
        self.focused = focused
        self.update()

    def set_returns(self, text: str, visible: bool) -> None:
        """Per-term returns (one ``term  value`` per line), drawn only when ``visible``."""
        self.returns_text, self.show_returns = text, visible
        self.update()

    # --- painting ----------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#161616"))
        inner = self.rect().adjusted(3, 3, -3, -3)
        if self._image is not None:
            size = self._image.size().scaled(inner.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), size)
            target.moveCenter(inner.center())
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self._image)
        font = QFont(self.font())
        if self.message:
            p.setPen(QColor("#f0f0f0") if self._image is None else QColor("#ffcf5c"))
            box = inner if self._image is None else QRect(inner.left(), inner.bottom() - 24,
                                                          inner.width(), 22)
            if self._image is not None:
                p.fillRect(box, QColor(0, 0, 0, 170))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        # key number, top left
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        p.setFont(font)
        key = QRect(inner.left() + 4, inner.top() + 4, 30, 30)
        p.fillRect(key, QColor(0, 0, 0, 160))
        p.setPen(QColor("white"))
        p.drawText(key, Qt.AlignmentFlag.AlignCenter, str(self.index + 1))
        if self.place:
            colour = BEST if self.mark == "best" else WORST if self.mark == "worst" else QColor("#2c6db5")
            label = self.place + (" ★ best" if self.mark == "best" else " ✗ worst" if self.mark == "worst" else "")
            width = p.fontMetrics().horizontalAdvance(label) + 16
            badge = QRect(inner.right() - width - 4, inner.top() + 4, width, 30)
            p.fillRect(badge, colour)
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        font.setPointSizeF(self.font().pointSizeF())
        font.setBold(False)
        p.setFont(font)
        p.setPen(QColor("#dddddd"))
        p.drawText(QRect(key.right() + 8, key.top(), inner.width() - 200, 30),
                   Qt.AlignmentFlag.AlignVCenter, self.title)
        if self.show_returns and self.returns_text:
            lines = self.returns_text.splitlines()
            height = p.fontMetrics().height() * len(lines) + 8
            width = max(p.fontMetrics().horizontalAdvance(s) for s in lines) + 12
            box = QRect(inner.left() + 4, inner.bottom() - height - 28, width, height)
            p.fillRect(box, QColor(0, 0, 0, 180))
            p.setPen(QColor("#e8e8e8"))
            p.drawText(box.adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignLeft, self.returns_text)
        border = BEST if self.mark == "best" else WORST if self.mark == "worst" else None
        if border is not None:
            p.setPen(QPen(border, 4))
            p.drawRect(self.rect().adjusted(2, 2, -2, -2))
        if self.focused:
            p.setPen(QPen(FOCUS, 2, Qt.PenStyle.DashLine))
            p.drawRect(self.rect().adjusted(5, 5, -6, -6))
        p.end()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(320, 300)

    # --- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.clicked.emit(self.index)

    def mouseDoubleClickEvent(self, _event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self.fullScreenRequested.emit(self.index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < 12:
            return
        self._press = None
        start_drag(self, self.index)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._press = None


def start_drag(source: QWidget, index: int) -> None:
    """Drag video ``index`` (to a place on the ranking strip)."""
    mime = QMimeData()
    mime.setData(MIME, str(index).encode())
    mime.setText(str(index + 1))
    drag = QDrag(source)
    drag.setMimeData(mime)
    drag.exec(Qt.DropAction.MoveAction)


def _qimage(frame: np.ndarray) -> QImage:
    h, w = frame.shape[:2]
    # copy(): the QImage must own its pixels, the array may be freed with its video
    return QImage(frame.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class VideoGrid(QWidget):
    """The cells in rows and columns; one of them may fill the whole grid ("full screen")."""

    def __init__(self, cells: list[VideoCell], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cells = cells
        self.zoomed: int | None = None
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        rows, cols = grid_shape(len(cells))
        for i, cell in enumerate(cells):
            self._layout.addWidget(cell, i // cols, i % cols)
        for r in range(rows):
            self._layout.setRowStretch(r, 1)
        for c in range(cols):
            self._layout.setColumnStretch(c, 1)

    def zoom(self, index: int | None) -> None:
        """Show only cell ``index`` (None: all of them again)."""
        self.zoomed = index
        for cell in self.cells:
            cell.setVisible(index is None or cell.index == index)

    def cell_box(self) -> tuple[int, int]:
        """``(width, height)`` of one cell in the grid as laid out now (an estimate before)."""
        rows, cols = grid_shape(len(self.cells))
        w = max(self.width(), 640) // cols
        h = max(self.height(), 360) // rows
        return w, h
