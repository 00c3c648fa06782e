"""The registry that ``reward_studio.terms`` plugins fill with shapes and combiners."""

from __future__ import annotations

from studio.core.combine import CombinerDef, register_combiner
from studio.core.shapes import ShapeDef, register_shape


class TermRegistry:
    """What a term plugin's ``register(registry)`` receives."""

    def add_shape(self, shape: ShapeDef) -> None:
        """Make ``shape`` available to designs (its name must be new or the same function)."""
        register_shape(shape)

    def add_combiner(self, combiner: CombinerDef) -> None:
        """Make ``combiner`` available to groups."""
        register_combiner(combiner)


TERMS = TermRegistry()
