"""What passes from the viewer's worker thread to the GUI: frames in a ring, and their overlay.

:class:`FrameSlot` is a ring of three preallocated image buffers with a one-frame hand-off:
the worker writes a buffer that is neither waiting nor on screen, then offers it; a newer
offer replaces an untaken one (the older frame is dropped, never queued), and the GUI's
``take`` reserves the buffer it paints until its next ``take``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Overlay:
    """What the overlay writes over a frame."""

    step: int = 0
    """Step within the episode (or index in the trace / video)."""
    total: float | None = None
    """The design's reward at this step."""
    components: dict[str, float] = field(default_factory=dict)
    """Each term's signed, weighted reward at this step."""
    episode_return: float = 0.0
    """The design's return so far in this episode."""
    task_reward: float | None = None
    source: str = ""
    fps: float = 0.0
    message: str = ""
    """A problem to show (a design that does not compile for this task, say)."""
    history: list[tuple[int, dict[str, float], float | None, bool]] = field(default_factory=list)
    """Every step since the previous frame: (step, components, task reward, episode ended),
    so a live plot misses none even when frames are dropped."""


class FrameSlot:
    """Three image buffers and a one-frame mailbox between the worker and the GUI."""

    def __init__(self, height: int, width: int, count: int = 3) -> None:
        self.height, self.width = height, width
        self.buffers = [np.zeros((height, width, 3), dtype=np.uint8) for _ in range(count)]
        self._lock = threading.Lock()
        self._pending: int | None = None
        self._pending_overlay: Overlay | None = None
        self._displayed: int | None = None
        self.dropped = 0
        """Frames replaced before the GUI took them."""

    def free_index(self) -> int:
        """A buffer the worker may write: neither waiting nor on screen."""
        with self._lock:
            busy = {self._pending, self._displayed}
        return next(i for i in range(len(self.buffers)) if i not in busy)

    def publish(self, index: int, overlay: Overlay) -> bool:
        """Offer buffer ``index``; True when the mailbox was empty (the GUI must be told)."""
        with self._lock:
            was_empty = self._pending is None
            if not was_empty:
                self.dropped += 1
                if self._pending_overlay is not None:  # keep the dropped frame's steps
                    overlay.history[:0] = self._pending_overlay.history
            self._pending, self._pending_overlay = index, overlay
        return was_empty

    def take(self) -> tuple[int, Overlay] | None:
        """GUI side: the newest frame, which stays reserved until the next ``take``."""
        with self._lock:
            if self._pending is None:
                return None
            idx, ov = self._pending, self._pending_overlay
            self._displayed, self._pending, self._pending_overlay = idx, None, None
        assert ov is not None
        return idx, ov
