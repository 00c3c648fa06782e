"""Parameterised shape functions: how a raw feature value becomes a reward term.

Every shape is a plain function ``fn(xp, x, **params)`` written against an array namespace
``xp`` (``numpy`` or ``torch``): the studio compiles it with torch, and the exporter copies
the very same source into standalone numpy code, so both give the same numbers.

Shapes from Lucy-SKG (distance, signed distance) follow spec §1; ``tolerance`` follows
dm_control's ``rewards.tolerance``.

>>> import numpy as np
>>> float(SHAPES["exp_kernel"].fn(np, np.array(0.0), temperature=2.0))
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.core.plugin_table import PluginTable

SIGMOID_KINDS = (
    "gaussian",
    "linear",
    "quadratic",
    "hyperbolic",
    "long_tail",
    "reciprocal",
    "cosine",
    "tanh_squared",
)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a shape."""

    name: str
    default: float | str
    doc: str
    low: float = -1e9
    """Smallest valid value (inclusive unless ``positive``)."""
    high: float = 1e9
    """Largest valid value."""
    positive: bool = False
    """Must be strictly greater than zero."""
    choices: tuple[str, ...] = ()
    """For categorical parameters: the allowed strings."""
    slider: tuple[float, float] = (-10.0, 10.0)
    """Range offered by the editor's slider."""

    def check(self, value: Any) -> str | None:
        """None if ``value`` is valid, else what was expected."""
        if self.choices:
            return None if value in self.choices else f"one of {', '.join(self.choices)}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "a number"
        if not math.isfinite(value):
            return "a finite number"
        if self.positive and value <= 0:
            return "a number > 0"
        if value < self.low or value > self.high:
            return f"a number in [{self.low:g}, {self.high:g}]"
        return None


@dataclass(frozen=True)
class ShapeDef:
    """A named shape function with its documented parameters."""

    name: str
    fn: Callable[..., Any]
    params: tuple[ParamSpec, ...]
    doc: str
    formula: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def defaults(self) -> dict[str, float | str]:
        """Each parameter's default value."""
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec | None:
        """The spec of parameter ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)


# --- the shape functions -------------------------------------------------------------------
# Each takes the array namespace first. Only exp, log, abs, sign, tanh, cos, sqrt, where and
# clip are used, which numpy and torch spell alike.


def shape_linear(xp: Any, x: Any, scale: float = 1.0, offset: float = 0.0) -> Any:
    """scale * x + offset."""
    return scale * x + offset


def shape_clip(xp: Any, x: Any, low: float = -1.0, high: float = 1.0) -> Any:
    """x limited to [low, high]."""
    return xp.clip(x, low, high)


def shape_power(xp: Any, x: Any, exponent: float = 2.0, signed: float = 0.0) -> Any:
    """|x| ** exponent, keeping the sign of x when signed is 1."""
    mag = xp.abs(x) ** exponent
    return xp.sign(x) * mag if signed >= 0.5 else mag


def shape_log(xp: Any, x: Any, offset: float = 1.0, eps: float = 1e-8) -> Any:
    """log(x + offset), with the argument held at least eps."""
    return xp.log(xp.clip(x + offset, eps, None))


def shape_exp_kernel(xp: Any, x: Any, temperature: float = 1.0) -> Any:
    """exp(-x / temperature): 1 at zero, decaying with x (Eureka's favourite)."""
    return xp.exp(-x / temperature)


def _tolerance_sigmoid(xp: Any, d: Any, value_at_margin: float, sigmoid: str) -> Any:
    """dm_control's sigmoids: 1 at d = 0, value_at_margin at d = 1."""
    v = value_at_margin
    if sigmoid == "gaussian":
        scale = math.sqrt(-2.0 * math.log(v))
        return xp.exp(-0.5 * (d * scale) ** 2)
    if sigmoid == "hyperbolic":
        scale = math.acosh(1.0 / v)
        return 2.0 / (xp.exp(d * scale) + xp.exp(-d * scale))
    if sigmoid == "long_tail":
        scale = math.sqrt(1.0 / v - 1.0)
        return 1.0 / ((d * scale) ** 2 + 1.0)
    if sigmoid == "reciprocal":
        scale = 1.0 / v - 1.0
        return 1.0 / (xp.abs(d) * scale + 1.0)
    if sigmoid == "cosine":
        scale = math.acos(2.0 * v - 1.0) / math.pi
        sx = d * scale
        return xp.where(xp.abs(sx) < 1.0, (1.0 + xp.cos(math.pi * sx)) / 2.0, 0.0 * sx)
    if sigmoid == "linear":
        scale = 1.0 - v
        sx = d * scale
        return xp.where(xp.abs(sx) < 1.0, 1.0 - sx, 0.0 * sx)
    if sigmoid == "quadratic":
        scale = math.sqrt(1.0 - v)
        sx = d * scale
        return xp.where(xp.abs(sx) < 1.0, 1.0 - sx**2, 0.0 * sx)
    if sigmoid == "tanh_squared":
        scale = math.atanh(math.sqrt(1.0 - v))
        return 1.0 - xp.tanh(d * scale) ** 2
    raise ValueError(f"unknown sigmoid {sigmoid!r}")


def shape_tolerance(
    xp: Any,
    x: Any,
    lower: float = 0.0,
    upper: float = 0.0,
    margin: float = 0.0,
    sigmoid: str = "gaussian",
    value_at_margin: float = 0.1,
) -> Any:
    """1 inside [lower, upper], falling to value_at_margin at margin outside (dm_control)."""
    inside = (x >= lower) & (x <= upper)
    if margin <= 0.0:
        return xp.where(inside, 1.0 + 0.0 * x, 0.0 * x)
    d = xp.where(x < lower, lower - x, x - upper) / margin
    return xp.where(inside, 1.0 + 0.0 * x, _tolerance_sigmoid(xp, d, value_at_margin, sigmoid))


def shape_distance(
    xp: Any, x: Any, scale: float = 1.0, dispersion: float = 1.0, density: float = 1.0
) -> Any:
    """Lucy-SKG distance shape exp(-0.5 d / (c w_dis)) ** (1 / w_den), d = |x|."""
    return xp.exp(-0.5 * xp.abs(x) / (scale * dispersion)) ** (1.0 / density)


def shape_signed_distance(
    xp: Any, x: Any, scale: float = 1.0, dispersion: float = 1.0, density: float = 1.0
) -> Any:
    """Lucy-SKG signed distance: u = 2 (exp(-0.5 d / (c w_dis)) - 0.5); sign(u) |u| ** (1/w_den)."""
    u = 2.0 * (xp.exp(-0.5 * xp.abs(x) / (scale * dispersion)) - 0.5)
    return xp.sign(u) * xp.abs(u) ** (1.0 / density)


def shape_sigmoid(xp: Any, x: Any, center: float = 0.0, width: float = 1.0) -> Any:
    """Logistic step 1 / (1 + exp(-(x - center) / width)), in (0, 1)."""
    return 0.5 * (1.0 + xp.tanh(0.5 * (x - center) / width))


def shape_tanh(xp: Any, x: Any, scale: float = 1.0) -> Any:
    """tanh(x / scale), a soft clip to (-1, 1)."""
    return xp.tanh(x / scale)


_P = ParamSpec
SHAPES: PluginTable[ShapeDef] = PluginTable()
"""Shapes by name; the first lookup loads the ``reward_studio.terms`` plugins."""


def register_shape(shape: ShapeDef) -> None:
    """Add a shape (plugins call this through the ``reward_studio.terms`` group)."""
    known = SHAPES.raw_get(shape.name)
    if known is not None and known.fn is not shape.fn:
        raise ValueError(f"a different shape called {shape.name!r} is already registered")
    SHAPES.put(shape.name, shape)


for _shape in (
    ShapeDef(
        "linear",
        shape_linear,
        (_P("scale", 1.0, "Multiplier."), _P("offset", 0.0, "Added after scaling.")),
        "The feature as it is, scaled and shifted.",
        "scale·x + offset",
    ),
    ShapeDef(
        "clip",
        shape_clip,
        (_P("low", -1.0, "Lower limit."), _P("high", 1.0, "Upper limit.")),
        "The feature held inside [low, high].",
        "clip(x, low, high)",
    ),
    ShapeDef(
        "power",
        shape_power,
        (
            _P("exponent", 2.0, "Power.", positive=True, slider=(0.1, 4.0)),
            _P("signed", 0.0, "1 keeps the sign of x.", low=0.0, high=1.0, slider=(0.0, 1.0)),
        ),
        "A power of the magnitude; exponent 2 is the squared (L2) cost.",
        "|x|^exponent",
    ),
    ShapeDef(
        "log",
        shape_log,
        (
            _P("offset", 1.0, "Added before the log."),
            _P("eps", 1e-8, "Smallest argument.", positive=True, slider=(1e-8, 1.0)),
        ),
        "A logarithm, for quantities spanning orders of magnitude.",
        "log(max(x + offset, eps))",
    ),
    ShapeDef(
        "exp_kernel",
        shape_exp_kernel,
        (_P("temperature", 1.0, "Decay length.", positive=True, slider=(0.01, 10.0)),),
        "1 at zero, decaying with x; use on distances and errors.",
        "exp(-x / temperature)",
    ),
    ShapeDef(
        "tolerance",
        shape_tolerance,
        (
            _P("lower", 0.0, "Lower bound of the target band."),
            _P("upper", 0.0, "Upper bound of the target band."),
            _P("margin", 1.0, "Distance outside the band where the value reaches value_at_margin.", low=0.0, slider=(0.0, 10.0)),
            _P("sigmoid", "gaussian", "Fall-off kind outside the band.", choices=SIGMOID_KINDS),
            _P("value_at_margin", 0.1, "Value at one margin outside.", positive=True, high=0.999999, slider=(0.01, 0.99)),
        ),
        "1 inside a band, with a sigmoid fall-off outside (dm_control).",
        "1 in [lower, upper], sigmoid((dist)/margin) outside",
    ),
    ShapeDef(
        "distance",
        shape_distance,
        (
            _P("scale", 1.0, "Scale constant c of the domain.", positive=True, slider=(0.01, 10.0)),
            _P("dispersion", 1.0, "Larger decays slower.", positive=True, slider=(0.05, 10.0)),
            _P("density", 1.0, "Larger lifts the curve towards 1.", positive=True, slider=(0.1, 10.0)),
        ),
        "Lucy-SKG distance shape: 1 at zero distance, decaying.",
        "exp(-0.5·|x| / (c·w_dis))^(1/w_den)",
    ),
    ShapeDef(
        "signed_distance",
        shape_signed_distance,
        (
            _P("scale", 1.0, "Scale constant c of the domain.", positive=True, slider=(0.01, 10.0)),
            _P("dispersion", 1.0, "Larger decays slower.", positive=True, slider=(0.05, 10.0)),
            _P("density", 1.0, "Above 1 makes it sigmoid-like.", positive=True, slider=(0.1, 10.0)),
        ),
        "Lucy-SKG signed distance: +1 near, -1 far.",
        "u = 2(exp(-0.5·|x|/(c·w_dis)) - 0.5); sign(u)|u|^(1/w_den)",
    ),
    ShapeDef(
        "sigmoid",
        shape_sigmoid,
        (
            _P("center", 0.0, "Where the value is one half."),
            _P("width", 1.0, "Steepness: smaller is sharper.", positive=True, slider=(0.01, 10.0)),
        ),
        "A smooth step from 0 to 1.",
        "1 / (1 + exp(-(x - center) / width))",
    ),
    ShapeDef(
        "tanh",
        shape_tanh,
        (_P("scale", 1.0, "Input scale.", positive=True, slider=(0.01, 10.0)),),
        "A soft clip to (-1, 1).",
        "tanh(x / scale)",
    ),
):
    register_shape(_shape)


def apply_shape(xp: Any, name: str, x: Any, params: dict[str, Any]) -> Any:
    """Evaluate shape ``name`` on ``x`` with ``params`` (missing ones take their defaults)."""
    shape = SHAPES[name]
    kwargs = shape.defaults()
    kwargs.update(params)
    return shape.fn(xp, x, **kwargs)
