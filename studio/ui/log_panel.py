"""The Log dock: the context's messages and the studio's Python log, newest at the bottom."""

from __future__ import annotations

import contextlib
import html
import logging
from datetime import datetime

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from studio.ui.context import AppContext

COLORS = {"info": "#404040", "warning": "#b36b00", "error": "#c62828"}
MAX_LINES = 5000


class _Bridge(QObject):
    message = Signal(str, str)


class QtLogHandler(logging.Handler):
    """Forwards log records of any thread to the GUI thread as ``(level, text)``."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _Bridge()

    def emit(self, record: logging.LogRecord) -> None:
        level = "error" if record.levelno >= logging.ERROR else (
            "warning" if record.levelno >= logging.WARNING else "info")
        with contextlib.suppress(RuntimeError):  # the panel is gone (shutdown)
            self.bridge.message.emit(level, f"{record.name}: {record.getMessage()}")


class LogPanel(QWidget):
    """Shows ``context.logMessage`` and the ``studio`` logger, coloured by level."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        context.logMessage.connect(self.append)
        self.handler = QtLogHandler()
        self.handler.bridge.message.connect(self.append, Qt.ConnectionType.QueuedConnection)
        logging.getLogger("studio").addHandler(self.handler)
        self.destroyed.connect(lambda *_: logging.getLogger("studio").removeHandler(self.handler))

    def detach(self) -> None:
        """Stop listening to the Python log (called when the window closes)."""
        logging.getLogger("studio").removeHandler(self.handler)

    def append(self, level: str, text: str) -> None:
        """Add one message."""
        stamp = datetime.now().strftime("%H:%M:%S")
        color = COLORS.get(level, COLORS["info"])
        tag = "" if level == "info" else f"{level.upper()} "
        self.view.appendHtml(
            f"<span style='color:#8a8a8a'>{stamp}</span> "
            f"<span style='color:{color}'>{tag}{html.escape(text)}</span>")

    def text(self) -> str:
        """Everything shown, as plain text."""
        return self.view.toPlainText()
