"""The Refinement panel: start, pause and resume an experiment, follow its rounds, rank them.

The loop itself (``studio.app.refine.RefineService.run``) runs in a worker thread of its
own (it lasts as long as the experiment); the panel reads the stored state twice a second
and redraws the rounds: each candidate's status, device and place, its training curve
(``charts/episodic_return``) when selected. When a round awaits a person's ranking, the
ranking view opens on the round's K videos; once it is saved the loop resumes by itself.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.workers import TaskRunner, TaskState, shared_executor

__all__ = ["RefinePanel", "open_refine_dialog"]

_COLUMNS = ("round / candidate", "status", "place", "rollout")


def _check_connection(inputs: tuple[str, str, str], _state: TaskState) -> tuple[bool, str]:
    """Worker body: one tiny request to the LLM endpoint."""
    from studio.refine.llm import LLMProposer

    url, model, key = inputs
    return LLMProposer(model=model, base_url=url or None, api_key=key or None, timeout=20).test_connection()


def _drive(inputs: tuple[Any, int], state: TaskState) -> str:
    """Worker body: advance the experiment until it blocks, is paused or is cancelled."""
    service, exp = inputs
    service.log = state.set_status
    action = service.run(exp, should_stop=state.is_interruption_requested)
    return type(action).__name__


class RefinePanel(QWidget):
    """Run and follow refinement experiments of one workspace.

    Args:
        service: a ``studio.app.refine.RefineService``.
        design: the start design for new experiments (``studio.core.design.Design``).
        env_id: its task.

    Signals:
        rankingOpened(object): the ranking view opened on a round (tests drive it).
        promptShown(object): the prompt dialog opened (before an LLM round is sent).
        changed(): the rounds were redrawn.
    """

    rankingOpened = Signal(object)  # noqa: N815 - Qt's naming
    promptShown = Signal(object)  # noqa: N815
    changed = Signal()

    def __init__(self, service: Any, design: Any, env_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.design, self.env_id = service, design, env_id
        self.experiment: int | None = None
        self.ranking_view: Any = None
        self._ranking_round: int | None = None
        self._status: str | None = None
        # One thread of its own: the loop runs for the whole experiment.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refine-loop")
        self.runner = TaskRunner(self, self._executor)
        self.runner.status.connect(self._say)
        self.runner.failed.connect(lambda msg, _tb: self._say(f"The loop stopped: {msg}"))
        self.runner.finished.connect(lambda _r: self.refresh())
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.refresh)

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.proposer = QComboBox()
        self.proposer.addItems(["preference", "llm", "perturb"])
        self.rounds = self._spin(1, 50, 5)
        self.k = self._spin(2, 8, 4)
        self.steps = self._spin(256, 10_000_000, 100_000, step=10_000)
        self.rollout_steps = self._spin(10, 10_000, 1000, step=100)
        self.rollout_steps.setToolTip("steps of each candidate's recorded video (one episode at most)")
        self.rank = QComboBox()
        self.rank.addItems(["app", "proxy"])
        self.rank.setToolTip("app: you rank each round's videos; proxy: the task score ranks them")
        form = QFormLayout()
        form.addRow("Proposer", self.proposer)
        form.addRow("Rounds", self.rounds)
        form.addRow("Candidates per round (K)", self.k)
        form.addRow("Steps per candidate", self.steps)
        form.addRow("Video steps", self.rollout_steps)
        form.addRow("Ranked by", self.rank)
        # The LLM proposer's endpoint: any OpenAI-compatible server. The key stays in memory.
        self.endpoint = QLineEdit(os.environ.get("OPENAI_BASE_URL", ""))
        self.endpoint.setPlaceholderText("https://api.openai.com/v1 (OPENAI_BASE_URL)")
        self.model = QLineEdit("gpt-4o-mini")
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("from OPENAI_API_KEY when empty; never saved")
        self.test_btn = QPushButton("Test connection")
        self.test_btn.clicked.connect(self.test_connection)
        self.prompt_btn = QPushButton("Show prompt…")
        self.prompt_btn.setToolTip("The exact prompt the LLM will be sent for the next round")
        self.prompt_btn.clicked.connect(self.show_prompt)
        llm_row = QHBoxLayout()
        llm_row.addWidget(self.test_btn)
        llm_row.addWidget(self.prompt_btn)
        form.addRow("LLM endpoint", self.endpoint)
        form.addRow("LLM model", self.model)
        form.addRow("API key", self.api_key)
        form.addRow("", llm_row)
        self._checker = TaskRunner(self, shared_executor())
        self._checker.finished.connect(lambda r: self._say(("Connected: " if r[0] else "No connection: ") + r[1]))
        self._checker.failed.connect(lambda msg, _tb: self._say(f"No connection: {msg}"))
        self.proposer.currentTextChanged.connect(lambda _t: self._enable(self._status))
        self.start_btn = QPushButton("Start")
        self.start_btn.clicked.connect(self.start)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.clicked.connect(self.pause)
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.clicked.connect(self.resume)
        self.rank_btn = QPushButton("Rank round…")
        self.rank_btn.clicked.connect(self.open_ranking)
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.resume_btn, self.rank_btn):
            buttons.addWidget(b)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.currentItemChanged.connect(lambda *_: self._show_curve())
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "episodic return")
        self.curve = self.plot.plot([], [])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.plot)
        self.status = QLabel("Set the rounds, then Start.")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._enable()

    @staticmethod
    def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
        s = QSpinBox()
        s.setRange(low, high)
        s.setSingleStep(step)
        s.setValue(value)
        return s

    # --- actions -----------------------------------------------------------------------------
    def start(self) -> None:
        """Create an experiment from the current design and run it."""
        from studio.app.refine import RefineConfig

        options: dict[str, Any] = {}
        if self.proposer.currentText() == "llm":
            if self.endpoint.text().strip():
                options["base_url"] = self.endpoint.text().strip()
            if self.api_key.text():
                options["api_key"] = self.api_key.text()  # the service keeps it in memory only
        cfg = RefineConfig(rounds=self.rounds.value(), k=self.k.value(),
                           steps_per_candidate=self.steps.value(),
                           rollout_steps=self.rollout_steps.value(),
                           video=self.rank.currentText() == "app",
                           model=self.model.text().strip() or None, proposer_options=options)
        try:
            self.experiment = self.service.create(self.design, self.env_id,
                                                  self.proposer.currentText(),
                                                  self.rank.currentText(), cfg)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._say(f"Cannot start: {exc}")
            return
        self._say(f"Experiment {self.experiment} started.")
        self._run()

    def test_connection(self) -> None:
        """Check the LLM endpoint in a worker; the answer goes to the status line."""
        self._say("Testing the connection…")
        self._checker.start(_check_connection, (self.endpoint.text().strip(),
                                                self.model.text().strip(), self.api_key.text()))

    def show_prompt(self, send: bool = False) -> QDialog | None:
        """Show the exact prompt the LLM proposer will send for the next round; with
        ``send``, the dialog's Send button resumes the loop (which sends it)."""
        text = None if self.experiment is None else self.service.prompt_preview(self.experiment)
        if text is None:
            self._say("The prompt exists once an LLM experiment has a ranked round.")
            return None
        dialog = QDialog(self)
        dialog.setWindowTitle("Prompt for the next round" + (": send it?" if send else ""))
        view = QPlainTextEdit(text)
        view.setReadOnly(True)
        layout = QVBoxLayout(dialog)
        layout.addWidget(view)
        if send:
            row = QHBoxLayout()
            dialog.send_btn = QPushButton("Send")  # type: ignore[attr-defined]
            dialog.send_btn.clicked.connect(lambda: (dialog.accept(), self.resume()))  # type: ignore[attr-defined]
            later = QPushButton("Later (Resume sends it)")
            later.clicked.connect(dialog.reject)
            row.addWidget(dialog.send_btn)  # type: ignore[attr-defined]
            row.addWidget(later)
            layout.addLayout(row)
        dialog.resize(800, 600)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.promptShown.emit(dialog)
        return dialog

    def pause(self) -> None:
        """Pause: candidates pause at their next update; the loop waits."""
        if self.experiment is not None:
            self.service.pause(self.experiment)
            self._say("Paused; Resume continues where it stopped.")
            self.refresh()

    def resume(self) -> None:
        """Continue a paused or waiting experiment."""
        if self.experiment is not None:
            self.service.resume(self.experiment)
            self._run()

    def _run(self) -> None:
        self.runner.start(_drive, (self.service, self.experiment))
        self.timer.start()
        self._enable()

    def open_ranking(self) -> None:
        """Open the ranking view on the newest round's recorded videos."""
        if self.experiment is None:
            return
        from studio.ui.ranking.view import RankingView

        state = self.service.state(self.experiment)
        if not state.rounds:
            return
        rnd = state.rounds[-1]
        ids = [c.rollout_id for c in rnd.recorded if c.rollout_id is not None]
        if len(ids) < 2:
            self._say(f"Round {rnd.index} has {len(ids)} recorded videos; rank when two or more are ready.")
            return
        infos = self.service.ranking.rollouts(ids=ids)
        view = RankingView(self.service.ranking, infos, round_id=rnd.id, autoplay=True)
        view.setWindowTitle(f"Rank round {rnd.index} of experiment {self.experiment}")
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.saved.connect(self._ranked)
        self.ranking_view, self._ranking_round = view, rnd.index
        view.show()
        self.rankingOpened.emit(view)

    def _ranked(self, _ranking_id: int) -> None:
        if self.ranking_view is not None:
            self.ranking_view.close()
        self.ranking_view = None
        if self.experiment is not None and self.service.prompt_preview(self.experiment) is not None:
            # The LLM proposer is next: show the exact prompt; it is sent on Send.
            self._say(f"Round {self._ranking_round} ranked; check the prompt, then Send.")
            self.show_prompt(send=True)
            return
        self._say(f"Round {self._ranking_round} ranked; the loop goes on.")
        self.resume()

    # --- display -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the rounds from the store; open the ranking view when a round awaits one."""
        if self.experiment is None:
            return
        state = self.service.state(self.experiment)
        status, error = self.service.status(self.experiment)
        current = self._selected_run()
        self.tree.clear()
        for r in state.rounds:
            ranked = "ranked" if r.ranking_id is not None else f"{len(r.recorded)}/{len(r.candidates)} recorded"
            top = QTreeWidgetItem([f"round {r.index}", ranked, "", ""])
            for c in r.candidates:
                item = QTreeWidgetItem([str(c.document.get("name", f"candidate {c.index + 1}")),
                                        c.status, c.place or "", str(c.rollout_id or "")])
                item.setData(0, Qt.ItemDataRole.UserRole, c.run_id)
                item.setToolTip(2, f"device {c.device or '?'}")
                if c.error:
                    item.setToolTip(1, c.error)
                top.addChild(item)
                if c.run_id is not None and c.run_id == current:
                    self.tree.setCurrentItem(item)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        self._say(f"Experiment {self.experiment}: {status}" + (f" ({error})" if error else ""))
        if status == "awaiting_ranking" and self.ranking_view is None and state.rounds:
            self.open_ranking()
        if status in ("done", "failed") and not self.runner.is_running():
            self.timer.stop()
        self._enable(status)
        self.changed.emit()

    def _selected_run(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _show_curve(self) -> None:
        run_id = self._selected_run()
        if run_id is None:
            self.curve.setData([], [])
            return
        steps, values = self.service.curve(int(run_id))
        self.curve.setData(steps, values)

    def _enable(self, status: str | None = None) -> None:
        self._status = status
        llm = self.proposer.currentText() == "llm"
        for w in (self.endpoint, self.model, self.api_key, self.test_btn):
            w.setEnabled(llm)
        self.prompt_btn.setEnabled(llm and self.experiment is not None)
        live = self.experiment is not None and status not in ("done", "failed")
        self.start_btn.setEnabled(not live)
        self.pause_btn.setEnabled(live and status != "paused")
        self.resume_btn.setEnabled(live and status in ("paused", "awaiting_ranking"))
        self.rank_btn.setEnabled(status == "awaiting_ranking")

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def shutdown(self) -> None:
        """Stop the loop and every candidate (each checkpoints; Resume continues later)."""
        self.timer.stop()
        self.runner.cancel()
        self.runner.wait(30)
        self._checker.cancel()
        self.service.close()
        self._executor.shutdown(wait=False)


class RefineDialog(QDialog):
    """A window holding the panel; closing it stops the loop (resumable)."""

    def __init__(self, panel: RefinePanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Refinement")
        self.panel = panel
        QVBoxLayout(self).addWidget(panel)
        self.resize(720, 640)

    def done(self, result: int) -> None:  # noqa: D102 - Qt's
        self.panel.shutdown()
        super().done(result)


def open_refine_dialog(context: Any, parent: QWidget | None = None) -> RefineDialog:
    """The Refinement window for the context's workspace, design and task."""
    from studio.app.refine import RefineService

    if context.workspace is None:
        raise RuntimeError("open a workspace first (File › Open workspace…)")
    env_id = getattr(context.task, "env_id", None) or context.design.task
    panel = RefinePanel(RefineService(context.workspace), context.design.copy(), env_id)
    dialog = RefineDialog(panel, parent)
    dialog.show()
    return dialog
