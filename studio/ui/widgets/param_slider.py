"""A number edited with a slider and a spin box side by side."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QWidget

_STEPS = 1000


class ParamSlider(QWidget):
    """A slider over ``slider_range`` and a spin box over the valid range.

    The widget holds no value of its own beyond what it displays: :meth:`set_value`
    shows a value without emitting anything, so a view can mirror its model safely.

    Signals:
        valueEdited(float, bool): the user changed the value; the flag is True while the
            slider is being dragged (the edit may be merged with the next one).
        dragFinished(): the slider was released: the next drag is a new edit.
    """

    valueEdited = Signal(float, bool)  # noqa: N815 - Qt naming
    dragFinished = Signal()  # noqa: N815

    def __init__(self, slider_range: tuple[float, float] = (-10.0, 10.0),
                 valid: tuple[float, float] = (-1e9, 1e9), decimals: int = 4,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lo, self._hi = slider_range
        if not self._hi > self._lo:
            self._hi = self._lo + 1.0
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, _STEPS)
        self.slider.setMinimumWidth(50)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(decimals)
        self.spin.setRange(max(valid[0], -1e9), min(valid[1], 1e9))
        self.spin.setSingleStep(self._step())
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(76)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)
        self.slider.sliderReleased.connect(self.dragFinished)

    def _step(self) -> float:
        span = self._hi - self._lo
        return float(10 ** math.floor(math.log10(span / 100))) if span > 0 else 0.1

    def _to_pos(self, value: float) -> int:
        t = (value - self._lo) / (self._hi - self._lo)
        return round(min(1.0, max(0.0, t)) * _STEPS)

    def _from_pos(self, pos: int) -> float:
        value = self._lo + (self._hi - self._lo) * pos / _STEPS
        return round(value, self.spin.decimals())

    def set_slider_range(self, low: float, high: float) -> None:
        """Let the slider span [low, high] (the spin box keeps its valid range)."""
        self._lo, self._hi = low, (high if high > low else low + 1.0)
        self.spin.setSingleStep(self._step())
        self.set_value(self.value())

    def value(self) -> float:
        """The displayed value."""
        return float(self.spin.value())

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting ``valueEdited``."""
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(self._to_pos(value))
        for w in (self.slider, self.spin):
            w.blockSignals(False)

    def _on_slider(self, pos: int) -> None:
        value = self._from_pos(pos)
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.valueEdited.emit(self.value(), self.slider.isSliderDown())

    def _on_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_pos(value))
        self.slider.blockSignals(False)
        self.valueEdited.emit(float(value), False)
