"""Built-in term library: the shapes and combiners of ``studio.core``, registered like a plugin.

A third-party term plugin declares an entry point in the ``reward_studio.terms`` group whose
``register(registry)`` calls ``registry.add_shape(ShapeDef(...))`` or
``registry.add_combiner(CombinerDef(...))``. Shape functions take the array namespace first
(``fn(xp, x, **params)``) so that exporters can reuse them.
"""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """The core shapes and combiners are registered at import of ``studio.core``: nothing to add.

    This entry point exists so that the built-in library takes the plugin path too, and as
    the example a third-party term library follows.
    """
    from studio.core.combine import COMBINERS
    from studio.core.shapes import SHAPES

    for shape in SHAPES.values():
        registry.add_shape(shape)
    for combiner in COMBINERS.values():
        registry.add_combiner(combiner)
