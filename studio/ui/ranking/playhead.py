"""One playhead for every video of a ranking set: play, pause, seek, step, loop and speed.

Every cell and the per-term timeline follow :attr:`Playhead.positionChanged`; none keeps a
clock of its own, so the videos can never drift apart. A :class:`QTimer` advances the
position by the steps that real time at the chosen speed has covered since the last tick
(so a slow paint skips frames instead of slowing the clock).

The default speed is set once and remembered per user (``QSettings`` key
:data:`SPEED_KEY`): every ranking view starts playing at it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

__all__ = ["SPEEDS", "SPEED_KEY", "Playhead", "default_speed", "set_default_speed"]

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
SPEED_KEY = "ranking/default_speed"
TICK_MS = 33


def default_speed() -> float:
    """The remembered default playback speed (1.0 until one is set)."""
    try:
        value = float(QSettings().value(SPEED_KEY, 1.0))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return value if value in SPEEDS else 1.0


def set_default_speed(speed: float) -> None:
    """Remember ``speed`` as the speed every ranking view starts at."""
    QSettings().setValue(SPEED_KEY, float(speed))


class Playhead(QObject):
    """The shared position (a frame index, one frame per env step) of a set of videos.

    Signals:
        positionChanged(int): the frame to show.
        playingChanged(bool)
        lengthChanged(int)
    """

    positionChanged = Signal(int)  # noqa: N815 - Qt naming
    playingChanged = Signal(bool)  # noqa: N815
    lengthChanged = Signal(int)  # noqa: N815

    def __init__(self, length: int = 0, fps: float = 20.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._length = max(0, int(length))
        self.fps = float(fps) if fps > 0 else 20.0
        """Frames per second of the recording (the env's control rate) at speed 1."""
        self.speed = default_speed()
        self.loop = True
        self._position = 0
        self._exact = 0.0
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # --- state -------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """The current frame."""
        return self._position

    @property
    def length(self) -> int:
        """Frames in the longest video of the set."""
        return self._length

    def set_length(self, length: int) -> None:
        """Change the number of frames (the position is kept inside)."""
        self._length = max(0, int(length))
        self.lengthChanged.emit(self._length)
        if self._position >= self._length:
            self.seek(self._length - 1)

    def is_playing(self) -> bool:
        """Whether the timer advances the position."""
        return self._timer.isActive()

    # --- control -----------------------------------------------------------------------------
    def play(self) -> None:
        """Start advancing (from the start again if at the end and not looping)."""
        if self._length <= 1 or self.is_playing():
            return
        if self._position >= self._length - 1:
            self.seek(0)
        self._exact = float(self._position)
        self._last = time.monotonic()
        self._timer.start()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        """Stop advancing."""
        if self.is_playing():
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        self.pause() if self.is_playing() else self.play()

    def seek(self, frame: int) -> None:
        """Show ``frame`` (clamped to the videos) on every video."""
        frame = min(max(0, int(frame)), max(0, self._length - 1))
        self._exact = float(frame)
        self._last = time.monotonic()
        if frame != self._position:
            self._position = frame
            self.positionChanged.emit(frame)

    def step(self, frames: int = 1) -> None:
        """Pause and move by ``frames`` (negative: back)."""
        self.pause()
        self.seek(self._position + frames)

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times the recording's rate."""
        self.speed = float(speed)

    def advance(self, seconds: float) -> None:
        """Move as ``seconds`` of playback would (what each timer tick does)."""
        if self._length <= 1:
            return
        self._exact += seconds * self.fps * self.speed
        frame = int(self._exact)
        if frame >= self._length:
            if self.loop:
                self._exact %= self._length
                frame = int(self._exact)
            else:
                frame = self._length - 1
                self._timer.stop()
                self.playingChanged.emit(False)
        if frame != self._position:
            self._position = frame
            self.positionChanged.emit(frame)

    def _tick(self) -> None:
        now = time.monotonic()
        # A stalled event loop (a modal dialog, a slow paint) must not make the videos jump far.
        elapsed = min(now - self._last, 0.25)
        self._last = now
        self.advance(elapsed)
