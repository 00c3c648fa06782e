"""The training dashboard: start, pause and stop runs of the editor's design, watch them live.

A :class:`~studio.app.run_controller.RunController` does the work (a spawned training
process, persistence into the workspace); this panel polls it from a 10 Hz ``QTimer``
(never blocking), draws the curves, relays snapshots to the viewer through the run hub,
and shows the detectors' findings and a failed run's cause. Stored runs can be overlaid
for comparison; their series load in a worker with progress and a Cancel button.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.app.detectors import Finding
from studio.app.run_records import RunRecord, mean_band, seed_groups
from studio.ui.dashboard.curves import CurvesView
from studio.ui.dashboard.hparams import HyperparameterTable, RunNotes
from studio.ui.dashboard.hub import hub_for
from studio.ui.dashboard.jobs import detect, list_records, load_runs
from studio.ui.dashboard.presets import PresetPicker
from studio.ui.widgets import MessageLabel
from studio.ui.widgets.scroll_row import scrolling_column
from studio.ui.workers import TaskRunner

POLL_MS = 100
DETECT_EVERY_S = 1.0


def _close_controller(owned: dict[str, Any]) -> None:
    ctl = owned.get("controller")
    owned["controller"] = None
    if ctl is not None:
        ctl.close()


class TrainingPanel(QWidget):
    """Start / Pause / Stop, live curves, compared runs, findings.

    Signals:
        metrics_received(object): the list of ``Metrics`` of one poll (after drawing).
        run_finished(int, str): run id and final status.
    """

    metrics_received = Signal(object)
    run_finished = Signal(int, str)

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self._hub = hub_for(context)
        self.controller: Any = None
        self.config_overrides: dict[str, Any] = {}
        """Extra ``PPOConfig`` fields for the next run (tests and benchmarks)."""
        self.series: dict[int, dict[str, tuple[list[int], list[float]]]] = {}
        self._last_detect = 0.0
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._loader = TaskRunner(self)
        self._loader.finished.connect(self._on_runs_loaded)
        self._loader.failed.connect(lambda m, _t: self._set_status(m, error=True))
        self._loader.progress.connect(lambda p: self.progress.setValue(int(p)))
        self._loader.running_changed.connect(self._on_loading)
        self._lister = TaskRunner(self)
        self._lister.finished.connect(self._on_runs_listed)
        self._build()
        # A live run is stopped (and checkpointed) when the panel goes or the app quits;
        # the closures hold the controller, not self.
        self._owned: dict[str, Any] = {"controller": None}
        owned = self._owned
        self.destroyed.connect(lambda *_: _close_controller(owned))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: _close_controller(owned))
        context.workspaceChanged.connect(lambda _w: self.refresh_runs())
        self.records: dict[int, RunRecord] = {}
        """The stored runs, by id (names, notes, settings), as last listed."""
        self._stored_markers: dict[int, list[Any]] = {}
        self._band_labels: list[str] = []
        self._compared: list[int] = []
        """The stored runs drawn with the live one (the last :meth:`compare`)."""
        self._blocker: str | None = None
        """Why Start is disabled (the design's first blocking check), or None."""
        self._version_labels: dict[int, str] = {}
        checks_changed = getattr(context, "checksChanged", None)
        if checks_changed is not None:
            checks_changed.connect(self._on_checks)
        self._update_buttons()
        if getattr(context, "workspace", None) is not None:
            self.refresh_runs()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.steps_spin = QSpinBox(minimum=1_000, maximum=100_000_000, value=1_000_000,
                                   singleStep=100_000)
        # 0 ("preset"): the preset's number of envs, with its rollout per env.
        self.envs_spin = QSpinBox(minimum=0, maximum=256, value=0, specialValueText="preset")
        self.preset_box = PresetPicker()
        task_changed = getattr(self._ctx, "taskChanged", None)
        if task_changed is not None:
            task_changed.connect(lambda t: self.preset_box.set_task(getattr(t, "env_id", None) or str(t)))
        current = getattr(getattr(self._ctx, "task", None), "env_id", None)
        if current:
            self.preset_box.set_task(current)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.edit_settings)
        self.settings_overrides: dict[str, Any] = {}
        """Settings the user changed from the preset (Settings…); saved with each run."""
        self._set_settings({})
        self.preset_box.currentIndexChanged.connect(lambda _i: self._set_settings({}))
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start_run)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_run)
        self.apply_button = QPushButton("Apply to running run")
        self.apply_button.setToolTip("Send the editor's design to the running run; the curves "
                                     "mark the step where it takes over")
        self.apply_button.clicked.connect(self.apply_design)
        self.progress = QProgressBar(maximum=100)
        self.progress.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.cancel_button.clicked.connect(self._loader.cancel)
        # One elided line (full text in the tooltip and the Log): never widens the dock.
        self.status = MessageLabel()
        bar = QHBoxLayout()
        for w in (self.preset_box, QLabel("steps"), self.steps_spin, QLabel("envs"), self.envs_spin,
                  self.settings_button, self.start_button, self.pause_button, self.stop_button, self.apply_button,
                  self.progress, self.cancel_button):
            bar.addWidget(w)
        bar.addStretch(1)

        self.curves = CurvesView()
        self.runs_list = QListWidget()
        self.runs_list.setToolTip("Tick runs to draw them with the live one; select a run to "
                                  "name it, keep notes on it or play its checkpoint")
        self.runs_list.itemChanged.connect(self._on_run_checked)
        self.runs_list.currentItemChanged.connect(lambda *_: self._show_selected_notes())
        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        self.seeds_box = QCheckBox("Seeds as mean and band")
        self.seeds_box.setToolTip("Ticked runs of one configuration (same task, design version "
                                  "and settings) that differ only in their seed are drawn as "
                                  "their mean with a min–max band")
        self.seeds_box.toggled.connect(lambda _on: self._redraw_compared())
        self.notes = RunNotes()
        self.notes.saved.connect(lambda *_: self.refresh_runs())
        self.hparams = HyperparameterTable()
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(QLabel("Compare with stored runs:"))
        bl.addWidget(self.runs_list, 1)
        bl.addWidget(self.seeds_box)
        bl.addWidget(self.notes)
        self.play_button = QPushButton("Play latest checkpoint in viewer")
        self.play_button.setToolTip("The viewer plays the selected run's newest checkpoint "
                                    "(its title names the run and the step)")
        self.play_button.clicked.connect(self.play_selected_checkpoint)
        bl.addWidget(self.play_button)
        self.resume_button = QPushButton("Continue selected run")
        self.resume_button.setToolTip("Continue a stopped or interrupted run from its last "
                                      "checkpoint: the same run, its steps counting on")
        self.resume_button.clicked.connect(self.resume_selected_run)
        bl.addWidget(self.resume_button)
        side = QTabWidget()
        side.addTab(scrolling_column(box), "Runs")  # scrolls rather than setting the dock's height
        side.addTab(self.hparams, "Hyperparameters")
        side.addTab(self.findings, "Findings")
        self.side_tabs = side
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.curves)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)  # room for the hyperparameter table's columns
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(_scrolling(bar))  # the controls scroll rather than widen the dock
        lay.addWidget(self.status)
        lay.addWidget(split, 1)

    # -- run control ------------------------------------------------------------------------

    @property
    def run_id(self) -> int | None:
        """The live run's id, or None."""
        return None if self.controller is None else self.controller.run_id

    def _controller(self) -> Any:
        from studio.app.run_controller import RunController

        ws = getattr(self._ctx, "workspace", None)
        if ws is None:
            return None
        if self.controller is None or self.controller.workspace is not ws:
            if self.controller is not None:
                self.controller.close()
            self.controller = self._owned["controller"] = RunController(ws)
        return self.controller

    def start_run(self) -> None:
        """Train the editor's current design on the current task."""
        ctl = self._controller()
        if ctl is None:
            self._set_status("Open a workspace first: runs are saved in it.", error=True)
            return
        blocker = self._check_now()
        if blocker is not None:
            self._set_status(f"Cannot start: {blocker}", error=True)
            return
        design = self._ctx.design.copy()
        task = getattr(self._ctx, "task", None)
        env_id = getattr(task, "env_id", None) or design.task
        try:
            config = self.preset_box.config(env_id, self.steps_spin.value(), self.envs_spin.value() or None,
                                            **{**self.settings_overrides, **self.config_overrides})
        except (KeyError, ValueError) as exc:
            self._set_status(f"Cannot start: {exc.args[0] if exc.args else exc}", error=True)
            return
        model = getattr(self._ctx, "design_model", None)
        version = self._ctx.current_version_id if model is not None and not model.dirty else None
        try:
            run_id = ctl.start(design, env_id, config, version)
        except Exception as exc:  # noqa: BLE001 - shown to the user, with the reason
            self._set_status(f"Could not start training: {exc}", error=True)
            return
        self.series[run_id] = defaultdict(lambda: ([], []))
        self._follow_saved(ctl, run_id, design)
        self._set_status(f"{self.run_label(run_id)} started: {design.name} "
                         f"{self._version_label(self._run_version(run_id))} on {env_id} "
                         f"({config.total_timesteps:,} steps).")
        self._lifecycle(f"{self.run_label(run_id)} started ({design.name} on {env_id}, "
                        f"{config.total_timesteps:,} steps)")
        self.progress.setValue(0)
        self._hub.run_started.emit(run_id)
        self.refresh_runs()  # the new run joins the list and the hyperparameter table
        self._timer.start()
        self._update_buttons()

    def resume_selected_run(self) -> bool:
        """Continue the selected stopped or interrupted run from its last checkpoint."""
        item = self.runs_list.currentItem()
        ctl = self._controller()
        if item is None or ctl is None:
            self._set_status("Select a stopped or interrupted run first.", error=True)
            return False
        rid = int(item.data(Qt.ItemDataRole.UserRole))
        try:
            ctl.resume_run(rid)
        except RuntimeError as exc:
            self._set_status(f"Cannot continue run {rid}: {exc}", error=True)
            return False
        self.series.setdefault(rid, defaultdict(lambda: ([], [])))
        self._set_status(f"{self.run_label(rid)} continues from its last checkpoint.")
        self._lifecycle(f"{self.run_label(rid)} resumed from its last checkpoint")
        self._hub.run_started.emit(rid)
        self.refresh_runs()
        self._timer.start()
        self._update_buttons()
        return True

    def edit_settings(self) -> Any:
        """Settings…: every setting of the selected preset, editable (a dialog, not modal)."""
        from studio.ui.dashboard.settings import SettingsDialog

        env_id = getattr(getattr(self._ctx, "task", None), "env_id", None) or self._ctx.design.task
        steps, envs = self.steps_spin.value(), self.envs_spin.value() or None
        try:
            preset = self.preset_box.config(env_id, steps, envs)
            current = self.preset_box.config(env_id, steps, envs, **self.settings_overrides)
        except (AssertionError, KeyError, TypeError, ValueError) as exc:
            self._set_status(f"No settings to edit yet: {exc}", error=True)
            return None
        dialog = SettingsDialog(current, preset, self)
        dialog.accepted.connect(lambda: self._set_settings(dialog.overrides()))
        dialog.open()
        return dialog

    def _set_settings(self, overrides: dict[str, Any]) -> None:
        self.settings_overrides = dict(overrides)
        n = len(overrides)
        self.settings_button.setText(f"Settings… ({n} changed)" if n else "Settings…")
        changed = "; ".join(f"{k} = {v}" for k, v in sorted(overrides.items()))
        self.settings_button.setToolTip(
            "Every training setting of the selected preset, editable; saved with each run"
            + (f"\nChanged: {changed}" if changed else ""))

    def toggle_pause(self) -> None:
        """Pause a running run, or resume a paused one."""
        ctl = self.controller
        if ctl is None or not ctl.active:
            return
        if ctl.status == "paused":
            ctl.resume()
            self._lifecycle(f"{self.run_label(ctl.run_id)} resumed")
        else:
            ctl.pause()
            self._lifecycle(f"{self.run_label(ctl.run_id)} paused at step {ctl.last_step:,}")
        self._update_buttons()

    def stop_run(self) -> None:
        """Ask the run to checkpoint and stop (confirmed by the next polls)."""
        if self.controller is not None and self.controller.active:
            self.controller.stop()
            self._set_status("Stopping at the next update…")
            self._lifecycle(f"{self.run_label(self.controller.run_id)} stopping (checkpoint at "
                            "the next update)")

    def apply_design(self) -> None:
        """Send the editor's design to the running run."""
        ctl = self.controller
        if ctl is None or not ctl.active:
            self._set_status("No run is active: start one first.", error=True)
            return
        model = getattr(self._ctx, "design_model", None)
        version = self._ctx.current_version_id if model is not None and not model.dirty else None
        design = self._ctx.design
        blocker = self._check_now()
        if blocker is not None:
            self._set_status(f"Cannot apply: {blocker}", error=True)
            return
        document = design.to_json()
        try:
            vid = ctl.apply_design(document, version, design.name)
        except Exception as exc:  # noqa: BLE001
            self._set_status(f"Could not apply the design: {exc}", error=True)
            return
        if model is not None and self._ctx.design.to_json() == document:
            # The editor follows the version the run now uses (saved just now or reused).
            self._ctx.announce_saved(vid)
        label = f"{design.name} {self._version_label(vid)}"
        self._set_status(f"{label} sent to {self.run_label(ctl.run_id)}; it takes over at "
                         "the next update.")
        self._lifecycle(f"{label} applied to {self.run_label(ctl.run_id)}")

    def shutdown(self) -> None:
        """Stop polling and stop a live run (the window is closing)."""
        self._timer.stop()
        self._loader.cancel()
        if self.controller is not None:
            self.controller.close()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    # -- polling ---------------------------------------------------------------------------

    @Slot()
    def poll(self) -> None:
        """Drain the run's messages (non-blocking), persist them, redraw what changed."""
        ctl = self.controller
        if ctl is None or ctl.run_id is None:
            self._timer.stop()
            return
        if not ctl.active:
            # The run ended: collect its process (no zombie), then stop polling.
            if ctl.reap():
                self._timer.stop()
            return
        try:
            res = ctl.poll()
        except Exception as exc:  # noqa: BLE001 - e.g. the disk is full: say so, keep going
            self._set_status(f"Could not save the run's progress: {exc}", error=True)
            return
        if res.empty:
            return
        rid = ctl.run_id
        series = self.series.setdefault(rid, defaultdict(lambda: ([], [])))
        for m in res.metrics:
            for k, v in m.values.items():
                steps, values = series[k]
                steps.append(m.step)
                values.append(float(v))
        if res.metrics:
            self.curves.set_series(rid, series, live=True, label=f"{self.run_label(rid)} (live)")
        for mk in res.markers:
            self._draw_marker(rid, mk.step, mk.kind, mk.payload)
        if res.progress is not None:
            p = res.progress
            self.progress.setValue(int(100 * p.step / max(p.total, 1)))
            self.progress.setFormat(f"{p.step:,} / {p.total:,}")
            self.status.set_message(f"{self.run_label(rid)} · {ctl.status} · {p.sps:,.0f} steps/s · "
                                    f"ETA {p.eta_s:,.0f} s · return {p.mean_return:.2f}", "info")
        if res.snapshot is not None:
            self._hub.snapshot.emit(res.snapshot)
        if res.metrics:
            self._hub.metrics.emit(res.metrics)
            self.metrics_received.emit(res.metrics)
        if res.failed is not None:
            where = f" (term '{res.failed.term}')" if res.failed.term else ""
            self._set_status(f"{self.run_label(rid)} failed{where}: {res.failed.cause}", error=True)
            self.status.setToolTip(res.failed.traceback_text[-3000:])
        elif res.finished is not None:
            text = f"{self.run_label(rid)} {res.finished.reason} at step {res.finished.step:,}"
            self._set_status(text + ".")
            self._lifecycle(text)
        if res.failed is not None or res.finished is not None:
            if ctl.reap():  # usually not yet: the next polls collect the process
                self._timer.stop()
            self._hub.run_ended.emit(rid, str(ctl.status))
            self.run_finished.emit(rid, str(ctl.status))
            self.refresh_runs()
        if time.monotonic() - self._last_detect > DETECT_EVERY_S or not ctl.active:
            self._last_detect = time.monotonic()
            self.show_findings(detect(series))
        self._update_buttons()

    def _draw_marker(self, run_id: int, step: int, kind: str, payload: dict[str, Any]) -> None:
        if kind == "design":
            # The marker names the version by its number (v2), not its database id.
            label = self._version_label(payload.get("version_id"))
            if "relabelled" in payload:  # SAC re-labelled its replay buffer under the new design
                label += f" · {payload['relabelled']:,} re-labelled in {payload.get('relabel_s', 0):.2f} s"
                if payload.get("dropped"):
                    label += f", {payload['dropped']:,} dropped"
            self.curves.add_marker(run_id, step, label)
        elif kind == "replay":  # a resumed SAC run refilled (or could not refill) its buffer
            restored = int(payload.get("restored", 0))
            self.curves.add_marker(run_id, step, f"buffer: {restored:,} restored" if restored
                                   else "buffer refilled by acting")
            if payload.get("reason"):
                self._set_status(f"The replay buffer could not be restored ({payload['reason']}); "
                                 "the run refills it by acting.")
        elif kind == "design_rejected":
            self.curves.add_marker(run_id, step, "rejected")
            self._set_status(f"The design was rejected by the run: {payload.get('error', '')}",
                             error=True)

    def show_findings(self, findings: list[Finding]) -> None:
        """List the detectors' findings, worst first, evidence and fix in the tooltip."""
        self.findings.clear()
        colours = {"error": QColor("#c0392b"), "warning": QColor("#b9770e"),
                   "info": QColor("#2f6fbf")}
        for f in findings:
            item = QListWidgetItem(f"[{f.severity}] {f.evidence}\n→ {f.suggestion}")
            item.setForeground(colours.get(f.severity, QColor("black")))
            item.setToolTip(f"{f.kind}: {f.evidence}\n\nSuggestion: {f.suggestion}")
            item.setData(Qt.ItemDataRole.UserRole, f.kind)
            self.findings.addItem(item)

    # -- compared runs -------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        """List the stored runs (in a worker)."""
        ws = getattr(self._ctx, "workspace", None)
        if ws is not None:
            self._lister.start(list_records, ws)

    @Slot(object)
    def _on_runs_listed(self, records: list[RunRecord]) -> None:
        checked = set(self.compared_runs())
        current = self.runs_list.currentItem()
        keep = None if current is None else current.data(Qt.ItemDataRole.UserRole)
        self.records = {r.id: r for r in records}
        self.runs_list.blockSignals(True)
        self.runs_list.clear()
        for r in records:
            item = QListWidgetItem(f"{r.label} · {r.status} · {r.env_id} · {r.design}"
                                   + (f" · seed {r.seed}" if r.seed is not None else ""))
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setToolTip(r.notes or "no notes yet: select the run and write some below")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if r.id in checked else Qt.CheckState.Unchecked)
            self.runs_list.addItem(item)
            if r.id == keep:
                self.runs_list.setCurrentItem(item)
        self.runs_list.blockSignals(False)
        self._show_selected_notes()
        self._show_hparams()

    def _show_selected_notes(self) -> None:
        item = self.runs_list.currentItem()
        rid = None if item is None else int(item.data(Qt.ItemDataRole.UserRole))
        self.notes.show_run(getattr(self._ctx, "workspace", None), self.records.get(rid) if rid else None)

    def _show_hparams(self) -> None:
        """The hyperparameter table compares the ticked runs and the live one."""
        ids = list(dict.fromkeys([*([self.run_id] if self.run_id is not None else []),
                                  *self._compared, *self.compared_runs()]))
        self.hparams.show_runs([self.records[i] for i in ids if i in self.records])

    def compared_runs(self) -> list[int]:
        """Ids of the stored runs ticked for comparison."""
        out = []
        for i in range(self.runs_list.count()):
            item = self.runs_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def compare(self, run_ids: list[int]) -> None:
        """Overlay these stored runs (loaded in a worker; Cancel stops it)."""
        self._compared = list(run_ids)
        for rid in list(self.series):
            if rid not in run_ids and rid != self.run_id:
                self.curves.remove_run(rid)
                del self.series[rid]
        todo = [r for r in run_ids if r not in self.series and r != self.run_id]
        ws = getattr(self._ctx, "workspace", None)
        if todo and ws is not None:
            self._loader.start(load_runs, (ws, todo))
        else:
            self._redraw_compared()

    def _on_run_checked(self, _item: QListWidgetItem) -> None:
        self.compare(self.compared_runs())
        self._show_hparams()

    def play_selected_checkpoint(self) -> None:
        """Ask the viewer to play the newest checkpoint of the selected (or live) run."""
        from studio.app.runs_service import checkpoint_to_play

        item = self.runs_list.currentItem()
        rid = int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else self.run_id
        ws = getattr(self._ctx, "workspace", None)
        if rid is None or ws is None:
            self._set_status("Select a run first.", error=True)
            return
        path = checkpoint_to_play(ws, rid)
        if path is None:
            self._set_status(f"Run {rid} has no checkpoint yet.", error=True)
            return
        self._hub.play_checkpoint.emit(str(path))

    @Slot(object)
    def _on_runs_loaded(self, loaded: dict[int, dict[str, Any]]) -> None:
        for rid, data in loaded.items():
            series = defaultdict(lambda: ([], []), {k: (list(s), list(v)) for k, (s, v)
                                                    in data["series"].items()})
            self.series[rid] = series
            self._stored_markers[rid] = list(data["markers"])
        self._redraw_compared()

    def _redraw_compared(self) -> None:
        """Draw the ticked stored runs: one by one, or seeds of a configuration as a band."""
        for label in self._band_labels:
            self.curves.remove_run(label)
        self._band_labels = []
        ids = [r for r in self._compared if r in self.series and r != self.run_id]
        known = [self.records[i] for i in ids if i in self.records]
        groups = seed_groups(known) if self.seeds_box.isChecked() else [[r] for r in known]
        groups += [[RunRecord(i, "", "", "", "", "", None, {}, None, 0)] for i in ids if i not in self.records]
        for group in groups:
            if len(group) >= 2:
                label = f"{group[0].design} × {len(group)} seeds"
                keys = set().union(*(self.series[r.id].keys() for r in group))
                bands = {k: mean_band([self.series[r.id][k] for r in group if k in self.series[r.id]])
                         for k in sorted(keys)}
                for r in group:
                    self.curves.remove_run(r.id)
                self.curves.set_band(label, bands)
                self._band_labels.append(label)
                continue
            r = group[0]
            self.curves.set_series(r.id, self.series[r.id], live=False, label=self.run_label(r.id))
            for step, kind, payload in self._stored_markers.get(r.id, []):
                self._draw_marker(r.id, step, kind, payload)

    @Slot(bool)
    def _on_loading(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)

    # -- helpers ---------------------------------------------------------------------------------

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.set_message(text, "error" if error else "info")
        if error and hasattr(self._ctx, "log"):
            self._ctx.log("error", text)

    def _lifecycle(self, text: str) -> None:
        """A training event (start, pause, apply, stop, finish) for the Log dock."""
        if hasattr(self._ctx, "log"):
            self._ctx.log("info", text)

    def run_label(self, run_id: int | None) -> str:
        """``run 7 “baseline”`` (with its name when it has one)."""
        if run_id is None:
            return "run"
        record = self.records.get(run_id)
        name = record.name if record is not None else self._run_name(run_id)
        return f"run {run_id} “{name}”" if name else f"run {run_id}"

    def _run_name(self, run_id: int) -> str:
        ws = getattr(self._ctx, "workspace", None)
        if ws is None:
            return ""
        from studio.app.runs_service import run_name

        try:
            return run_name(ws, run_id)
        except Exception:  # noqa: BLE001 - a label never fails the panel
            return ""

    def _run_version(self, run_id: int) -> int | None:
        ws = getattr(self._ctx, "workspace", None)
        if ws is None:
            return None
        from studio.app.runs_service import run_version

        return run_version(ws, run_id)

    def _version_label(self, version_id: Any) -> str:
        """``v2`` for a version id (the number within its design); ``v?`` if unknown."""
        try:
            vid = int(version_id)
        except (TypeError, ValueError):
            return "v?"
        if vid not in self._version_labels:
            ws = getattr(self._ctx, "workspace", None)
            number = None
            if ws is not None:
                from studio.app.runs_service import version_number

                number = version_number(ws, vid)
            if number is None:
                return "v?"
            self._version_labels[vid] = f"v{number}"
        return self._version_labels[vid]

    def _follow_saved(self, ctl: Any, run_id: int, design: Any) -> None:
        """After Start: the editor follows the version the run trains (new or reused)."""
        model = getattr(self._ctx, "design_model", None)
        vid = self._run_version(run_id)
        if model is None or vid is None:
            return
        if vid != self._ctx.current_version_id and self._ctx.design.to_json() == design.to_json():
            self._ctx.announce_saved(vid)

    # -- checks before training ----------------------------------------------------------

    def _on_checks(self, checks: list[Any]) -> None:
        from studio.app.checks import start_blocker

        self._blocker = start_blocker(checks)
        self._update_buttons()

    def _check_now(self) -> str | None:
        """The design's first blocking check, computed now (the editor's may be 150 ms old)."""
        from studio.app.checks import check_design, start_blocker

        self._blocker = start_blocker(check_design(self._ctx.design, getattr(self._ctx, "catalog", None),
                                                   samples=16))
        self._update_buttons()
        return self._blocker

    @property
    def start_blocker(self) -> str | None:
        """Why Start is disabled now (None: it is not, or a run is active)."""
        return self._blocker

    def _update_buttons(self) -> None:
        ctl = self.controller
        active = ctl is not None and ctl.active
        self.start_button.setEnabled(not active and self._blocker is None)
        self.start_button.setToolTip(
            f"The design cannot train yet: {self._blocker}" if self._blocker and not active
            else "Train the editor's design on the current task (an unchanged design reuses "
                 "its version)")
        if self._blocker and not active and self.status.level != "error":
            self.status.set_message(f"Start is disabled: {self._blocker}", "warning")
        elif not self._blocker and self.status.level == "warning" \
                and self.status.text().startswith("Start is disabled"):
            self.status.clear_message()
        self.pause_button.setEnabled(active)
        self.resume_button.setEnabled(not active)
        self.stop_button.setEnabled(active)
        self.apply_button.setEnabled(active)
        self.pause_button.setText("Resume" if active and ctl.status == "paused" else "Pause")


def _scrolling(layout: QHBoxLayout) -> QScrollArea:
    """A row of controls in a horizontal scroll area: it never sets the dock's minimum width."""
    holder = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    area = QScrollArea()
    area.setWidget(holder)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setFixedHeight(holder.sizeHint().height() + 14)
    return area
