"""The Refinement panel: run ICPL rounds from the app (Tools › Refinement…).

``panel`` holds :class:`~studio.ui.refine.panel.RefinePanel`: settings, start / pause /
resume, the rounds with each candidate's status, place and curve, and the ranking view
(``studio.ui.ranking``) opened on a round's K videos when a person is to rank them.
"""

from __future__ import annotations

__all__ = ["open_refine_dialog"]


def open_refine_dialog(context: object, parent: object = None) -> object:
    """Open the Refinement panel for the context's workspace and design; imported on first use."""
    from studio.ui.refine.panel import open_refine_dialog as open_

    return open_(context, parent)
