"""The offscreen renderer alone: step a task with random actions and render every step.

No viewer, no GUI, no thread hand-off: the viewer's real path (worker thread to the
widget's image) is timed by ``reward-studio bench viewer`` (:mod:`studio.ui.bench_viewer`),
which runs this for scale in the same run. Here the frame rate is measured with the
viewer's render settings (by default shadows and reflections off on CPU backends) and,
in the same run, with shadows and reflections on, which says what those cost. Prints
readable lines, then exactly one machine-readable line::

    RESULT fps=76.3 width=640 height=480 backend=osmesa shadows_on_fps=19.9

Run it with ``python -m studio.sim.bench_viewer --seconds 5``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from studio.sim.render import OffscreenRenderer, select_gl_backend


def _measure(
    env: Any, renderer: OffscreenRenderer, seconds: float, warmup: int = 3
) -> dict[str, float]:
    """Step and render for ``seconds``; frames per second and the time split per frame."""
    data = env.unwrapped.data
    for _ in range(warmup):  # the first frames upload textures and compile shaders
        renderer.render(data)
    frames, step_s, render_s = 0, 0.0, 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
        t1 = time.perf_counter()
        renderer.render(data)
        t2 = time.perf_counter()
        step_s += t1 - t0
        render_s += t2 - t1
        frames += 1
    elapsed = time.perf_counter() - start
    return {
        "fps": frames / elapsed,
        "frames": float(frames),
        "step_ms": 1000.0 * step_s / max(frames, 1),
        "render_ms": 1000.0 * render_s / max(frames, 1),
    }


def run_viewer_bench(
    env_id: str = "HalfCheetah-v5",
    width: int = 640,
    height: int = 480,
    seconds: float = 5.0,
    shadows: bool | None = None,
    reflections: bool | None = None,
    offsamples: int | None = None,
    baseline: bool = True,
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure viewer frame rates for ``env_id`` at ``width`` x ``height``.

    ``shadows``/``reflections``/``offsamples`` None take the renderer's defaults for the
    backend. With ``baseline``, the same renderer is measured again for ``seconds`` with
    shadows and reflections on (what they cost). Returns ``fps``, ``shadows_on_fps`` (that
    rate; None without it), the per-frame ``step_ms`` and ``render_ms``, and the settings.
    """
    backend = select_gl_backend()
    import gymnasium as gym  # after the backend is chosen: it imports mujoco

    env = gym.make(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    model = env.unwrapped.model  # type: ignore[attr-defined]  # a MujocoEnv
    result: dict[str, Any] = {"env_id": env_id, "width": width, "height": height}
    with OffscreenRenderer(
        model,
        width,
        height,
        shadows=shadows,
        reflections=reflections,
        offsamples=offsamples,
        track=1 if model.nbody > 1 else None,
    ) as renderer:
        result.update(
            backend=renderer.backend or backend or "default",
            shadows=renderer.shadows,
            reflections=renderer.reflections,
            offsamples=renderer.offsamples,
        )
        echo(
            f"{env_id} at {width}x{height}, backend {result['backend']}, "
            f"shadows {'on' if renderer.shadows else 'off'}, "
            f"reflections {'on' if renderer.reflections else 'off'}, "
            f"offsamples {renderer.offsamples}"
        )
        main_run = _measure(env, renderer, seconds)
        result.update(main_run)
        echo(
            f"  renderer alone, viewer settings: {main_run['fps']:6.1f} fps  (step {main_run['step_ms']:.2f} ms, "
            f"render {main_run['render_ms']:.2f} ms per frame)"
        )
        result["shadows_on_fps"] = None
        if baseline:
            renderer.shadows = renderer.reflections = True
            base = _measure(env, renderer, seconds)
            result["shadows_on_fps"] = base["fps"]
            result["shadows_on_render_ms"] = base["render_ms"]
            echo(
                f"  shadows and reflections on: {base['fps']:6.1f} fps  (render "
                f"{base['render_ms']:.2f} ms per frame: what they cost)"
            )
    env.close()
    return result


def result_line(result: dict[str, Any]) -> str:
    """The one ``RESULT ...`` line of a benchmark result."""
    base = result.get("shadows_on_fps")
    base_text = "none" if base is None else f"{base:.1f}"
    return (
        f"RESULT fps={result['fps']:.1f} width={result['width']} height={result['height']} "
        f"backend={result['backend']} shadows_on_fps={base_text}"
    )


def _on_off(text: str) -> bool:
    if text.lower() in ("on", "1", "true", "yes"):
        return True
    if text.lower() in ("off", "0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, not {text!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="bench_viewer", description="Frame rate of the offscreen renderer alone (no viewer)."
    )
    parser.add_argument("--env", default="HalfCheetah-v5", help="Gymnasium task id")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--shadows", type=_on_off, default=None, help="on/off (default: auto)")
    parser.add_argument("--reflections", type=_on_off, default=None, help="on/off")
    parser.add_argument("--offsamples", type=int, default=None, help="multisampling samples")
    parser.add_argument("--no-baseline", action="store_true", help="skip the shadows-and-reflections-on run")
    args = parser.parse_args(argv)
    result = run_viewer_bench(
        env_id=args.env,
        width=args.width,
        height=args.height,
        seconds=args.seconds,
        shadows=args.shadows,
        reflections=args.reflections,
        offsamples=args.offsamples,
        baseline=not args.no_baseline,
    )
    print(result_line(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
