"""Numbers a designer reads before and during training: scales, curves, statistics, heat maps.

All functions are pure (no Qt, no store) and work on a design plus a feature catalogue, or
on traces of term values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.core.compile import compile_design
from studio.core.design import Design, Term
from studio.core.expr import parse
from studio.core.features import FeatureCatalog
from studio.core.schedule import param_value
from studio.core.shapes import SHAPES

DOMINANCE_SHARE = 0.8
"""A term whose share of the reward's magnitude exceeds this dominates (Eureka's advice)."""
FLAT_RELATIVE_STD = 1e-6
"""A term whose spread is below this fraction of its magnitude never changes."""


def sample_features(
    catalog: FeatureCatalog, names: Sequence[str], n: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """``n`` values of each feature drawn uniformly from its typical range (``[n, *shape]``
    for array features)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        spec = catalog.get(name)
        low, high = (spec.low, spec.high) if spec is not None else (-1.0, 1.0)
        out[name] = rng.uniform(low, high, size=(n, *(spec.shape if spec is not None else ())))
    return out


def source_range(term: Term, catalog: FeatureCatalog, n: int = 512) -> tuple[float, float]:
    """Typical range of a term's source: the feature's range, or that of the expression's values."""
    expr = parse(term.source, catalog.names() if len(catalog) else None)
    if expr.is_feature:
        spec = catalog.get(term.source)
        if spec is not None:
            return spec.low, spec.high
    feats = sample_features(catalog, sorted(expr.names), n)
    with np.errstate(all="ignore"):
        vals = np.asarray(expr.evaluate(np, feats), dtype=np.float64) * np.ones(n)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return -1.0, 1.0
    lo, hi = float(np.percentile(vals, 1)), float(np.percentile(vals, 99))
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def shape_curve(
    term: Term, catalog: FeatureCatalog, n: int = 200, step: float = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The term's shape over its source's typical range: (x[n], shaped value[n])."""
    lo, hi = source_range(term, catalog)
    x = np.linspace(lo, hi, n)
    return x, shape_values(term, x, step)


def shape_values(term: Term, x: np.ndarray, step: float = 0) -> np.ndarray:
    """The term's shape applied to raw source values ``x`` (numpy, float64)."""
    shape = SHAPES[term.shape]
    params = {**shape.defaults()}
    for k, v in term.params.items():
        params[k] = v if isinstance(v, str) else param_value(v, step)
    with np.errstate(all="ignore"):
        y = shape.fn(np, x, **params)
    out: np.ndarray = np.asarray(y, dtype=np.float64) * np.ones_like(x)
    return out


def effective_scales(
    design: Design, catalog: FeatureCatalog, step: float = 0, n: int = 256
) -> dict[str, float]:
    """Each enabled term's effective scale: |weight| x the typical magnitude of its shaped value.

    The typical magnitude is the 95th percentile of |shaped| over the source's typical range,
    so that a term that will silently dominate is visible before training.
    """
    out: dict[str, float] = {}
    for term in design.terms():
        if not term.enabled:
            continue
        try:
            _, y = shape_curve(term, catalog, n, step)
        except Exception:
            continue
        y = y[np.isfinite(y)]
        mag = float(np.percentile(np.abs(y), 95)) if y.size else 0.0
        out[term.name] = abs(param_value(term.weight, step)) * mag
    return out


def shares(scales: Mapping[str, float]) -> dict[str, float]:
    """Each entry's share of the sum (0 when all are 0)."""
    total = sum(scales.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in scales.items()}


@dataclass(frozen=True)
class TermStats:
    """Statistics of one term (or component) over a set of transitions."""

    name: str
    mean: float
    min: float
    max: float
    std: float
    share: float
    """Share of the total's magnitude: sum|term| / sum over terms of sum|term|, in [0, 1]."""
    correlation: float
    """Pearson correlation with the task score (nan without one, or when either is constant)."""
    dominates: bool
    never_changes: bool

    @property
    def flags(self) -> list[str]:
        """Human-readable warnings (Eureka's reward reflection)."""
        out = []
        if self.dominates:
            out.append(f"dominates ({self.share:.0%} of the reward's magnitude): rescale it or the others")
        if self.never_changes:
            out.append("never changes: it cannot guide learning; drop it or change its shape")
        return out


def is_constant(a: np.ndarray, rel_tol: float = FLAT_RELATIVE_STD) -> bool:
    """True when the finite values of ``a`` (two or more) spread less than ``rel_tol`` of their size."""
    if a.size < 2:
        return False
    return float(np.ptp(a)) <= rel_tol * max(1.0, float(np.max(np.abs(a))))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the common length (nan under 3 values or when one is constant)."""
    n = min(a.size, b.size)
    if n < 3:
        return float("nan")
    a, b = a[:n], b[:n]
    if is_constant(a) or is_constant(b):
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def term_statistics(
    components: Mapping[str, Any], task_score: Any | None = None, threshold: float = DOMINANCE_SHARE
) -> list[TermStats]:
    """Statistics of each component over transitions, against the task score per transition.

    ``components`` are signed, weighted contributions aligned in time with ``task_score``;
    non-finite values are left out of the statistics, and an empty component is skipped.
    """
    arrays = {k: _np(v) for k, v in components.items()}
    arrays = {k: v for k, v in arrays.items() if v.size}
    mags = {k: float(np.nansum(np.abs(v))) for k, v in arrays.items()}
    total_mag = sum(mags.values())
    score = _np(task_score) if task_score is not None else None
    nan = float("nan")
    out = []
    for name, v in arrays.items():
        finite = v[np.isfinite(v)]
        share = mags[name] / total_mag if total_mag > 0 else 0.0
        out.append(
            TermStats(
                name=name,
                mean=float(np.mean(finite)) if finite.size else nan,
                min=float(np.min(finite)) if finite.size else nan,
                max=float(np.max(finite)) if finite.size else nan,
                std=float(np.std(finite)) if finite.size else nan,
                share=share,
                correlation=nan if score is None else correlation(v, score),
                dominates=len(arrays) > 1 and share > threshold,
                never_changes=is_constant(finite),
            )
        )
    return out


def _np(v: Any) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().double().numpy().reshape(-1)
    return np.asarray(v, dtype=np.float64).reshape(-1)


def heatmap(
    design: Design,
    base: Mapping[str, float],
    x_feature: str,
    y_feature: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    which: str = "total",
    resolution: int = 64,
    step: float = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A term (or the total) over two features with the others held at ``base`` (Lucy-SKG contour).

    Returns (xs[nx], ys[ny], values[ny, nx]); ``which`` is ``total``, a component or a term
    name (terms give their shaped, unweighted value). Potential shaping is left out: it needs
    two states.
    """
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    gx, gy = np.meshgrid(xs, ys)
    n = gx.size
    d = design.copy()
    d.shaping = None
    compiled = compile_design(d, dtype=torch.float64)
    feats: dict[str, np.ndarray] = {}
    for name in compiled.required_features:
        feats[name] = np.full(n, float(base.get(name, 0.0)))
    feats[x_feature] = gx.reshape(-1)
    feats[y_feature] = gy.reshape(-1)
    out = compiled(feats, step=step, check_finite=False)
    if which == "total":
        vals = out.total
    elif which in out.components:
        vals = out.components[which]
    elif which in out.values:
        vals = out.values[which]
    else:
        raise KeyError(f"no term, group or component called {which!r} in this design")
    return xs, ys, vals.numpy().reshape(gy.shape)
