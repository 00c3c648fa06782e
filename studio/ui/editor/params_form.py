"""Rows of parameter editors built from ``ParamSpec``: slider + spin box, or a combo box."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from studio.core.schedule import Schedule
from studio.core.shapes import ParamSpec
from studio.ui.widgets import ParamSlider

POSITIVE_FLOOR = 1e-6


def weight_range(value: float) -> tuple[float, float]:
    """A symmetric slider range of a round size (1, 2, 5, 10, 20…) at least twice ``|value|``.

    >>> weight_range(0.1), weight_range(-3.0), weight_range(40.0)
    ((-1.0, 1.0), (-10.0, 10.0), (-100.0, 100.0))
    """
    need = max(1.0, 2.0 * abs(value))
    decade = 10.0 ** math.floor(math.log10(need))
    span = next(decade * m for m in (1, 2, 5, 10) if decade * m >= need)
    return -span, span


class ParamsForm(QWidget):
    """One row per parameter; mirrors values without emitting, emits on user edits.

    Signals:
        paramEdited(str, object, bool): name, new value, whether a slider drag is running.
        dragFinished(): a slider was released.
    """

    paramEdited = Signal(str, object, bool)  # noqa: N815
    dragFinished = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, ParamSlider | QComboBox | QLabel] = {}
        self._specs: tuple[ParamSpec, ...] = ()

    def set_specs(self, specs: Sequence[ParamSpec]) -> None:
        """Rebuild the rows for ``specs`` (only when they differ from the current ones)."""
        specs = tuple(specs)
        if specs == self._specs:
            return
        self._specs = specs
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        for spec in specs:
            editor: ParamSlider | QComboBox
            if spec.choices:
                editor = QComboBox()
                editor.addItems(list(spec.choices))
                editor.currentTextChanged.connect(
                    lambda text, n=spec.name: self.paramEdited.emit(n, text, False))
            else:
                low = max(spec.low, POSITIVE_FLOOR) if spec.positive else spec.low
                editor = ParamSlider(spec.slider, (low, spec.high), decimals=_decimals(spec))
                editor.valueEdited.connect(
                    lambda v, drag, n=spec.name: self.paramEdited.emit(n, v, drag))
                editor.dragFinished.connect(self.dragFinished)
            editor.setToolTip(spec.doc)
            label = QLabel(spec.name.replace("_", " "))
            label.setToolTip(spec.doc)
            self.form.addRow(label, editor)
            self.editors[spec.name] = editor

    def set_values(self, params: dict[str, Any]) -> None:
        """Show ``params`` (missing ones show their defaults); schedules are shown read-only."""
        for spec in self._specs:
            editor = self.editors[spec.name]
            value = params.get(spec.name, spec.default)
            if isinstance(editor, QComboBox):
                editor.blockSignals(True)
                editor.setCurrentText(str(value))
                editor.blockSignals(False)
            elif isinstance(editor, ParamSlider):
                scheduled = isinstance(value, Schedule)
                editor.setEnabled(not scheduled)
                editor.setToolTip(f"scheduled: {value.to_json()}" if scheduled else spec.doc)
                if not scheduled and not isinstance(value, str):
                    editor.set_value(float(value))


def _decimals(spec: ParamSpec) -> int:
    low = spec.slider[0]
    return 8 if 0 < low < 1e-4 else 4
