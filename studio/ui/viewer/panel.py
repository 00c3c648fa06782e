"""The embedded MuJoCo viewer: controls around a :class:`FrameView` fed by a :class:`ViewerWorker`.

The panel keeps no state of its own beyond its widgets: the task and the design come from
the :class:`~studio.ui.context.AppContext` (re-read on ``taskChanged`` and, throttled, on
``designChanged``), the live policy from the run hub, everything else is passed to the
worker thread as commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.dashboard.hub import hub_for
from studio.ui.viewer.view import FrameView
from studio.ui.viewer.worker import Source, ViewerWorker
from studio.ui.widgets import MessageLabel
from studio.ui.widgets.scroll_row import scrolling_row
from studio.ui.workers import TaskRunner, TaskState

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
SOURCES = (("random", "Random policy"), ("zero", "Zero action"),
           ("training", "Training policy (live)"), ("checkpoint", "Checkpoint…"),
           ("rollout", "Rollout / video…"))


def _load_checkpoint(path: str, state: TaskState) -> Any:
    from studio.app.rollouts import policy_from_checkpoint

    return policy_from_checkpoint(path)


def _load_video(path: str, state: TaskState) -> Any:
    from studio.sim.video import read_video_frames

    return read_video_frames(path)


def _load_trace(path: str, state: TaskState) -> Any:
    from studio.app.rollouts import RolloutTrace

    return RolloutTrace.load(path)


def _stop_worker(owned: dict[str, Any]) -> None:
    worker = owned.get("worker")
    owned["worker"] = None
    if worker is not None:
        worker.stop(timeout=2.0)


class ViewerPanel(QWidget):
    """Plays a policy, a checkpoint, a rollout or a video of the current task, live.

    Signals:
        first_frame_ready(): the first frame is on screen (screenshot mode waits for it).
        frame_shown(int): the number of frames shown so far.
    """

    first_frame_ready = Signal()
    frame_shown = Signal(int)

    def __init__(self, context: Any, parent: QWidget | None = None, *,
                 width: int = 640, height: int = 480, autostart: bool = True) -> None:
        super().__init__(parent)
        self._ctx = context
        self._size = (width, height)
        self.worker: ViewerWorker | None = None
        self._first = False
        self._source_kind = "random"
        self._loader = TaskRunner(self)
        self._loader.finished.connect(self._on_loaded)
        self._loader.failed.connect(self._on_load_failed)
        self._design_timer = QTimer(self, singleShot=True, interval=100)
        self._design_timer.timeout.connect(self._send_design)
        self._build()
        context.taskChanged.connect(self._on_task)
        context.designChanged.connect(lambda _d: self._design_timer.start())
        self._hub = hub_for(context)
        self._hub.snapshot.connect(self._on_snapshot)
        self._hub.play_checkpoint.connect(self.play_checkpoint)
        # The worker thread must end with the panel even when nobody calls shutdown (a
        # closed main window, the app quitting): these closures hold the worker, not self.
        self._owned: dict[str, Any] = {"worker": None}
        owned = self._owned
        self.destroyed.connect(lambda *_: _stop_worker(owned))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: _stop_worker(owned))
        if autostart:
            self.restart()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.view = FrameView(self)
        self.source_combo = QComboBox()
        for key, text in SOURCES:
            self.source_combo.addItem(text, key)
        self.source_combo.activated.connect(self._on_source_chosen)
        self.play_button = QToolButton(text="Pause", checkable=True)
        self.play_button.toggled.connect(self.set_paused)
        self.step_button = QToolButton(text="Step")
        self.step_button.clicked.connect(self.step_once)
        self.speed_combo = QComboBox()
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.currentIndexChanged.connect(
            lambda i: self.set_speed(float(self.speed_combo.itemData(i))))
        self.reset_button = QPushButton("Reset")
        self.reset_button.clicked.connect(self.reset)
        self.track_combo = QComboBox()
        self.track_combo.addItem("Free camera", None)
        self.track_combo.currentIndexChanged.connect(
            lambda i: self._send("track", self.track_combo.itemData(i)))
        self.shadows_box = QCheckBox("Shadows")
        self.shadows_box.toggled.connect(lambda on: self._send("shadows", on))
        self.reflections_box = QCheckBox("Reflections")
        self.reflections_box.toggled.connect(lambda on: self._send("reflections", on))
        self.overlay_box = QCheckBox("Rewards", checked=True)
        self.overlay_box.toggled.connect(self._toggle_overlay)
        self.source_combo.setToolTip("What the viewer plays: a random or zero policy, the live "
                                     "training policy, a checkpoint, a saved rollout or a video")
        self.step_button.setToolTip("Advance one step (while paused)")
        self.speed_combo.setToolTip("Playback speed relative to the task's real time")
        self.reset_button.setToolTip("Start a new episode")
        self.track_combo.setToolTip("A body for the camera to follow (drag to orbit, right-drag "
                                    "to pan, wheel to zoom)")
        self.shadows_box.setToolTip("Shadows (slower on a software renderer)")
        self.reflections_box.setToolTip("Floor reflections (slower on a software renderer)")
        self.overlay_box.setToolTip("The overlay: what plays, the reward, each term in its colour")
        self.status = MessageLabel()  # one elided line: never widens the dock

        bar = QHBoxLayout()
        for w in (self.source_combo, self.play_button, self.step_button, self.speed_combo,
                  self.reset_button, QLabel("Track:"), self.track_combo, self.shadows_box,
                  self.reflections_box, self.overlay_box):
            bar.addWidget(w)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(scrolling_row(bar))  # scrolls rather than widening the dock
        lay.addWidget(self.view, 1)
        lay.addWidget(self.status)
        self.view.orbit.connect(lambda a, e: self._send("orbit", a, e))
        self.view.pan.connect(lambda r, u: self._send("pan", r, u))
        self.view.zoom.connect(lambda f: self._send("zoom", f))

    # -- worker lifecycle --------------------------------------------------------------------

    def _task(self) -> Any:
        # Only the context's task: the main window loads it in a worker and announces it.
        return getattr(self._ctx, "task", None)

    @property
    def has_first_frame(self) -> bool:
        """Whether a frame has been shown since the panel was built."""
        return self._first

    def restart(self) -> None:
        """(Re)start the worker for the context's current task; a no-op without a task."""
        self.shutdown()
        task = self._task()
        if task is None:
            self.view.clear()
            self.status.setText("Waiting for a task…")
            return
        w, h = self._size
        self.worker = self._owned["worker"] = ViewerWorker(task, self._design_copy(), w, h,
                                   shadows=self.shadows_box.isChecked(),
                                   reflections=self.reflections_box.isChecked())
        self.view.set_buffers(self.worker.slot.buffers)
        self.worker.signals.frame_ready.connect(self._on_frame)
        self.worker.signals.info.connect(self._on_info)
        self.worker.signals.error.connect(self._on_error)
        self.worker.start()
        self._apply_source_kind(self._source_kind)
        self.worker.send("speed", float(self.speed_combo.currentData()))
        self.worker.send("pause", self.play_button.isChecked())
        self.worker.send("visible", self.isVisible())

    def shutdown(self, wait: float = 0.0) -> None:
        """Stop the worker thread (it frees its GL context itself).

        By default this does not wait: a worker still building its env (a second or so)
        must not freeze the window; it ends as soon as it looks at its commands.
        """
        if self.worker is not None:
            self.worker.signals.frame_ready.disconnect(self._on_frame)
            self.worker.signals.info.disconnect(self._on_info)
            self.worker.signals.error.disconnect(self._on_error)
            self.worker.stop(timeout=wait)
            self.worker = self._owned["worker"] = None

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._send("visible", True)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        # Nobody sees the frames: stop rendering them (the sim keeps its pace).
        super().hideEvent(event)
        self._send("visible", False)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def _send(self, *cmd: Any) -> None:
        if self.worker is not None:
            self.worker.send(*cmd)

    # -- public controls ------------------------------------------------------------------

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause or play."""
        if self.play_button.isChecked() != paused:
            self.play_button.setChecked(paused)
            return
        self.play_button.setText("Play" if paused else "Pause")
        self._send("pause", paused)

    def step_once(self) -> None:
        """Advance one step (pauses first)."""
        self.set_paused(True)
        self._send("step")

    def set_speed(self, factor: float) -> None:
        """Playback speed, 0.25× to 4× real time."""
        self._send("speed", float(np.clip(factor, SPEEDS[0], SPEEDS[-1])))

    def reset(self) -> None:
        """Start a new episode (or rewind the rollout)."""
        self._send("reset")

    def track_body(self, body: str | int | None) -> None:
        """Follow a body (name or id) with the camera; None frees it."""
        if isinstance(body, str):
            i = self.track_combo.findText(body)
            body = self.track_combo.itemData(i) if i >= 0 else None
        i = self.track_combo.findData(body)
        self.track_combo.setCurrentIndex(max(i, 0))

    def play_random(self) -> None:
        """Random actions (a design with no run yet)."""
        self._set_source(Source("random", label="random policy"), "random")

    def play_zero(self) -> None:
        """Zero actions."""
        self._set_source(Source("zero", label="zero action"), "zero")

    def play_policy(self, policy: Any, label: str = "policy") -> None:
        """Any callable obs [1, obs_dim] -> action [1, act_dim]."""
        self._set_source(Source("policy", policy=policy, label=label), "policy")

    def play_snapshot(self, snapshot: Any) -> None:
        """A training :class:`~studio.train.messages.Snapshot`."""
        from studio.app.rollouts import policy_from_snapshot

        policy = policy_from_snapshot(snapshot.policy_state_dict, snapshot.obs_rms)
        run = self._run_label(snapshot.run_key)
        self._set_source(Source("policy", policy=policy,
                                label=f"{run} live, policy at step {snapshot.step:,}"), "training")

    def follow_training(self) -> None:
        """Play the live training policy, refreshed at every snapshot."""
        self._source_kind = "training"
        self._select("training")
        snap = self._hub.latest_snapshot
        if snap is not None:
            self.play_snapshot(snap)
        else:
            self._send("source", Source("random", label="waiting for a snapshot"))

    def play_checkpoint(self, path: str) -> None:
        """A saved checkpoint, loaded in a worker thread."""
        self.status.setText(f"Loading {Path(path).name}…")
        # The overlay says which run and checkpoint it plays.
        workspace = getattr(self._ctx, "workspace", None)
        if workspace is not None:
            from studio.app.run_records import describe_checkpoint

            self._pending_label = describe_checkpoint(workspace, path)
        else:
            self._pending_label = f"checkpoint {Path(path).name}"
        self._loader.start(_load_checkpoint, path)

    def _run_label(self, run_key: Any) -> str:
        """``run 7 “name” (design v2)``, cached per run (asked at every snapshot)."""
        cache = self.__dict__.setdefault("_run_labels", {})
        if run_key not in cache:
            workspace = getattr(self._ctx, "workspace", None)
            if workspace is None:
                return f"run {run_key}"
            from studio.app.run_records import describe_run

            cache[run_key] = describe_run(workspace, run_key)
        return str(cache[run_key])

    def play_trace(self, trace: Any) -> None:
        """Replay a recorded rollout's states, with its per-step rewards in the overlay."""
        self._set_source(Source("trace", trace=trace, label="rollout"), "rollout")

    def play_trace_file(self, path: str) -> None:
        """Replay a rollout saved with ``RolloutTrace.save`` (loaded in a worker thread)."""
        self.status.setText(f"Loading {Path(path).name}…")
        self._pending_label = "rollout"
        self._loader.start(_load_trace, path)

    def play_video(self, path: str) -> None:
        """Play a recorded video file (decoded in a worker thread)."""
        self.status.setText(f"Loading {Path(path).name}…")
        self._pending_label = f"video {Path(path).name}"
        self._loader.start(_load_video, path)

    # -- internals ---------------------------------------------------------------------------

    def _select(self, key: str) -> None:
        i = self.source_combo.findData(key)
        if i >= 0:
            self.source_combo.setCurrentIndex(i)

    def _set_source(self, source: Source, key: str) -> None:
        self._source_kind = key
        self._select(key)
        self._send("source", source)

    def _apply_source_kind(self, key: str) -> None:
        if key == "zero":
            self.play_zero()
        elif key == "training":
            self.follow_training()
        else:
            self.play_random()

    @Slot(int)
    def _on_source_chosen(self, index: int) -> None:
        key = self.source_combo.itemData(index)
        if key in ("random", "zero", "training"):
            self._apply_source_kind(key)
        elif key == "checkpoint":
            path, _ = QFileDialog.getOpenFileName(self, "Play a checkpoint", "",
                                                  "Checkpoints (*.pt);;All files (*)")
            if path:
                self.play_checkpoint(path)
        elif key == "rollout":
            path, _ = QFileDialog.getOpenFileName(
                self, "Play a rollout", "",
                "Rollouts (*.mp4 *.webm *.avi *.npz);;Videos (*.mp4 *.webm *.avi);;"
                "Recorded states (*.npz);;All files (*)")
            if path.endswith(".npz"):
                self.play_trace_file(path)
            elif path:
                self.play_video(path)

    @Slot(object)
    def _on_loaded(self, result: Any) -> None:
        label = getattr(self, "_pending_label", "")
        self.status.setText("")
        if isinstance(result, np.ndarray):
            self._set_source(Source("video", frames=result, label=label), "rollout")
        elif hasattr(result, "qpos"):
            self.play_trace(result)
        else:
            self._set_source(Source("policy", policy=result, label=label), "checkpoint")

    @Slot(str, str)
    def _on_load_failed(self, message: str, _tb: str) -> None:
        self.status.setText(f"Could not load: {message}")

    @Slot(object)
    def _on_snapshot(self, snapshot: Any) -> None:
        if self._source_kind == "training":
            self.play_snapshot(snapshot)

    def _on_task(self, task: Any) -> None:
        self.restart()
        # A task with a trained policy in the workspace shows that policy, not random actions.
        workspace = getattr(self._ctx, "workspace", None)
        if task is None or workspace is None or self._source_kind != "random":
            return
        from studio.app.workspace_service import latest_checkpoint_for_task

        try:
            path = latest_checkpoint_for_task(workspace, task.env_id)
        except Exception as exc:  # noqa: BLE001 - the viewer still plays a random policy
            self.status.setText(f"No checkpoint loaded: {exc}")
            return
        if path is not None:
            self.play_checkpoint(str(path))

    def _design_copy(self) -> Any:
        # The editor mutates its design in place: the worker thread gets its own copy.
        design = getattr(self._ctx, "design", None)
        return None if design is None else design.copy()

    def _send_design(self) -> None:
        self._send("design", self._design_copy())

    def _toggle_overlay(self, on: bool) -> None:
        self.view.show_overlay = on
        self.view.update()

    @Slot()
    def _on_frame(self) -> None:
        if self.worker is None:
            return
        got = self.worker.slot.take()
        if got is None:
            return
        self.view.show_frame(*got)
        if got[1].history:
            self._hub.live_steps.emit(got[1].history)
        self.frame_shown.emit(self.view.frames_shown)
        if not self._first:
            self._first = True
            self.first_frame_ready.emit()

    @Slot(object)
    def _on_info(self, info: dict[str, Any]) -> None:
        self.track_combo.blockSignals(True)
        self.track_combo.clear()
        self.track_combo.addItem("Free camera", None)
        for i, name in enumerate(info.get("bodies", []), start=1):
            self.track_combo.addItem(name, i)
        self.track_combo.setCurrentIndex(max(self.track_combo.findData(info.get("tracked")), 0))
        self.track_combo.blockSignals(False)
        for box, key in ((self.shadows_box, "shadows"), (self.reflections_box, "reflections")):
            box.blockSignals(True)
            box.setChecked(bool(info.get(key, False)))
            box.blockSignals(False)
        self.status.setText(f"renderer: {info.get('backend') or 'default'}")

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.status.setText(message)
        if hasattr(self._ctx, "log"):
            self._ctx.log("error", message)
