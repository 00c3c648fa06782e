"""Suite-wide settings: offscreen Qt and MuJoCo rendering, set before either is imported."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# OSMesa renders without a GPU or a display; a machine with a GPU may set MUJOCO_GL=egl.
os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
# Keep torch from oversubscribing the small CI machine when tests run in parallel.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Source checkouts: make the built-in plugins importable even before `pip install -e .`.
_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (_root, os.path.join(_root, "plugins")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
