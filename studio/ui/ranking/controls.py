"""The transport bar of the ranking view: one set of controls acting on the shared playhead.

Play/pause, step back and on, a scrub slider, loop, speed (remembered as the default for
the next view), and the view's toggles (per-term returns, timeline zoom, full screen). No
control takes the keyboard focus: the view keeps the keys (numbers place videos, Enter
saves), and buttons in a dialog must not be clicked by Enter.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from studio.ui.ranking.playhead import SPEEDS, Playhead, set_default_speed

__all__ = ["TransportBar", "button"]


def button(text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    """A push button that never takes the focus nor answers Enter."""
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the view keeps the keys
    b.setAutoDefault(False)  # Enter is the view's (in a dialog it would click too)
    b.clicked.connect(slot)
    return b


def _box(text: str, tip: str) -> QCheckBox:
    box = QCheckBox(text)
    box.setToolTip(tip)
    box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return box


class TransportBar(QWidget):
    """Controls of ``playhead``; ``full_screen`` is called by the Full screen button."""

    def __init__(self, playhead: Playhead, full_screen: Callable[[], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playhead = ph = playhead
        self.play_button = button("Play", "Play or pause every video (Space)", ph.toggle)
        self.back_button = button("◀ step", "One step back (←)", lambda: ph.step(-1))
        self.next_button = button("step ▶", "One step on (→)", lambda: ph.step(1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setRange(0, max(0, ph.length - 1))
        self.position_label = QLabel()
        self.loop_box = _box("Loop", "Start again at the end (L)")
        self.loop_box.setChecked(ph.loop)
        self.speed_box = QComboBox()
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed_box.setToolTip("Playback speed of every video ([ and ]); remembered as the default")
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(ph.speed))
        self.returns_box = _box("Show returns", "Per-term returns of each video (R); hidden so as "
                                "not to bias the ranking")
        self.follow_box = _box("Zoom timeline", "The timeline shows the steps around the "
                               "playhead and follows it (Z)")
        self.full_button = button("Full screen", "Only the focused video, full screen (F; Esc back)",
                                  full_screen)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for b in (self.play_button, self.back_button, self.next_button):
            lay.addWidget(b)
        lay.addWidget(self.slider, 1)
        for w in (self.position_label, self.loop_box, QLabel("Speed"), self.speed_box,
                  self.returns_box, self.follow_box, self.full_button):
            lay.addWidget(w)

        ph.positionChanged.connect(self._on_position)
        ph.playingChanged.connect(lambda on: self.play_button.setText("Pause" if on else "Play"))
        self.slider.valueChanged.connect(ph.seek)
        self.loop_box.toggled.connect(lambda on: setattr(ph, "loop", on))
        self.speed_box.currentIndexChanged.connect(self._on_speed)
        self._on_position(ph.position)

    def _on_position(self, frame: int) -> None:
        if self.slider.value() != frame:
            self.slider.blockSignals(True)  # the slider follows; it must not seek back
            self.slider.setValue(frame)
            self.slider.blockSignals(False)
        self.position_label.setText(f"step {frame + 1} / {self.playhead.length}")

    def _on_speed(self, index: int) -> None:
        speed = float(self.speed_box.itemData(index))
        self.playhead.set_speed(speed)
        set_default_speed(speed)

    def change_speed(self, steps: int) -> None:
        """One speed faster (``steps`` > 0) or slower."""
        i = self.speed_box.currentIndex() + steps
        self.speed_box.setCurrentIndex(min(max(0, i), len(SPEEDS) - 1))
