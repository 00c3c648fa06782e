"""The Orange-style task runner the plots use: results queued to the GUI, newest wins, cancel."""

from __future__ import annotations

import threading

from studio.ui.workers import TaskRunner, TaskState


def slow(inputs: tuple[threading.Event, int], state: TaskState) -> int | None:
    gate, value = inputs
    state.set_progress(10.0)
    while not gate.wait(0.01):
        if state.is_interruption_requested():
            return None
    return value


def boom(_inputs: object, _state: TaskState) -> None:
    raise ValueError("bad input")


def test_result_is_delivered_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    seen: list[tuple[object, bool]] = []
    main = threading.get_ident()
    runner.finished.connect(lambda r: seen.append((r, threading.get_ident() == main)))
    gate = threading.Event()
    gate.set()
    with qtbot.waitSignal(runner.finished, timeout=5_000):
        runner.start(slow, (gate, 7))
    assert seen == [(7, True)] and not runner.is_running()


def test_cancelled_result_is_dropped_and_newest_wins(qtbot) -> None:
    runner = TaskRunner()
    results: list[object] = []
    runner.finished.connect(results.append)
    first = threading.Event()
    runner.start(slow, (first, 1))
    second = threading.Event()
    second.set()
    with qtbot.waitSignal(runner.finished, timeout=5_000):
        runner.start(slow, (second, 2))  # cancels the first
    first.set()
    qtbot.wait(100)
    assert results == [2]
    gate = threading.Event()
    runner.start(slow, (gate, 3))
    runner.cancel()
    gate.set()
    runner.wait(5)
    qtbot.wait(50)
    assert results == [2] and not runner.is_running()


def test_failure_is_reported_with_message(qtbot) -> None:
    runner = TaskRunner()
    with qtbot.waitSignal(runner.failed, timeout=5_000) as blocker:
        runner.start(boom, None)
    assert blocker.args[0] == "ValueError: bad input" and "Traceback" in blocker.args[1]
