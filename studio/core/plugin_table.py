"""Tables that third-party term plugins extend, loaded on first lookup.

``SHAPES`` and ``COMBINERS`` are :class:`PluginTable` instances: the first time anything
looks a name up in either (validating, compiling or exporting a design, listing shapes
in the editor), every ``reward_studio.terms`` entry point runs once with
:data:`studio.core.terms_registry.TERMS`, so a shape or combiner from an installed plugin
is found wherever a built-in one is. A failing plugin is skipped and reported
(:func:`studio.plugins.failures`); it never stops a lookup.
"""

from __future__ import annotations

import threading
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import Any, TypeVar

__all__ = ["PluginTable", "TERMS_GROUP", "load_term_plugins", "reset_term_plugins"]

TERMS_GROUP = "reward_studio.terms"

V = TypeVar("V")

_state = {"loaded": False, "loading": False}
_lock = threading.RLock()


def load_term_plugins() -> None:
    """Run the ``reward_studio.terms`` plugins once (re-entrant: plugins may look names up)."""
    if _state["loaded"] or _state["loading"]:
        return
    with _lock:
        if _state["loaded"] or _state["loading"]:
            return
        _state["loading"] = True
        try:
            from studio.core.terms_registry import TERMS
            from studio.plugins import load_group

            load_group(TERMS_GROUP, TERMS)
            _state["loaded"] = True
        finally:
            _state["loading"] = False


def reset_term_plugins() -> None:
    """Load the term plugins again at the next lookup (after installing one; tests)."""
    from studio.plugins import forget_group

    with _lock:
        _state["loaded"] = False
        forget_group(TERMS_GROUP)


class PluginTable(dict[str, V]):
    """A name -> definition dict whose lookups first load the term plugins.

    Registration (:meth:`put`, :meth:`raw_get`) does not load them: the built-in entries
    are registered while ``studio.core`` is still being imported.
    """

    def put(self, name: str, value: V) -> None:
        """Set an entry without loading plugins."""
        dict.__setitem__(self, name, value)

    def raw_get(self, name: str) -> V | None:
        """Get an entry without loading plugins."""
        return dict.get(self, name)

    def __getitem__(self, name: str) -> V:
        load_term_plugins()
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        load_term_plugins()
        return dict.get(self, name, default)

    def __contains__(self, name: object) -> bool:
        load_term_plugins()
        return dict.__contains__(self, name)

    def __iter__(self) -> Iterator[str]:
        load_term_plugins()
        return dict.__iter__(self)

    def __len__(self) -> int:
        load_term_plugins()
        return dict.__len__(self)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        load_term_plugins()
        return dict.keys(self)

    def values(self) -> ValuesView[V]:  # type: ignore[override]
        load_term_plugins()
        return dict.values(self)

    def items(self) -> ItemsView[str, V]:  # type: ignore[override]
        load_term_plugins()
        return dict.items(self)
