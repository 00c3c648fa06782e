"""Orange-style background tasks: a plain function ``run(inputs, state)`` in a thread pool.

Heavy work (recording a rollout, evaluating a heat-map grid, loading a run's series) is a
module-level function that takes its inputs and a :class:`TaskState`. It reports progress
and partial results through ``state`` and polls ``state.is_interruption_requested()``. A
:class:`TaskRunner` (one per widget) submits it to a worker thread and delivers the
outcome to the GUI thread as queued Qt signals, so the widget never blocks and never
touches the work's internals.

>>> def run(inputs, state):
...     total = 0
...     for i, x in enumerate(inputs):
...         if state.is_interruption_requested():
...             return None
...         total += x
...         state.set_progress(100.0 * (i + 1) / len(inputs))
...     return total
>>> run([1, 2, 3], TaskState())   # tests call run() directly with a plain state
6

Only the newest submission of a runner matters: starting another cancels the previous
one, and a cancelled task's result is dropped, never delivered.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

__all__ = ["TaskRunner", "TaskState", "shared_executor"]

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def shared_executor() -> ThreadPoolExecutor:
    """The studio's thread pool for short jobs (two threads: the machine has two cores)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="studio-task")
        return _executor


class TaskState:
    """What a running task sees of the outside: progress, partial results, cancellation.

    The base class records nothing, so ``run`` functions are testable without Qt.
    """

    def __init__(self) -> None:
        self._interrupt = threading.Event()
        self.progress = 0.0
        self.status = ""

    def set_progress(self, percent: float) -> None:
        """Report progress in [0, 100]."""
        self.progress = float(percent)

    def set_status(self, text: str) -> None:
        """Report what the task is doing, in a few words."""
        self.status = text

    def set_partial_result(self, value: Any) -> None:
        """Hand over an intermediate result (a live plot can draw it)."""

    def request_interruption(self) -> None:
        """Ask the task to stop at its next check."""
        self._interrupt.set()

    def is_interruption_requested(self) -> bool:
        """True once cancellation was requested; ``run`` should return soon after."""
        return self._interrupt.is_set()


class _Bridge(QObject):
    """Lives in the GUI thread; worker threads emit on it, Qt queues the calls."""

    progress = Signal(int, float)
    status = Signal(int, str)
    partial = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str, str)


class _QtTaskState(TaskState):
    def __init__(self, bridge: _Bridge, token: int) -> None:
        super().__init__()
        self._bridge = bridge
        self._token = token

    def set_progress(self, percent: float) -> None:
        super().set_progress(percent)
        if not self.is_interruption_requested():
            self._bridge.progress.emit(self._token, float(percent))

    def set_status(self, text: str) -> None:
        super().set_status(text)
        if not self.is_interruption_requested():
            self._bridge.status.emit(self._token, text)

    def set_partial_result(self, value: Any) -> None:
        if not self.is_interruption_requested():
            self._bridge.partial.emit(self._token, value)


class TaskRunner(QObject):
    """Runs one ``run(inputs, state)`` at a time for a widget; the newest wins.

    Signals (all delivered in the GUI thread):
        started(): a task was submitted.
        progress(float): percent done.
        status(str): what it is doing.
        partial_result(object): an intermediate result.
        finished(object): the result of a task that was not cancelled.
        failed(str, str): a one-line message and the traceback text.
        running_changed(bool): whether a task is in flight (enable a Cancel button with it).
    """

    started = Signal()
    progress = Signal(float)
    status = Signal(str)
    partial_result = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None,
                 executor: ThreadPoolExecutor | None = None) -> None:
        super().__init__(parent)
        self._executor = executor or shared_executor()
        self._bridge = _Bridge(self)
        conn = Qt.ConnectionType.QueuedConnection
        self._bridge.progress.connect(self._on_progress, conn)
        self._bridge.status.connect(self._on_status, conn)
        self._bridge.partial.connect(self._on_partial, conn)
        self._bridge.done.connect(self._on_done, conn)
        self._bridge.failed.connect(self._on_failed, conn)
        self._token = 0
        self._state: _QtTaskState | None = None
        self._future: Future[Any] | None = None

    # -- public ----------------------------------------------------------------------

    def start(self, fn: Callable[[Any, TaskState], Any], inputs: Any) -> None:
        """Cancel whatever runs and submit ``fn(inputs, state)``."""
        self.cancel()
        self._token += 1
        token = self._token
        state = _QtTaskState(self._bridge, token)
        self._state = state
        bridge = self._bridge

        def job() -> None:
            try:
                result = fn(inputs, state)
            except Exception as exc:  # noqa: BLE001 - reported to the widget, never lost
                if not state.is_interruption_requested():
                    bridge.failed.emit(token, f"{type(exc).__name__}: {exc}",
                                       traceback.format_exc())
                return
            if not state.is_interruption_requested():
                bridge.done.emit(token, result)

        self._future = self._executor.submit(job)
        self.started.emit()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        """Ask the running task to stop; its result will not be delivered."""
        if self._state is not None:
            self._state.request_interruption()
            self._state = None
            self._token += 1  # queued signals of the old task now carry a stale token
            self.running_changed.emit(False)

    def is_running(self) -> bool:
        """Whether a task is in flight (and not cancelled)."""
        return self._state is not None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current job's thread returns (tests and shutdown only)."""
        if self._future is not None:
            self._future.exception(timeout)

    # -- delivery ----------------------------------------------------------------------

    @Slot(int, float)
    def _on_progress(self, token: int, value: float) -> None:
        if token == self._token:
            self.progress.emit(value)

    @Slot(int, str)
    def _on_status(self, token: int, text: str) -> None:
        if token == self._token:
            self.status.emit(text)

    @Slot(int, object)
    def _on_partial(self, token: int, value: object) -> None:
        if token == self._token:
            self.partial_result.emit(value)

    @Slot(int, object)
    def _on_done(self, token: int, result: object) -> None:
        if token == self._token:
            self._state = None
            self.running_changed.emit(False)
            self.finished.emit(result)

    @Slot(int, str, str)
    def _on_failed(self, token: int, message: str, tb: str) -> None:
        if token == self._token:
            self._state = None
            self.running_changed.emit(False)
            self.failed.emit(message, tb)
