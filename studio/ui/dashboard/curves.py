"""Training charts: one per quantity, with smoothing, log scale, hover values and CSV export.

:class:`CurvesView` draws the series it is handed (the live run solid, compared runs
dashed), runs of one configuration with several seeds as their mean with a min-max band,
and design switches as labelled vertical lines. Charts: design return, task score, term
returns, steps/s, policy loss, value loss, entropy, approximate KL, clip fraction, and the
other losses an algorithm reports (SAC's). Each term has its colour from
:mod:`studio.ui.term_colours`; each run its colour on the run-level charts.

Legends never cover the data: what each line is sits in the legend list beside the
charts. Smoothing (an exponential moving average, as TensorBoard's) is one slider for all
charts; the log scale and *Export CSV…* are in each chart's context menu. Hovering a
chart shows the values of every line at that step above the charts.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.ui.term_colours import term_colour
from studio.ui.widgets import MessageLabel

Series = Mapping[str, tuple[Sequence[float], Sequence[float]]]
"""metric key -> (steps, values)"""

RETURN = "charts/episodic_return"
TASK = "charts/task_score"
SPS = "charts/SPS"
TERM_PREFIX = "Episode_Reward/"
LOSS_PREFIX = "losses/"
LOSS_CHARTS = {"losses/policy_loss": "policy_loss", "losses/value_loss": "value_loss",
               "losses/entropy": "entropy", "losses/approx_kl": "approx_kl",
               "losses/clipfrac": "clipfrac"}
PLOTS = (("return", "Design return"), ("task", "Task score"), ("terms", "Term returns"),
         ("sps", "Steps / s"), ("policy_loss", "Policy loss"), ("value_loss", "Value loss"),
         ("entropy", "Entropy"), ("approx_kl", "Approximate KL"), ("clipfrac", "Clip fraction"),
         ("losses", "Other losses"))
COLUMNS = 3
CHART_MIN_HEIGHT = 170
RUN_STYLES = [Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine,
              Qt.PenStyle.DashDotDotLine]
"""Compared runs' line styles, in run order (the live run is solid)."""
RUN_PALETTE = ["#2f6fbf", "#d1693f", "#3f9f5f", "#9f3fbf", "#bf9f3f", "#3fbfbf", "#bf3f6f"]


def plot_for(key: str) -> str | None:
    """Which chart a metric key belongs on (None: not drawn)."""
    if key == RETURN:
        return "return"
    if key == TASK:
        return "task"
    if key.startswith(TERM_PREFIX):
        return "terms"
    if key == SPS:
        return "sps"
    if key in LOSS_CHARTS:
        return LOSS_CHARTS[key]
    if key.startswith(LOSS_PREFIX) and key != "losses/explained_variance":
        return "losses"
    return None


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start.

    >>> smooth(np.array([0.0, 10.0, 10.0]), 0.5).round(3).tolist()
    [0.0, 6.667, 8.571]
    """
    if weight <= 0 or values.size == 0:
        return values
    out = np.empty_like(values)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        acc = acc * weight + (1.0 - weight) * v
        norm = norm * weight + (1.0 - weight)
        out[i] = acc / norm
    return out


def _swatch(colour: str, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QIcon:
    pix = QPixmap(22, 10)
    pix.fill(QColor("white"))
    from PySide6.QtGui import QPainter, QPen

    p = QPainter(pix)
    pen = QPen(QColor(colour), 2.0, style)
    p.setPen(pen)
    p.drawLine(1, 5, 21, 5)
    p.end()
    return QIcon(pix)


class CurvesView(QWidget):
    """The charts over the environment step, their legend, smoothing and hover readout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        first = None
        for i, (key, title) in enumerate(PLOTS):
            p = self.glw.addPlot(row=i // COLUMNS, col=i % COLUMNS, title=title)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setMenuEnabled(True)
            self._add_menu(p, key)
            if first is None:
                first = p
            else:
                p.setXLink(first)
            p.scene().sigMouseMoved.connect(lambda pos, k=key: self._on_hover(k, pos))
            self.plots[key] = p
        self.raw: dict[tuple[int | str, str], tuple[np.ndarray, np.ndarray]] = {}
        """(run id or band label, key) -> unsmoothed (steps, values) as drawn."""
        self.curves: dict[tuple[int | str, str], pg.PlotDataItem] = {}
        self._bands: dict[tuple[str, str], pg.FillBetweenItem] = {}
        self._labels: dict[int | str, str] = {}
        self._live: set[int | str] = set()
        self._markers: dict[tuple[int, int, str], list[pg.InfiniteLine]] = {}
        self._smoothing = 0.0
        self.log_y: dict[str, bool] = dict.fromkeys(self.plots, False)

        self.smooth_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=99, value=0)
        self.smooth_slider.setMaximumWidth(180)
        self.smooth_slider.setToolTip("Smoothing of every chart: an exponential moving average "
                                      "(0 = raw values); CSV exports stay raw")
        self.smooth_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100.0))
        self.smooth_value = QLabel("0.00")
        self.hover = MessageLabel()
        self.hover.setToolTip("Values of every line at the step under the mouse")
        top = QHBoxLayout()
        top.addWidget(QLabel("Smoothing"))
        top.addWidget(self.smooth_slider)
        top.addWidget(self.smooth_value)
        top.addWidget(self.hover, 1)
        self.legend = QListWidget()
        self.legend.setObjectName("curves_legend")
        self.legend.setMaximumWidth(220)
        self.legend.setToolTip("What each line is: runs (solid: live, dashed: compared, band: "
                               "seeds' min to max around their mean) and terms (one colour each)")
        # Each chart keeps a readable height: the charts scroll in a small dock.
        rows = (len(PLOTS) + COLUMNS - 1) // COLUMNS
        self.glw.setMinimumHeight(rows * CHART_MIN_HEIGHT)
        self.glw.setMinimumWidth(COLUMNS * 170)
        scroll = QScrollArea()
        scroll.setWidget(self.glw)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(self.legend)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 180])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(split, 1)

    # --- menus ---------------------------------------------------------------------------
    def _add_menu(self, plot: pg.PlotItem, key: str) -> None:
        menu = plot.getViewBox().menu
        menu.addSeparator()
        log = QAction("Log scale", menu, checkable=True)
        log.toggled.connect(lambda on, k=key: self.set_log(k, on))
        menu.addAction(log)
        export = QAction("Export CSV…", menu)
        export.triggered.connect(lambda _=False, k=key: self._export_dialog(k))
        menu.addAction(export)
        plot.setProperty("log_action", log)

    def _export_dialog(self, key: str) -> None:
        title = dict(PLOTS)[key]
        path, _ = QFileDialog.getSaveFileName(self, f"Export {title}", f"{key}.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(key, Path(path))

    # --- drawing ---------------------------------------------------------------------------
    def _run_colour(self, run_id: int | str) -> str:
        order = sorted({k for k, _ in self.raw} | {run_id}, key=str)
        return RUN_PALETTE[order.index(run_id) % len(RUN_PALETTE)]

    def _run_style(self, run_id: int | str) -> Qt.PenStyle:
        """Solid for the live run; each compared run its own dash pattern (terms share colours)."""
        if run_id in self._live:
            return Qt.PenStyle.SolidLine
        order = sorted({k for k, _ in self.raw if k not in self._live} | {run_id}, key=str)
        return RUN_STYLES[order.index(run_id) % len(RUN_STYLES)]

    def _pen(self, run_id: int | str, key: str, live: bool) -> object:
        where = plot_for(key)
        colour = term_colour(key[len(TERM_PREFIX):]) if where == "terms" else self._run_colour(run_id)
        return pg.mkPen(colour, width=2 if live else 1.6, style=self._run_style(run_id))

    def set_series(self, run_id: int, series: Series, live: bool, label: str) -> None:
        """Create or update the curves of one run."""
        self._labels[run_id] = label
        if live:
            self._live.add(run_id)
        changed = False
        for key in sorted(series):
            where = plot_for(key)
            if where is None:
                continue
            steps, values = series[key]
            old = self.raw.get((run_id, key))
            if old is not None and len(old[0]) == len(steps):
                continue
            self.raw[(run_id, key)] = (np.asarray(steps, dtype=np.float64),
                                       np.asarray(values, dtype=np.float64))
            item = self.curves.get((run_id, key))
            if item is None:
                # Live curves redraw often: no antialiasing, and only what is in view.
                item = self.plots[where].plot([], [], pen=self._pen(run_id, key, live), antialias=False,
                                              clipToView=True, autoDownsample=True)
                self.curves[(run_id, key)] = item
                changed = True
            self._draw(run_id, key)
        if changed:
            self._fill_legend()

    def set_band(self, label: str, series_by_key: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
                 ) -> None:
        """Draw one configuration's seeds: ``key -> (steps, mean, low, high)`` as mean and band."""
        self.remove_run(label)
        self._labels[label] = label
        for key, (steps, mean, low, high) in series_by_key.items():
            where = plot_for(key)
            if where is None or len(steps) == 0:
                continue
            colour = term_colour(key[len(TERM_PREFIX):]) if where == "terms" else self._run_colour(label)
            plot = self.plots[where]
            lo = plot.plot(steps, low, pen=pg.mkPen(None))
            hi = plot.plot(steps, high, pen=pg.mkPen(None))
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(QColor(colour).red(), QColor(colour).green(),
                                                                QColor(colour).blue(), 60))
            plot.addItem(fill)
            self._bands[(label, key)] = fill
            self.curves[(label, key + "#low")] = lo
            self.curves[(label, key + "#high")] = hi
            self.raw[(label, key)] = (np.asarray(steps, dtype=np.float64), np.asarray(mean, dtype=np.float64))
            self.curves[(label, key)] = plot.plot([], [], pen=pg.mkPen(colour, width=2))
            self._draw(label, key)
        self._fill_legend()

    def _draw(self, run_id: int | str, key: str) -> None:
        steps, values = self.raw[(run_id, key)]
        item = self.curves[(run_id, key)]
        y = smooth(values, self._smoothing)
        if self.log_y.get(plot_for(key) or "", False):
            y = np.where(np.abs(y) > 0, np.abs(y), np.nan)  # log of magnitude; zeros are gaps
        item.setData(steps, y, connect="finite")

    def set_smoothing(self, weight: float) -> None:
        """Smooth every curve with an EMA of ``weight`` (0..0.99; CSV exports stay raw)."""
        self._smoothing = max(0.0, min(0.99, float(weight)))
        self.smooth_value.setText(f"{self._smoothing:.2f}")
        if self.smooth_slider.value() != round(self._smoothing * 100):
            self.smooth_slider.blockSignals(True)
            self.smooth_slider.setValue(round(self._smoothing * 100))
            self.smooth_slider.blockSignals(False)
        for rid, key in list(self.raw):
            self._draw(rid, key)

    def set_log(self, chart: str, on: bool) -> None:
        """Log scale (of the magnitude) on chart ``chart``."""
        self.log_y[chart] = bool(on)
        self.plots[chart].setLogMode(y=bool(on))
        action = self.plots[chart].property("log_action")
        if isinstance(action, QAction) and action.isChecked() != bool(on):
            action.blockSignals(True)
            action.setChecked(bool(on))
            action.blockSignals(False)
        for rid, key in list(self.raw):
            if plot_for(key) == chart:
                self._draw(rid, key)

    def remove_run(self, run_id: int | str) -> None:
        """Forget one run's (or band's) curves and markers."""
        for (rid, key), item in list(self.curves.items()):
            if rid == run_id:
                self.plots[plot_for(key.split("#")[0]) or "return"].removeItem(item)
                del self.curves[(rid, key)]
                self.raw.pop((rid, key), None)
        for (label, key), fill in list(self._bands.items()):
            if label == run_id:
                self.plots[plot_for(key) or "return"].removeItem(fill)
                del self._bands[(label, key)]
        for mk, lines in list(self._markers.items()):
            if mk[0] == run_id:
                for plot, line in zip(self.plots.values(), lines, strict=False):
                    plot.removeItem(line)
                del self._markers[mk]
        self._labels.pop(run_id, None)
        self._live.discard(run_id)
        self._fill_legend()

    def add_marker(self, run_id: int, step: int, text: str) -> None:
        """A labelled vertical line at ``step`` on every chart (once per run, step and text)."""
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

    def curve_data(self, run_id: int | str, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The data of one curve as drawn (smoothed), or None."""
        item = self.curves.get((run_id, key))
        if item is None:
            return None
        x, y = item.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)

    # --- legend, hover, export ------------------------------------------------------------------
    def _fill_legend(self) -> None:
        self.legend.clear()
        runs = sorted(self._labels, key=str)
        for rid in runs:
            bands = {label for label, _ in self._bands}
            style = Qt.PenStyle.SolidLine if rid in bands else self._run_style(rid)
            item = QListWidgetItem(_swatch(self._run_colour(rid), style),
                                   self._labels[rid] + ("" if rid not in {b for b, _ in self._bands}
                                                        else "  (mean, band: min–max)"))
            item.setData(Qt.ItemDataRole.UserRole, ("run", rid))
            self.legend.addItem(item)
        terms = sorted({k[len(TERM_PREFIX):] for _, k in self.raw if k.startswith(TERM_PREFIX)})
        for name in terms:
            item = QListWidgetItem(_swatch(term_colour(name)), name)
            item.setData(Qt.ItemDataRole.UserRole, ("term", name))
            self.legend.addItem(item)

    def legend_entries(self) -> list[tuple[str, str]]:
        """``(kind, text)`` of the legend's entries (kind ``run`` or ``term``)."""
        return [(self.legend.item(i).data(Qt.ItemDataRole.UserRole)[0], self.legend.item(i).text())
                for i in range(self.legend.count())]

    def values_at(self, chart: str, step: float) -> list[tuple[str, float]]:
        """Each line of ``chart`` at the recorded step nearest ``step`` (smoothing applied)."""
        out = []
        for (rid, key), (steps, _values) in sorted(self.raw.items(), key=lambda kv: str(kv[0])):
            if plot_for(key) != chart or steps.size == 0:
                continue
            _, y = self.curves[(rid, key)].getData()
            if y is None or len(y) == 0:
                continue
            i = int(np.argmin(np.abs(steps - step)))
            name = self._labels.get(rid, str(rid))
            if chart == "terms":
                name = f"{name} {key[len(TERM_PREFIX):]}"
            out.append((name, float(y[i])))
        return out

    def _on_hover(self, chart: str, pos: QPointF) -> None:
        plot = self.plots[chart]
        if not plot.sceneBoundingRect().contains(pos):
            return
        step = float(plot.getViewBox().mapSceneToView(pos).x())
        values = self.values_at(chart, step)
        if values:
            text = " · ".join(f"{name} {value:.4g}" for name, value in values)
            self.hover.set_message(f"{dict(PLOTS)[chart]} at step {step:,.0f}: {text}")

    def export_csv(self, chart: str, path: Path) -> int:
        """Write chart ``chart``'s raw (unsmoothed) data as ``series,step,value`` rows; returns rows."""
        rows = 0
        with Path(path).open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["series", "metric", "step", "value"])
            for (rid, key), (steps, values) in sorted(self.raw.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
                if plot_for(key) != chart:
                    continue
                name = self._labels.get(rid, str(rid))
                for s, v in zip(steps, values, strict=True):
                    writer.writerow([name, key, int(s), repr(float(v))])
                    rows += 1
        return rows
