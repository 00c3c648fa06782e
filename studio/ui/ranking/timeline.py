"""The per-term timeline under the focused video: what each term paid at every step.

It is the plots panel's stacked chart (:class:`~studio.ui.plots.charts.EpisodeChart`:
each term's contribution stacked, positives up and negatives down, and below it the
design's reward and the task's own reward per step) with a cursor at the shared
playhead. A click anywhere on the chart, or dragging the cursor, asks every video to
seek to that step (:attr:`TermTimeline.seekRequested`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from studio.ui.plots.charts import EpisodeChart

__all__ = ["TASK_REWARD", "TermTimeline"]

FOLLOW_STEPS = 200
"""Steps the timeline shows around the cursor when it follows playback."""
TASK_REWARD = "task_reward"
"""The key of the task's own reward in ``RankingService.term_series``."""


class TermTimeline(QWidget):
    """Stacked per-step contributions of one rollout, with a cursor that follows playback.

    Signals:
        seekRequested(int): the step the user clicked or dragged the cursor to.
    """

    seekRequested = Signal(int)  # noqa: N815 - Qt naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = EpisodeChart()
        self.chart.stack.setTitle(None)
        self.chart.score.setTitle(None)
        self.chart.stack.setLabel("left", "terms")
        self.chart.score.setLabel("left", "reward")
        for plot in (self.chart.stack, self.chart.score):
            if plot.legend is not None:  # readable over the curves
                plot.legend.setBrush(pg.mkBrush(20, 20, 20, 200))
                plot.legend.setOffset((-5, 5))
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: palette(mid);")
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.chart)
        self._stack.addWidget(self.message)
        pen = pg.mkPen("#3d8fe0", width=2)
        self.cursors = [pg.InfiniteLine(0, angle=90, movable=True, pen=pen,
                                        hoverPen=pg.mkPen("#1d5fa0", width=3))
                        for _ in (self.chart.stack, self.chart.score)]
        for cursor in self.cursors:
            cursor.sigDragged.connect(self._cursor_dragged)
        self.chart.layout_widget.scene().sigMouseClicked.connect(self._clicked)
        self.length = 0
        self.follow = False
        """Show :data:`FOLLOW_STEPS` steps around the cursor instead of the whole rollout."""
        self.title = ""
        self.setMinimumHeight(150)
        self.show_message("click a video to see its terms here")

    # --- content -----------------------------------------------------------------------------
    def show_series(self, series: Mapping[str, np.ndarray], title: str = "") -> None:
        """Draw one rollout's per-step term contributions and its task reward."""
        terms = {k: np.asarray(v, dtype=np.float64) for k, v in series.items() if k != TASK_REWARD}
        task = series.get(TASK_REWARD)
        lengths = [len(v) for v in series.values()]
        self.length = max(lengths) if lengths else 0
        if not self.length:
            self.show_message("this rollout has no steps")
            return
        total = np.sum(list(terms.values()), axis=0) if terms else None
        self.chart.show_episode(terms, total, None if task is None else np.asarray(task, np.float64))
        for plot, cursor in zip((self.chart.stack, self.chart.score), self.cursors, strict=True):
            plot.addItem(cursor, ignoreBounds=True)  # show_episode cleared the plots
        self._frame_x()
        self.title = title
        self.chart.stack.setTitle(title or None, size="9pt")
        self._stack.setCurrentWidget(self.chart)

    def show_message(self, text: str) -> None:
        """Show ``text`` instead of a chart (loading, no design, an error)."""
        self.message.setText(text)
        self._stack.setCurrentWidget(self.message)

    def set_position(self, frame: int) -> None:
        """Move the cursor to ``frame`` (the playhead)."""
        for cursor in self.cursors:
            if cursor.value() != frame:
                cursor.setValue(frame)
        if self.follow:
            self._frame_x()

    def set_follow(self, follow: bool) -> None:
        """Zoom to the steps around the cursor and follow it (or show the whole rollout)."""
        self.follow = follow
        self._frame_x()

    def _frame_x(self) -> None:
        if not self.length:
            return
        if self.follow:
            half = FOLLOW_STEPS // 2
            start = min(max(0, self.position - half), max(0, self.length - FOLLOW_STEPS))
            self.chart.stack.setXRange(start, start + FOLLOW_STEPS, padding=0)
        else:
            self.chart.stack.setXRange(0, self.length, padding=0.01)

    @property
    def position(self) -> int:
        """Where the cursor is."""
        return int(round(self.cursors[0].value()))

    # --- input -------------------------------------------------------------------------------
    def step_at(self, scene_pos: object) -> int | None:
        """The step under a scene position, or None outside both plots."""
        for plot in (self.chart.stack, self.chart.score):
            if plot.sceneBoundingRect().contains(scene_pos):
                x = plot.vb.mapSceneToView(scene_pos).x()
                return int(min(max(0, round(x)), max(0, self.length - 1)))
        return None

    def _clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton:
            return
        step = self.step_at(event.scenePos())  # type: ignore[attr-defined]
        if step is not None and self.length:
            self.seekRequested.emit(step)

    def _cursor_dragged(self, line: pg.InfiniteLine) -> None:
        step = int(min(max(0, round(line.value())), max(0, self.length - 1)))
        self.seekRequested.emit(step)
