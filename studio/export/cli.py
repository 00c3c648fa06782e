"""``reward-studio export``: write a design as code (python, torch, gymnasium) or as JSON.

>>> build_parser().prog
'reward-studio export'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from studio.core.atomic import atomic_write_text
from studio.core.design import Design, DesignError, DesignFileError
from studio.export.codegen import ExportError
from studio.export.heron_export import copy_weights, read_weights, using_models
from studio.export.registry import ExporterRegistry, default_registry


def load_design_ref(ref: str, registry: ExporterRegistry | None = None) -> Design:
    """The design a reference names: a registered source's syntax, else a JSON file path."""
    registry = registry or default_registry()
    for source in registry.sources():
        if source.matches(ref):
            return source.load(ref)
    try:
        return Design.load(ref)
    except DesignFileError as exc:
        hint = ""
        if ":" in ref and exc.reason == "no such design file":
            hint = " (a workspace reference is WORKSPACE_DIR:name[@version], and the folder must hold studio.db)"
        raise ExportError(f"{exc}{hint}") from None


def export_design(
    design: Design, fmt: str, registry: ExporterRegistry | None = None, heron_weights: str | Path | None = None
) -> str:
    """The text of ``design`` in format ``fmt`` (the task is loaded only when needed).

    ``heron_weights`` is a run's ``heron.safetensors``, needed when the design has a HERON
    group; the module then reads a copy of it beside itself (:func:`copy_weights`).
    """
    exporter = (registry or default_registry()).get(fmt)
    task = None
    if exporter.needs_task:
        from studio.sim.registry import get_task

        try:
            task = get_task(design.task)
        except Exception as exc:
            raise ExportError(f"the design's task {design.task!r} is not available: {exc}") from exc
    if heron_weights is None:
        return exporter.export(design, task)
    try:
        models = read_weights(heron_weights)
    except (OSError, ValueError) as exc:
        raise ExportError(str(exc)) from None
    missing = [g.name for g in design.heron_groups() if g.name not in models]
    if missing:
        raise ExportError(f"{heron_weights}: no trained model for the HERON group(s) {', '.join(missing)}")
    with using_models(models):
        return exporter.export(design, task)


def build_parser(registry: ExporterRegistry | None = None) -> argparse.ArgumentParser:
    """The parser of ``reward-studio export``."""
    formats = (registry or default_registry()).names()
    p = argparse.ArgumentParser(
        prog="reward-studio export",
        description="Export a design as code or JSON. DESIGN is a design JSON file or "
        "WORKSPACE_DIR:design_name[@version] (a saved version in a workspace; latest by default).",
    )
    p.add_argument("design", metavar="DESIGN", help="design file, or WORKSPACE_DIR:name[@version]")
    p.add_argument("--format", "-f", default="python", choices=formats, help="output format (default: %(default)s)")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write ('-' for stdout)")
    p.add_argument("--heron-weights", metavar="FILE", default=None,
                   help="a run's heron.safetensors, for a design with a HERON group: copied beside "
                        "the output as OUTPUT_STEM.heron.safetensors, where the code reads it")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio export``; returns the exit status."""
    registry = default_registry()
    args = build_parser(registry).parse_args(argv)
    try:
        design = load_design_ref(args.design, registry)
        text = export_design(design, args.format, registry, args.heron_weights)
    except (ExportError, DesignError) as exc:
        print(f"reward-studio export: {exc}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, text)
    if args.heron_weights is not None and design.heron_groups():
        print(f"wrote the HERON weights to {copy_weights(args.heron_weights, out)}", file=sys.stderr)
    print(f"wrote {design.name!r} ({args.format}, {len(text.splitlines())} lines) to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
