"""The analysis plots: per-term contributions along an episode, histograms, heat map, statistics.

Data flow (nothing is computed on the GUI thread):

1. *Record*: :func:`studio.app.rollouts.record_rollout` runs in a worker (random policy,
   zero policy, or the training's latest snapshot) and returns a ``RolloutTrace``.
2. *Evaluate*: whenever the design changes (throttled to 10 Hz), the trace's recorded
   features are re-evaluated under the current design in a worker; a term whose weight
   is zero or that is disabled is dropped from the result, so its plotted values vanish
   at once instead of lingering. A design that reads features the trace lacks triggers a
   new recording.
3. *Heat map*: :func:`studio.core.analysis.heatmap` in a worker, for the chosen term
   and features, the others held at the state of the chosen step.

The panel redraws at most ten times a second.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.dashboard.hub import hub_for
from studio.ui.plots.charts import EpisodeChart, HeatmapChart, HistogramChart
from studio.ui.plots.jobs import (
    Evaluated,
    RecordInputs,
    evaluate_task,
    heatmap_task,
    live_terms,
    record_task,
)
from studio.ui.plots.stats import StatsTable
from studio.ui.widgets import MessageLabel
from studio.ui.widgets.scroll_row import scrolling_row
from studio.ui.workers import TaskRunner

REDRAW_MS = 100
LIVE_STEPS = 1000
"""Steps of the live episode kept for the plots."""


class PlotsPanel(QWidget):
    """Plots of the current design over a recorded rollout of the current task.

    Signals: ``updated()`` after the plots show a new evaluation; ``heatmap_updated()``
    after a new heat map is drawn.
    """

    updated = Signal()
    heatmap_updated = Signal()

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self.trace: Any = None
        self.evaluated: Evaluated | None = None
        self.heatmap_shown: tuple[str, str, str, int] | None = None
        """What the heat map shows: (term or total, x feature, y feature, held step)."""
        self._recorder = TaskRunner(self)
        self._evaluator = TaskRunner(self)
        self._heat = TaskRunner(self)
        self._recorder.finished.connect(self._on_recorded)
        self._recorder.failed.connect(self._on_failed)
        self._recorder.progress.connect(lambda p: self.progress.setValue(int(p)))
        self._recorder.running_changed.connect(self._on_running)
        self._evaluator.finished.connect(self._on_evaluated)
        self._evaluator.failed.connect(self._on_eval_failed)
        self._heat.finished.connect(self._on_heatmap)
        self._heat.failed.connect(self._on_failed)
        self._eval_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._eval_timer.timeout.connect(self.reevaluate)
        self._heat_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._heat_timer.timeout.connect(self.refresh_heatmap)
        self._live: deque[tuple[int, dict[str, float], float | None, bool]] = deque(maxlen=LIVE_STEPS)
        self._live_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._live_timer.timeout.connect(self._draw_live)
        self._heat_chosen = False
        """The user picked the heat map's features (else: two the design reads)."""
        self._build()
        context.designChanged.connect(lambda _d: self._eval_timer.start())
        context.taskChanged.connect(lambda _t: self._on_task())
        self._hub = hub_for(context)
        self._hub.live_steps.connect(self._on_live_steps)

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.policy_combo = QComboBox()
        for key, text in (("random", "Random policy"), ("zero", "Zero action"),
                          ("training", "Latest training policy")):
            self.policy_combo.addItem(text, key)
        self.steps_spin = QSpinBox(minimum=10, maximum=100_000, value=1000, singleStep=100)
        self.record_button = QPushButton("Record rollout")
        self.record_button.clicked.connect(self.record)
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.cancel_button.clicked.connect(self._recorder.cancel)
        self.progress = QProgressBar(maximum=100, textVisible=False)
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        # One elided line (full text in the tooltip): a long error never widens the dock.
        self.status = MessageLabel()
        self.live_box = QCheckBox("Live from viewer")
        self.live_box.setToolTip("Plot the episode the viewer is playing, as it plays")
        self.live_box.toggled.connect(self._on_live_toggled)
        self.policy_combo.setToolTip("The policy the rollout is recorded with")
        self.steps_spin.setToolTip("Steps to record (episodes restart when they end)")
        self.record_button.setToolTip("Record a new rollout; edits re-evaluate the recorded one "
                                      "without recording again")
        bar = QHBoxLayout()
        for w in (self.policy_combo, QLabel("steps"), self.steps_spin, self.record_button,
                  self.cancel_button, self.progress, self.live_box, self.status):
            bar.addWidget(w)
        bar.addStretch(1)

        self.episode = EpisodeChart()
        self.histograms = HistogramChart()
        self.heatmap = HeatmapChart()
        heat_page = QWidget()
        hl = QVBoxLayout(heat_page)
        hl.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        self.which_combo = QComboBox()
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        self.state_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=0)
        self.state_label = QLabel("state: step 0")
        for label, w in (("show", self.which_combo), ("x", self.x_combo), ("y", self.y_combo)):
            # Long feature names must not set the dock's minimum width (a combo sizes to its
            # longest entry by default); the list pops up at full width anyway.
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(5)
            controls.addWidget(QLabel(label))
            controls.addWidget(w)
            w.currentIndexChanged.connect(lambda _i: self._heat_timer.start())
        for w in (self.x_combo, self.y_combo):
            w.activated.connect(lambda _i: setattr(self, "_heat_chosen", True))
            w.setToolTip("A feature along this axis (at first, two features the design reads); "
                         "the others are held at the chosen step's state")
        state_row = QHBoxLayout()  # a row of its own, so the controls stay narrow
        state_row.addWidget(self.state_label)
        state_row.addWidget(self.state_slider, 1)
        self.state_slider.valueChanged.connect(self._on_state_moved)
        hl.addLayout(controls)
        hl.addLayout(state_row)
        hl.addWidget(self.heatmap, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.episode, "Episode")
        self.tabs.addTab(self.histograms, "Histograms")
        self.tabs.addTab(heat_page, "Heat map")
        self.stats = StatsTable()
        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.stats)
        right.addWidget(self.findings)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([640, 480])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(scrolling_row(bar))  # scrolls rather than widening the dock
        lay.addWidget(split, 1)

    # -- recording --------------------------------------------------------------------------

    def _task(self) -> Any:
        return getattr(self._ctx, "task", None)

    def record(self, steps: int | None = None, policy: Any = None, seed: int = 0) -> None:
        """Record a rollout of the current task and design in a worker."""
        design = self._ctx.design.copy()
        if policy is None:
            key = self.policy_combo.currentData()
            policy = key
            if key == "training":
                snap = self._hub.latest_snapshot
                if snap is None:
                    self.status.setText("No training snapshot yet: using a random policy.")
                    policy = "random"
                else:
                    from studio.app.rollouts import policy_from_snapshot

                    policy = policy_from_snapshot(snap.policy_state_dict, snap.obs_rms)
        catalog = getattr(self._ctx, "catalog", None)
        # Scalar features only: array features (qpos, cfrc_ext…) are not plotted or mapped.
        extra = ([n for n in catalog.names() if not getattr(catalog.get(n), "shape", ())]
                 if catalog is not None else [])
        self._recorder.start(record_task, RecordInputs(
            self._task() or design.task, design, policy, int(steps or self.steps_spin.value()), seed, extra))

    def set_trace(self, trace: Any) -> None:
        """Show a recorded rollout (from the store, the viewer, a test)."""
        self.trace = trace
        self.state_slider.setMaximum(max(trace.length - 1, 0))
        names = sorted(trace.features)
        for combo in (self.x_combo, self.y_combo):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if current in names:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        read = [n for n in _features_read(self._ctx.design) if n in names]
        for combo, want in ((self.x_combo, read[:1]), (self.y_combo, read[1:2])):
            if want and not self._heat_chosen:  # two features the design reads, until the user picks
                combo.blockSignals(True)
                combo.setCurrentText(want[0])
                combo.blockSignals(False)
        if self.x_combo.currentIndex() == self.y_combo.currentIndex() and len(names) > 1:
            self.y_combo.setCurrentIndex((self.x_combo.currentIndex() + 1) % len(names))
        self.reevaluate()

    @Slot(object)
    def _on_recorded(self, trace: Any) -> None:
        self.status.setText(f"{trace.length} steps recorded")
        self.set_trace(trace)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.record_button.setEnabled(not running)
        self.progress.setVisible(running)
        if running:
            self.progress.setValue(0)

    @Slot(str, str)
    def _on_failed(self, message: str, _tb: str) -> None:
        self.status.set_message(message, "error")

    def _on_task(self) -> None:
        self.trace, self.evaluated = None, None
        self._show(None)
        if self.isVisible():
            self.record()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # The first look at the panel records a rollout, so it never opens empty.
        if self.trace is None and not self._recorder.is_running() and self._task() is not None:
            self.record()

    # -- evaluation ---------------------------------------------------------------------------

    def reevaluate(self) -> None:
        """Evaluate the trace under the context's current design (in a worker)."""
        if self.trace is None:
            return
        self._evaluator.start(evaluate_task, (self.trace, self._ctx.design.copy()))
        self._heat_timer.start()

    @Slot(object)
    def _on_evaluated(self, ev: Evaluated) -> None:
        if self.status.level == "error":
            self.status.clear_message()  # the design changed and evaluates: the error is gone
        self.evaluated = ev
        self._show(ev)
        self.updated.emit()

    @Slot(str, str)
    def _on_eval_failed(self, message: str, _tb: str) -> None:
        if message.startswith("KeyError") and not self._recorder.is_running():
            self.status.setText("The design reads new features: recording again…")
            self.record()
            return
        self.evaluated = None
        self._show(None)
        self.status.set_message(f"Cannot evaluate the design: {message}", "error")

    def _show(self, ev: Evaluated | None) -> None:
        self.findings.clear()
        if ev is None:
            self.episode.show_episode({}, None, None)
            self.histograms.show_values({})
            self.stats.show_stats({}, None)
            self.heatmap.clear()
            self.which_combo.clear()
            return
        if self.live_box.isChecked():
            self._live_timer.start()  # the live episode owns the series and the table
        else:
            self.episode.show_episode(ev.components, ev.total, ev.task_reward)
            self.stats.show_stats(ev.components, ev.task_reward)
        self.histograms.show_values(ev.components)
        for f in ev.findings:
            item = QListWidgetItem(f"[{f.severity}] {f.evidence}\n→ {f.suggestion}")
            item.setToolTip(f.kind)
            self.findings.addItem(item)
        choices = ["total", *ev.components]
        if [self.which_combo.itemText(i) for i in range(self.which_combo.count())] != choices:
            current = self.which_combo.currentText()
            self.which_combo.blockSignals(True)
            self.which_combo.clear()
            self.which_combo.addItems(choices)
            if current in choices:
                self.which_combo.setCurrentText(current)
            self.which_combo.blockSignals(False)

    # -- heat map -----------------------------------------------------------------------------

    def set_heatmap(self, which: str, x: str, y: str, step: int = 0) -> None:
        """Choose what the heat map shows (the redraw follows in a worker)."""
        self._heat.cancel()  # a grid for the previous choice must not arrive after this
        self.which_combo.setCurrentText(which)
        self.x_combo.setCurrentText(x)
        self.y_combo.setCurrentText(y)
        self.state_slider.setValue(step)
        self._heat_timer.start()

    def _on_state_moved(self, value: int) -> None:
        self.state_label.setText(f"state: step {value}")
        self._heat_timer.start()

    def _range(self, name: str) -> tuple[float, float]:
        catalog = getattr(self._ctx, "catalog", None)
        spec = catalog.get(name) if catalog is not None else None
        lo, hi = (spec.low, spec.high) if spec is not None else (np.nan, np.nan)
        if self.trace is not None and name in self.trace.features:
            v = self.trace.features[name]
            lo = float(np.nanmin([lo, v.min()])) if np.isfinite(lo) else float(v.min())
            hi = float(np.nanmax([hi, v.max()])) if np.isfinite(hi) else float(v.max())
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            lo, hi = (lo - 1.0, lo + 1.0) if np.isfinite(lo) else (-1.0, 1.0)
        return lo, hi

    def refresh_heatmap(self) -> None:
        """Recompute the heat map for the chosen term, features and state."""
        which, x, y = self.which_combo.currentText(), self.x_combo.currentText(), self.y_combo.currentText()
        if self.trace is None or not which or not x or not y or x == y:
            self.heatmap.clear()
            return
        step = min(self.state_slider.value(), self.trace.length - 1)
        base = self.trace.feature_state(step)
        self._heat_args = (which, x, y, (base.get(x), base.get(y)), step)
        self._heat.start(heatmap_task, (self._ctx.design.copy(), base, x, y, self._range(x),
                                        self._range(y), which, 64))

    @Slot(object)
    def _on_heatmap(self, result: tuple[np.ndarray, ...]) -> None:
        xs, ys, values = result
        which, x, y, marker, step = self._heat_args
        self.heatmap.show_grid(xs, ys, values, x, y, f"{which} over {x} × {y}",
                               None if marker[0] is None else marker)
        self.heatmap_shown = (which, x, y, step)
        self.heatmap_updated.emit()

    # -- live episode -------------------------------------------------------------------------

    def _on_live_toggled(self, on: bool) -> None:
        self._live.clear()
        if not on:
            self._show(self.evaluated)

    @Slot(object)
    def _on_live_steps(self, steps: list[tuple[int, dict[str, float], float | None, bool]]) -> None:
        if not self.live_box.isChecked():
            return
        for entry in steps:
            if self._live and self._live[-1][3]:
                self._live.clear()  # a new episode starts
            self._live.append(entry)
        if not self._live_timer.isActive():
            self._live_timer.start()

    def _draw_live(self) -> None:
        if not self._live:
            return
        keep = live_terms(self._ctx.design)
        names = [k for k in self._live[-1][1] if k in keep]
        comps = {k: np.array([e[1].get(k, 0.0) for e in self._live]) for k in names}
        total = np.array([sum(e[1].values()) for e in self._live])
        task = np.array([np.nan if e[2] is None else e[2] for e in self._live])
        self.episode.show_episode(comps, total, task)
        self.stats.show_stats(comps, task)
        self.updated.emit()

    # -- for tests and other panels -------------------------------------------------------------

    def series(self, term: str) -> np.ndarray | None:
        """The values plotted for ``term`` along the episode, or None when it is not shown."""
        return self.episode.term_values.get(term)


def _features_read(design: Any) -> list[str]:
    """Features the design's enabled terms read, in tree order (for the heat map's axes)."""
    from studio.core.expr import ExpressionError, parse

    out: list[str] = []
    for term in design.terms():
        if not term.enabled:
            continue
        try:
            names = sorted(parse(term.source).names)
        except ExpressionError:
            continue
        out += [n for n in names if n not in out]
    return out
