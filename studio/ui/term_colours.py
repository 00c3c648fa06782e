"""One colour per term, everywhere: editor tree and curve, plots, viewer overlay, dashboard.

A term's colour depends on its name only. Names are given colours in the order the
designs present them (:func:`assign` with a design's terms, called when a design is
loaded), so the first design's terms get the first palette colours in their tree order;
a name met first elsewhere (a compared run's old term) gets the next free colour. The
assignment lives for the process, so a term keeps its colour across panels and designs.

>>> reset()
>>> assign(["forward", "ctrl_cost"])
>>> term_colour("forward"), term_colour("ctrl_cost"), term_colour("forward") == PALETTE[0]
('#4c9be8', '#f0a04b', True)
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PALETTE", "assign", "assign_design", "reset", "term_colour"]

PALETTE = ["#4c9be8", "#f0a04b", "#5cc37a", "#e05d5d", "#a47de0", "#c9a93a", "#3fb8c1",
           "#e07ab8", "#8d949b", "#7fbf3f", "#3f6fd1", "#d1693f"]
"""Distinct hues that read on white and on the viewer's dark overlay."""

_assigned: dict[str, int] = {}


def assign(names: Iterable[str]) -> None:
    """Give each new name the next colour (names already coloured keep theirs)."""
    for name in names:
        if name not in _assigned:
            _assigned[name] = len(_assigned)


def assign_design(design: object) -> None:
    """Colour a design's terms, events and groups in its tree order."""
    names: list[str] = []
    walk = getattr(design, "walk", None)
    if callable(walk):
        names += [node.name for _, node in walk() if not hasattr(node, "children")]
        names += [node.name for _, node in walk() if hasattr(node, "children")]
    names += [e.name for e in getattr(design, "events", [])]
    shaping = getattr(design, "shaping", None)
    if shaping is not None:
        names.append(shaping.name)
    assign(names)


def term_colour(name: str) -> str:
    """The colour of term (or component) ``name`` as ``#rrggbb``."""
    if name not in _assigned:
        assign([name])
    return PALETTE[_assigned[name] % len(PALETTE)]


def reset() -> None:
    """Forget every assignment (tests)."""
    _assigned.clear()
