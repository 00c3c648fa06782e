"""A term's shape curve over its source's typical range, cheap enough to follow a slider.

The x grid (200 points over the feature's typical range) is computed once per source;
each parameter change only evaluates the shape on it with numpy and calls ``setData``
on the existing curve items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from studio.core.design import Term
from studio.core.features import FeatureCatalog
from studio.core.schedule import param_value

N_POINTS = 200
CURVE_COLOR = "#2f6fbf"
WEIGHTED_COLOR = "#d08a2f"


def source_grid(term: Term, catalog: FeatureCatalog | None, n: int = N_POINTS) -> np.ndarray:
    """``n`` points over the typical range of the term's source (-1..1 when unknown)."""
    lo, hi = -1.0, 1.0
    if catalog is not None and len(catalog):
        try:
            from studio.core.analysis import source_range

            lo, hi = source_range(term, catalog)
        except Exception:  # noqa: BLE001 - a bad expression still gets a curve
            spec = catalog.get(term.source)
            if spec is not None:
                lo, hi = spec.low, spec.high
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    return np.linspace(lo, hi, n)


def shaped(term: Term, x: np.ndarray) -> np.ndarray:
    """The term's shape on ``x`` (NaN where the parameters are invalid)."""
    from studio.core.analysis import shape_values

    try:
        return shape_values(term, x)
    except Exception:  # noqa: BLE001 - invalid params draw nothing, the inspector says why
        return np.full_like(x, np.nan)


class ShapeCurve(pg.PlotWidget):  # type: ignore[misc]
    """The shaped value (solid) and the weighted value (dashed) of one term."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.setBackground(self.palette().base().color())
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen("#404040")
            self.getAxis(axis).setPen("#808080")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.addLegend(offset=(6, 6), labelTextSize="8pt")
        self.weighted = self.plot([], [], pen=pg.mkPen(WEIGHTED_COLOR, width=1.5,
                                                       style=pg.QtCore.Qt.PenStyle.DashLine),
                                  name="× weight")
        self.curve = self.plot([], [], pen=pg.mkPen(CURVE_COLOR, width=2.2), name="shaped")
        self.zero = pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#999999", width=1))
        self.addItem(self.zero)
        self.setLabel("bottom", "source value")
        self.setMenuEnabled(False)
        self._key: tuple[Any, ...] | None = None
        self._x = np.linspace(-1.0, 1.0, N_POINTS)
        self._colour_of: str | None = None

    def show_term(self, term: Term | None, catalog: FeatureCatalog | None) -> None:
        """Draw ``term``'s curve; reuses the x grid while the source is unchanged.

        Clears the plot for no term or no catalogue.
        """
        if term is None or catalog is None:
            # No catalogue yet (the task loads in the background): no range to draw over.
            self.curve.setData([], [])
            self.weighted.setData([], [])
            self._key = None
            return
        key = (term.source, id(catalog))
        if key != self._key:
            self._x = source_grid(term, catalog)
            self._key = key
            spec = catalog.get(term.source) if catalog is not None else None
            unit = f" [{spec.unit}]" if spec is not None and spec.unit else ""
            source = term.source if len(term.source) <= 48 else term.source[:47] + "…"
            self.setLabel("bottom", f"{source}{unit}")  # a long expression never overflows the axis
        y = shaped(term, self._x)
        weight = param_value(term.weight, 0)
        if self._colour_of != term.name:  # the term's colour, as in the plots and the viewer
            from studio.ui.term_colours import term_colour

            self.curve.setPen(pg.mkPen(term_colour(term.name), width=2.2))
            self._colour_of = term.name
        self.curve.setData(self._x, y)
        self.weighted.setData(self._x, weight * y)

    def invalidate(self) -> None:
        """Forget the x grid (the catalogue's ranges changed)."""
        self._key = None
