"""Combiners: how the values of a group's children become one value.

Each combiner is ``fn(xp, parts, **params)`` over a list of equally shaped arrays, written
against an array namespace so the exporter can reuse the same source (see ``shapes``).

KRC (Kinesthetic Reward Combination, Lucy-SKG, spec §1) is a sign-aware geometric mean:
``s * prod(|r_i|) ** (1/n)`` with ``s = -1`` as soon as one part is negative.

>>> import torch
>>> krc(torch.tensor([[0.25, 1.0], [-0.5, -0.5], [0.0, 0.9]])).tolist()
[0.5, -0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.plugin_table import PluginTable
from studio.core.shapes import ParamSpec

if TYPE_CHECKING:
    import torch


def combine_sum(xp: Any, parts: Sequence[Any]) -> Any:
    """Sum of the parts (their weights are applied before)."""
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def combine_krc(xp: Any, parts: Sequence[Any]) -> Any:
    """Kinesthetic Reward Combination: sign-aware geometric mean of parts in [-1, 1]."""
    n = len(parts)
    mag = xp.abs(parts[0])
    negative = parts[0] < 0
    for p in parts[1:]:
        mag = mag * xp.abs(p)
        negative = negative | (p < 0)
    return xp.where(negative, -1.0 + 0.0 * mag, 1.0 + 0.0 * mag) * mag ** (1.0 / n)


def combine_product(xp: Any, parts: Sequence[Any]) -> Any:
    """Plain product of the parts: a hard AND of values in [0, 1]."""
    out = parts[0]
    for p in parts[1:]:
        out = out * p
    return out


def combine_softmin(xp: Any, parts: Sequence[Any], temperature: float = 0.1) -> Any:
    """Smooth minimum -T log(sum exp(-x_i / T)), stable for any T > 0; T -> 0 is the min."""
    low = parts[0]
    for p in parts[1:]:
        low = xp.where(p < low, p, low)
    acc = 0.0 * low
    for p in parts:
        acc = acc + xp.exp(-(p - low) / temperature)
    return low - temperature * xp.log(acc)


def combine_heron(xp: Any, parts: Sequence[Any], **params: Any) -> Any:
    """A HERON group before its reward model is trained: 0 (``compile`` substitutes the model)."""
    del params
    return 0.0 * parts[0]


HERON_HIDDEN = ("64-64", "128-128", "256-256", "256-256-256")
HERON_INPUTS = ("observation", "observation+factors")


@dataclass(frozen=True)
class CombinerDef:
    """A named combiner with its parameters."""

    name: str
    fn: Callable[..., Any]
    params: tuple[ParamSpec, ...]
    doc: str

    def defaults(self) -> dict[str, float | str]:
        """Each parameter's default value."""
        return {p.name: p.default for p in self.params}


COMBINERS: PluginTable[CombinerDef] = PluginTable()
"""Combiners by name; the first lookup loads the ``reward_studio.terms`` plugins."""


def register_combiner(c: CombinerDef) -> None:
    """Add a combiner (plugins call this through the ``reward_studio.terms`` group)."""
    known = COMBINERS.raw_get(c.name)
    if known is not None and known.fn is not c.fn:
        raise ValueError(f"a different combiner called {c.name!r} is already registered")
    COMBINERS.put(c.name, c)


for _c in (
    CombinerDef("sum", combine_sum, (), "Weighted sum of the children."),
    CombinerDef(
        "krc",
        combine_krc,
        (),
        "Kinesthetic Reward Combination (Lucy-SKG): a sign-aware geometric mean, a soft AND. "
        "Children should lie in [-1, 1]; leave their weights at 1 and weight the group.",
    ),
    CombinerDef("product", combine_product, (), "Product of the children: a hard AND."),
    CombinerDef(
        "softmin",
        combine_softmin,
        (ParamSpec("temperature", 0.1, "Smoothness; towards 0 it is the minimum.", positive=True, slider=(0.01, 2.0)),),
        "Smooth minimum of the children: the worst one dominates.",
    ),
    CombinerDef(
        "heron",
        combine_heron,
        (
            ParamSpec("hidden", "256-256", "Hidden layer sizes of the reward model (ReLU).", choices=HERON_HIDDEN),
            ParamSpec("lr", 1e-3, "Adam step size of the reward model.", positive=True, high=1.0, slider=(1e-4, 1e-2)),
            ParamSpec("inputs", "observation", "What the reward model reads: the observation, optionally with "
                      "the factor values.", choices=HERON_INPUTS),
        ),
        "HERON (hierarchical preferences): children are factors ranked by importance, each with a "
        "direction and a margin sigma; a decision tree labels pairs of transitions and a reward "
        "model learned from those labels (Bradley-Terry) gives the group's value, standardised. "
        "Until a model is trained the group gives 0.",
    ),
):
    register_combiner(_c)


def combine(xp: Any, name: str, parts: Sequence[Any], params: dict[str, Any] | None = None) -> Any:
    """Apply combiner ``name`` to ``parts``."""
    c = COMBINERS[name]
    kwargs = c.defaults()
    kwargs.update(params or {})
    return c.fn(xp, parts, **kwargs)


def krc(x: torch.Tensor) -> torch.Tensor:
    """KRC along the last dimension of ``x`` (spec §1): ``s * prod(|x_i|) ** (1/n)``."""
    import torch

    out: torch.Tensor = combine_krc(torch, list(torch.unbind(x, dim=-1)))
    return out


def potential_shaping(
    xp: Any, phi_s: Any, phi_next: Any, gamma: float, negative_slope: float = 1.0
) -> Any:
    """Potential-based shaping F = gamma * Phi(s') - Phi(s) (Ng et al. 1999).

    Negative values are multiplied by ``negative_slope`` (1 keeps the policy-invariance).
    """
    f = gamma * phi_next - phi_s
    if negative_slope == 1.0:
        return f
    return xp.where(f < 0, negative_slope * f, f)


def gamma_from_half_life(steps_per_second: float, half_life_seconds: float) -> float:
    """Discount whose weight halves after ``half_life_seconds`` (Lucy-SKG)."""
    return float(0.5 ** (1.0 / (steps_per_second * half_life_seconds)))


__all__ = [
    "COMBINERS",
    "CombinerDef",
    "combine",
    "combine_heron",
    "combine_krc",
    "combine_product",
    "combine_softmin",
    "combine_sum",
    "gamma_from_half_life",
    "krc",
    "potential_shaping",
    "register_combiner",
]
