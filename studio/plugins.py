"""Plugin discovery through Python entry points.

Built-in plugins (``plugins/studio_builtins``) take exactly the path third-party plugins
take: each entry point of a group names a ``register(registry)`` callable. A plugin that
fails to import or to register is reported through logging and skipped: the studio still
starts. :func:`load_group` returns what failed so the UI can show it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger("studio.plugins")

GROUPS = (
    "reward_studio.envs",
    "reward_studio.terms",
    "reward_studio.proposers",
    "reward_studio.exporters",
)

# Used when the package metadata is not installed (running from a source checkout).
_BUILTIN_FALLBACK = {
    "reward_studio.envs": "studio_builtins.envs:register",
    "reward_studio.terms": "studio_builtins.terms:register",
    "reward_studio.proposers": "studio_builtins.proposers:register",
    "reward_studio.exporters": "studio_builtins.exporters:register",
}


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    group: str
    name: str
    target: str
    error: str


_loaded: dict[tuple[str, int], tuple[Any, list[PluginFailure]]] = {}
"""(group, id(registry)) -> (the registry, its failures); holding the registry keeps its
id from being reused by a new registry that was never loaded."""


def _resolve(target: str) -> Callable[[Any], None]:
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def load_group(group: str, registry: Any) -> list[PluginFailure]:
    """Call every plugin of ``group`` with ``registry``; failures are logged and returned.

    Each registry object is loaded once per group, however often this is called.
    """
    key = (group, id(registry))
    if key in _loaded and _loaded[key][0] is registry:
        return _loaded[key][1]
    failures: list[PluginFailure] = []
    eps = list(entry_points(group=group))
    targets = [(ep.name, ep.value) for ep in eps]
    if not any(v == _BUILTIN_FALLBACK.get(group) for _, v in targets) and group in _BUILTIN_FALLBACK:
        targets.insert(0, ("builtin", _BUILTIN_FALLBACK[group]))
    set_source = getattr(registry, "set_source", None)  # registries that record who added what
    for name, target in targets:
        try:
            if set_source is not None:
                set_source(name)
            _resolve(target)(registry)
        except Exception as exc:  # a broken plugin must never stop the studio
            msg = f"{type(exc).__name__}: {exc}"
            log.warning("plugin %r (%s) in %s failed and was skipped: %s", name, target, group, msg)
            failures.append(PluginFailure(group, name, target, msg))
    _loaded[key] = (registry, failures)
    return failures


def forget_group(group: str) -> None:
    """Load ``group`` again at its next :func:`load_group` (a plugin was installed; tests)."""
    for key in [k for k in _loaded if k[0] == group]:
        del _loaded[key]


def failures() -> list[PluginFailure]:
    """Every plugin failure seen so far."""
    return [f for _, fs in _loaded.values() for f in fs]
