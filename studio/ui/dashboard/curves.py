"""Live training curves: design return, task score, term returns, steps/s and losses.

:class:`CurvesView` draws the series it is handed (the live run solid, compared runs
dashed and faded) and marks design switches with labelled vertical lines. It keeps only
pyqtgraph items; the numbers come from the panel's series (a cache of the store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.plots.charts import colour

Series = Mapping[str, tuple[Sequence[float], Sequence[float]]]
"""metric key -> (steps, values)"""

RETURN = "charts/episodic_return"
TASK = "charts/task_score"
SPS = "charts/SPS"
TERM_PREFIX = "Episode_Reward/"
LOSS_PREFIX = "losses/"
PLOTS = (("return", "Design return"), ("task", "Task score"), ("terms", "Term returns"),
         ("sps", "Steps / s"), ("losses", "Losses"))


def plot_for(key: str) -> str | None:
    """Which plot a metric key belongs on (None: not drawn)."""
    if key == RETURN:
        return "return"
    if key == TASK:
        return "task"
    if key.startswith(TERM_PREFIX):
        return "terms"
    if key == SPS:
        return "sps"
    if key.startswith(LOSS_PREFIX) and key != "losses/explained_variance":
        return "losses"
    return None


class CurvesView(QWidget):
    """Five linked plots over the environment step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        first = None
        for i, (key, title) in enumerate(PLOTS):
            p = self.glw.addPlot(row=i // 2, col=i % 2, title=title)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.addLegend(offset=(5, 5), labelTextSize="8pt")
            if first is None:
                first = p
            else:
                p.setXLink(first)
            self.plots[key] = p
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.glw)
        self.curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        self._drawn: dict[tuple[int, str], int] = {}
        """Points already handed to each curve: unchanged curves are not touched."""
        self._markers: dict[tuple[int, int, str], list[pg.InfiniteLine]] = {}

    def set_series(self, run_id: int, series: Series, live: bool, label: str) -> None:
        """Create or update the curves of one run."""
        keys = sorted(series)
        for key in keys:
            where = plot_for(key)
            if where is None:
                continue
            steps, values = series[key]
            item = self.curves.get((run_id, key))
            if item is None:
                short = key.split("/", 1)[-1]
                index = keys.index(key) if where in ("terms", "losses") else run_id
                pen = pg.mkPen(colour(index), width=2 if live else 1,
                               style=Qt.PenStyle.SolidLine if live else Qt.PenStyle.DashLine)
                name = short if live and where in ("terms", "losses") else f"{label} {short}"
                # Live curves redraw often: no antialiasing, and only what is in view.
                item = self.plots[where].plot([], [], pen=pen, name=name, antialias=False,
                                              clipToView=True, autoDownsample=True)
                self.curves[(run_id, key)] = item
            if self._drawn.get((run_id, key)) == len(steps):
                continue
            self._drawn[(run_id, key)] = len(steps)
            item.setData(np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64))

    def remove_run(self, run_id: int) -> None:
        """Forget one run's curves and markers."""
        for (rid, key), item in list(self.curves.items()):
            if rid == run_id:
                self.plots[plot_for(key) or "return"].removeItem(item)
                legend = self.plots[plot_for(key) or "return"].legend
                if legend is not None:
                    legend.removeItem(item)
                del self.curves[(rid, key)]
                self._drawn.pop((rid, key), None)
        for mk, lines in list(self._markers.items()):
            if mk[0] == run_id:
                for where, line in zip(self.plots, lines, strict=False):
                    self.plots[where].removeItem(line)
                del self._markers[mk]

    def add_marker(self, run_id: int, step: int, text: str) -> None:
        """A labelled vertical line at ``step`` on every plot (once per run, step and text)."""
        key = (run_id, int(step), text)
        if key in self._markers:
            return
        lines = []
        for i, plot in enumerate(self.plots.values()):
            line = pg.InfiniteLine(pos=step, angle=90, movable=False,
                                   pen=pg.mkPen("#c0392b", width=1, style=Qt.PenStyle.DotLine),
                                   label=text if i < 2 else None,
                                   labelOpts={"position": 0.9, "color": "#c0392b"})
            plot.addItem(line)
            lines.append(line)
        self._markers[key] = lines

    def marker_labels(self) -> list[tuple[int, int, str]]:
        """(run id, step, text) of every marker drawn."""
        return sorted(self._markers)

    def curve_data(self, run_id: int, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The data of one curve, or None."""
        item = self.curves.get((run_id, key))
        if item is None:
            return None
        x, y = item.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)
