"""Every training setting, editable: the dashboard's *Settings…* dialog.

The dialog is generated from the learner's config dataclass (``PPOConfig`` or
``SACConfig``) as the selected preset fills it, one editor per field with the field's own
documentation as its tooltip, so a new setting appears here without any change. What the
user changes is returned as overrides of the preset; the run stores the complete config
it trained with (the dashboard's *Hyperparameters* tab compares runs by it).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
from functools import cache
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core import pyast
from studio.ui.widgets import MessageLabel

__all__ = ["IN_THE_BAR", "SettingsDialog", "field_docs", "parse_value"]

IN_THE_BAR = ("total_timesteps", "num_envs")
"""Settings the panel's bar edits itself (steps, envs)."""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of dataclass ``cls`` (its source), by field name."""
    try:
        tree = pyast.parse(inspect.getsource(cls))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str] = {}
    for node, after in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            out[node.target.id] = " ".join(after.value.value.split())
    return out


def parse_value(text: str, like: Any) -> Any:
    """``text`` read as a value of the kind of ``like`` (the preset's value).

    Raises:
        ValueError: the text is not such a value (the message says what is expected).
    """
    text = text.strip()
    if isinstance(like, float) or (like is None and _number(text)):
        if like is None and text.lower() in ("", "none", "null"):
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, e.g. 3e-4, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        return value
    if isinstance(like, tuple | list) or like is None:
        if text.lower() in ("", "none", "null"):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"expected a list like [64, 64] or none, got {text!r}") from None
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise ValueError(f"expected a list of whole numbers like [64, 64], got {text!r}")
        return tuple(value)
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class SettingsDialog(QDialog):
    """One editor per setting of ``config``; :meth:`overrides` gives what differs from ``preset``.

    ``config`` is what the next run would use (the preset with earlier overrides),
    ``preset`` the preset alone (changed settings are bold; *Reset to preset* undoes them).
    """

    def __init__(self, config: Any, preset: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training settings")
        self.setObjectName("training_settings")
        self.preset = preset
        self.editors: dict[str, QWidget] = {}
        docs = field_docs(type(config))
        form = QFormLayout()
        for f in dataclasses.fields(config):
            if f.name in IN_THE_BAR:
                continue
            value = getattr(config, f.name)
            editor = self._editor(value)
            editor.setToolTip(docs.get(f.name, f.name))
            label = QLabel(f.name)
            label.setToolTip(docs.get(f.name, f.name))
            form.addRow(label, editor)
            self.editors[f.name] = editor
            self._connect(f.name, editor)
        holder = QWidget()
        holder.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        self.error = MessageLabel()
        reset = QPushButton("Reset to preset")
        reset.clicked.connect(self.reset_to_preset)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(reset, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        note = QLabel("Each setting's tooltip says what it does. Changed settings are bold; "
                      "they are saved with the run.")
        note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.resize(520, 640)
        self._mark()

    # --- editors ---------------------------------------------------------------------------
    @staticmethod
    def _editor(value: Any) -> QWidget:
        if isinstance(value, bool):
            box = QCheckBox()
            box.setChecked(value)
            return box
        if isinstance(value, int):
            spin = QSpinBox(minimum=0, maximum=2_000_000_000)
            spin.setValue(value)
            return spin
        line = QLineEdit(_shown(value))
        return line

    def _connect(self, name: str, editor: QWidget) -> None:
        if isinstance(editor, QCheckBox):
            editor.toggled.connect(lambda _v: self._mark())
        elif isinstance(editor, QSpinBox):
            editor.valueChanged.connect(lambda _v: self._mark())
        elif isinstance(editor, QLineEdit):
            editor.textChanged.connect(lambda _v: self._mark())

    def value(self, name: str) -> Any:
        """The edited value of setting ``name`` (ValueError if its text does not parse)."""
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return parse_value(editor.text(), getattr(self.preset, name))

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in the editor of ``name``."""
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(_shown(value))

    def overrides(self) -> dict[str, Any]:
        """The settings that differ from the preset (ValueError on a value that does not parse)."""
        out = {}
        for name in self.editors:
            value = self.value(name)
            if value != getattr(self.preset, name):
                out[name] = value
        return out

    def reset_to_preset(self) -> None:
        """Every setting back to the preset's value."""
        for name in self.editors:
            self.set_value(name, getattr(self.preset, name))

    def _mark(self) -> None:
        problems = []
        for name, editor in self.editors.items():
            font = QFont(editor.font())
            try:
                changed = self.value(name) != getattr(self.preset, name)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                changed = True
            font.setBold(changed)
            editor.setFont(font)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)
        self.error.set_message("; ".join(problems), "error" if problems else "")
