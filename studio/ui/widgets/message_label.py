"""A one-line message that never sets a width: elided to fit, the whole text in its tooltip.

A plain ``QLabel`` asks for the width of its text, so one long error (a malformed
expression, a sandboxed import's reason) made its dock, and so the window, wider and
squeezed the panels beside it. :class:`MessageLabel` asks for no width at all: it shows
the first line of the message elided to the space it is given, with the full text in
the tooltip (and, through the panels that use it, in the Log dock).

Its ``level`` (``""``, ``"info"``, ``"warning"``, ``"error"``) is a Qt property, so
tests and style sheets read the meaning, not a colour.

>>> from PySide6.QtWidgets import QApplication
>>> app = QApplication.instance() or QApplication([])
>>> label = MessageLabel()
>>> label.set_message("x" * 500 + "\\nsecond line", "error")
>>> label.level, label.full_text().endswith("second line"), label.minimumSizeHint().width()
('error', True, 0)
"""

from __future__ import annotations

from PySide6.QtCore import Property, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["LEVEL_COLOURS", "MessageLabel"]

MAX_HINT = 320
"""The widest a message asks to be (it may be given more; it never needs any)."""
LEVEL_COLOURS = {"error": "#c0392b", "warning": "#9a6200", "info": "", "": ""}
"""Text colour per level (empty: the palette's)."""


class MessageLabel(QLabel):
    """A message elided to one line; the full text is in :meth:`full_text` and the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._level = ""
        # Preferred: it likes the width of its text (up to MAX_HINT) but its minimum is 0,
        # so a layout can always shrink it and the text elides instead.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        if text:
            self.set_message(text)

    # --- API -----------------------------------------------------------------------------
    def set_message(self, text: str, level: str = "info") -> None:
        """Show ``text`` (any length, any lines) at ``level``; empty text clears it."""
        self._full = text or ""
        self._level = level if text else ""
        self.setProperty("level", self._level)
        colour = LEVEL_COLOURS.get(self._level, "")
        self.setStyleSheet(f"color: {colour};" if colour else "")
        self.setToolTip(self._full)
        self.updateGeometry()
        self._elide()

    def clear_message(self) -> None:
        """Show nothing."""
        self.set_message("")

    def full_text(self) -> str:
        """The whole message, as it was set."""
        return self._full

    def text(self) -> str:  # type: ignore[override]
        """The whole message (what is drawn may be elided)."""
        return self._full

    def setText(self, text: str) -> None:  # type: ignore[override]  # noqa: N802 - Qt's name
        """As :meth:`set_message` at the current level (so it can stand in for a QLabel)."""
        self.set_message(text, self._level or "info")

    def _get_level(self) -> str:
        return self._level

    level = Property(str, _get_level)
    """``""`` (nothing shown), ``"info"``, ``"warning"`` or ``"error"``."""

    # --- sizing: never ask for width -------------------------------------------------------
    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, self.fontMetrics().height() + 2)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.fontMetrics().horizontalAdvance(self._full.strip().split("\n")[0]) + 8
        return QSize(min(width, MAX_HINT), self.fontMetrics().height() + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        lines = self._full.strip().splitlines()
        first = lines[0] if lines else ""
        if len(lines) > 1:
            first += " …"
        shown = self.fontMetrics().elidedText(first, Qt.TextElideMode.ElideRight, max(self.width(), 10))
        super().setText(shown)
