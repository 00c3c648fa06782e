"""The embedded MuJoCo viewer: offscreen rendering in a worker thread, frames shown as QImages."""

from studio.ui.viewer.panel import ViewerPanel
from studio.ui.viewer.view import FrameView
from studio.ui.viewer.worker import FrameSlot, Overlay, Source, ViewerWorker

__all__ = ["FrameSlot", "FrameView", "Overlay", "Source", "ViewerPanel", "ViewerWorker"]
