"""A row of controls that scrolls sideways instead of setting its panel's minimum width.

Toolbars of buttons, combo boxes and check boxes ask for the width of all their widgets
together; in a dock that is the dock's minimum width, and a few such rows made the window
wider than the screen. :func:`scrolling_row` puts the row in a frameless horizontal scroll
area whose minimum width is small; the row scrolls when the dock is narrower than it.
:func:`scrolling_column` does the same vertically for a side panel of stacked controls.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QFrame, QScrollArea, QWidget

__all__ = ["scrolling_column", "scrolling_row"]


def _area(holder: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(holder)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def scrolling_row(layout: QBoxLayout) -> QScrollArea:
    """``layout`` (a row of controls) in a horizontal scroll area as tall as the row."""
    holder = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    area = _area(holder)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    bar = area.horizontalScrollBar().sizeHint().height()
    area.setFixedHeight(holder.sizeHint().height() + bar)
    return area


def scrolling_column(widget: QWidget) -> QScrollArea:
    """``widget`` (stacked controls) in a vertical scroll area with a small minimum height."""
    area = _area(widget)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumHeight(60)
    return area
