"""The ICPL prompt: what the LLM proposer is told (spec §3; Eureka's reward reflection).

:func:`build_messages` turns a :class:`~studio.refine.proposers.Feedback` into chat
messages: a system message with the design language's JSON Schema, then the task
description, the feature catalogue with units, the best and the worst design of the last
ranking with the ranker's comments, Eureka-style reflection (each term's value at every
tenth of training, then max, mean and min), the earlier best designs, fixed advice, and
what to reply. The task score is never in it: the proposer learns only from rankings.
The text is deterministic, so the app can show the exact prompt before it is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from studio.core.design import Design
from studio.refine.proposers import Feedback

SYSTEM = (
    "You are a reward engineer for reinforcement learning in MuJoCo. You write reward "
    "designs as JSON documents in Reward Studio's design language: a tree of terms (a "
    "feature or an expression over features, through a shape function, times a weight) "
    "and groups, plus optional events and potential-based shaping. Expressions may use "
    "only the task's feature names, numbers, + - * / ** and the functions {functions}.\n"
    "Shapes and their parameters:\n{shapes}\n"
    "A document must validate against this JSON Schema:\n\n{schema}"
)


def shape_lines() -> str:
    """``- name(param=default, ...)``, one shape a line."""
    from studio.core.shapes import SHAPES

    return "\n".join(f"- {name}({', '.join(f'{p.name}={p.default!r}' for p in s.params)})"
                     for name, s in SHAPES.items())

ADVICE = """Advice (from Eureka's reward reflection):
- If the best design's policy still looks wrong in the ranker's eyes, rewrite the reward rather than retune it.
- A term whose value barely changes over training gives no signal: rescale it or drop it.
- A term that is far larger than the others dominates the reward: rescale it.
- Prefer bounded transforms (exp kernel, tolerance, tanh) with a named temperature parameter for each.
- Keep term names identifiers (letters, digits, underscores) and unique."""

REPLY = """Reply with exactly one complete design document for task {task!r} as JSON, in one
```json fenced block, and nothing else after it. Make this candidate {i} of {k}: it should
differ from the other candidates of this round in at least one term or weight."""


def reflection_lines(curves: Mapping[str, Sequence[float]]) -> list[str]:
    """Each term's values at every tenth of training, then max, mean and min (Eureka's format).

    >>> reflection_lines({"speed": [0.0, 1.0, 2.0]})
    ['speed: [0.00, 1.00, 2.00], Max: 2.00, Mean: 1.00, Min: 0.00']
    """
    out = []
    for name, values in curves.items():
        vals = [float(v) for v in values]
        if not vals:
            continue
        tenths = _tenths(vals)
        out.append(f"{name}: [{', '.join(f'{v:.2f}' for v in tenths)}], Max: {max(vals):.2f}, "
                   f"Mean: {sum(vals) / len(vals):.2f}, Min: {min(vals):.2f}")
    return out


def _tenths(values: list[float]) -> list[float]:
    """At most 11 values: the curve at 0, 1/10, ..., 10/10 of its length."""
    if len(values) <= 11:
        return values
    n = len(values) - 1
    return [values[round(i * n / 10)] for i in range(11)]


def feature_table(features: Sequence[Mapping[str, Any]]) -> str:
    """``name [unit] typical low..high: description``, one feature a line."""
    lines = []
    for f in features:
        unit = f.get("unit") or "-"
        rng = ""
        if f.get("low") is not None and f.get("high") is not None:
            rng = f" typical {float(f['low']):.3g}..{float(f['high']):.3g}"
        lines.append(f"- {f['name']} [{unit}]{rng}: {f.get('description', '')}".rstrip(": "))
    return "\n".join(lines)


def _design_text(d: Design) -> str:
    return json.dumps(d.to_json(), indent=1, sort_keys=True)


def user_prompt(feedback: Feedback, task: str, i: int = 1, k: int = 1) -> str:
    """The user message for candidate ``i`` of ``k`` (deterministic text)."""
    parts = [f"# Task {task}", feedback.task_description.strip() or "(no description)",
             "# Features (name [unit] typical range: meaning)", feature_table(feedback.features)]
    if feedback.ranked:
        best, worst = feedback.ranked[0], feedback.ranked[-1]
        comments = [r.comment for r in feedback.rankings[-1:] if r.comment]
        parts.append(f"# Round {feedback.round_index - 1} was ranked by a person watching videos "
                     "of a policy trained on each candidate.")
        if comments:
            parts.append("The ranker's comment: " + " / ".join(comments))
        parts += ["## Best design of that ranking", "```json\n" + _design_text(best) + "\n```"]
        curves = feedback.term_curves.get(best.name, {})
        if curves:
            parts += ["Reward reflection of the best design: each term's episode return at every "
                      "tenth of training, then its max, mean and min:", *reflection_lines(curves)]
        if len(feedback.ranked) > 1:
            parts += ["## Worst design of that ranking", "```json\n" + _design_text(worst) + "\n```"]
            wcurves = feedback.term_curves.get(worst.name, {})
            if wcurves:
                parts += ["Reward reflection of the worst design:", *reflection_lines(wcurves)]
    if feedback.history:
        parts.append("# Best designs of earlier rounds, oldest first (what changed helps)")
        for n, d in enumerate(feedback.history, 1):
            parts.append(f"Round {n}: " + json.dumps(d.to_json()["root"], sort_keys=True))
    parts += [ADVICE, REPLY.format(task=task, i=i, k=k)]
    return "\n\n".join(parts)


def build_messages(feedback: Feedback, task: str, schema: Mapping[str, Any],
                   i: int = 1, k: int = 1) -> list[dict[str, str]]:
    """The chat messages (system, user) asking for candidate ``i`` of ``k``."""
    from studio.core.expr import FUNCTIONS

    system = SYSTEM.format(functions=", ".join(sorted(FUNCTIONS)), shapes=shape_lines(),
                           schema=json.dumps(schema, sort_keys=True))
    return [{"role": "system", "content": system},
            {"role": "user", "content": user_prompt(feedback, task, i, k)}]


def render(messages: Sequence[Mapping[str, str]]) -> str:
    """Messages as one readable text (what the app shows and the store keeps)."""
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
