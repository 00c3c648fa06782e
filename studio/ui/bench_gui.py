"""How responsive the window stays while training runs at full speed and the viewer plays.

Starts the main window (offscreen, or on ``$DISPLAY`` when one is set, e.g. Xvfb), opens a
fresh workspace and loads the task (HalfCheetah-v5 by default) with its own reward. Then it
measures the event loop twice, ``--seconds`` each, in the same run and the same window:

* **idle**: the reference, nothing running (the viewer paused, no training);
* **busy**: a training run at full speed with the viewer following the live policy.

A precise 5 ms ``QTimer`` records how late each tick fires; each phase reports p50, p99
and max lateness and the number of stalls (ticks later than 50 ms: a user sees those as
a hitch). Setup that fails (no workspace, no task, training that does not start or sends
nothing) is an error with exit status 2, never a RESULT. The load average is printed,
since the machine may be shared. Last line::

    RESULT idle_p99_ms=... idle_max_ms=... idle_stalls=... p99_ms=... max_ms=... stalls=...
    steps_per_s=... load1=...

Run it with ``python -m studio.ui.bench_gui --seconds 20``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studio.sim.bench_sim import load_average

TICK_MS = 5
STALL_MS = 50.0
"""A tick later than this is a stall: a hitch a user notices."""


class SetupError(RuntimeError):
    """The benchmark could not set up what it measures (exit status 2, no RESULT)."""


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench_gui", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement time (default 20)")
    ap.add_argument("--env", default="HalfCheetah-v5", help="task id (default HalfCheetah-v5)")
    ap.add_argument("--num-envs", type=int, default=8, help="training environments (default 8)")
    ap.add_argument("--workspace", type=Path, default=None,
                    help="workspace folder (default: a fresh temporary one)")
    ap.add_argument("--screenshot", default=None, help="save the window to this PNG at the end")
    ap.add_argument("--viewer-only", action="store_true",
                    help="measure only the viewer's frame rate at 640x480 and 4x speed")
    ap.add_argument("--warmup", type=float, default=60.0,
                    help="seconds to wait at most for the first training metrics (default 60)")
    return ap.parse_args(list(argv) if argv is not None else None)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))
    return s[k]


def viewer_fps(env_id: str, seconds: float) -> tuple[float, int]:
    """Frames per second the viewer panel shows at 640x480 and 4x speed (no training)."""
    from studio.sim.registry import get_task
    from studio.ui.app import make_application, wait_until
    from studio.ui.context import AppContext
    from studio.ui.viewer import ViewerPanel

    make_application()
    ctx = AppContext()
    task = get_task(env_id)
    ctx.set_design(task.task_design())
    ctx.set_task(task)
    panel = ViewerPanel(ctx, width=640, height=480)
    panel.resize(800, 640)
    panel.show()
    wait_until(lambda: panel.has_first_frame, 60.0)
    panel.set_speed(4.0)
    wait_until(lambda: False, 1.0)
    n0, t0 = panel.view.frames_shown, time.perf_counter()
    wait_until(lambda: time.perf_counter() - t0 >= seconds, seconds + 5)
    frames = panel.view.frames_shown - n0
    fps = frames / (time.perf_counter() - t0)
    dropped = panel.worker.slot.dropped if panel.worker is not None else 0
    panel.shutdown()
    panel.close()
    return fps, dropped


def measure_latency(seconds: float) -> list[float]:
    """Lateness in ms of each tick of a precise 5 ms timer over ``seconds`` of event loop."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from studio.ui.app import wait_until

    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = {"t": clock.nsecsElapsed()}

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last["t"]) / 1e6 - TICK_MS))
        last["t"] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    t0 = time.perf_counter()
    last["t"] = clock.nsecsElapsed()
    timer.start()
    wait_until(lambda: time.perf_counter() - t0 >= seconds, seconds + 5)
    timer.stop()
    return lateness


def summarise(lateness: list[float]) -> dict[str, float]:
    """p50, p99, max lateness (ms) and the count of stalls over :data:`STALL_MS`."""
    return {"ticks": float(len(lateness)), "p50": _percentile(lateness, 50), "p99": _percentile(lateness, 99),
            "max": max(lateness) if lateness else float("nan"),
            "stalls": float(sum(1 for v in lateness if v > STALL_MS))}


def _line(name: str, st: dict[str, float]) -> str:
    return (f"  {name:<5} {int(st['ticks']):6d} ticks: lateness p50 {st['p50']:.2f} ms, p99 {st['p99']:.2f} ms, "
            f"max {st['max']:.2f} ms, {int(st['stalls'])} stalls over {STALL_MS:.0f} ms")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 with a RESULT line, 2 (and no RESULT) when setup fails."""
    try:
        return _main(argv)
    except SetupError as exc:
        print(f"bench_gui: {exc}", file=sys.stderr)
        return 2


def _main(argv: Sequence[str] | None) -> int:
    args = _parse(argv)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studio.sim.render import select_gl_backend

    select_gl_backend()
    if args.viewer_only:
        fps, dropped = viewer_fps(args.env, args.seconds)
        print(f"viewer: {args.env} at 640x480, 4x speed: {fps:.1f} fps shown, {dropped} "
              "frames dropped (GUI behind)")
        print(f"RESULT viewer_fps={fps:.1f}")
        return 0
    from studio.ui.app import make_application, settle, wait_until

    app = make_application()
    from studio.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.fit_docks()
    tmp = None
    ws_path = args.workspace
    if ws_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-gui-")
        ws_path = Path(tmp.name) / "ws"
    try:
        return _run(args, window, ws_path, settle, wait_until)
    finally:
        window.close()
        if tmp is not None:
            tmp.cleanup()


def _run(args: argparse.Namespace, window: Any, ws_path: Path, settle: Any, wait_until: Any) -> int:
    if not window.open_workspace(ws_path):
        raise SetupError(f"could not open the workspace {ws_path}")
    owner = getattr(window, "session", window)  # where the window keeps its task loading
    if hasattr(owner, "ensure_task"):
        owner.ensure_task(args.env)
    settle(window)
    ctx = window.context
    if not wait_until(lambda: getattr(ctx.task, "env_id", None) == args.env, 60.0):
        raise SetupError(f"the task {args.env} did not load within 60 s")
    design = ctx.task.task_design()
    design.name = "task_reward"
    ctx.set_design(design)
    training: Any = window.panels.get("Training")
    viewer: Any = window.panels.get("Viewer")
    if training is None or not hasattr(training, "start_run"):
        raise SetupError("the training panel is not available")
    if viewer is None or not hasattr(viewer, "follow_training"):
        raise SetupError("the viewer panel is not available")
    wait_until(lambda: viewer.has_first_frame, 60.0)
    print(f"{args.env}: window 1600x1000, {args.seconds:g} s per phase, tick {TICK_MS} ms, "
          f"stall > {STALL_MS:.0f} ms; load average before {load_average()}")

    # Idle reference: the same window, nothing running.
    viewer.set_paused(True)
    settle(window)
    idle = summarise(measure_latency(args.seconds))

    # Busy: training at full speed, the viewer following the live policy.
    training.steps_spin.setValue(100_000_000)
    training.envs_spin.setValue(args.num_envs)
    training.start_run()
    ctl = training.controller
    if ctl is None or not ctl.active:
        raise SetupError(f"training did not start: {training.status.text()}")
    got_metrics = {"n": 0}
    training.metrics_received.connect(lambda _m: got_metrics.__setitem__("n", got_metrics["n"] + 1))
    if not wait_until(lambda: got_metrics["n"] > 0, args.warmup):
        training.stop_run()
        raise SetupError(f"training sent no metrics within {args.warmup:g} s: {training.status.text()}")
    viewer.set_paused(False)
    viewer.follow_training()
    viewer.set_speed(1.0)
    frames0 = viewer.view.frames_shown
    t0 = time.perf_counter()
    busy = summarise(measure_latency(args.seconds))
    elapsed = time.perf_counter() - t0
    frames = viewer.view.frames_shown - frames0
    sps = float(getattr(ctl, "last_sps", 0.0) or 0.0)
    load = load_average()
    if args.screenshot:
        window.grab().save(str(args.screenshot))
    training.stop_run()
    wait_until(lambda: not ctl.active, 30.0)
    viewer.shutdown()
    print("event loop:")
    print(_line("idle", idle) + "  (nothing running: the reference)")
    print(_line("busy", busy) + f"  (training {args.num_envs} envs + viewer following it)")
    print(f"training: {sps:,.0f} steps/s (trainer's own count); viewer: {frames} frames, "
          f"{frames / max(elapsed, 1e-9):.1f} fps; load average after {load}")
    print(f"RESULT idle_p99_ms={idle['p99']:.1f} idle_max_ms={idle['max']:.1f} "
          f"idle_stalls={int(idle['stalls'])} p99_ms={busy['p99']:.1f} max_ms={busy['max']:.1f} "
          f"stalls={int(busy['stalls'])} steps_per_s={sps:.0f} load1={load.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
