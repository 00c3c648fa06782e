"""Decoding a rollout video for the ranking grid, off the GUI thread, at the size it is shown.

:func:`decode_video` is a plain ``run(inputs, state)`` function (see :mod:`studio.ui.workers`):
ffmpeg scales every frame to fit the cell while decoding, so what stays in memory is
bounded by what is on screen, not by the file, and never larger than the file's own
frames. A grid of 8 cells holding 1000 frames each must still fit a laptop, so the frame
size is also capped by a memory budget shared by the cells (:func:`frame_pixels`): 8 ×
1000 square frames at the default 640 MB budget are at most 167 × 167 pixels, 4 × 1000
236 × 236, 2 × 1000 334 × 334. A video shown full screen is decoded again at the larger
size, under the budget of one video (473 × 473 for 1000 frames).

Frames arrive as partial results (every :data:`CHUNK` frames), so playback starts before
the whole file is read. A missing file, one ffmpeg cannot open (a cut-off mp4 has no
index) and one that ends early are reported in :class:`DecodedVideo`, never raised.

>>> fit_frame((480, 480), cell=(800, 300), max_pixels=frame_pixels(videos=8, frames=1000))
(167, 167)
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CHUNK", "MEMORY_BUDGET", "DecodeInputs", "DecodedVideo", "decode_video", "fit_frame",
           "frame_pixels"]

MEMORY_BUDGET = 640 * 1024 * 1024
"""Bytes of decoded RGB frames the whole grid may hold."""
CHUNK = 50
"""Frames per partial result."""
MIN_SIDE = 16


def frame_pixels(videos: int, frames: int, budget: int = MEMORY_BUDGET) -> int:
    """Pixels one frame may have so that ``videos`` × ``frames`` RGB frames fit ``budget`` bytes."""
    return max(MIN_SIDE * MIN_SIDE, int(budget // max(1, videos * frames * 3)))


def fit_frame(source: tuple[int, int], cell: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """``(width, height)`` of ``source`` frames scaled to fit ``cell`` and ``max_pixels``.

    The aspect ratio is kept and frames are never enlarged (the cell scales them up
    when it paints, which costs no memory).
    """
    sw, sh = max(1, int(source[0])), max(1, int(source[1]))
    scale = min(1.0, cell[0] / sw, cell[1] / sh, math.sqrt(max_pixels / (sw * sh)))
    return max(MIN_SIDE, int(sw * scale)), max(MIN_SIDE, int(sh * scale))


@dataclass
class DecodeInputs:
    """What :func:`decode_video` reads."""

    path: Path | None
    """The video file (None: the rollout has no video)."""
    cell: tuple[int, int]
    """``(width, height)`` of the cell the frames are shown in."""
    expected: int | None = None
    """Frames the rollout has (one per env step); fewer in the file means it was cut short."""
    max_pixels: int = 480 * 480
    """Pixels a decoded frame may have (see :func:`frame_pixels`)."""


@dataclass
class DecodedVideo:
    """Frames decoded so far, and what went wrong if anything did."""

    frames: list[np.ndarray] = field(default_factory=list)
    """``uint8`` [h, w, 3] each, all of one size."""
    fps: float = 0.0
    done: bool = False
    """True once the whole file was read (or reading failed)."""
    problem: str = ""
    """Empty, or what the cell must say instead of (or over) the frames."""
    source_size: tuple[int, int] | None = None

    @property
    def count(self) -> int:
        """Frames decoded."""
        return len(self.frames)

    def frame(self, index: int) -> np.ndarray | None:
        """Frame ``index``, the last one for an index past the end, None when there is none."""
        if not self.frames:
            return None
        return self.frames[min(max(0, index), len(self.frames) - 1)]


def decode_video(inputs: DecodeInputs, state: Any) -> DecodedVideo:
    """Decode ``inputs.path`` scaled to fit the cell; partial results every :data:`CHUNK` frames.

    Partial results are fresh :class:`DecodedVideo` objects sharing the frame list (the
    list only grows), so the GUI may keep the latest one it received.
    """
    import imageio_ffmpeg

    out = DecodedVideo()
    path = inputs.path
    if path is None:
        return _finish(out, "no video recorded")
    if not Path(path).is_file():
        return _finish(out, f"video missing: {Path(path).name}")
    # imageio-ffmpeg warns that the read size differs from the source: that is the point.
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
    reader = None
    try:
        probe = imageio_ffmpeg.read_frames(str(path))  # the header only: the source's size
        meta = next(probe)
        probe.close()
        out.fps = float(meta.get("fps") or 0.0)
        out.source_size = (int(meta["size"][0]), int(meta["size"][1]))
        w, h = fit_frame(out.source_size, inputs.cell, inputs.max_pixels)
        reader = imageio_ffmpeg.read_frames(str(path), output_params=["-vf", f"scale={w}:{h}:flags=area"])
        fw, fh = next(reader)["size"]
        for raw in reader:
            if state.is_interruption_requested():
                return out
            out.frames.append(np.frombuffer(raw, dtype=np.uint8).reshape(fh, fw, 3))
            if len(out.frames) % CHUNK == 0:
                state.set_partial_result(_snapshot(out))
                if inputs.expected:
                    state.set_progress(100.0 * len(out.frames) / inputs.expected)
    except (OSError, RuntimeError, StopIteration, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        what = "truncated" if out.frames else "unreadable (truncated or not a video)"
        logging.getLogger("studio.ui").info("video %s: %s", path, first)
        return _finish(out, f"video {what}: {Path(path).name}")
    finally:
        if reader is not None:
            reader.close()
    if not out.frames:
        return _finish(out, f"video empty: {Path(path).name}")
    if inputs.expected and len(out.frames) < inputs.expected:
        return _finish(out, f"video truncated: {len(out.frames)} of {inputs.expected} frames")
    return _finish(out, "")


def _snapshot(out: DecodedVideo) -> DecodedVideo:
    return DecodedVideo(out.frames, out.fps, False, out.problem, out.source_size)


def _finish(out: DecodedVideo, problem: str) -> DecodedVideo:
    out.problem = problem
    out.done = True
    return out
