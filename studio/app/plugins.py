"""Which plugins the studio loaded, and which failed and why (for Help > Plugins).

Every plugin group is loaded by :func:`studio.plugins.load_group`; :func:`plugin_report`
first makes sure each group has been loaded (the app loads them lazily), then lists every
entry point of every group with its state.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from studio.plugins import PluginFailure, load_group

__all__ = ["PluginStatus", "load_all_groups", "plugin_report"]


@dataclass(frozen=True)
class PluginStatus:
    """One plugin: its group, entry-point name, target, and the error if it failed."""

    group: str
    name: str
    target: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """It loaded and registered without error."""
        return self.error is None


def load_all_groups() -> dict[str, list[PluginFailure]]:
    """Load every plugin group into the registry the app's own lookups use; failures by group."""
    from studio.core.plugin_table import TERMS_GROUP, load_term_plugins
    from studio.core.terms_registry import TERMS
    from studio.export.registry import EXPORTERS_GROUP
    from studio.export.registry import default_registry as exporters
    from studio.refine.proposers import proposers
    from studio.sim.registry import ENTRY_POINT_GROUP
    from studio.sim.registry import default_registry as tasks

    load_term_plugins()
    # load_group returns the failures it recorded for that registry (it loads only once).
    return {
        ENTRY_POINT_GROUP: load_group(ENTRY_POINT_GROUP, tasks()),
        TERMS_GROUP: load_group(TERMS_GROUP, TERMS),
        EXPORTERS_GROUP: load_group(EXPORTERS_GROUP, exporters()),
        "reward_studio.proposers": load_group("reward_studio.proposers", proposers()),
    }


def plugin_report() -> list[PluginStatus]:
    """Every plugin of every group (built-ins included), failures with their reason."""
    rows: list[PluginStatus] = []
    for group, failed in load_all_groups().items():
        by_name = {f.name: f for f in failed}
        for ep in entry_points(group=group):
            f = by_name.pop(ep.name, None)
            rows.append(PluginStatus(group, ep.name, ep.value, f.error if f else None))
        rows += [PluginStatus(group, f.name, f.target, f.error) for f in by_name.values()]
    return rows
