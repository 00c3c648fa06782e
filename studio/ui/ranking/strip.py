"""The ranking strip: the places so far, best first, as boxes of numbered chips.

Dragging a chip (or a video cell) onto a place ties it there; onto the gap between two
places, it gets a place of its own there; onto "not placed", it leaves the ranking. The
strip only shows a :class:`~studio.ui.ranking.order.RankOrder` and reports drops: the
view changes the order and calls :meth:`RankStrip.show_order` again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from studio.ui.ranking.grid import MIME, start_drag
from studio.ui.ranking.order import RankOrder

__all__ = ["RankStrip", "ordinal"]


def ordinal(k: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th`` … for a 1-based place."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


class _Chip(QLabel):
    def __init__(self, video: int) -> None:
        super().__init__(str(video + 1))
        self.video = video
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(28, 26)
        self.setStyleSheet("background: #2c6db5; color: white; border-radius: 4px; font-weight: bold;")
        self.setToolTip(f"video {video + 1}: drag to another place, or between two places")
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.buttons() & Qt.MouseButton.LeftButton:
            start_drag(self, self.video)


class _Target(QFrame):
    """A drop target: a place (``join``), a gap before place ``k``, or the unplaced pool."""

    def __init__(self, strip: RankStrip, kind: str, k: int) -> None:
        super().__init__()
        self.strip, self.kind, self.k = strip, kind, k
        self.setAcceptDrops(True)
        self._style(False)

    def _style(self, hot: bool) -> None:
        base = {"place": "#eef3fa", "gap": "transparent", "pool": "#f3f3f3"}[self.kind]
        border = "#3d8fe0" if hot else ("#b8c7da" if self.kind != "gap" else "transparent")
        self.setStyleSheet(f"_Target {{ background: {'#cfe3fa' if hot else base}; "
                           f"border: 2px dashed {border}; border-radius: 5px; }}")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
            self._style(True)

    def dragLeaveEvent(self, _event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt's name
        self._style(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        self._style(False)
        try:
            video = int(bytes(event.mimeData().data(MIME).data()).decode())
        except ValueError:
            return
        event.acceptProposedAction()
        self.strip.dropped(video, self.kind, self.k)


class RankStrip(QWidget):
    """Places of the ranking being made, and the videos not placed yet.

    Signals:
        moved(int, int, bool): video, place, join (see :meth:`RankOrder.move`).
        unplaced(int): a video was dropped on "not placed".
    """

    moved = Signal(int, int, bool)
    unplaced = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.setMinimumHeight(44)

    def dropped(self, video: int, kind: str, k: int) -> None:
        """A drop on target ``kind`` (place, gap or pool) number ``k``."""
        if kind == "pool":
            self.unplaced.emit(video)
        else:
            self.moved.emit(video, k, kind == "place")

    def show_order(self, order: RankOrder) -> None:
        """Rebuild the strip for ``order``."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        title = QLabel("<b>Ranking</b> (best first):")
        self._layout.addWidget(title)
        for k, tier in enumerate(order.tiers):
            self._layout.addWidget(self._gap(k))
            box = _Target(self, "place", k)
            lay = QHBoxLayout(box)
            lay.setContentsMargins(6, 3, 6, 3)
            lay.setSpacing(3)
            tied = "=" if len(tier) > 1 else ""
            lay.addWidget(QLabel(f"{tied}{ordinal(k + 1)}"))
            for j, video in enumerate(tier):
                if j:
                    lay.addWidget(QLabel("="))
                lay.addWidget(_Chip(video))
            self._layout.addWidget(box)
        self._layout.addWidget(self._gap(len(order.tiers)))
        if order.tie_armed:
            self._layout.addWidget(QLabel("<i>tie: the next number joins the last place</i>"))
        pool = _Target(self, "pool", 0)
        lay = QHBoxLayout(pool)
        lay.setContentsMargins(6, 3, 6, 3)
        lay.setSpacing(3)
        lay.addWidget(QLabel("not placed:" if order.unplaced else "all placed"))
        for video in order.unplaced:
            lay.addWidget(_Chip(video))
        self._layout.addStretch(1)
        self._layout.addWidget(pool)

    def _gap(self, k: int) -> _Target:
        gap = _Target(self, "gap", k)
        gap.setFixedWidth(14)
        gap.setMinimumHeight(34)
        gap.setToolTip("drop here for a place of its own")
        return gap
