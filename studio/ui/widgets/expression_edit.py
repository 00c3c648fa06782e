"""A one-line expression editor that underlines syntax errors at their column."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from PySide6.QtCore import QMimeData, QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontDatabase,
    QKeyEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QCompleter,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core.expr import CONSTANTS, FUNCTIONS, ExpressionError, parse
from studio.ui.widgets.message_label import MessageLabel

ERROR_COLOR = QColor("#d0302f")


_WORD = re.compile(r"[A-Za-z_]\w*$")
COMPLETE_AFTER = 2
"""Characters of a name typed before completions pop up (Ctrl+Space: at once)."""


class _OneLine(QPlainTextEdit):
    """A QPlainTextEdit that behaves like a line edit: no wrapping, Enter commits.

    Completes feature and function names from ``words()`` as they are typed.
    """

    committed = Signal()

    def __init__(self, words: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words = words
        self.completer = QCompleter(self)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setModel(QStringListModel(self.completer))
        self.completer.activated.connect(self.insert_completion)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line + 2 * self.frameWidth() + 10)

    def prefix(self) -> str:
        """The name being typed just before the cursor ('' if none)."""
        m = _WORD.search(self.toPlainText()[: self.textCursor().position()])
        return m.group(0) if m else ""

    def insert_completion(self, word: str) -> None:
        """Replace the name being typed by ``word``."""
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor,
                            len(self.prefix()))
        cursor.insertText(word)
        self.setTextCursor(cursor)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        key = event.key()
        popup = self.completer.popup()
        if popup.isVisible() and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape,
                                         Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            event.ignore()  # the completer's popup takes these
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.committed.emit()
            return
        asked = key == Qt.Key.Key_Space and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if not asked:
            super().keyPressEvent(event)
        self._complete(asked or (bool(event.text()) and len(self.prefix()) >= COMPLETE_AFTER))

    def _complete(self, show: bool) -> None:
        popup = self.completer.popup()
        if not show:
            popup.hide()
            return
        model = self.completer.model()
        assert isinstance(model, QStringListModel)
        words = self._words()
        if model.stringList() != words:
            model.setStringList(words)
        self.completer.setCompletionPrefix(self.prefix())
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
        rect = self.cursorRect()
        longest = max(popup.fontMetrics().horizontalAdvance(w) for w in words)
        rect.setWidth(longest + popup.verticalScrollBar().sizeHint().width() + 24)
        self.completer.complete(rect)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt's name
        # Pasting a multi-line text keeps one line.
        self.insertPlainText(source.text().replace("\n", " "))

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusOutEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason:  # not for the completions
            self.committed.emit()


class ExpressionEdit(QWidget):
    """An expression line and, below it, the current error message.

    Checks the text as it is typed (``studio.core.expr.parse`` against ``names()``) and
    underlines the faulty span with a red wavy line.

    Signals:
        committed(str): Enter was pressed or focus left, with the text changed since the
            last ``set_text``/commit.
    """

    committed = Signal(str)

    def __init__(self, names: Callable[[], Collection[str] | None] = lambda: None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names = names
        self._last = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.line = _OneLine(self._completions)
        # One elided line: a long parse error never widens the inspector (full text: tooltip).
        self.error_label = MessageLabel()
        self.error_label.hide()
        lay.addWidget(self.line)
        lay.addWidget(self.error_label)
        self.line.textChanged.connect(self.check)
        self.line.committed.connect(self._commit)

    # --- API -----------------------------------------------------------------------------
    def text(self) -> str:
        """The text shown."""
        return self.line.toPlainText()

    def set_text(self, text: str) -> None:
        """Show ``text`` (without emitting ``committed``) and check it."""
        self._last = text
        if text != self.text():
            self.line.blockSignals(True)
            self.line.setPlainText(text)
            self.line.blockSignals(False)
        self.check()

    def clear(self) -> None:
        """Show nothing and no error (for a field that does not apply)."""
        self._last = ""
        self.line.blockSignals(True)
        self.line.clear()
        self.line.blockSignals(False)
        self.line.setExtraSelections([])
        self.error_label.hide()

    def error_span(self) -> tuple[int, int] | None:
        """The underlined span as (0-based start, length), or None when the text is fine."""
        sels = self.line.extraSelections()
        if not sels:
            return None
        c = sels[0].cursor
        return c.selectionStart(), c.selectionEnd() - c.selectionStart()

    def check(self) -> ExpressionError | None:
        """Parse the text, show the error (if any) and return it."""
        text = self.text()
        try:
            if text.strip():
                parse(text, self._names())
            else:
                raise ExpressionError("the expression is empty", 1, text)
        except ExpressionError as exc:
            self._show_error(exc)
            return exc
        self.line.setExtraSelections([])
        self.error_label.hide()
        self.error_label.clear_message()
        return None

    # --- internals --------------------------------------------------------------------------
    def _completions(self) -> list[str]:
        names = self._names()
        return sorted(names or []) + sorted(FUNCTIONS) + sorted(CONSTANTS)

    def _show_error(self, exc: ExpressionError) -> None:
        text = self.text()
        start = max(0, min(exc.col - 1, len(text)))
        end = min(len(text), start + exc.length)
        if end <= start and start > 0:  # at the end of the text: mark the last character
            start, end = start - 1, start
        sel = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(ERROR_COLOR)
        sel.format = fmt
        cursor = QTextCursor(self.line.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor
        self.line.setExtraSelections([sel] if end > start else [])
        self.error_label.set_message(f"Column {exc.col}: {exc.message}", "error")
        self.error_label.show()

    def _commit(self) -> None:
        text = self.text()
        if text != self._last:
            self._last = text
            self.committed.emit(text)
