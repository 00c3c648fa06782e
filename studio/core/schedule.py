"""Values that follow the training step, so that curricula need no code.

A weight or a shape parameter is either a plain number or a :class:`Schedule`.

>>> Schedule("linear", start=0.0, end=1.0, steps=100).value(50)
0.5
>>> Schedule("piecewise", points=((0, 1.0), (10, 3.0))).value(5)
2.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SCHEDULE_KINDS = ("constant", "linear", "cosine", "piecewise")


@dataclass(frozen=True)
class Schedule:
    """A number as a function of the training step."""

    kind: str = "constant"
    """One of ``constant``, ``linear``, ``cosine``, ``piecewise``."""
    start: float = 0.0
    """Value at ``begin`` (and before it)."""
    end: float = 0.0
    """Value at ``begin + steps`` (and after it); unused by ``constant``."""
    steps: int = 1
    """Length of the ramp in training steps."""
    begin: int = 0
    """Training step at which the ramp starts."""
    points: tuple[tuple[int, float], ...] = field(default_factory=tuple)
    """``piecewise`` only: (step, value) knots, linearly interpolated, held flat outside."""

    def value(self, step: int | float) -> float:
        """The value at training step ``step``."""
        return schedule_value(
            self.kind, self.start, self.end, self.steps, self.begin, self.points, step
        )

    def to_json(self) -> dict[str, Any]:
        """The schedule as a JSON object."""
        out: dict[str, Any] = {"schedule": self.kind, "start": self.start}
        if self.kind in ("linear", "cosine"):
            out.update(end=self.end, steps=self.steps, begin=self.begin)
        if self.kind == "piecewise":
            out["points"] = [[s, v] for s, v in self.points]
        return out


# A free function of plain values, so that the exporter can copy its source into standalone
# code and exported schedules give the studio's numbers.
def schedule_value(
    kind: str,
    start: float,
    end: float,
    steps: int,
    begin: int,
    points: tuple[tuple[int, float], ...],
    step: int | float,
) -> float:
    """A schedule's value at training step ``step``: constant, linear, cosine or piecewise."""
    if kind == "constant":
        return float(start)
    if kind == "piecewise":
        if not points:
            return float(start)
        if step <= points[0][0]:
            return float(points[0][1])
        for (s0, v0), (s1, v1) in zip(points, points[1:], strict=False):
            if step <= s1:
                frac = (step - s0) / max(s1 - s0, 1e-12)
                return float(v0 + (v1 - v0) * frac)
        return float(points[-1][1])
    frac = min(max((step - begin) / max(steps, 1), 0.0), 1.0)
    if kind == "cosine":
        frac = 0.5 - 0.5 * math.cos(math.pi * frac)
    return float(start + (end - start) * frac)


Param = float | Schedule
"""A plain number or a schedule."""


def param_value(p: Param, step: int | float = 0) -> float:
    """The value of a parameter at a training step."""
    return p.value(step) if isinstance(p, Schedule) else float(p)


def is_scheduled(p: Param) -> bool:
    """True when ``p`` varies with the training step."""
    return isinstance(p, Schedule) and p.kind != "constant"
