"""The widget that shows the viewer's frames: a QImage drawn in ``paintEvent``, plus an overlay.

No OpenGL widget: frames come rendered from the worker as ``uint8`` buffers, wrapped once
in QImages (no copy), and painted scaled to fit. Mouse drags and the wheel are turned into
camera commands: left drag orbits, right or middle drag pans, the wheel zooms.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.ui.viewer.worker import Overlay

ORBIT_DEG_PER_PX = 0.3
PAN_FRACTION_PER_PX = 0.0015
"""Pan per pixel, as a fraction of the camera distance."""
ZOOM_PER_NOTCH = 0.9


class FrameView(QWidget):
    """Paints the current frame and the reward overlay; emits camera gestures.

    Signals: ``orbit(d_azimuth_deg, d_elevation_deg)``, ``pan(right, up)`` (fractions of
    the camera distance), ``zoom(factor)``.
    """

    orbit = Signal(float, float)
    pan = Signal(float, float)
    zoom = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._images: dict[int, QImage] = {}
        self._buffers: list[np.ndarray] = []
        self._current: int | None = None
        self.overlay: Overlay | None = None
        self.show_overlay = True
        self._last: QPoint | None = None
        self._font = QFont("monospace")
        self._font.setStyleHint(QFont.StyleHint.Monospace)
        self._font.setPointSize(9)
        self.frames_shown = 0

    # -- frames ------------------------------------------------------------------------------

    def set_buffers(self, buffers: list[np.ndarray]) -> None:
        """The worker's ring of buffers; one QImage wraps each, made once."""
        self._buffers = buffers
        self._images = {}
        self._current = None
        for i, b in enumerate(buffers):
            h, w = b.shape[:2]
            self._images[i] = QImage(b.data, w, h, b.strides[0], QImage.Format.Format_RGB888)

    def show_frame(self, index: int, overlay: Overlay) -> None:
        """Show buffer ``index`` (reserved for us by the frame slot) with its overlay."""
        self._current = index
        self.overlay = overlay
        self.frames_shown += 1
        self.update()

    def clear(self) -> None:
        """Show nothing (a grey background)."""
        self._current = None
        self.overlay = None
        self.update()

    def current_image(self) -> QImage | None:
        """The QImage on screen (wrapping the worker's buffer), or None."""
        return None if self._current is None else self._images.get(self._current)

    def current_array(self) -> np.ndarray | None:
        """A copy of the pixels on screen, uint8 [H, W, 3]."""
        return None if self._current is None else self._buffers[self._current].copy()

    # -- painting ----------------------------------------------------------------------------

    def _target(self, img: QImage) -> QRect:
        w, h = self.width(), self.height()
        scale = min(w / img.width(), h / img.height())
        tw, th = int(img.width() * scale), int(img.height() * scale)
        return QRect((w - tw) // 2, (h - th) // 2, tw, th)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(40, 40, 40))
        img = self.current_image()
        if img is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(self._target(img), img)
        if self.show_overlay and self.overlay is not None:
            self._draw_overlay(p, self.overlay)
        p.end()

    def _draw_overlay(self, p: QPainter, ov: Overlay) -> None:
        """The overlay: what plays, the reward and each term in its own colour.

        Every line is elided to the view's width and lines that do not fit its height are
        summarised ("… 4 more"), so the text never runs off or over itself.
        """
        from studio.ui.term_colours import term_colour

        light = QColor(235, 235, 235)
        lines: list[tuple[str, QColor]] = [(ov.source, QColor(255, 255, 255)),
                                           (f"step {ov.step}   {ov.fps:4.0f} fps", light)]
        if ov.total is not None:
            lines.append((f"reward {ov.total:+9.4f}   return {ov.episode_return:+10.3f}", light))
            lines += [(f"  {name:<18.18} {value:+9.4f}", QColor(term_colour(name)).lighter(125))
                      for name, value in ov.components.items()]
        if ov.task_reward is not None:
            lines.append((f"task   {ov.task_reward:+9.4f}", light))
        p.setFont(self._font)
        fm = p.fontMetrics()
        lh = fm.height()
        bad = [n for n, v in ov.components.items() if not math.isfinite(v)]
        fit = max(1, (self.height() - 20) // lh - (1 if ov.message else 0) - (1 if bad else 0))
        if len(lines) > fit:
            hidden = len(lines) - fit + 1
            lines = lines[:fit - 1] + [(f"  … {hidden} more", light)]
        if bad:  # said, not silently drawn as "+nan"
            lines.append((f"not a number from {', '.join(bad)}: see the term's warning in the editor",
                          QColor(255, 150, 130)))
        if ov.message:
            lines.append((ov.message, QColor(255, 210, 120)))
        room = max(40, self.width() - 24)
        shown = [(fm.elidedText(text, Qt.TextElideMode.ElideRight, room), colour) for text, colour in lines]
        width = min(room, max(fm.horizontalAdvance(t) for t, _ in shown)) + 12
        p.fillRect(QRect(6, 6, width, lh * len(shown) + 8), QColor(0, 0, 0, 150))
        for i, (text, colour) in enumerate(shown):
            p.setPen(colour)
            p.drawText(12, 10 + lh * (i + 1) - fm.descent(), text)

    # -- gestures ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._last = event.position().toPoint()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._last = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._last is None:
            return
        pos = event.position().toPoint()
        dx, dy = pos.x() - self._last.x(), pos.y() - self._last.y()
        self._last = pos
        buttons = event.buttons()
        if buttons & Qt.MouseButton.LeftButton:
            self.orbit.emit(-dx * ORBIT_DEG_PER_PX, -dy * ORBIT_DEG_PER_PX)
        elif buttons & (Qt.MouseButton.RightButton | Qt.MouseButton.MiddleButton):
            self.pan.emit(-dx * PAN_FRACTION_PER_PX, dy * PAN_FRACTION_PER_PX)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        notches = event.angleDelta().y() / 120.0
        if notches:
            self.zoom.emit(ZOOM_PER_NOTCH ** notches)
