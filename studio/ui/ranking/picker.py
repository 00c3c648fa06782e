"""Tools › Rank rollouts…: pick 2 to 8 stored rollouts to rank, or record new ones first.

The list reads ``RankingService.rollouts`` (no scores, so the choice does not bias the
ranking; the ranking view hides them too until asked). "Record" runs
``RankingService.record`` in a worker thread, one episode after another with progress
and a Cancel button, then selects what it recorded. "Rank selected" (Enter) opens a
:class:`~studio.ui.ranking.view.RankingView` in a window of its own; when that ranking is
saved, the window closes and the list shows how often each rollout has been ranked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.errors import user_message
from studio.ui.ranking.view import MAX_VIDEOS, RankingView
from studio.ui.workers import TaskRunner, TaskState

__all__ = ["RankingDialog", "RecordInputs", "RolloutPicker", "open_ranking_dialog", "run_record"]

COLUMNS = ("id", "task", "policy", "seed", "steps", "video", "ranked")


@dataclass
class RecordInputs:
    """What :func:`run_record` records."""

    service: Any
    env_id: str
    policy: str
    design: Any
    steps: int
    seed: int
    episodes: int
    video: bool


class _Part(TaskState):
    """Progress of episode ``k`` of ``n`` reported as overall progress."""

    def __init__(self, outer: TaskState, k: int, n: int) -> None:
        super().__init__()
        self.outer, self.k, self.n = outer, k, n

    def set_progress(self, percent: float) -> None:
        self.outer.set_progress((self.k * 100.0 + percent) / self.n)

    def is_interruption_requested(self) -> bool:
        return self.outer.is_interruption_requested()


def run_record(inputs: RecordInputs, state: TaskState) -> list[int]:
    """Record ``episodes`` rollouts (seeds ``seed``, ``seed + 1``, …); their ids."""
    ids = []
    for k in range(inputs.episodes):
        if state.is_interruption_requested():
            break
        state.set_status(f"recording episode {k + 1} of {inputs.episodes}")
        info = inputs.service.record(inputs.env_id, inputs.policy, design=inputs.design,
                                     steps=inputs.steps, seed=inputs.seed + k,
                                     video=inputs.video, state=_Part(state, k, inputs.episodes))
        ids.append(int(info.id))
    return ids


class RolloutPicker(QWidget):
    """The stored rollouts of the workspace, a recorder, and "Rank selected"."""

    def __init__(self, service: Any, context: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.context = service, context
        self.ranking_window: RankingDialog | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.this_task = QCheckBox("Only the current task")
        self.shuffle = QCheckBox("Random order")
        self.shuffle.setChecked(True)
        self.shuffle.setToolTip("Show the videos in a random order, so that their place in the "
                                "grid (or their id) does not suggest a rank")
        self.this_task.setChecked(True)
        self.rank_button = QPushButton("Rank selected…")
        self.rank_button.setDefault(True)
        self.rank_button.setToolTip(f"Rank the selected rollouts ({2}–{MAX_VIDEOS}) side by side")

        self.policy = QComboBox()
        self.policy.addItems(["latest checkpoint", "random", "zero", "checkpoint file…"])
        self.policy.setToolTip("The policy to record: the newest checkpoint of any run of this "
                               "task, random or zero actions, or a checkpoint file")
        self.steps = QSpinBox()
        self.steps.setRange(10, 100_000)
        self.steps.setValue(1000)
        self.episodes = QSpinBox()
        self.episodes.setRange(1, 50)
        self.episodes.setValue(2)
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.with_design = QCheckBox("with the current design")
        self.with_design.setChecked(True)
        self.record_button = QPushButton("Record")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.recorder = TaskRunner(self)

        top = QHBoxLayout()
        top.addWidget(self.this_task)
        top.addWidget(self.shuffle)
        top.addStretch(1)
        top.addWidget(self.rank_button)
        rec = QHBoxLayout()
        for w in (QLabel("Record:"), self.policy, QLabel("steps"), self.steps, QLabel("episodes"),
                  self.episodes, QLabel("first seed"), self.seed, self.with_design,
                  self.record_button, self.cancel_button):
            rec.addWidget(w)
        rec.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(rec)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self.this_task.toggled.connect(lambda _on: self.refresh())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.rank_selected())
        self.rank_button.clicked.connect(self.rank_selected)
        self.record_button.clicked.connect(self.record)
        self.cancel_button.clicked.connect(self.recorder.cancel)
        self.recorder.progress.connect(lambda p: self.progress.setValue(int(p)))
        self.recorder.status.connect(self.status.setText)
        self.recorder.running_changed.connect(self._recording)
        self.recorder.finished.connect(self._recorded)
        self.recorder.failed.connect(lambda m, _tb: self.status.setText(f"Recording failed: {m}"))
        self.refresh()

    # --- the list ----------------------------------------------------------------------------
    def env_id(self) -> str | None:
        """The current task's env id, if a task is loaded."""
        task = getattr(self.context, "task", None)
        return getattr(task, "env_id", None)

    def refresh(self, select: list[int] | None = None) -> None:
        """Read the rollouts again (and select ``select``)."""
        env = self.env_id() if self.this_task.isChecked() else None
        rollouts = self.service.rollouts(env_id=env)
        counts: dict[int, int] = {}
        for ranking in self.service.rankings():
            for tier in ranking.tiers:
                for rid in tier:
                    counts[rid] = counts.get(rid, 0) + 1
        self.rollouts = {r.id: r for r in rollouts}
        self.table.setRowCount(len(rollouts))
        for row, r in enumerate(rollouts):
            video = "yes" if r.video_path is not None and r.video_path.exists() else (
                "missing" if r.video_path is not None else "no")
            for col, value in enumerate((r.id, r.env_id, r.policy, r.seed, r.length, video,
                                         counts.get(r.id, 0))):
                item = QTableWidgetItem(str(value))
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.table.setItem(row, col, item)
        if select:
            model, chosen = self.table.selectionModel(), QItemSelection()
            for row in range(self.table.rowCount()):
                if self._row_id(row) in select:
                    chosen.select(self.table.model().index(row, 0),
                                  self.table.model().index(row, len(COLUMNS) - 1))
            model.select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._selection_changed()

    def selected_ids(self) -> list[int]:
        """Ids of the selected rollouts, in list order."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._row_id(r) for r in rows]

    def _row_id(self, row: int) -> int:
        item = self.table.item(row, 0)
        return -1 if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _selection_changed(self) -> None:
        n = len(self.selected_ids())
        self.rank_button.setEnabled(2 <= n <= MAX_VIDEOS)
        self.rank_button.setText(f"Rank {n} selected…" if n else "Rank selected…")

    # --- ranking -----------------------------------------------------------------------------
    def rank_selected(self) -> RankingDialog | None:
        """Open the ranking view on the selected rollouts."""
        ids = self.selected_ids()
        if not 2 <= len(ids) <= MAX_VIDEOS:
            self.status.setText(f"Select 2 to {MAX_VIDEOS} rollouts to rank (Ctrl+click, Shift+click).")
            return None
        infos = [self.rollouts[i] for i in ids]
        if self.shuffle.isChecked():
            random.shuffle(infos)
        design = getattr(self.context, "design", None)
        dialog = RankingDialog(self.service, infos, design, self)
        dialog.view.saved.connect(lambda rid: self._ranked(dialog, rid))
        self.ranking_window = dialog
        dialog.show()
        return dialog

    def _ranked(self, dialog: QDialog, ranking_id: int) -> None:
        self.status.setText(f"Ranking {ranking_id} saved.")
        dialog.close()
        self.refresh()

    # --- recording ---------------------------------------------------------------------------
    def record(self) -> None:
        """Record new rollouts of the current task in a worker thread."""
        env = self.env_id()
        if env is None:
            self.status.setText("Load a task first (open a design): rollouts are recorded on its task.")
            return
        policy = self.policy.currentText()
        if policy == "latest checkpoint":
            from studio.app.workspace_service import latest_checkpoint_for_task

            found = latest_checkpoint_for_task(self.service.workspace, env)
            if found is None:
                self.status.setText(f"No run of {env} has a checkpoint yet: train one, or record "
                                    "random or zero actions.")
                return
            policy = str(found)
        elif policy.startswith("checkpoint"):
            path, _ = QFileDialog.getOpenFileName(self, "Policy checkpoint", "", "Checkpoints (*.pt)")
            if not path:
                return
            policy = path
        design = getattr(self.context, "design", None) if self.with_design.isChecked() else None
        self.recorder.start(run_record, RecordInputs(
            self.service, env, policy, design, self.steps.value(), self.seed.value(),
            self.episodes.value(), True))

    def _recording(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.progress.setValue(0)
        self.record_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _recorded(self, ids: list[int]) -> None:
        self.status.setText(f"Recorded rollout {', '.join(map(str, ids))}.")
        self.refresh(select=ids)

    def shutdown(self) -> None:
        """Cancel a recording and close the ranking window."""
        self.recorder.cancel()
        if self.ranking_window is not None:
            self.ranking_window.close()


class RankingDialog(QDialog):
    """A window holding one :class:`RankingView`."""

    def __init__(self, service: Any, rollouts: list[Any], design: Any, parent: QWidget | None = None,
                 autoplay: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Rank {len(rollouts)} rollouts — Reward Studio")
        self.view = RankingView(service, rollouts, design, autoplay=autoplay)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.resize(1400, 900)
        self.view.setFocus()

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's close path
        self.view.shutdown()
        super().done(result)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.view.shutdown()
        super().closeEvent(event)


class _PickerDialog(QDialog):
    def __init__(self, picker: RolloutPicker, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.picker = picker
        self.setWindowTitle("Rank rollouts — Reward Studio")
        lay = QVBoxLayout(self)
        lay.addWidget(picker)
        self.resize(820, 520)

    def done(self, result: int) -> None:  # noqa: D102
        self.picker.shutdown()
        super().done(result)


def open_ranking_dialog(context: Any, parent: QWidget | None = None) -> QDialog | None:
    """Open the rollout picker for the context's workspace (a message if none is open)."""
    from studio.app.ranking import RankingService

    if getattr(context, "workspace", None) is None:
        context.log("warning", "open a workspace first (File › Open workspace…)")
        return None
    try:
        service = RankingService(context.workspace)
        dialog = _PickerDialog(RolloutPicker(service, context), parent)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        context.log("error", f"Cannot open the rollouts: {user_message(exc) or exc}")
        raise
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
