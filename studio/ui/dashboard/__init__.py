"""The training dashboard: start, pause, stop and compare runs, with live curves."""

from studio.ui.dashboard.hub import RunHub, hub_for

__all__ = ["RunHub", "hub_for"]
