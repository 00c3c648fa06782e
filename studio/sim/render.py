"""Offscreen rendering of MuJoCo models to numpy images, on a GPU (EGL) or a CPU (OSMesa).

Call :func:`select_gl_backend` once, as early as possible (ideally before anything
imports ``mujoco``): it sets ``MUJOCO_GL`` to ``egl`` on a machine with an NVIDIA GPU
and to ``osmesa`` (software) otherwise, and leaves a value the user set alone.
:class:`OffscreenRenderer` calls it too and creates the GL context of the selected
backend itself, so it renders correctly even if ``mujoco`` was imported first (MuJoCo
fixes the backend of its own ``mujoco.Renderer`` at import time).

Threads: a GL context (OSMesa or EGL) is current in one thread. Create the renderer in
the worker thread that renders with it, use it there only, and close it there; the
renderer checks this and raises ``RuntimeError`` when it is used from another thread.
The GUI thread receives finished ``uint8`` images.

On a CPU, shadows and reflections cost most of the frame time (HalfCheetah at 640x480
with OSMesa: about 20 fps with them, about 75 fps without), so they default off there
and on with EGL.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import glob
import importlib
import logging
import math
import os
import sys
import threading
import weakref
from typing import Any

import mujoco
import numpy as np

log = logging.getLogger(__name__)

SOFTWARE_BACKENDS = frozenset({"osmesa"})
"""Backends that render on the CPU: shadows and reflections default off with them."""


_live: weakref.WeakSet[OffscreenRenderer] = weakref.WeakSet()


@atexit.register
def _close_live_renderers() -> None:
    # At interpreter exit PyOpenGL may be half torn down before the GL contexts'
    # finalisers run, which then print tracebacks: free what this thread owns first.
    for renderer in list(_live):
        with contextlib.suppress(Exception):
            if renderer._owner == threading.get_ident():
                renderer.close()


def _nvidia_gpu_present() -> bool:
    return os.path.exists("/proc/driver/nvidia/version") or bool(glob.glob("/dev/nvidia[0-9]*"))


def select_gl_backend() -> str:
    """Set ``MUJOCO_GL`` if it is unset and return the backend in effect.

    ``egl`` when an NVIDIA GPU and libEGL are present, else ``osmesa``, on Linux; a
    value the user set is honoured, and other systems keep MuJoCo's default (``""``,
    which means GLFW or CGL). It must run before the first renderer is created, and
    before ``import mujoco`` for MuJoCo's own ``mujoco.Renderer`` (and Gymnasium's
    ``render_mode="rgb_array"``) to use the same backend.
    """
    current = os.environ.get("MUJOCO_GL", "").strip().lower()
    if current or not sys.platform.startswith("linux"):
        return current
    platform = os.environ.get("PYOPENGL_PLATFORM", "").strip().lower()
    if platform in ("egl", "osmesa"):
        backend = platform  # PyOpenGL is bound to it already: anything else would fail
    elif _nvidia_gpu_present() and ctypes.util.find_library("EGL"):
        backend = "egl"
    else:
        backend = "osmesa"
    os.environ["MUJOCO_GL"] = backend
    if "mujoco.rendering.classic.gl_context" in sys.modules:
        log.debug(
            "MUJOCO_GL=%s set after mujoco was imported; mujoco.Renderer keeps its "
            "own backend, OffscreenRenderer uses %s",
            backend,
            backend,
        )
    return backend


def _gl_context_class(backend: str) -> Any:
    """MuJoCo's GL context class for ``backend`` (imported on first use)."""
    module = {"egl": "mujoco.egl", "osmesa": "mujoco.osmesa", "cgl": "mujoco.cgl"}.get(
        backend, "mujoco.glfw"
    )
    try:
        return importlib.import_module(module).GLContext
    except (ImportError, OSError) as err:
        raise RuntimeError(
            f"cannot use the {backend or 'glfw'} OpenGL backend ({err}); set MUJOCO_GL to "
            "'egl' (GPU) or 'osmesa' (CPU, needs libosmesa6) before starting the studio"
        ) from err


def _body_id(model: mujoco.MjModel, body: int | str) -> int:
    if isinstance(body, str):
        bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, body)
        if bid < 0:
            raise ValueError(f"the model has no body named {body!r}")
        return int(bid)
    if not 0 <= body < model.nbody:
        raise ValueError(f"body id {body} is outside [0, {model.nbody})")
    return int(body)


def _robot_bounds(model: mujoco.MjModel) -> tuple[np.ndarray, float]:
    """Centre and radius of the geoms not attached to the world body, at ``qpos0``."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    moving = np.asarray(model.geom_bodyid) > 0
    if not moving.any():
        return np.zeros(3), 0.0
    pos = data.geom_xpos[moving]
    rbound = np.asarray(model.geom_rbound)[moving]
    lo, hi = (pos - rbound[:, None]).min(axis=0), (pos + rbound[:, None]).max(axis=0)
    return (lo + hi) / 2.0, float(np.linalg.norm(hi - lo) / 2.0)


class OffscreenRenderer:
    """Renders ``MjData`` states of one model to RGB images with a free, movable camera.

    Args:
        model: the model to draw; its offscreen framebuffer is enlarged if needed.
        width, height: image size in pixels.
        shadows, reflections: None picks off on CPU backends (OSMesa), on otherwise.
        offsamples: multisampling (anti-aliasing) samples; None keeps the model's
            ``vis.quality.offsamples`` (4 by default).
        track: a body (id or name) for the camera to follow, or None.
        max_geom: capacity of the scene.

    Create, use and close it in one thread (see the module docstring).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int = 640,
        height: int = 480,
        shadows: bool | None = None,
        reflections: bool | None = None,
        offsamples: int | None = None,
        track: int | str | None = None,
        max_geom: int = 10000,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"image size must be positive, not {width}x{height}")
        self.model = model
        self.width, self.height = int(width), int(height)
        self.backend = select_gl_backend()
        self._owner = threading.get_ident()
        self._gl: Any = None
        self._con: mujoco.MjrContext | None = None

        # MjrContext sizes its offscreen buffer from the model when it is created; enlarge
        # it for this renderer only and put the model's values back afterwards.
        vis = model.vis
        saved = (vis.global_.offwidth, vis.global_.offheight, vis.quality.offsamples)
        vis.global_.offwidth = max(vis.global_.offwidth, self.width)
        vis.global_.offheight = max(vis.global_.offheight, self.height)
        if offsamples is not None:
            vis.quality.offsamples = int(offsamples)
        try:
            self._gl = _gl_context_class(self.backend)(self.width, self.height)
            self._gl.make_current()
            self._con = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
            mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._con)
        except Exception:
            self.close()
            raise
        finally:
            vis.global_.offwidth, vis.global_.offheight, vis.quality.offsamples = saved
        self.offsamples = int(offsamples if offsamples is not None else saved[2])

        self.scene = mujoco.MjvScene(model, max_geom)
        self.option = mujoco.MjvOption()
        self.camera = mujoco.MjvCamera()
        self._rect = mujoco.MjrRect(0, 0, self.width, self.height)
        self._pixels = np.empty((self.height, self.width, 3), dtype=np.uint8)
        gpu = self.backend not in SOFTWARE_BACKENDS
        self.shadows = gpu if shadows is None else shadows
        self.reflections = gpu if reflections is None else reflections
        self.reset_camera()
        _live.add(self)
        if track is not None:
            self.track_body(track)

    # -- render settings ------------------------------------------------------------

    @property
    def shadows(self) -> bool:
        """Whether lights cast shadows (costly on CPU backends)."""
        return bool(self.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW])

    @shadows.setter
    def shadows(self, on: bool) -> None:
        self.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = bool(on)

    @property
    def reflections(self) -> bool:
        """Whether reflective surfaces (the floor) mirror the scene (costly on CPU backends)."""
        return bool(self.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION])

    @reflections.setter
    def reflections(self, on: bool) -> None:
        self.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = bool(on)

    # -- camera ---------------------------------------------------------------------

    @property
    def azimuth(self) -> float:
        """Camera azimuth in degrees (rotation about the world z axis)."""
        return float(self.camera.azimuth)

    @azimuth.setter
    def azimuth(self, degrees: float) -> None:
        self.camera.azimuth = float(degrees) % 360.0

    @property
    def elevation(self) -> float:
        """Camera elevation in degrees, in [-89, 89]; negative looks down."""
        return float(self.camera.elevation)

    @elevation.setter
    def elevation(self, degrees: float) -> None:
        self.camera.elevation = float(np.clip(degrees, -89.0, 89.0))

    @property
    def distance(self) -> float:
        """Distance from the camera to the point it looks at, in m."""
        return float(self.camera.distance)

    @distance.setter
    def distance(self, metres: float) -> None:
        self.camera.distance = max(float(metres), 1e-3)

    @property
    def lookat(self) -> np.ndarray:
        """The point the camera looks at (world, m); a copy. A tracking camera moves it."""
        return np.array(self.camera.lookat, dtype=np.float64)

    @lookat.setter
    def lookat(self, point: Any) -> None:
        self.camera.lookat[:] = np.asarray(point, dtype=np.float64).reshape(3)

    def orbit(self, d_azimuth: float = 0.0, d_elevation: float = 0.0) -> None:
        """Turn the camera around the point it looks at, by degrees."""
        self.azimuth = self.azimuth + d_azimuth
        self.elevation = self.elevation + d_elevation

    def zoom(self, factor: float) -> None:
        """Multiply the camera distance by ``factor`` (< 1 moves closer)."""
        if factor <= 0:
            raise ValueError(f"zoom factor must be positive, not {factor}")
        self.distance = self.distance * factor

    def pan(self, right: float = 0.0, up: float = 0.0) -> None:
        """Move the look-at point in the image plane by ``right`` and ``up`` metres.

        A tracking camera recentres on its body at the next render; pan a free camera.
        """
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        forward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        cam_up = np.array(
            [-math.sin(el) * math.cos(az), -math.sin(el) * math.sin(az), math.cos(el)]
        )
        cam_right = np.cross(forward, cam_up)
        self.lookat = self.lookat + right * cam_right + up * cam_up

    def reset_camera(self) -> None:
        """A side view framing the model's bodies in their reference pose; stops tracking.

        MuJoCo's own default frames the whole model extent, floor included, which leaves a
        robot a few pixels tall: this one frames the geoms of the moving bodies instead.
        """
        mujoco.mjv_defaultFreeCamera(self.model, self.camera)
        centre, radius = _robot_bounds(self.model)
        if radius > 0:
            self.lookat = centre
            self.distance = max(2.5 * radius, 0.5)
            self.azimuth, self.elevation = 90.0, -20.0

    def track_body(self, body: int | str | None) -> None:
        """Follow ``body`` (id or name) keeping the camera's angles and distance; None: stop."""
        if body is None:
            self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
            self.camera.trackbodyid = -1
            return
        self.camera.trackbodyid = _body_id(self.model, body)
        self.camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING

    @property
    def tracked_body(self) -> int | None:
        """The id of the tracked body, or None for a free camera."""
        if self.camera.type == mujoco.mjtCamera.mjCAMERA_TRACKING:
            return int(self.camera.trackbodyid)
        return None

    # -- rendering ------------------------------------------------------------------

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError(
                "OffscreenRenderer used from another thread than the one that created it: "
                "GL contexts belong to one thread; create the renderer in the worker thread "
                "that renders"
            )

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """The state ``data`` seen by the camera: a new ``uint8`` array [height, width, 3]."""
        self._check_thread()
        if self._con is None:
            raise RuntimeError("render called after close")
        self._gl.make_current()
        mujoco.mjv_updateScene(
            self.model,
            data,
            self.option,
            None,
            self.camera,
            mujoco.mjtCatBit.mjCAT_ALL.value,
            self.scene,
        )
        mujoco.mjr_render(self._rect, self.scene, self._con)
        mujoco.mjr_readPixels(self._pixels, None, self._rect, self._con)
        return np.flipud(self._pixels).copy()  # OpenGL rows run bottom-up

    def close(self) -> None:
        """Free the GL resources (in the creating thread). Calling it again does nothing."""
        if self._con is None and self._gl is None:
            return
        self._check_thread()
        con, gl = self._con, self._gl
        self._con = self._gl = None
        if con is not None and gl is not None:
            with gl.as_current():
                con.free()
        if gl is not None:
            gl.free()

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # nothing useful to do in a finaliser
            if threading.get_ident() == getattr(self, "_owner", None):
                self.close()
