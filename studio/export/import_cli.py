"""``reward-studio import FILE --task ENV [--function NAME] [--allow-code] [--accept-mismatch] -o DESIGN.json``.

The file is parsed, never run in this process. The design is checked against the
original, which runs in the sandbox side by side on a few hundred transitions of the
task; the report lists every line that did not become part of a term (with the reason),
and the largest difference per term. A design whose total differs from the original's is
written only with ``--accept-mismatch``, and then says so in its description.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.export.importer import ImportError_, ImportResult, import_reward
from studio.export.importer.verify import TOLERANCE, verify


def run_import(
    source: str, task_id: str, *, function: str, allow_code: bool, name: str, check: bool = True,
    transitions: int = 320,
) -> ImportResult:
    """Import and (with ``check``) verify; the result carries the report.

    Raises:
        ImportError_: the source or the task cannot be used (one line, or the report).
    """
    from studio.sim.registry import get_task

    try:
        task = get_task(task_id)
        names = task.catalog.names()
    except Exception as exc:  # noqa: BLE001 - an unknown id raises various kinds
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportError_(f"--task: {first}") from None
    result = import_reward(source, task_id, names, function=function, allow_code=allow_code, name=name)
    if check:
        result.verification = verify(result, task, count=transitions)
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``reward-studio import``."""
    p = argparse.ArgumentParser(
        prog="reward-studio import",
        description="Import a reward function (Gymnasium _get_rew, Eureka compute_reward, dm_control "
        "get_reward...) as a design. The code is parsed, never run in this process; the original runs "
        "in the sandbox to check the design against it.",
    )
    p.add_argument("file", help="Python file with the reward function or method")
    p.add_argument("--task", required=True, help="task id, e.g. HalfCheetah-v5 (self is its environment)")
    p.add_argument("--function", default="compute_reward", help="function or method name (default compute_reward)")
    p.add_argument("--allow-code", action="store_true",
                   help="keep what cannot be expressed as sandboxed code terms")
    p.add_argument("--accept-mismatch", action="store_true",
                   help="write the design even when its reward differs from the original's")
    p.add_argument("--no-check", action="store_true", help="skip running the original (not recommended)")
    p.add_argument("-o", "--output", required=True, help="design JSON file to write")
    args = p.parse_args(argv)
    try:
        source = Path(args.file).read_text()
    except OSError as exc:
        print(f"import: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        result = run_import(source, args.task, function=args.function, allow_code=args.allow_code,
                            name=Path(args.file).stem, check=not args.no_check)
    except ImportError_ as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    v = result.verification
    if v is not None and not v.error and not v.matches:
        if not args.accept_mismatch:
            why = (f"the original keeps state between calls (line {', '.join(map(str, v.carried))}), which "
                   "the design cannot" if v.carried else
                   f"the design's reward differs from the original's by up to {v.total_diff:.3g} "
                   f"(more than {TOLERANCE:g})")
            print(f"import: {why}: nothing written; fix the lines above or pass --accept-mismatch",
                  file=sys.stderr)
            return 1
        warning = (f"WARNING: imported with --accept-mismatch: its reward differs from the original "
                   f"{result.function} by up to {v.total_diff:.3g} on {v.transitions} transitions.")
        result.design.description = (warning + "\n" + result.design.description).strip()
    Path(args.output).write_text(result.design.dumps() + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
