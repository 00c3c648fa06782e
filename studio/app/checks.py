"""Checks before training: what stops a design from training, and what to warn about.

The editor runs :func:`check_design` (throttled) while the design is edited and shows each
finding on its node; the training panel disables Start with :func:`start_blocker`'s
reason. Three levels:

``error``
    The design cannot train (a malformed expression, an unknown shape, a bad parameter).
``draft``
    Unfinished rather than wrong (an empty group): the tree shows a hint, training waits.
``warning``
    It trains, but something will go wrong: a term that gives NaN or inf on the task's
    typical states (``log(x_velocity)`` with a negative velocity), found by evaluating
    each enabled term on states drawn from the catalogue's typical ranges.

>>> from studio.core.design import Design, Group, Term
>>> from studio.core.features import FeatureCatalog, FeatureSpec
>>> cat = FeatureCatalog.of([FeatureSpec("v", "velocity", "m/s", -2.0, 2.0)])
>>> d = Design("d", "T", Group("root", [Term("log_v", "log(v)"), Group("later")]))
>>> [(c.node, c.level) for c in check_design(d, cat)]
[('later', 'draft'), ('log_v', 'warning')]
>>> start_blocker(check_design(d, cat))
"group 'later' is empty: add a term to it or remove it"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.design import Design, DesignError, Group, Term, validate

__all__ = ["LEVELS", "Check", "check_design", "nonfinite_terms", "start_blocker"]

LEVELS = ("error", "draft", "warning")
"""Worst first; ``error`` and ``draft`` block training."""
SAMPLES = 256
"""Typical states drawn per check: enough to meet a sign change, cheap enough per edit."""


@dataclass(frozen=True)
class Check:
    """One finding: ``node`` is the term/group/event name ("" for the design itself)."""

    node: str
    level: str
    message: str

    @property
    def blocks_training(self) -> bool:
        """Whether Start waits until this is fixed."""
        return self.level in ("error", "draft")


def _node_of(design: Design, path: str) -> str:
    """The name of the node a validation path points into."""
    paths = {p: n.name for p, n in design.walk()}
    paths.update({f"events[{i}]": e.name for i, e in enumerate(design.events)})
    if design.shaping is not None:
        paths["shaping"] = design.shaping.name
    best = max((k for k in paths if path == k or path.startswith((k + ".", k + "["))), key=len,
               default=None)
    return paths[best] if best is not None else ""


def check_design(design: Design, catalog: Any = None, samples: int = SAMPLES) -> list[Check]:
    """Every finding for ``design`` on the task of ``catalog`` (a ``FeatureCatalog`` or None).

    Sorted worst first, then by node name. Without a catalogue, feature names and typical
    states are unknown: only the structure is checked.
    """
    names = catalog.names() if catalog is not None and len(catalog) else None
    out: list[Check] = []
    for problem in validate(design, names):
        node = _node_of(design, problem.path)
        if problem.path.endswith(".children"):
            out.append(Check(node, "draft", f"group {node!r} is empty: add a term to it or remove it"))
        else:
            where = f"{node!r}" if node else problem.path
            out.append(Check(node, "error", f"{where}: {problem.message} (at {problem.path})"))
    broken = {c.node for c in out}
    if names is not None:
        for term, text in nonfinite_terms(design, catalog, samples).items():
            if term not in broken:
                out.append(Check(term, "warning", text))
    out.sort(key=lambda c: (LEVELS.index(c.level), c.node))
    return out


def start_blocker(checks: list[Check]) -> str | None:
    """Why training cannot start (the first blocking finding), or None."""
    for c in checks:
        if c.blocks_training:
            return c.message
    return None


def nonfinite_terms(design: Design, catalog: Any, samples: int = SAMPLES, seed: int = 0) -> dict[str, str]:
    """Enabled terms that give NaN or inf on typical states: name -> what and where.

    States are drawn uniformly from each feature's typical range (the catalogue's), the
    same draw for every term, so the message can name a state that fails.
    """
    from studio.core.analysis import sample_features, shape_values
    from studio.core.expr import ExpressionError, parse

    out: dict[str, str] = {}
    terms = _enabled_terms(design.root)
    if not terms:
        return out
    names = catalog.names()
    for term in terms:
        try:
            expr = parse(term.source, names)
        except ExpressionError:
            continue  # validation reports it
        feats = sample_features(catalog, sorted(expr.names), samples, seed)
        try:
            with np.errstate(all="ignore"):
                raw = np.asarray(expr.evaluate(np, feats), dtype=np.float64) * np.ones(samples)
                value = shape_values(term, raw)
        except (DesignError, ValueError, TypeError, KeyError, ZeroDivisionError):
            continue  # a bad parameter: validation reports it
        bad = ~np.isfinite(value)
        if not bad.any():
            continue
        i = int(np.argmax(bad))
        kind = "NaN" if np.isnan(value[i]) else "inf"
        where = ", ".join(f"{k}={float(v[i]):.3g}" for k, v in sorted(feats.items())[:3])
        share = 100.0 * float(bad.mean())
        out[term.name] = (f"{term.name} gives {kind} on {share:.0f}% of typical states "
                          f"(e.g. {where}): guard the expression (abs, clip, +eps)")
    return out


def _enabled_terms(node: Term | Group) -> list[Term]:
    if isinstance(node, Term):
        return [node] if node.enabled else []
    if not node.enabled:
        return []
    return [t for c in node.children for t in _enabled_terms(c)]
