"""The exporter registry: formats by name, and where designs can be read from.

Exporters are contributed through the ``reward_studio.exporters`` entry point group like
any plugin (the built-in ones by ``studio_builtins.exporters:register``)::

    def register(registry: ExporterRegistry) -> None:
        registry.add(Exporter("python", ".py", "standalone numpy + mujoco module", export_python))

A plugin may also add a :class:`DesignSource`: a way to read a design from a reference
other than a file path (the built-in one reads ``WORKSPACE_DIR:name[@version]`` from a
workspace store, which this layer may not import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.design import Design
from studio.export.codegen import ExportError

EXPORTERS_GROUP = "reward_studio.exporters"


@dataclass(frozen=True)
class Exporter:
    """One export format."""

    name: str
    """Format name used on the command line (``--format``)."""
    suffix: str
    """File suffix of the output, with the dot (``.py``, ``.json``)."""
    description: str
    """One line for ``--help`` and the UI."""
    fn: Callable[[Design, Any], str]
    """``fn(design, task) -> text``; ``task`` is a ``studio.sim`` Task or None."""
    needs_task: bool = True
    """False when the format never reads the task (``json``, ``torch``)."""

    def export(self, design: Design, task: Any = None) -> str:
        """The exported text of ``design``."""
        if self.needs_task and task is None:
            raise ExportError(f"the {self.name} export needs the task {design.task!r}")
        return self.fn(design, task)


@dataclass(frozen=True)
class DesignSource:
    """A way to read a design from a reference string."""

    name: str
    matches: Callable[[str], bool]
    """True when this source understands the reference."""
    load: Callable[[str], Design]
    """The design the reference names; raises a user-facing error otherwise."""
    syntax: str = ""
    """How a reference looks, for help texts."""


class ExporterRegistry:
    """Name -> :class:`Exporter`, plus the :class:`DesignSource` list."""

    def __init__(self) -> None:
        self._exporters: dict[str, Exporter] = {}
        self._sources: list[DesignSource] = []

    def add(self, exporter: Exporter) -> None:
        """Register an exporter; a different one under the same name is refused."""
        old = self._exporters.get(exporter.name)
        if old is not None and old != exporter:
            raise ValueError(f"an exporter called {exporter.name!r} is already registered")
        self._exporters[exporter.name] = exporter

    def add_source(self, source: DesignSource) -> None:
        """Register a design source (tried in order, before plain files)."""
        if all(s.name != source.name for s in self._sources):
            self._sources.append(source)

    def get(self, name: str) -> Exporter:
        """The exporter called ``name``; an unknown name lists the known ones."""
        try:
            return self._exporters[name]
        except KeyError:
            known = ", ".join(sorted(self._exporters)) or "none"
            raise ExportError(f"unknown export format {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Registered format names, sorted."""
        return sorted(self._exporters)

    def sources(self) -> list[DesignSource]:
        """Registered design sources, in order."""
        return list(self._sources)


_DEFAULT: ExporterRegistry | None = None


def default_registry() -> ExporterRegistry:
    """The registry filled by every ``reward_studio.exporters`` plugin (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        from studio.plugins import load_group

        _DEFAULT = ExporterRegistry()
        load_group(EXPORTERS_GROUP, _DEFAULT)
    return _DEFAULT


def builtin_exporters() -> list[Exporter]:
    """The formats of this package: python, torch, gymnasium, json."""
    from studio.export.gym_export import export_gymnasium
    from studio.export.python_export import export_python
    from studio.export.torch_export import export_torch

    return [
        Exporter("python", ".py", "standalone module, numpy + mujoco: compute_reward(model, data, action, next_data)", export_python),
        Exporter("torch", ".py", "batched torch.nn.Module over feature tensors, for vectorised trainers", export_torch, needs_task=False),
        Exporter("gymnasium", ".py", "module with wrap(env) -> gymnasium.Wrapper using the design's reward", export_gymnasium),
        Exporter("json", ".json", "the design document", lambda d, t: d.dumps() + "\n", needs_task=False),
    ]
