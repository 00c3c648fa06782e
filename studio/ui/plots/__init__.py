"""Analysis plots of a design over rollouts: per-term series, histograms, heat map, statistics."""

from studio.ui.plots.panel import PlotsPanel

__all__ = ["PlotsPanel"]
