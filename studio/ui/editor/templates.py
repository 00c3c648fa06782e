"""Built-in starting points for a new design (Qt-free).

Each template is a function ``(task_id, feature_names) -> Design``; it picks features the
task has and falls back to a constant where a task lacks one, so every template validates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from studio.core.design import Design, Group, Term


def _pick(names: Collection[str], *wanted: str, default: str = "0") -> str:
    return next((w for w in wanted if w in names), default)


def empty(task: str, names: Collection[str]) -> Design:
    """A root group and nothing else."""
    return Design("untitled", task, Group("reward"), meta={"template": "empty"})


def run_forward(task: str, names: Collection[str]) -> Design:
    """Forward velocity, minus a control cost, plus an alive bonus (the locomotion classic)."""
    return Design("run_forward", task, Group("reward", [
        Term("forward_velocity", _pick(names, "x_velocity"), "linear", weight=1.0,
             description="Reward moving forward."),
        Term("ctrl_l2", _pick(names, "ctrl_sq"), "linear", weight=-0.1,
             description="Penalise large actions."),
        Term("alive_bonus", _pick(names, "healthy", default="1"), "linear", weight=1.0,
             description="A constant bonus for every step alive."),
    ]), description="Run forward efficiently without falling.", meta={"template": "run_forward"})


def krc_example(task: str, names: Collection[str]) -> Design:
    """Speed AND posture combined with KRC, so neither can be traded away for the other."""
    speed = _pick(names, "x_velocity")
    posture = _pick(names, "torso_angle", "heading")
    return Design("krc_example", task, Group("reward", [
        Group("fast_and_level", [
            Term("speed_tolerance", speed, "tolerance",
                 {"lower": 2.0, "upper": 10.0, "margin": 2.0, "sigmoid": "long_tail"},
                 description="1 above 2 m/s, falling off below."),
            Term("posture_tolerance", posture, "tolerance",
                 {"lower": -0.2, "upper": 0.2, "margin": 0.6, "sigmoid": "gaussian"},
                 description="1 while the torso is level."),
        ], combiner="krc", description="Both must hold: KRC is a sign-aware geometric mean."),
        Term("ctrl_l2", _pick(names, "ctrl_sq"), "linear", weight=-0.05),
    ]), description="A KRC group: speed and posture must both be satisfied.",
        meta={"template": "krc_example"})


TEMPLATES: dict[str, tuple[str, Callable[[str, Collection[str]], Design]]] = {
    "empty": ("Empty design", empty),
    "run_forward": ("Run forward (velocity, control cost, alive bonus)", run_forward),
    "krc_example": ("KRC example (speed AND posture)", krc_example),
}
"""Template id -> (menu label, factory)."""
