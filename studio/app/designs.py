"""Design files: the task's own reward as a design, loading and checking design files."""

from __future__ import annotations

from pathlib import Path

from studio.core.design import Design, DesignFileError, validate


def design_from_task(env_id: str) -> Design:
    """The task's own reward as an editable design (equal to the task's reward step by step)."""
    from studio.sim.registry import get_task

    return get_task(env_id).task_design()


def load_design(arg: str | Path, env_id: str | None = None) -> Design:
    """A design from a file path, or the task's own reward when ``arg`` is ``task``."""
    if str(arg) == "task":
        if env_id is None:
            raise DesignFileError("task", "the task's own reward needs the task: pass --env")
        return design_from_task(env_id)
    return Design.load(arg)


def validate_design_file(path: Path) -> list[str]:
    """Every problem of a design file, each as 'path: message'; empty when it is valid."""
    try:
        design = load_design(path)
    except DesignFileError as exc:
        return [exc.reason]
    features = None
    problems: list[str] = []
    try:
        from studio.sim.registry import get_task

        features = get_task(design.task).catalog.names()
        features += list((design.meta or {}).get("code_terms") or {})  # imported code terms
    except Exception as exc:
        problems.append(f"task: unknown task {design.task!r} ({exc}); feature names were not checked")
    problems += [str(p) for p in validate(design, features)]
    return problems
