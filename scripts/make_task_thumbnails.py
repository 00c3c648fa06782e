"""Render the task picker's thumbnails: one small PNG of each built-in task's initial pose.

Run once when a built-in task is added (the PNGs are committed with the app, so the
picker opens instantly and needs no OpenGL)::

    MUJOCO_GL=osmesa .venv/bin/python scripts/make_task_thumbnails.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image

from studio.sim.registry import default_registry
from studio.sim.render import OffscreenRenderer

OUT = Path(__file__).resolve().parent.parent / "studio" / "ui" / "resources" / "tasks"
SIZE = (192, 144)


def main() -> int:
    """Write ``<env id>.png`` for every registered built-in task."""
    OUT.mkdir(parents=True, exist_ok=True)
    for entry in default_registry().entries():
        task = default_registry().get(entry.env_id)
        data = mujoco.MjData(task.model)
        mujoco.mj_forward(task.model, data)
        with OffscreenRenderer(task.model, *SIZE, offsamples=4) as renderer:
            renderer.reset_camera()
            image = renderer.render(data)
        Image.fromarray(np.asarray(image)).save(OUT / f"{entry.env_id}.png", optimize=True)
        print(f"{entry.env_id}: {OUT / (entry.env_id + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
