"""Ranking rollout videos: a synced grid, a per-term timeline, and the rollouts to pick from.

``decode`` (frames off the GUI thread, sized to the cell), ``playhead`` (one clock for all
videos), ``grid`` (the cells), ``order`` (the places being made, Qt-free), ``strip`` (the
places, with drag and drop), ``timeline`` (per-term contributions under the focused
video), ``view`` (all of it, with the keys) and ``picker`` (Tools › Rank rollouts…: pick
a set, record new rollouts).
"""

from __future__ import annotations

from typing import Any

__all__ = ["open_ranking_dialog"]


def open_ranking_dialog(context: Any, parent: Any = None) -> Any:
    """Open the rollout picker (Tools › Rank rollouts…); imported on first use."""
    from studio.ui.ranking.picker import open_ranking_dialog as open_

    return open_(context, parent)
