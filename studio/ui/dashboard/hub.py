"""A per-window relay for what the running training reports, so panels need not know each other.

The training dashboard publishes on it; the viewer (live policy) and the plots listen.
It hangs off the :class:`~studio.ui.context.AppContext` as a child QObject, so every panel
built from the same context finds the same hub with :func:`hub_for`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

__all__ = ["RunHub", "hub_for"]


class RunHub(QObject):
    """Signals: ``snapshot(Snapshot)``, ``metrics(list[Metrics])``, ``run_started(int)``,
    ``run_ended(int, str)`` (run id, final status), ``play_checkpoint(str)`` (an absolute
    checkpoint path the viewer should play), ``live_steps(list)`` (the steps the viewer
    just played: ``(step, components, task reward, episode ended)``)."""

    snapshot = Signal(object)
    play_checkpoint = Signal(str)
    live_steps = Signal(object)
    metrics = Signal(object)
    run_started = Signal(int)
    run_ended = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studio_run_hub")
        self.latest_snapshot: object | None = None
        """The newest snapshot, for a panel that starts listening late."""
        self.snapshot.connect(self._keep)

    def _keep(self, snap: object) -> None:
        self.latest_snapshot = snap


def hub_for(context: QObject) -> RunHub:
    """The hub of ``context``'s window, created on first use."""
    hub = context.findChild(RunHub, "studio_run_hub")
    if hub is None:
        hub = RunHub(context)
    return hub
