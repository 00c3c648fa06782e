"""How responsive the window stays while training runs at full speed and the viewer plays.

Starts the main window (offscreen, or on ``$DISPLAY`` when one is set, e.g. Xvfb), opens a
fresh workspace, loads the task (HalfCheetah-v5 by default) with its own reward, starts a
training run at full speed, sets the viewer to follow the live policy, then measures the
event loop's latency for ``--seconds``: a precise 5 ms ``QTimer`` records how late each
tick fires. Prints readable lines, then exactly one machine-readable line::

    RESULT p99_ms=12.3 max_ms=40.1 steps_per_s=4210

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

TICK_MS = 5


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
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
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

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
    if not window.open_workspace(ws_path):
        print("bench_gui: could not open the workspace", file=sys.stderr)
        return 2
    owner = getattr(window, "session", window)  # where the window keeps its task loading
    if hasattr(owner, "ensure_task"):
        owner.ensure_task(args.env)
    settle(window)
    ctx = window.context
    if ctx.task is None or getattr(ctx.task, "env_id", None) != args.env:
        wait_until(lambda: getattr(ctx.task, "env_id", None) == args.env, 60.0)
    design = ctx.task.task_design()
    design.name = "task_reward"
    ctx.set_design(design)

    training: Any = window.panels.get("Training")
    viewer: Any = window.panels.get("Viewer")
    if training is None or not hasattr(training, "start_run"):
        print("bench_gui: the training panel is not available", file=sys.stderr)
        return 2
    training.steps_spin.setValue(100_000_000)
    training.envs_spin.setValue(args.num_envs)
    training.start_run()
    if training.controller is None or not training.controller.active:
        print(f"bench_gui: training did not start: {training.status.text()}", file=sys.stderr)
        return 2
    got_metrics = {"n": 0}
    training.metrics_received.connect(lambda _m: got_metrics.__setitem__("n", got_metrics["n"] + 1))
    wait_until(lambda: got_metrics["n"] > 0, args.warmup)
    if hasattr(viewer, "follow_training"):
        viewer.follow_training()
        viewer.set_speed(1.0)
    frames0 = getattr(getattr(viewer, "view", None), "frames_shown", 0)

    # The measurement: a precise 5 ms timer; lateness = interval seen - 5 ms.
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
    wait_until(lambda: time.perf_counter() - t0 >= args.seconds, args.seconds + 5)
    timer.stop()
    elapsed = time.perf_counter() - t0
    frames = getattr(getattr(viewer, "view", None), "frames_shown", 0) - frames0

    ctl = training.controller
    sps = float(getattr(ctl, "last_sps", 0.0) or 0.0)
    if args.screenshot:
        window.grab().save(str(args.screenshot))
    training.stop_run()
    wait_until(lambda: not ctl.active, 30.0)
    if hasattr(viewer, "shutdown"):
        viewer.shutdown()
    window.close()
    p50, p99 = _percentile(lateness, 50), _percentile(lateness, 99)
    mx = max(lateness) if lateness else float("nan")
    print(f"event loop: {len(lateness)} ticks of {TICK_MS} ms in {elapsed:.1f} s; lateness "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {mx:.2f} ms")
    print(f"training: {args.env}, {args.num_envs} envs, {sps:,.0f} steps/s (trainer's own count)")
    print(f"viewer: {frames} frames shown, {frames / max(elapsed, 1e-9):.1f} fps (following the "
          "live policy at 1x)")
    print(f"RESULT p99_ms={p99:.1f} max_ms={mx:.1f} steps_per_s={sps:.0f}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
