"""The training dashboard: start, pause, stop and compare runs, with live curves."""

from studio.ui.dashboard.hub import RunHub, hub_for
from studio.ui.dashboard.panel import TrainingPanel

__all__ = ["RunHub", "TrainingPanel", "hub_for"]
