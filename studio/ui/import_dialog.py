"""File › Import reward code…: a reward function or method (Gymnasium's ``_get_rew``, Eureka's
``compute_reward``, dm_control's ``get_reward``...) as a design.

The file is read and parsed by :func:`studio.export.importer.import_reward`; nothing in
it is executed in the app. ``self`` is the task's environment. The report lists every component (became a term, kept as sandboxed code,
or not imported) and every line that was not imported, each with its line number and
why; the source is shown beside it with those lines marked. Code the design language
cannot express is left out unless the user ticks the opt-in, which keeps it as *code
terms* that run in the sandbox (a separate process with limits) whenever the design is
evaluated. "Import as new design" loads the result into the editor as a new, unsaved
design through the window's :class:`~studio.ui.editor.session.DesignSession`.

Parsing a reward function takes milliseconds, so it runs on the GUI thread. Then the
original runs in the sandbox side by side with the design on a few hundred transitions
(:func:`studio.export.importer.verify.verify`, seconds: a worker thread); the report gains
the largest difference per term, as ``reward-studio import`` prints it. A design that does
not match is imported only through "Import anyway", with a warning in its description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core import pyast
from studio.core.design import Design
from studio.errors import user_message
from studio.ui.context import AppContext
from studio.ui.export_dialog import ERROR_STYLE, code_view
from studio.ui.workers import TaskRunner, TaskState

__all__ = ["OPT_IN_TEXT", "ImportDialog", "ReportRow", "menu_actions", "open_import_dialog",
           "report_rows"]

OPT_IN_TEXT = ("Run the unsupported code as sandboxed code terms (separate process, time and "
               "memory limits, no network, no files)")
LAST_DIR_KEY = "import/last_dir"
TERM = QColor("#dff3e0")
CODE = QColor("#fff1cc")
SKIPPED = QColor("#fbe1e1")

_COMPONENT_ISSUE = re.compile(r"component '(?P<name>.+?)' cannot be a term: (?P<why>.*)", re.S)
_TERM_LINE = re.compile(r"imported from line (\d+)")


@dataclass(frozen=True)
class ReportRow:
    """One line of the import report."""

    line: int
    component: str
    """The component's name, or "" for a statement that is not a component."""
    outcome: str
    """``term``, ``sandboxed code``, ``not imported``, ``note`` or ``check``."""
    detail: str
    """What the term is, or why the line was not imported (with the code)."""


def report_rows(result: Any) -> list[ReportRow]:
    """The rows of the report of an :class:`~studio.export.importer.ImportResult`, by line."""
    rows: list[ReportRow] = []
    why_not: dict[str, tuple[int, str]] = {}
    for issue in result.issues:
        m = _COMPONENT_ISSUE.match(issue.message)
        if m:
            why_not[m["name"]] = (issue.line, m["why"])
    code_names = {c.name for c in result.code_terms}
    computed = _computed_on(result.source, result.function)
    for term in result.design.terms():
        m = _TERM_LINE.search(term.description or "")
        if term.name in result.terms:
            what = f"{term.shape}({term.source})" + (
                f", {', '.join(f'{k}={v}' for k, v in term.params.items())}" if term.params else "")
            line = computed.get(term.name, int(m[1]) if m else 0)
            rows.append(ReportRow(line, term.name, "term", f"{what}, weight {term.weight:g}"))
    for name in [*code_names, *result.skipped]:
        line, why = why_not.get(name, (0, ""))
        rows.append(ReportRow(line, name, "sandboxed code" if name in code_names else "not imported", why))
    for issue in result.issues:
        if _COMPONENT_ISSUE.match(issue.message):
            continue
        detail = issue.message + (f": {issue.code}" if issue.code else "")
        if "weight 1" in issue.message:
            outcome = "note"
        elif code_names:  # the sandbox runs the whole original function, this line included
            outcome, detail = "sandboxed code", f"{detail} (runs inside the sandboxed function)"
        else:
            outcome = "not imported"
        rows.append(ReportRow(issue.line, "", outcome, detail))
    rows += [ReportRow(0, "", "note", n) for n in getattr(result, "notes", [])]
    return sorted(rows, key=lambda r: (r.line, r.component == ""))


def check_rows(verification: Any) -> list[ReportRow]:
    """The rows of the side-by-side check: the total's and each term's largest difference."""
    if verification.error:
        return [ReportRow(0, "", "check", f"not verified: {verification.error}")]
    head = "matches" if verification.matches else "MISMATCH"
    rows = [ReportRow(0, "(total)", "check", f"{head}: largest difference {verification.total_diff:.3g} "
                                             f"on {verification.transitions} transitions")]
    rows += [ReportRow(0, k, "check", f"largest difference {v:.3g}") for k, v in verification.term_diffs.items()]
    return rows


def _verify(inputs: tuple[Any, Any], state: TaskState) -> Any:
    """Worker: run the original in the sandbox beside the design (seconds)."""
    from studio.export.importer.verify import verify

    result, task = inputs
    state.set_status("checking the design against the original (sandbox)…")
    return verify(result, task)


def _computed_on(source: str, function: str) -> dict[str, int]:
    """Component -> the line that computes it: the last assignment of the variable the
    returned dict names (the importer reports the dict entry's own line)."""
    import ast

    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return {}
    fdef = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if fdef is None:
        return {}
    assigned: dict[str, int] = {}
    dicts: dict[str, ast.Dict] = {}
    out: dict[str, int] = {}
    for stmt in fdef.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            assigned[stmt.targets[0].id] = stmt.lineno
            if isinstance(stmt.value, ast.Dict):
                dicts[stmt.targets[0].id] = stmt.value
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Tuple) and len(stmt.value.elts) == 2:
            comp = stmt.value.elts[1]
            comp = dicts.get(comp.id, comp) if isinstance(comp, ast.Name) else comp
            if isinstance(comp, ast.Dict):
                for k, v in zip(comp.keys, comp.values, strict=True):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str):
                        line = assigned.get(v.id, v.lineno) if isinstance(v, ast.Name) else v.lineno
                        out["".join(ch if ch.isalnum() or ch == "_" else "_" for ch in k.value) or "term"] = line
            break
    return out


class ImportDialog(QDialog):
    """Pick a file, read the report, import it as a new design.

    Attributes for tests: ``path_edit``, ``allow_code`` (the opt-in), ``table`` (the
    report), ``source`` (the code with marked lines), ``summary``, ``error_label``,
    ``import_button``, and ``result`` (the last :class:`ImportResult`, or None).
    """

    COLUMNS = ("Line", "Component", "Result", "Details")

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self.result: Any = None
        self.rows: list[ReportRow] = []
        self.setWindowTitle("Import reward code")
        self.resize(1100, 680)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("a Python file with compute_reward(...) -> (total, components)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self.path_edit.editingFinished.connect(self.reload)
        self.function = QComboBox()
        self.function.setToolTip("The function or method to import (self is the task's environment)")
        self.function.activated.connect(self.reload)
        self.verification: Any = None
        self._checker = TaskRunner(self)
        self._checker.finished.connect(self._checked)
        self._checker.failed.connect(lambda msg, _tb: self._checked_failed(msg))
        note = QLabel("The file is read, never run here: the original runs only in the sandbox, "
                      "to check the design against it.")
        note.setStyleSheet("color: palette(mid);")
        self.allow_code = QCheckBox(OPT_IN_TEXT)
        self.allow_code.setToolTip(
            "Unticked (the default), components the design language cannot express are left out.\n"
            "Ticked, they are kept as code terms: the original function then runs in a separate\n"
            "process, with time and memory limits and no network or file access, whenever the\n"
            "design is evaluated (plots, training). Tick it only for code you trust to that extent.")
        self.allow_code.toggled.connect(self.reload)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("import_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        h = self.table.horizontalHeader()
        for i in range(3):
            h.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_line)
        self.source = code_view()
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.source)
        split.setSizes([600, 500])

        self.import_button = QPushButton("Import as new design")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.import_as_new_design)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel("File:"))
        top.addWidget(self.path_edit, 1)
        top.addWidget(browse)
        top.addWidget(QLabel("Function:"))
        top.addWidget(self.function)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(note)
        lay.addWidget(self.allow_code)
        lay.addWidget(self.error_label)
        lay.addWidget(self.summary)
        lay.addWidget(split, 1)
        lay.addWidget(buttons)

    # --- reading -----------------------------------------------------------------------------
    def browse(self) -> None:
        """Ask for the Python file and read it."""
        start = str(QSettings().value(LAST_DIR_KEY, "") or Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Import reward code", start,
                                              "Python files (*.py);;All files (*)")
        if path:
            QSettings().setValue(LAST_DIR_KEY, str(Path(path).parent))
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Read ``path`` and show its import report; False (with a message) if it cannot be read."""
        self.path_edit.setText(str(path))
        return self.reload()

    def reload(self, *_: Any) -> bool:
        """Parse the chosen file again (after the path or the opt-in changed)."""
        from studio.export.importer import import_reward

        text = self.path_edit.text().strip()
        self.result = None
        self.rows = []
        self._clear()
        if not text:
            return False
        path = Path(text).expanduser()
        task = self._ctx.task
        if task is None:
            return self._fail("The task is still loading: wait until the status bar lists its "
                              "features, then import again.")
        try:
            source = path.read_text()
        except UnicodeDecodeError:
            return self._fail(f"{path}: not a text file; choose the Python file that defines the reward.")
        except OSError as exc:
            return self._fail(f"Cannot read the file: {user_message(exc) or exc}")
        self._fill_functions(source)
        try:
            self.result = import_reward(source, task.env_id, task.catalog.names(),
                                        function=self.function.currentText() or "compute_reward",
                                        allow_code=self.allow_code.isChecked(),
                                        name=_design_name(path))
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                raise
            return self._fail(f"{path.name}: {message}")
        self._show(self.result, source)
        self.verification = None
        self._checker.start(_verify, (self.result, task))
        return True

    def _fill_functions(self, source: str) -> None:
        """The file's functions and methods in the chooser; keep the choice, else a known name."""
        import ast

        try:
            names = [n.name for n in ast.walk(pyast.parse(source)) if isinstance(n, ast.FunctionDef)]
        except SyntaxError:
            return
        current = self.function.currentText()
        if names == [self.function.itemText(i) for i in range(self.function.count())]:
            return
        self.function.clear()
        self.function.addItems(names)
        preferred = [current, "compute_reward", "_get_rew", "get_reward", "compute_rewards", "reward"]
        pick = next((n for n in preferred if n in names), names[0] if names else "")
        self.function.setCurrentText(pick)

    def _checked(self, verification: Any) -> None:
        self.verification = verification
        if self.result is not None:
            self.result.verification = verification
        for row in check_rows(verification):
            self._add_row(row)
        mismatch = not verification.error and not verification.matches
        self.import_button.setText("Import anyway (differs from the original)" if mismatch else
                                   "Import as new design")
        self.summary.setText(self.summary.text() + " " + (
            "<b>The design differs from the original</b> (see the check rows)." if mismatch else
            "Checked against the original." if not verification.error else "Not checked."))

    def _checked_failed(self, message: str) -> None:
        self._add_row(ReportRow(0, "", "check", f"not verified: {message}"))

    def _clear(self) -> None:
        self.error_label.hide()
        self.summary.clear()
        self.table.setRowCount(0)
        self.source.clear()
        self.import_button.setEnabled(False)

    def _fail(self, message: str) -> bool:
        self.error_label.setText(message)
        self.error_label.show()
        return False

    def _show(self, result: Any, source: str) -> None:
        n_code, n_skip = len(result.code_terms), len(result.skipped)
        parts = [f"<b>{len(result.terms)}</b> component(s) became editable terms"]
        if n_code:
            parts.append(f"<b>{n_code}</b> will run as sandboxed code")
        if n_skip:
            parts.append(f"<b>{n_skip}</b> not imported (tick the option above to keep them as "
                         "sandboxed code)")
        self.summary.setText("; ".join(parts) + ".")
        self.rows = []
        self.import_button.setText("Import as new design")
        for row in report_rows(result):
            self._add_row(row)
        self.table.resizeRowsToContents()
        self.source.setPlainText(source)
        self._mark_source()
        self.import_button.setEnabled(bool(result.terms or result.code_terms))

    def _add_row(self, row: ReportRow) -> None:
        colours = {"term": TERM, "sandboxed code": CODE, "not imported": SKIPPED}
        self.rows.append(row)
        r = self.table.rowCount()
        self.table.insertRow(r)
        cells = (str(row.line) if row.line else "", row.component or "—", row.outcome, row.detail)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row.line)
            item.setToolTip(row.detail)
            colour = colours.get(row.outcome)
            if row.outcome == "check" and row.detail.startswith(("MISMATCH", "not verified")):
                colour = SKIPPED
            if colour is not None:
                item.setBackground(QBrush(colour))
            self.table.setItem(r, c, item)

    def _mark_source(self) -> None:
        colours = {"term": TERM, "sandboxed code": CODE, "not imported": SKIPPED}
        sels = []
        for row in self.rows:
            colour = colours.get(row.outcome)
            if colour is None or row.line <= 0:
                continue
            fmt = QTextCharFormat()
            fmt.setBackground(colour)
            fmt.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
            sel = QTextEdit.ExtraSelection()
            sel.cursor = QTextCursor(self.source.document().findBlockByNumber(row.line - 1))
            sel.format = fmt
            sels.append(sel)
        self.source.setExtraSelections(sels)

    def _show_line(self) -> None:
        items = self.table.selectedItems()
        line = items[0].data(Qt.ItemDataRole.UserRole) if items else 0
        if line:
            block = self.source.document().findBlockByNumber(int(line) - 1)
            self.source.setTextCursor(QTextCursor(block))
            self.source.centerCursor()

    def unsupported_lines(self) -> dict[int, str]:
        """Line number -> why, for every line that did not become a term (tests, summaries)."""
        return {r.line: r.detail for r in self.rows if r.outcome not in ("term", "check")}

    # --- importing ---------------------------------------------------------------------------
    def import_as_new_design(self) -> Design | None:
        """Load the imported design into the editor as a new, unsaved design."""
        if self.result is None:
            return None
        if not self._may_replace():
            return None
        design: Design = self.result.design.copy()
        design.meta = {**design.meta, "file": self.path_edit.text().strip()}
        v = self.verification
        if v is not None and not v.error and not v.matches:  # the UI's --accept-mismatch
            design.description = (f"WARNING: imported although its reward differs from the original "
                                  f"{self.result.function} by up to {v.total_diff:.3g} on {v.transitions} "
                                  "transitions.\n" + design.description).strip()
        from studio.ui.editor.session import DesignSession

        session = getattr(self.parent(), "session", None)
        if not isinstance(session, DesignSession):
            session = DesignSession(self._ctx, self)  # the same path, without a window
        session.start(design, design.name)
        n = len(self.result.terms) + len(self.result.code_terms)
        self._ctx.log("info", f"imported {n} term(s) from {Path(self.path_edit.text()).name} "
                              f"as the new design {design.name!r} (not saved yet)")
        self.accept()
        return design

    def _may_replace(self) -> bool:
        confirm = getattr(self.parent(), "confirm_discard", None)
        if callable(confirm):
            return bool(confirm())
        if not self._ctx.design_model.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes",
            "The design in the editor has unsaved changes. Discard them and open the import?\n"
            "(Save a version first with Ctrl+S.)",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard


def _design_name(path: Path) -> str:
    stem = re.sub(r"\W+", "_", path.stem).strip("_") or "imported"
    return f"{stem}_imported"


def open_import_dialog(context: AppContext, parent: QWidget | None = None,
                       path: Path | None = None) -> ImportDialog:
    """Open the import dialog over ``parent`` (the main window), reading ``path`` if given."""
    dialog = ImportDialog(context, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if path is not None:
        dialog.load_file(Path(path))
    dialog.open()
    return dialog


def menu_actions(window: Any) -> list[QAction]:
    """``File › Import reward code…`` for the main window (``window.context``)."""
    action = QAction("&Import reward code…", window)
    action.setStatusTip("Import a reward function (Gymnasium _get_rew, Eureka compute_reward...) as a new design")
    action.triggered.connect(lambda: open_import_dialog(window.context, window))
    return [action]
