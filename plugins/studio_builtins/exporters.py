"""Built-in exporters (python, torch, gymnasium, json) and the workspace design source.

Registered through the ``reward_studio.exporters`` entry point like any third-party
exporter plugin. The workspace source lives here, above every layer, because
``studio.export`` may not import the store: it reads ``WORKSPACE_DIR:name[@version]``
through the store's public repository functions, read-only.
"""

from __future__ import annotations

import os
from typing import Any


def _is_workspace_ref(ref: str) -> bool:
    folder, sep, rest = ref.rpartition(":")
    return bool(sep and folder and rest) and os.path.isfile(os.path.join(folder, "studio.db"))


def load_workspace_design(ref: str) -> Any:
    """The design ``WORKSPACE_DIR:name[@version]`` (latest version when none is given).

    ``meta["version"]`` and ``meta["content_hash"]`` of the result come from the store.
    """
    from studio.core.design import Design
    from studio.export.codegen import ExportError
    from studio.store import Workspace, repo

    folder, _, rest = ref.rpartition(":")
    name, _, version = rest.partition("@")
    with Workspace.open(folder, create=False, read_only=True) as ws, ws.session() as s:
        designs = [d for d in repo.list_designs(s) if d.name == name]
        if not designs:
            known = ", ".join(sorted({d.name for d in repo.list_designs(s)})) or "none"
            raise ExportError(f"{folder}: no design called {name!r} (designs: {known})")
        if len(designs) > 1:
            raise ExportError(f"{folder}: {len(designs)} designs are called {name!r} (one per task)")
        history = list(repo.design_history(s, designs[0].id))
        if not history:
            raise ExportError(f"{folder}: design {name!r} has no saved version")
        if version:
            try:
                wanted = int(version)
            except ValueError:
                raise ExportError(f"{ref}: the version after '@' must be a number") from None
            found = [v for v in history if v.number == wanted]
            if not found:
                raise ExportError(f"{folder}: design {name!r} has versions 1..{history[-1].number}, not {wanted}")
            row = found[0]
        else:
            row = history[-1]
        design = Design.from_json(row.data)
        design.meta = {**design.meta, "version": row.number, "content_hash": row.content_hash}
        return design


def register(registry: Any) -> None:
    """Add the built-in formats and the workspace design source."""
    from studio.export.registry import DesignSource, builtin_exporters

    for exporter in builtin_exporters():
        registry.add(exporter)
    registry.add_source(
        DesignSource("workspace", _is_workspace_ref, load_workspace_design, "WORKSPACE_DIR:name[@version]")
    )
