"""How fast the live viewer shows frames: its real path, worker thread to the widget's image.

    reward-studio bench viewer --env HalfCheetah-v5 --seconds 5

The viewer panel runs as in the app: its worker thread steps the task (random actions, the
design's overlay computed) and renders into the frame ring; the GUI thread takes the
newest frame into the widget. Measured over ``--seconds``, at the fastest speed (so the
sim never waits for real time):

* frames shown per second by the widget, and frames the worker rendered and dropped
  (replaced before the GUI took them: the GUI was behind);
* hand-off latency: from the worker offering a frame to the widget taking it (p50, p99).

Shown in the same run for scale, with the same task, size and render settings: the
renderer alone, stepping and rendering in one thread with no GUI, no overlay and no frame
cap. It is an upper bound for what the viewer could show, not the same work: the viewer
also caps renders at ``MAX_FPS`` (60) per second. The last line is::

    RESULT viewer_fps=... dropped=... handoff_p50_ms=... handoff_p99_ms=...
    renderer_alone_fps=... max_fps=60 width=... height=... backend=... load1=...
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from studio.sim.bench_sim import load_average

MAX_SPEED = 16.0
"""The worker's highest speed (its clip): the sim is never paced by the wall clock."""


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))]


def instrument(slot: Any) -> list[float]:
    """Record, per frame the GUI takes, the seconds since the worker published it."""
    published: dict[int, float] = {}
    latencies: list[float] = []
    publish, take = slot.publish, slot.take

    def timed_publish(index: int, overlay: Any) -> bool:
        published[index] = time.perf_counter()
        return bool(publish(index, overlay))

    def timed_take() -> Any:
        got = take()
        if got is not None and got[0] in published:
            latencies.append(time.perf_counter() - published.pop(got[0]))
        return got

    slot.publish, slot.take = timed_publish, timed_take
    return latencies


def viewer_path(env_id: str, width: int, height: int, seconds: float) -> dict[str, Any]:
    """Measure the viewer panel's real path (see the module doc)."""
    from studio.sim.registry import get_task
    from studio.ui.app import make_application, wait_until
    from studio.ui.context import AppContext
    from studio.ui.viewer import ViewerPanel
    from studio.ui.viewer.worker import MAX_FPS

    make_application()
    ctx = AppContext()
    task = get_task(env_id)
    ctx.set_design(task.task_design())
    ctx.set_task(task)
    panel = ViewerPanel(ctx, width=width, height=height)
    panel.resize(width + 40, height + 80)
    panel.show()
    try:
        if not wait_until(lambda: panel.has_first_frame, 60.0) or panel.worker is None:
            raise RuntimeError(f"the viewer showed no frame of {env_id} within 60 s")
        panel.set_speed(MAX_SPEED)
        wait_until(lambda: False, 0.5)  # the speed reaches the worker; frames flow
        worker = panel.worker
        latencies = instrument(worker.slot)
        shown0, dropped0 = panel.view.frames_shown, worker.slot.dropped
        rendered0 = worker.frames_rendered
        t0 = time.perf_counter()
        wait_until(lambda: time.perf_counter() - t0 >= seconds, seconds + 5)
        elapsed = time.perf_counter() - t0
        shown = panel.view.frames_shown - shown0
        info = {
            "viewer_fps": shown / elapsed,
            "rendered": worker.frames_rendered - rendered0,
            "dropped": worker.slot.dropped - dropped0,
            "handoff_p50_ms": 1000 * _percentile(latencies, 50),
            "handoff_p99_ms": 1000 * _percentile(latencies, 99),
            "max_fps": MAX_FPS,
            "shadows": panel.shadows_box.isChecked(),
            "reflections": panel.reflections_box.isChecked(),
        }
    finally:
        panel.shutdown(wait=5.0)
        panel.close()
    return info


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 with a RESULT line, 2 when the viewer cannot start."""
    p = argparse.ArgumentParser(prog="bench viewer", description=__doc__.split("\n")[0])
    p.add_argument("--env", default="HalfCheetah-v5", help="task id (default HalfCheetah-v5)")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--seconds", type=float, default=5.0, help="per measurement (default 5)")
    args = p.parse_args(list(argv) if argv is not None else None)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studio.sim.bench_viewer import run_viewer_bench
    from studio.sim.render import SOFTWARE_BACKENDS, select_gl_backend

    backend = select_gl_backend()
    print(f"{args.env} at {args.width}x{args.height}, {args.seconds:g} s each; load average "
          f"before {load_average()}")
    try:
        viewer = viewer_path(args.env, args.width, args.height, args.seconds)
    except RuntimeError as exc:
        print(f"bench viewer: {exc}", file=sys.stderr)
        return 2
    # The renderer alone with the viewer's render settings (multisampling off on CPU).
    alone = run_viewer_bench(
        args.env, args.width, args.height, args.seconds, shadows=viewer["shadows"],
        reflections=viewer["reflections"],
        offsamples=0 if backend in SOFTWARE_BACKENDS else None, baseline=False,
        echo=lambda line: None)
    settings = (f"shadows {'on' if viewer['shadows'] else 'off'}, reflections "
                f"{'on' if viewer['reflections'] else 'off'}, backend {alone['backend']}")
    print(f"  viewer, worker thread -> widget image: {viewer['viewer_fps']:6.1f} fps shown "
          f"({viewer['rendered']} rendered, {viewer['dropped']} dropped; renders capped at "
          f"{viewer['max_fps']:.0f}/s), hand-off p50 {viewer['handoff_p50_ms']:.2f} ms, "
          f"p99 {viewer['handoff_p99_ms']:.2f} ms")
    print(f"  renderer alone, one thread, no GUI:   {alone['fps']:6.1f} fps (step "
          f"{alone['step_ms']:.2f} ms + render {alone['render_ms']:.2f} ms per frame; an upper "
          "bound, not the same work)")
    load = load_average()
    print(f"  settings: {settings}; load average after {load}")
    print(f"RESULT viewer_fps={viewer['viewer_fps']:.1f} dropped={viewer['dropped']} "
          f"handoff_p50_ms={viewer['handoff_p50_ms']:.2f} handoff_p99_ms={viewer['handoff_p99_ms']:.2f} "
          f"renderer_alone_fps={alone['fps']:.1f} max_fps={viewer['max_fps']:.0f} "
          f"width={args.width} height={args.height} backend={alone['backend']} load1={load.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
