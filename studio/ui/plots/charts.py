"""The pyqtgraph views of the plots panel: stacked term contributions, histograms, heat map.

Each view draws what it is given and keeps nothing else: the panel recomputes from the
context's design and the recorded rollout, then calls ``show_*``. Terms missing from a
call (a term whose weight went to zero) disappear from the plot at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.term_colours import term_colour

PALETTE = ["#4c9be8", "#f0a04b", "#5cc37a", "#e05d5d", "#a47de0", "#d9c34c", "#4cc9d1",
           "#e07ab8", "#9aa0a6", "#8ccf4d"]


def colour(i: int) -> str:
    """The i-th colour of the palette (terms use :func:`studio.ui.term_colours.term_colour`)."""
    return PALETTE[i % len(PALETTE)]


class EpisodeChart(QWidget):
    """Each term's contribution along an episode, stacked (positives up, negatives down),
    with the design's total and the task score per step in a linked plot below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.stack = self.layout_widget.addPlot(row=0, col=0, title="Term contributions per step")
        # Inside: a legend column would change the view box widths, and linked plots
        # align pixel for pixel (the ranking timeline's zoom relies on equal widths).
        self.stack.addLegend(offset=(5, 5))
        self.stack.showGrid(x=True, y=True, alpha=0.2)
        self.stack.setClipToView(True)
        self.score = self.layout_widget.addPlot(row=1, col=0, title="Reward and task score")
        self.score.addLegend(offset=(5, 5))
        self.score.setXLink(self.stack)
        self.score.setLabel("bottom", "step")
        self.score.showGrid(x=True, y=True, alpha=0.2)
        self.layout_widget.ci.layout.setRowStretchFactor(0, 3)
        self.layout_widget.ci.layout.setRowStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.layout_widget)
        self.term_curves: dict[str, pg.PlotDataItem] = {}
        """The top edge of each term's band; its data are the term's own values."""
        self.term_values: dict[str, np.ndarray] = {}

    def show_episode(self, components: Mapping[str, np.ndarray], total: np.ndarray | None,
                     task_reward: np.ndarray | None) -> None:
        """Draw these components (and nothing else).

        Per step, positive parts stack upwards from zero and negative parts downwards, so
        each band's thickness is that term's contribution and the outer edges are the sums
        of the gains and of the costs.
        """
        self.stack.clear()
        self.score.clear()
        self.term_curves, self.term_values = {}, {}
        if not components:
            return
        n = len(next(iter(components.values())))
        x = np.arange(n, dtype=np.float64)
        # The zero edges need a (transparent) pen: a PlotDataItem without one has no curve
        # path, and a fill against it is empty (the first term's band stayed unfilled).
        clear = pg.mkPen((0, 0, 0, 0))
        up = pg.PlotDataItem(x, np.zeros(n), pen=clear)
        down = pg.PlotDataItem(x, np.zeros(n), pen=clear)
        up_y, down_y = np.zeros(n), np.zeros(n)
        for name, values in components.items():
            v = np.nan_to_num(np.asarray(values, dtype=np.float64))
            col = term_colour(name)  # one colour per term, everywhere
            pen = pg.mkPen(col, width=1)
            brush = pg.mkBrush(pg.mkColor(col).red(), pg.mkColor(col).green(),
                               pg.mkColor(col).blue(), 150)
            up_y = up_y + np.maximum(v, 0.0)
            down_y = down_y + np.minimum(v, 0.0)
            top = pg.PlotDataItem(x, up_y, pen=pen, name=name, antialias=False)
            bottom = pg.PlotDataItem(x, down_y, pen=pen, antialias=False)
            for lower, upper in ((up, top), (down, bottom)):
                self.stack.addItem(pg.FillBetweenItem(lower, upper, brush=brush))
            self.stack.addItem(top)
            self.stack.addItem(bottom)
            self.term_curves[name] = top
            self.term_values[name] = v
            up, down = top, bottom
        if total is not None:
            self.stack.plot(x, total, pen=pg.mkPen("#222222", width=1), name="total")
            self.score.plot(x, total, pen=pg.mkPen("#555555", width=1.5), name="design reward")
        if task_reward is not None:
            self.score.plot(x, task_reward, pen=pg.mkPen("#d18f00", width=1.5,
                                                         style=Qt.PenStyle.DashLine),
                            name="task score")


class HistogramChart(QWidget):
    """Histogram of each term's values over the rollout's states (overlaid, outlined)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title="Term values over rollout states")
        _legend_beside(self.plot.getPlotItem())
        self.plot.setLabel("bottom", "value (weighted contribution)")
        self.plot.setLabel("left", "count")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def show_values(self, values: Mapping[str, np.ndarray], bins: int = 40) -> None:
        """One step-outlined histogram per entry of ``values``."""
        self.plot.clear()
        self.histograms = {}
        for name, v in values.items():
            a = np.asarray(v, dtype=np.float64)
            a = a[np.isfinite(a)]
            if a.size == 0:
                continue
            lo, hi = float(a.min()), float(a.max())
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
            col = term_colour(name)  # one colour per term, everywhere
            self.plot.plot(edges, counts, stepMode="center", fillLevel=0,
                           brush=pg.mkBrush(col + "40"), pen=pg.mkPen(col, width=1.5), name=name)
            self.histograms[name] = (counts, edges)


class HeatmapChart(QWidget):
    """A term (or the total) over two features, the others held at a state (Lucy-SKG view):
    an image with a colour bar, and a marker at the held state's own (x, y)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                   interactive=False, width=15)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.marker = pg.ScatterPlotItem(size=12, symbol="x", pen=pg.mkPen("r", width=3),
                                         brush=None)
        self.plot.addItem(self.marker)
        self.isocurves: list[pg.IsocurveItem] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.values: np.ndarray | None = None
        self.xs: np.ndarray | None = None
        self.ys: np.ndarray | None = None

    def show_grid(self, xs: np.ndarray, ys: np.ndarray, values: np.ndarray, x_name: str,
                  y_name: str, title: str, marker: tuple[float, float] | None) -> None:
        """Draw ``values[ny, nx]`` over ``xs``/``ys`` with a marker at ``marker``."""
        self.xs, self.ys, self.values = xs, ys, values
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.image.setImage(values.T, autoLevels=False, levels=(lo, hi))  # ImageItem is [x, y]
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self.image.setRect(float(xs[0] - dx / 2), float(ys[0] - dy / 2),
                           float(xs[-1] - xs[0] + dx), float(ys[-1] - ys[0] + dy))
        self.bar.setLevels((lo, hi))
        for c in self.isocurves:
            self.plot.removeItem(c)
        self.isocurves = []
        for level in np.linspace(lo, hi, 7)[1:-1]:
            c = pg.IsocurveItem(data=values.T, level=float(level), pen=pg.mkPen((255, 255, 255, 90)))
            c.setParentItem(self.image)
            self.isocurves.append(c)
        self.plot.setLabel("bottom", x_name)
        self.plot.setLabel("left", y_name)
        self.plot.setTitle(title)
        self.marker.setData([] if marker is None else [marker[0]], [] if marker is None else [marker[1]])
        self.plot.getPlotItem().enableAutoRange()

    def clear(self) -> None:
        """Show nothing."""
        self.values = None
        self.image.clear()
        self.marker.setData([], [])
        for c in self.isocurves:
            self.plot.removeItem(c)
        self.isocurves = []


LEGEND_WIDTH = 120


def _legend_beside(plot: pg.PlotItem) -> pg.LegendItem:
    """A legend in its own column right of the plot area, so it never covers the data."""
    legend = pg.LegendItem(labelTextSize="8pt")
    legend.setParentItem(plot)
    plot.legend = legend  # plot(name=...) adds its items here, as with addLegend
    plot.layout.addItem(legend, 2, 3)
    # One width for every legend column: linked plots keep equal view boxes (pyqtgraph links
    # x ranges pixel for pixel) and their steps stay aligned.
    plot.layout.setColumnFixedWidth(3, LEGEND_WIDTH)
    return legend
