"""Named physical quantities of a task's state, the vocabulary that reward terms are written in.

A task publishes a :class:`FeatureCatalog`. A batch of feature values is a plain mapping from
feature name to a one-dimensional array (numpy or torch) of length B, one value per
transition, so that every design is evaluated on all environments at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

FeatureBatch = Mapping[str, Any]
"""Feature name -> array of shape [B] (numpy.ndarray or torch.Tensor)."""


@dataclass(frozen=True)
class FeatureSpec:
    """One named quantity, with what a designer needs to use it well."""

    name: str
    """Identifier usable in expressions: letters, digits and underscores."""
    description: str
    """What the quantity is, in one sentence."""
    unit: str = ""
    """Physical unit (``m``, ``m/s``, ``rad``, ``N``, ``1`` for flags and ratios)."""
    low: float = -1.0
    """Lower end of the typical range (measured from random rollouts where available)."""
    high: float = 1.0
    """Upper end of the typical range."""
    group: str = "task"
    """Where it comes from: ``task``, ``body``, ``joint``, ``actuator``, ``contact``, ``sensor``,
    ``array``."""
    shape: tuple[int, ...] = ()
    """Values per transition: ``()`` for one number, ``(nq,)`` for ``qpos``, ``(nbody, 6)``..."""

    def with_range(self, low: float, high: float) -> FeatureSpec:
        """A copy with another typical range."""
        return replace(self, low=float(low), high=float(high))

    @property
    def magnitude(self) -> float:
        """Typical magnitude, the larger absolute end of the range (at least a tiny epsilon)."""
        return max(abs(self.low), abs(self.high), 1e-12)


@dataclass
class FeatureCatalog:
    """An ordered, searchable collection of :class:`FeatureSpec`."""

    specs: dict[str, FeatureSpec] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[FeatureSpec]) -> FeatureCatalog:
        """Build a catalogue; a duplicated name is a programming error."""
        out: dict[str, FeatureSpec] = {}
        for spec in specs:
            if spec.name in out:
                raise ValueError(f"duplicate feature name {spec.name!r}")
            out[spec.name] = spec
        return cls(out)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __getitem__(self, name: str) -> FeatureSpec:
        return self.specs[name]

    def __iter__(self) -> Iterator[FeatureSpec]:
        return iter(self.specs.values())

    def __len__(self) -> int:
        return len(self.specs)

    def names(self) -> list[str]:
        """All feature names, in catalogue order."""
        return list(self.specs)

    def get(self, name: str) -> FeatureSpec | None:
        """The spec called ``name``, or None."""
        return self.specs.get(name)

    def search(self, text: str) -> list[FeatureSpec]:
        """Specs whose name, description or group contains every word of ``text``."""
        words = text.lower().split()
        return [
            s
            for s in self.specs.values()
            if all(w in f"{s.name} {s.description} {s.group}".lower() for w in words)
        ]

    def with_ranges(self, ranges: Mapping[str, tuple[float, float]]) -> FeatureCatalog:
        """A copy whose typical ranges are replaced where ``ranges`` names a feature."""
        return FeatureCatalog(
            {n: (s.with_range(*ranges[n]) if n in ranges else s) for n, s in self.specs.items()}
        )
