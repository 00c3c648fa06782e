"""``reward-studio export``: write a design as code (python, torch, gymnasium) or as JSON.

>>> build_parser().prog
'reward-studio export'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from studio.core.design import Design, DesignError, DesignFileError
from studio.export.codegen import ExportError
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


def export_design(design: Design, fmt: str, registry: ExporterRegistry | None = None) -> str:
    """The text of ``design`` in format ``fmt`` (the task is loaded only when needed)."""
    exporter = (registry or default_registry()).get(fmt)
    task = None
    if exporter.needs_task:
        from studio.sim.registry import get_task

        try:
            task = get_task(design.task)
        except Exception as exc:
            raise ExportError(f"the design's task {design.task!r} is not available: {exc}") from exc
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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio export``; returns the exit status."""
    registry = default_registry()
    args = build_parser(registry).parse_args(argv)
    try:
        design = load_design_ref(args.design, registry)
        text = export_design(design, args.format, registry)
    except (ExportError, DesignError) as exc:
        print(f"reward-studio export: {exc}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(f"wrote {design.name!r} ({args.format}, {len(text.splitlines())} lines) to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
