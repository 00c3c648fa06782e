"""The viewer's worker thread: steps a copy of the task with a policy and renders it offscreen.

One ``threading.Thread`` owns the :class:`~studio.sim.render.OffscreenRenderer` (a GL
context belongs to one thread) and the environment it steps. The GUI talks to it only
through a command queue, and receives frames through a :class:`FrameSlot`: a ring of three
preallocated image buffers with a one-frame hand-off, so a GUI that falls behind sees the
newest frame and older ones are dropped, never queued. ``frame_ready`` is emitted only
when the slot goes from empty to full, so at most one such signal is ever pending.

What it plays (``Source``): a simulated policy (random, zero, or any callable: the live
training policy, a checkpoint), a recorded :class:`~studio.app.rollouts.RolloutTrace`
replayed from its ``qpos``/``qvel``, or the frames of a video file.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from studio.sim.actions import sampling_bounds
from studio.ui.viewer.frames import FrameSlot, Overlay

__all__ = ["FrameSlot", "Overlay", "Source", "ViewerWorker"]

log = logging.getLogger(__name__)

MAX_FPS = 60.0
"""Renders per second at most; the sim may step faster at high speeds."""
MAX_CATCHUP = 8
"""Sim steps per loop at most; beyond that the viewer runs slower than asked, not jerky."""


@dataclass
class Source:
    """What to play: ``kind`` is ``random``, ``zero``, ``policy``, ``trace`` or ``video``."""

    kind: str = "random"
    policy: Callable[[np.ndarray], np.ndarray] | None = None
    """For ``policy``: obs [1, obs_dim] -> action [1, act_dim]."""
    trace: Any = None
    """For ``trace``: a ``RolloutTrace`` with ``qpos``/``qvel``."""
    frames: np.ndarray | None = None
    """For ``video``: uint8 [N, H, W, 3]."""
    fps: float = 30.0
    """For ``video``: frames per second at speed 1."""
    label: str = ""


class _Signals(QObject):
    frame_ready = Signal()
    info = Signal(object)
    error = Signal(str)


class ViewerWorker:
    """Owns the env, the renderer and the loop; created in the GUI thread, runs its own thread.

    Signals (on :attr:`signals`, delivered queued in the GUI thread): ``frame_ready()``,
    ``info(dict)`` with ``bodies`` (names), ``dt`` and ``backend`` once started, and
    ``error(str)``.
    """

    def __init__(self, task: Any, design: Any = None, width: int = 640, height: int = 480,
                 seed: int = 0, shadows: bool | None = None,
                 reflections: bool | None = None) -> None:
        self.task = task
        self.width, self.height = width, height
        self.seed = seed
        self.slot = FrameSlot(height, width)
        self.signals = _Signals()
        self._commands: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._design = design
        self._shadows, self._reflections = shadows, reflections
        self._thread: threading.Thread | None = None
        self.frames_rendered = 0

    # -- GUI-side API (thread-safe) ------------------------------------------------------

    def start(self) -> None:
        """Start the thread (the env and renderer are created inside it)."""
        self._thread = threading.Thread(target=self._run, name="studio-viewer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the loop; wait up to ``timeout`` s for the thread (it frees the GL context)."""
        self._commands.put(("stop",))
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    def send(self, *command: Any) -> None:
        """Queue a command: ``orbit(dx_deg, dy_deg)``, ``pan(right, up)`` (fractions of the distance), ``zoom(f)``,
        ``track(body|None)``, ``reset_camera()``, ``pause(bool)``, ``step()``,
        ``speed(x)``, ``reset()``, ``design(Design|None)``, ``source(Source)``,
        ``shadows(bool)``, ``reflections(bool)``, ``visible(bool)`` (render only when shown)."""
        self._commands.put(tuple(command))

    # -- worker thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            _Loop(self).run()
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, the thread ends
            log.exception("viewer worker failed")
            self.signals.error.emit(f"the viewer stopped: {type(exc).__name__}: {exc}")


class _Loop:
    """State that lives in the worker thread only."""

    def __init__(self, owner: ViewerWorker) -> None:
        self.o = owner
        self.env: Any = None
        self.renderer: Any = None
        self.compiled: Any = None
        self.names: list[str] = []
        self.source = Source()
        self.paused = False
        self.speed = 1.0
        self.pending_steps = 0
        self.overlay = Overlay()
        self.ep_return = 0.0
        self.obs: np.ndarray | None = None
        self.cursor = 0  # index into a trace or a video
        self.replay_data: Any = None
        self.dirty = True
        self.visible = True
        self.running = True
        self.fps = 0.0
        self.rng = np.random.default_rng(owner.seed)
        self.history: list[tuple[int, dict[str, float], float | None, bool]] = []

    # -- setup -----------------------------------------------------------------------------

    def run(self) -> None:
        from studio.app.rollouts import action_bounds, env_model, make_env
        from studio.sim.render import SOFTWARE_BACKENDS, OffscreenRenderer, select_gl_backend

        o = self.o
        self.env = make_env(o.task, 1, o.seed)
        self.model = env_model(self.env)
        self.low, self.high = action_bounds(self.env)
        self.dt = float(getattr(self.env, "dt", 0.0) or _model_dt(self.env, self.model))
        # Multisampling roughly doubles a software frame's cost: off on CPU backends.
        offsamples = 0 if select_gl_backend() in SOFTWARE_BACKENDS else None
        self.renderer = OffscreenRenderer(self.model, o.width, o.height, shadows=o._shadows,
                                          reflections=o._reflections, offsamples=offsamples)
        tracked = None
        if self.model.nbody > 1:
            # Follow the first body (a runner's torso, a cart): locomotion leaves a free
            # camera behind within seconds.
            tracked = 1
            self.renderer.track_body(tracked)
        try:
            self._set_design(o._design)
            self.obs = self.env.reset(seed=o.seed)
            o.signals.info.emit({
                "tracked": tracked,
                "bodies": _body_names(self.model), "dt": self.dt,
                "backend": self.renderer.backend, "shadows": self.renderer.shadows,
                "reflections": self.renderer.reflections,
            })
            self._loop()
        finally:
            self.renderer.close()
            self.env.close()

    def _set_design(self, design: Any) -> None:
        from studio.core.compile import compile_design

        self.compiled, self.overlay.message = None, ""
        if design is None:
            names: list[str] = []
        else:
            try:
                self.compiled = compile_design(design)
                names = sorted(self.compiled.required_features)
                self.env.set_feature_names(names)
            except Exception as exc:  # noqa: BLE001 - a bad design must not stop the viewer
                self.compiled, names = None, []
                self.overlay.message = f"design not shown: {exc}"
                self.env.set_feature_names([])
        self.names = names
        self.state = None if self.compiled is None else self.compiled.initial_state(1)

    # -- loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        last = time.perf_counter()
        budget = 0.0
        last_render = 0.0
        frame_times: list[float] = []
        while self.running:
            now = time.perf_counter()
            budget += (now - last) * self.speed if not self.paused else 0.0
            last = now
            period = self._period()
            steps = 0
            while budget >= period and steps < MAX_CATCHUP:
                self._advance()
                budget -= period
                steps += 1
            if budget > period * MAX_CATCHUP:
                budget = 0.0  # too slow to keep up: slow down rather than jump
            while self.pending_steps > 0:
                self.pending_steps -= 1
                self._advance()
            if self.dirty and self.visible and now - last_render >= 1.0 / MAX_FPS:
                self._render()
                last_render = now
                frame_times.append(now)
                frame_times = frame_times[-30:]
                if len(frame_times) > 1:
                    self.fps = (len(frame_times) - 1) / max(frame_times[-1] - frame_times[0], 1e-9)
            # Sleep until the next step or frame is due, waking at once for a command.
            wait = 1.0 / MAX_FPS if self.dirty and self.visible else (
                max(period - budget, 0.0) / self.speed if not self.paused else 0.25)
            self._drain(max(wait, 0.0005))

    def _period(self) -> float:
        if self.source.kind == "video":
            return 1.0 / max(self.source.fps, 1e-3)
        return self.dt

    def _drain(self, timeout: float) -> None:
        try:
            cmd = self.o._commands.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._command(cmd)
            try:
                cmd = self.o._commands.get_nowait()
            except queue.Empty:
                return

    def _command(self, cmd: tuple[Any, ...]) -> None:
        name, args = cmd[0], cmd[1:]
        r = self.renderer
        if name == "stop":
            self.running = False
        elif name == "orbit":
            r.orbit(float(args[0]), float(args[1]))
        elif name == "pan":  # fractions of the camera distance: feels the same at any zoom
            r.pan(float(args[0]) * r.distance, float(args[1]) * r.distance)
        elif name == "zoom":
            r.zoom(float(args[0]))
        elif name == "track":
            r.track_body(args[0])
        elif name == "reset_camera":
            r.reset_camera()
        elif name == "pause":
            self.paused = bool(args[0])
        elif name == "step":
            self.pending_steps += 1
        elif name == "speed":
            self.speed = float(np.clip(float(args[0]), 0.05, 16.0))
        elif name == "reset":
            self._reset()
        elif name == "design":
            self._set_design(args[0])
            self._reset()
        elif name == "source":
            self.source = args[0]
            self._reset()
        elif name == "shadows":
            r.shadows = bool(args[0])
        elif name == "reflections":
            r.reflections = bool(args[0])
        elif name == "visible":
            self.visible = bool(args[0])
        self.dirty = True

    # -- stepping --------------------------------------------------------------------------

    def _reset(self) -> None:
        self.cursor = 0
        self.ep_return = 0.0
        self.overlay = Overlay(message=self.overlay.message)
        if self.compiled is not None:
            self.state = self.compiled.initial_state(1)
        if self.source.kind in ("random", "zero", "policy"):
            self.obs = self.env.reset(seed=int(self.rng.integers(1 << 30)))
        elif self.source.kind == "trace":
            self._show_trace_state(0)

    def _advance(self) -> None:
        kind = self.source.kind
        if kind == "video":
            frames = self.source.frames
            if frames is not None and len(frames):
                self.cursor = (self.cursor + 1) % len(frames)
                self.overlay.step = self.cursor
        elif kind == "trace":
            tr = self.source.trace
            n = 0 if tr is None else tr.length
            if n:
                self.cursor = (self.cursor + 1) % (n + 1)
                self._show_trace_state(self.cursor)
        else:
            self._sim_step()
        self.dirty = True

    def _action(self) -> np.ndarray:
        env = self.env
        kind = self.source.kind
        if kind == "zero" or self.obs is None:
            return np.zeros((1, env.act_dim))
        if kind == "policy" and self.source.policy is not None:
            a = np.asarray(self.source.policy(self.obs), dtype=np.float64).reshape(1, -1)
        else:
            a = self.rng.uniform(*sampling_bounds(self.low, self.high), size=(1, env.act_dim))
        return np.clip(a, self.low, self.high)

    def _sim_step(self) -> None:
        res = self.env.step(self._action())
        self.obs = res.obs
        ov = self.overlay
        ov.step += 1
        ov.task_reward = float(res.task_reward[0])
        if self.compiled is not None:
            try:
                out = self.compiled(
                    {n: res.features[n] for n in self.names},
                    prev_features={n: res.prev_features[n] for n in self.names}
                    if self.compiled.needs_previous else None,
                    terminated=res.terminated, truncated=res.truncated, state=self.state,
                    check_finite=False)
                self.state = out.state
                ov.total = float(out.total[0])
                ov.components = {k: float(v[0]) for k, v in out.components.items()}
                self.ep_return += ov.total
            except Exception as exc:  # noqa: BLE001
                self.compiled = None
                ov.message = f"design not shown: {exc}"
        ov.episode_return = self.ep_return
        ended = bool(res.terminated[0]) or bool(res.truncated[0])
        self._record(ov, ended)
        if ended:
            ov.step = 0
            self.ep_return = 0.0

    def _record(self, ov: Overlay, ended: bool) -> None:
        if ov.total is not None:
            self.history.append((ov.step, dict(ov.components), ov.task_reward, ended))
            del self.history[:-2000]

    def _show_trace_state(self, t: int) -> None:
        import mujoco

        tr = self.source.trace
        if tr is None or tr.qpos is None:
            return
        if self.replay_data is None:
            self.replay_data = mujoco.MjData(self.model)
        t = min(t, tr.qpos.shape[0] - 1)
        self.replay_data.qpos[:] = tr.qpos[t]
        if tr.qvel is not None:
            self.replay_data.qvel[:] = tr.qvel[t]
        mujoco.mj_forward(self.model, self.replay_data)
        ov = self.overlay
        ov.step = t
        if t == 0:
            self.ep_return = 0.0
        if t > 0 and tr.length >= t:
            i = t - 1
            ov.total = float(tr.total[i]) if len(tr.total) > i else None
            ov.components = {k: float(v[i]) for k, v in tr.components.items()}
            ov.task_reward = float(tr.task_reward[i])
            self.ep_return += ov.total or 0.0
            self._record(ov, t == tr.length)
        else:
            ov.total, ov.components, ov.task_reward = None, {}, None
        ov.episode_return = self.ep_return

    # -- rendering -------------------------------------------------------------------------

    def _render(self) -> None:
        slot = self.o.slot
        idx = slot.free_index()
        buf = slot.buffers[idx]
        if self.source.kind == "video" and self.source.frames is not None and len(self.source.frames):
            _blit(buf, self.source.frames[self.cursor])
        else:
            data = self.replay_data if self.source.kind == "trace" and self.replay_data is not None \
                else self.env.datas[0]
            np.copyto(buf, self.renderer.render(data))
        ov = self.overlay
        ov.fps, ov.source = self.fps, self.source.label or self.source.kind
        snapshot = Overlay(ov.step, ov.total, dict(ov.components), ov.episode_return,
                           ov.task_reward, ov.source, ov.fps, ov.message, self.history)
        self.history = []
        self.dirty = False
        self.o.frames_rendered += 1
        if slot.publish(idx, snapshot):
            self.o.signals.frame_ready.emit()


def _blit(dst: np.ndarray, src: np.ndarray) -> None:
    """Copy ``src`` into ``dst`` (top-left), cropping or padding with black."""
    h, w = min(dst.shape[0], src.shape[0]), min(dst.shape[1], src.shape[1])
    if src.shape[:2] != dst.shape[:2]:
        dst[:] = 0
    dst[:h, :w] = src[:h, :w, :3]


def _model_dt(env: Any, model: Any) -> float:
    task = getattr(env, "task", None)
    if task is not None and getattr(task, "dt", None):
        return float(task.dt)
    inner = getattr(env, "envs", None)
    if inner:
        return float(inner[0].unwrapped.dt)
    return float(model.opt.timestep)


def _body_names(model: Any) -> list[str]:
    import mujoco

    out = []
    for i in range(1, model.nbody):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, i)
        out.append(name or f"body {i}")
    return out
