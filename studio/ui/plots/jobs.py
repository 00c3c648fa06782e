"""The plots panel's background jobs, Orange-style ``run(inputs, state)`` functions.

They run in the panel's :class:`~studio.ui.workers.TaskRunner` threads and touch no widget,
so tests can call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.app.detectors import Finding, run_detectors
from studio.core.design import Design
from studio.core.schedule import param_value
from studio.ui.workers import TaskState


@dataclass
class RecordInputs:
    task: Any
    design: Design
    policy: Any
    steps: int
    seed: int
    extra: list[str]


@dataclass
class Evaluated:
    """A trace evaluated under one design, with silenced terms removed."""

    components: dict[str, np.ndarray]
    total: np.ndarray
    task_reward: np.ndarray
    features: dict[str, np.ndarray]
    findings: list[Finding]
    """What the detectors see in this rollout (imbalance, repetition, spikes, edges)."""


def record_task(inputs: RecordInputs, state: TaskState) -> Any:
    """Worker: record a rollout (see :func:`studio.app.rollouts.record_rollout`)."""
    from studio.app.rollouts import record_rollout

    state.set_status("recording a rollout")
    return record_rollout(inputs.task, inputs.design, inputs.policy, inputs.steps, inputs.seed,
                          extra_features=inputs.extra, state=state)


def live_terms(design: Design) -> set[str]:
    """Terms that contribute: enabled, inside enabled groups, with a non-zero weight now."""
    out: set[str] = set()

    def walk(node: Any, on: bool) -> None:
        on = on and node.enabled and param_value(node.weight, 0) != 0
        if hasattr(node, "children"):
            if on and node.combiner != "sum":
                out.add(node.name)
            for child in node.children:
                walk(child, on)
        elif on:
            out.add(node.name)

    walk(design.root, True)
    out |= {e.name for e in design.events if e.enabled and param_value(e.weight, 0) != 0}
    if design.shaping is not None and design.shaping.enabled and param_value(design.shaping.weight, 0) != 0:
        out.add(design.shaping.name)
    return out


def evaluate_task(inputs: tuple[Any, Design], state: TaskState) -> Evaluated:
    """Worker: the trace under ``design``; raises KeyError when features are missing."""
    from studio.app.rollouts import evaluate_features
    from studio.core.compile import compile_design

    trace, design = inputs
    need = compile_design(design).required_features
    missing = sorted(set(need) - set(trace.features))
    if missing:
        raise KeyError(f"missing features: {', '.join(missing)}")
    # The stepper's previous-step features (reset states at episode starts), not a shift.
    total, comps, _vals = evaluate_features(design, trace.features, trace.prev_features,
                                            trace.terminated, trace.truncated)
    keep = live_terms(design)
    comps = {k: v for k, v in comps.items() if k in keep}
    findings = run_detectors(
        term_returns=comps or None, actions=trace.actions, action_low=trace.action_low,
        action_high=trace.action_high, states=trace.qpos, reward=total)
    return Evaluated(comps, total, trace.task_reward, trace.features, findings)


def heatmap_task(inputs: tuple[Any, ...], state: TaskState) -> tuple[np.ndarray, ...]:
    """Worker: a heat-map grid (see :func:`studio.core.analysis.heatmap`)."""
    from studio.core.analysis import heatmap as heatmap_grid

    design, base, xf, yf, xr, yr, which, res = inputs
    return heatmap_grid(design, base, xf, yf, xr, yr, which, res)
