"""How well the design being edited agrees with every ranking stored so far, live.

A one-line strip under the editor: Kendall's τ-b between the design's returns and the
people's orders over all ranked pairs (ties counted as τ-b counts them), the share of
strictly ordered pairs that the design orders the same way, and the numbers of rankings
and pairs. It is recomputed by ``RankingService.agreement`` in a worker thread after each
edit (debounced by :data:`DEBOUNCE_MS`; a newer edit cancels an older computation, so
the numbers always belong to the latest design), when a workspace opens, and when the
window gets the focus back (a ranking window was just closed, say).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from studio.ui.workers import TaskRunner, TaskState

__all__ = ["DEBOUNCE_MS", "AgreementWidget", "agreement_text", "run_agreement"]

DEBOUNCE_MS = 100
HELP = ("<b>Agreement with your rankings</b><br>"
        "<b>τ-b</b>: Kendall's tau-b between this design's return on each ranked rollout and "
        "the ranking's order, over every pair of rollouts in every ranking: 1 orders them all "
        "as you did, 0 is unrelated, −1 is the reverse. Ties (yours or the design's) are "
        "handled as tau-b handles them.<br>"
        "<b>pairs in order</b>: of the pairs you ranked strictly, the share the design orders "
        "the same way.<br>Rank rollouts with Tools › Rank rollouts… (Ctrl+R).")


def run_agreement(inputs: tuple[Any, Any, str | None], state: TaskState) -> Any:
    """``RankingService.agreement(design, env_id)`` (in a worker thread)."""
    service, design, env_id = inputs
    if state.is_interruption_requested():
        return None
    if not any(not r.skipped for r in service.rankings()):
        return None  # nothing to agree with: no need to load and score any rollout
    return service.agreement(design, env_id=env_id)


def agreement_text(result: Any) -> tuple[str, str]:
    """The strip's text and a colour for an ``Agreement`` (green agrees, red disagrees)."""
    if result is None or not result.rankings:
        return "No rankings yet: rank rollouts (Tools › Rank rollouts…) to see how this design agrees.", ""
    tau = result.kendall_tau
    counts = (f"{result.rankings} ranking{'s' if result.rankings != 1 else ''}, "
              f"{result.pairs} pair{'s' if result.pairs != 1 else ''}")
    if tau is None or not math.isfinite(tau):
        return f"Agreement: no ordered pair to compare yet ({counts})", ""
    acc = result.pair_accuracy
    acc_text = "—" if acc is None or not math.isfinite(acc) else f"{100 * acc:.0f}%"
    colour = "#2e8b3a" if tau >= 0.5 else "#b07a00" if tau >= 0.0 else "#c0392b"
    return f"Agreement: τ-b {tau:+.2f} · pairs in order {acc_text} · {counts}", colour


class AgreementWidget(QWidget):
    """The live agreement of the context's design with the workspace's rankings."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.result: Any = None
        """The last ``Agreement`` shown (None before the first)."""
        self.computed_for: Any = None
        """The design (a copy) the last result belongs to."""
        self.label = QLabel("")
        self.label.setObjectName("agreement_label")
        self.label.setToolTip(HELP)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QLabel("")
        self.busy.setStyleSheet("color: palette(mid);")
        # One line under the editor: the tree and the inspector keep every spare pixel.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.busy)
        self._service: Any = None
        self._service_for: Any = None
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.runner.running_changed.connect(lambda on: self.busy.setText("…" if on else ""))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.recompute)
        context.designChanged.connect(lambda _d: self._timer.start())
        context.workspaceChanged.connect(lambda _w: self._timer.start())
        context.taskChanged.connect(lambda _t: self._timer.start())
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._on_focus_window)
        self._timer.start()

    def service(self) -> Any:
        """The ranking service of the context's workspace (None without one)."""
        ws = getattr(self.context, "workspace", None)
        if ws is None:
            return None
        if self._service_for is not ws:
            from studio.app.ranking import RankingService

            self._service, self._service_for = RankingService(ws), ws
        return self._service

    def recompute(self) -> None:
        """Compute the agreement of the current design now (in a worker)."""
        try:
            service = self.service()
        except ImportError:  # a build without the ranking service
            self.hide()
            return
        if service is None:
            self.label.setText("Open a workspace to compare the design with your rankings.")
            return
        design = self.context.design.copy()
        task = getattr(self.context, "task", None)
        env_id = getattr(task, "env_id", None) or design.task
        self.computed_for = None
        self._pending = design
        self.runner.start(run_agreement, (service, design, env_id))

    def _show(self, result: Any) -> None:
        self.result = result
        self.computed_for = self._pending
        text, colour = agreement_text(result)
        self.label.setText(text)
        self.label.setStyleSheet(f"color: {colour};" if colour else "")

    def _failed(self, message: str, _traceback: str) -> None:
        self.result = None
        self.label.setText(f"Agreement: cannot score this design ({message.splitlines()[0]})")
        self.label.setStyleSheet("color: #c0392b;")

    def _on_focus_window(self, window: QWindow | None) -> None:
        own = self.window().windowHandle()
        if window is not None and window is own and self.isVisible():
            self._timer.start()

    def shutdown(self) -> None:
        """Stop the timer and any computation."""
        self._timer.stop()
        self.runner.cancel()
