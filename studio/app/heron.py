"""The HERON tree's diagnostics on transition pairs, for the editor (Qt-free).

The editor samples transitions once, from a stored rollout or a fresh random one
(:func:`random_sample`, a plain ``run(inputs, state)`` for a worker thread), then asks
:func:`tree_report` after every reorder, direction flip or sigma change: each factor's
value is read off the sample under the current design, every transition is paired with a
fixed random partner (the same pairs every time, so the numbers move only with the
design), and the tree reports how many pairs each level decides, how many tie all the way
down, and how often each factor's direction agrees with the task score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.app.rollouts import RolloutTrace, evaluate_trace, record_rollout
from studio.core.design import Design, Group, heron_factors
from studio.core.heron import TreeDiagnostics, tree_diagnostics
from studio.core.schedule import param_value

SAMPLE_STEPS = 2000
"""Transitions of a fresh random rollout (one env; episodes restart inside it)."""


@dataclass
class TreeReport:
    """The tree's diagnostics for one HERON group, with the names to show them by."""

    group: str
    factors: list[str]
    """Factor names, most important first (the tree's levels)."""
    diagnostics: TreeDiagnostics
    source: str
    """Where the pairs come from, in a few words."""


def random_sample(inputs: tuple[Design, int, int], state: Any = None) -> RolloutTrace:
    """A fresh rollout of uniform random actions: ``inputs`` is (design, steps, seed)."""
    design, steps, seed = inputs
    trace = record_rollout(design.task, design, "random", steps=steps, seed=seed,
                           record_states=False, state=state)
    trace.meta["source"] = f"a fresh random rollout ({trace.length} steps)"
    return trace


def stored_sample(path: str) -> RolloutTrace:
    """A stored rollout (``RolloutTrace.save``'s ``.npz``)."""
    trace = RolloutTrace.load(path)
    trace.meta["source"] = f"the stored rollout {path.rsplit('/', 1)[-1]} ({trace.length} steps)"
    return trace


def tree_report(design: Design, group_name: str, trace: RolloutTrace, seed: int = 0) -> TreeReport:
    """The tree of ``group_name`` on ``trace``'s transitions under ``design``.

    Raises KeyError when the trace lacks a feature the factors read (sample again) and
    ValueError when the group is not a HERON group with a factor.
    """
    group = design.find(group_name)
    if not isinstance(group, Group) or group.combiner != "heron":
        raise ValueError(f"{group_name!r} is not a HERON group")
    factors = heron_factors(group)
    if not factors:
        raise ValueError(f"the HERON group {group_name!r} has no enabled factor")
    if trace.length < 2:
        raise ValueError("the sample has fewer than two transitions: sample again")
    missing = sorted({n for t, _ in factors for n in _names(t.source)} - set(trace.features))
    if missing:
        raise KeyError(f"the sample lacks {', '.join(missing)}: sample again")
    scored = evaluate_trace(_copy(trace), design)
    z = np.stack([param_value(t.weight, 0) * scored.values[t.name] for t, _ in factors], 1)
    gen = torch.Generator().manual_seed(seed)
    diag = tree_diagnostics(
        torch.from_numpy(z), list(range(len(factors))), [f.sigma for _, f in factors],
        [f.sign for _, f in factors], torch.from_numpy(np.asarray(trace.task_reward, dtype=np.float64)),
        generator=gen,
    )
    return TreeReport(group_name, [t.name for t, _ in factors], diag, str(trace.meta.get("source", "a sample")))


def _names(source: str) -> set[str]:
    from studio.core.expr import parse

    return set(parse(source).names)


def _copy(trace: RolloutTrace) -> RolloutTrace:
    """A shallow copy whose evaluation does not overwrite the sample's own values."""
    return RolloutTrace(
        env_id=trace.env_id, features=trace.features, values={}, components={}, total=trace.total,
        task_reward=trace.task_reward, terminated=trace.terminated, truncated=trace.truncated,
        actions=trace.actions, obs=trace.obs, prev_features=trace.prev_features, meta=dict(trace.meta),
    )


__all__ = ["SAMPLE_STEPS", "TreeReport", "random_sample", "stored_sample", "tree_report"]
