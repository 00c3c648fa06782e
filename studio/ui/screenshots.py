"""What the screenshot mode pictures (``reward-studio --screenshot F.png --show WHAT``).

``window`` is the main window as it settled. The others open what a user would open and
picture it the way it looks on screen: ``task-picker``, ``shortcuts`` and ``guide`` are
dialogs drawn over the (dimmed) window; ``dashboard`` is the Training dock, undocked to
a readable size, comparing every run stored in the workspace.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["SHOWS", "picture"]

SHOWS = ("window", "task-picker", "dashboard", "shortcuts", "guide")
LOAD_TIMEOUT_S = 30.0


def _wait(condition: Any, timeout_s: float) -> bool:
    from studio.ui.app import wait_until

    return wait_until(condition, timeout_s)


def _pause(seconds: float) -> None:
    end = time.monotonic() + seconds
    _wait(lambda: time.monotonic() > end, seconds + 1.0)


def over_window(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window, dimmed, with ``dialog`` drawn centred over it (as a modal dialog looks)."""
    QApplication.processEvents()
    _pause(0.3)
    base = window.grab()
    top = dialog.grab()
    painter = QPainter(base)
    painter.fillRect(base.rect(), QColor(0, 0, 0, 70))
    at = QPoint((base.width() - top.width()) // 2, (base.height() - top.height()) // 2)
    painter.setPen(QColor("#6a6a6a"))
    painter.drawRect(at.x() - 1, at.y() - 1, top.width() + 1, top.height() + 1)
    painter.drawPixmap(at, top)
    painter.end()
    dialog.close()
    return base


def dashboard(window: Any) -> QPixmap:
    """The Training dock comparing every stored run, at 1500×950."""
    dock = window.docks["Training"]
    panel = window.panels["Training"]
    dock.setFloating(True)
    dock.resize(1500, 950)
    dock.show()
    refresh = getattr(panel, "refresh_runs", None)
    if callable(refresh):
        refresh()
        _wait(lambda: panel.runs_list.count() > 0, LOAD_TIMEOUT_S)
        for i in range(panel.runs_list.count()):
            panel.runs_list.item(i).setCheckState(Qt.CheckState.Checked)
        loader = getattr(panel, "_loader", None)
        _wait(lambda: loader is None or not loader.is_running(), LOAD_TIMEOUT_S)
    tabs = getattr(panel, "side_tabs", None)
    if tabs is not None:  # the runs compared setting by setting
        tabs.setCurrentWidget(panel.hparams)
    _pause(0.8)
    pixmap = dock.grab()
    dock.setFloating(False)
    return pixmap


def picture(window: Any, show: str = "window") -> QPixmap:
    """A picture of ``show`` (one of :data:`SHOWS`) in ``window`` (a settled MainWindow)."""
    if show == "window":
        return window.grab()  # type: ignore[no-any-return]
    if show == "task-picker":
        return over_window(window, window.new_for_task_dialog())
    if show == "shortcuts":
        return over_window(window, window.show_shortcuts())
    if show == "guide":
        return over_window(window, window.show_documentation())
    if show == "dashboard":
        return dashboard(window)
    raise ValueError(f"--show expects one of {', '.join(SHOWS)}, got {show!r}")
