"""Closing the window while a run trains: ask, stop it cleanly, let a second close force.

The first close asks (in an interactive window) whether to stop the run and quit. On yes,
the run is asked to checkpoint and stop while the event loop keeps running, so the
window stays responsive and the stop is saved as any other (status ``stopped``, its
checkpoint recorded); the window then closes by itself. Closing again while it stops
ends the training process at once (still ``stopped``, at its last checkpoint).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMessageBox

log = logging.getLogger(__name__)

__all__ = ["STOP_TIMEOUT_S", "active_controller", "allow_close"]

STOP_TIMEOUT_S = 120.0
"""A stop that takes longer than this (a stuck trainer) is forced."""


def active_controller(window: Any) -> Any:
    """The run controller of a panel of ``window`` whose run is live, or None."""
    for panel in getattr(window, "panels", {}).values():
        ctl = getattr(panel, "controller", None)
        if ctl is not None and getattr(ctl, "active", False):
            return ctl
    return None


def _ask(window: Any, ctl: Any) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, "A run is training",
                      f"Run {ctl.run_id} is still training. Stop it (it saves a checkpoint and can "
                      "be resumed) and quit?", QMessageBox.StandardButton.Cancel, window)
    box.setObjectName("close_while_training")
    stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(stop)
    box.exec()
    return box.clickedButton() is stop


def allow_close(window: Any, event: QCloseEvent) -> bool:
    """Whether the close may proceed now; otherwise the event is ignored (see module doc).

    The stop is followed from a timer, not inside this close event: Qt ignores a close
    of a window that is still in its close event, and the second close must get through.
    """
    state: dict[str, Any] = window.__dict__.setdefault("_close_guard", {"ctl": None})
    stopping = state["ctl"]
    if stopping is not None:  # closed again while the run stops: end it at once, then close
        state["ctl"] = None
        state["timer"].stop()
        stopping.force_stop()
        return True
    ctl = active_controller(window)
    if ctl is None:
        return True
    ask = getattr(window, "ask_stop_run", None) or _ask
    if getattr(window, "interactive", True) and not ask(window, ctl):
        event.ignore()
        return False
    event.ignore()
    ctl.stop()
    state["ctl"] = ctl
    deadline = time.monotonic() + STOP_TIMEOUT_S
    status = getattr(window, "statusBar", None)
    if status is not None:
        status().showMessage(f"Stopping run {ctl.run_id} with a checkpoint… close again to quit at once")

    def follow() -> None:
        if state["ctl"] is not ctl:
            return
        try:
            ctl.poll()
        except Exception as exc:  # noqa: BLE001 - a failed save is retried by the next poll
            log.warning("saving the stopping run failed, retrying: %s", exc)
        if ctl.active and time.monotonic() < deadline:
            return
        if ctl.active:
            ctl.force_stop()  # a stuck trainer
        state["ctl"] = None
        timer.stop()
        window.close()  # the run has ended: close for real

    timer = state["timer"] = QTimer(window)
    timer.setInterval(100)
    timer.timeout.connect(follow)
    timer.start()
    return False
