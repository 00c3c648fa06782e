"""Decoding a rollout video for the ranking grid, off the GUI thread, at the size it is shown.

:func:`decode_video` is a plain ``run(inputs, state)`` function (see :mod:`studio.ui.workers`):
ffmpeg scales every frame to the cell's size while decoding, so what stays in memory is
bounded by what is on screen, not by the file. A grid of 8 cells holding 1000 frames each
must still fit a laptop, so the size asked for is also capped by a memory budget shared by
the cells (:func:`frame_box`): 8 × 1000 frames at the default 640 MB budget are about
160 × 160 pixels each, 2 × 1000 frames about 320 × 320. A cell shown full screen decodes
its own video again at the larger size, under the budget of one.

Frames arrive as partial results (every :data:`CHUNK` frames), so playback starts before
the whole file is read. A missing file, one ffmpeg cannot open (a cut-off mp4 has no
index) and one that ends early are reported in :class:`DecodedVideo`, never raised.

>>> box = frame_box((400, 300), videos=8, frames=1000)
>>> box[0] * box[1] * 3 * 8 * 1000 <= MEMORY_BUDGET
True
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CHUNK", "MEMORY_BUDGET", "DecodeInputs", "DecodedVideo", "decode_video", "frame_box"]

MEMORY_BUDGET = 640 * 1024 * 1024
"""Bytes of decoded RGB frames the whole grid may hold."""
CHUNK = 50
"""Frames per partial result."""
MIN_SIDE = 32


def frame_box(cell: tuple[int, int], videos: int, frames: int,
              budget: int = MEMORY_BUDGET) -> tuple[int, int]:
    """The largest ``(width, height)`` box not above ``cell`` whose frames fit the budget.

    ``videos`` × ``frames`` RGB frames of the box take at most ``budget`` bytes. The box
    keeps the cell's aspect ratio; ffmpeg then fits the video inside it keeping its own.
    """
    w, h = max(MIN_SIDE, int(cell[0])), max(MIN_SIDE, int(cell[1]))
    per_frame = budget / max(1, videos * frames * 3)
    if w * h > per_frame:
        scale = math.sqrt(per_frame / (w * h))
        w, h = max(MIN_SIDE, int(w * scale)), max(MIN_SIDE, int(h * scale))
    return w, h


@dataclass
class DecodeInputs:
    """What :func:`decode_video` reads."""

    path: Path | None
    """The video file (None: the rollout has no video)."""
    box: tuple[int, int]
    """``(width, height)`` the frames must fit in."""
    expected: int | None = None
    """Frames the rollout has (one per env step); fewer in the file means it was cut short."""


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
    """Decode ``inputs.path`` scaled into ``inputs.box``; partial results every :data:`CHUNK` frames.

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
    w, h = inputs.box
    # Fit inside the box keeping the aspect ratio, never larger than the source (no memory
    # spent on upscaled copies; the cell scales up when it paints).
    scale = (f"scale=w='min(iw,{w})':h='min(ih,{h})':force_original_aspect_ratio=decrease"
             ":flags=area")
    # imageio-ffmpeg warns that the read size differs from the source: that is the point.
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
    reader = None
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=["-vf", scale])
        meta = next(reader)
        out.fps = float(meta.get("fps") or 0.0)
        out.source_size = tuple(meta.get("source_size") or meta["size"])  # type: ignore[assignment]
        fw, fh = meta["size"]
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
        log = logging.getLogger("studio.ui")
        log.info("video %s: %s", path, first)
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
