"""Reward-hacking and imbalance detectors: pure functions over metric series and rollouts.

Each detector returns a list of :class:`Finding` (empty when nothing is wrong), with the
evidence in numbers and a suggested fix, in the spirit of Eureka's reward reflection
(rescale or drop a component that barely changes or that dominates):

- :func:`return_rises_task_falls`: the design's return climbs while the task score drops;
- :func:`dominant_terms`: one term carries more than 80% of the reward's magnitude;
- :func:`constant_terms`: a term never changes, so it cannot steer the policy;
- :func:`repetitive_behaviour`: the policy repeats one action or cycles through states;
- :func:`reward_spikes`: sudden isolated jumps of the reward;
- :func:`range_edges`: the policy lives at the edges of the action (or state) range.

>>> dominant_terms({"speed": [10.0, 11.0], "ctrl": [-0.1, -0.2]})[0].kind
'dominant_term'
>>> constant_terms({"alive": [1.0, 1.0, 1.0], "speed": [0.0, 2.0, 1.0]})[0].evidence[:5]
'alive'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.analysis import DOMINANCE_SHARE, TermStats, is_constant, term_statistics

__all__ = [
    "Finding", "TermStats", "constant_terms", "dominant_terms", "range_edges",
    "repetitive_behaviour", "return_rises_task_falls", "reward_spikes", "run_detectors",
    "term_statistics",
]



@dataclass(frozen=True)
class Finding:
    """Something suspicious about a design or a policy."""

    kind: str
    """``return_vs_task``, ``dominant_term``, ``constant_term``, ``repeated_action``,
    ``state_cycle``, ``reward_spike``, ``action_edges`` or ``state_edges``."""
    severity: str
    """``info``, ``warning`` or ``error``."""
    evidence: str
    """What was measured, with numbers."""
    suggestion: str
    """What the designer could change."""
    term: str | None = None
    """The term concerned, where there is one."""


def _arr(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    return a[np.isfinite(a)] if a.size else a


def _trend(x: np.ndarray) -> tuple[float, float]:
    """Slope of a least-squares line over the index, and the slope's t statistic."""
    n = x.size
    t = np.arange(n, dtype=np.float64)
    t -= t.mean()
    denom = float(np.sum(t * t))
    slope = float(np.sum(t * (x - x.mean())) / denom)
    resid = x - x.mean() - slope * t
    se = float(np.sqrt(np.sum(resid**2) / max(n - 2, 1) / denom))
    return slope, (slope / se if se > 0 else (np.inf * np.sign(slope) if slope else 0.0))


def return_rises_task_falls(design_return: Sequence[float] | np.ndarray,
                            task_score: Sequence[float] | np.ndarray,
                            min_points: int = 8, t_threshold: float = 2.5) -> list[Finding]:
    """The design's return trends up while the task score trends down (over the same updates).

    Both trends must be significant (|t| of the least-squares slope above
    ``t_threshold``) over the most recent half of the series, at least ``min_points``.
    """
    r, s = _arr(design_return), _arr(task_score)
    n = min(r.size, s.size)
    if n < min_points:
        return []
    k = max(min_points, n // 2)
    r, s = r[n - k:n], s[n - k:n]
    r_slope, r_t = _trend(r)
    s_slope, s_t = _trend(s)
    if r_t > t_threshold and s_t < -t_threshold:
        return [Finding(
            "return_vs_task", "error",
            f"over the last {k} updates the design return rose by {r_slope * k:+.3g} while "
            f"the task score fell by {s_slope * k:+.3g} (t = {r_t:.1f} and {s_t:.1f})",
            "the policy found a way to collect reward without doing the task: watch a "
            "rollout, then cap or remove the term it exploits, or add a term tied to the "
            "task's goal",
        )]
    return []


def dominant_terms(values: Mapping[str, Sequence[float] | np.ndarray],
                   threshold: float = DOMINANCE_SHARE) -> list[Finding]:
    """Terms whose share of the reward's total magnitude exceeds ``threshold``."""
    out = []
    for st in term_statistics(values, threshold=threshold):
        if st.dominates:
            out.append(Finding(
                "dominant_term", "warning",
                f"{st.name} makes up {st.share:.0%} of the reward's magnitude "
                f"(mean {st.mean:.3g})",
                f"scale {st.name}'s weight down (or squash it with an exp/tanh shape) so "
                "that the other terms can steer the policy",
                term=st.name,
            ))
    return out


def constant_terms(values: Mapping[str, Sequence[float] | np.ndarray],
                   rel_tol: float = 1e-6) -> list[Finding]:
    """Terms whose value never changes (a constant gives the policy no direction)."""
    out = []
    for name, v in values.items():
        a = _arr(v)
        if is_constant(a, rel_tol):
            out.append(Finding(
                "constant_term", "warning",
                f"{name} stays at {a[0]:.4g} over all {a.size} samples",
                f"check {name}'s feature and shape (a saturated tolerance or clip gives a "
                "constant); rescale its input or drop the term",
                term=name,
            ))
    return out


def repetitive_behaviour(actions: np.ndarray | None = None, states: np.ndarray | None = None,
                         action_tol: float = 1e-3, cycle_tol: float = 0.05,
                         min_steps: int = 20) -> list[Finding]:
    """The policy repeats one action, or cycles through the same states.

    ``actions`` [T, A] and ``states`` [T, D] of one episode. An action is "repeated" when
    its spread over the episode is below ``action_tol`` of its scale; a cycle is a lag L
    (2..T/3) at which every state is within ``cycle_tol`` (relative to the states' spread)
    of the state L steps later, over the second half of the episode.
    """
    out: list[Finding] = []
    if actions is not None:
        a = np.asarray(actions, dtype=np.float64)
        a = a.reshape(a.shape[0], -1)
        if a.shape[0] >= min_steps:
            scale = max(1.0, float(np.max(np.abs(a))))
            spread = float(np.max(np.std(a, axis=0)))
            if spread <= action_tol * scale:
                out.append(Finding(
                    "repeated_action", "warning",
                    f"the action barely changes over {a.shape[0]} steps (largest std "
                    f"{spread:.2g}, mean {np.round(a.mean(axis=0), 3).tolist()})",
                    "the reward may pay for holding still or for one fixed posture: check "
                    "terms that reward being alive or penalise effort heavily",
                ))
    if states is not None:
        s = np.asarray(states, dtype=np.float64)
        s = s.reshape(s.shape[0], -1)
        t = s.shape[0]
        if t >= min_steps:
            tail = s[t // 2:]
            spread = np.std(tail, axis=0)
            moving = spread > 1e-9
            if moving.any():
                z = (tail[:, moving] - tail[:, moving].mean(axis=0)) / spread[moving]
                # The shortest matching lag is the period (its multiples match too).
                best: tuple[int, float] | None = None
                for lag in range(2, max(3, z.shape[0] // 3)):
                    err = float(np.max(np.sqrt(np.mean((z[lag:] - z[:-lag]) ** 2, axis=1))))
                    if err <= cycle_tol * np.sqrt(2.0):
                        best = (lag, err)
                        break
                if best is not None:
                    out.append(Finding(
                        "state_cycle", "info",
                        f"the states repeat every {best[0]} steps over the second half of "
                        f"the episode (max relative mismatch {best[1]:.3f})",
                        "a periodic gait can be right; if it is a loop that farms reward "
                        "(rocking, spinning), add a term for net progress",
                    ))
    return out


def reward_spikes(series: Sequence[float] | np.ndarray, z_threshold: float = 8.0,
                  min_points: int = 10) -> list[Finding]:
    """Sudden isolated jumps: a step whose change is far outside the usual changes.

    Uses a robust z score of the first differences (median and MAD), so slow drifts and
    noise do not count.
    """
    x = _arr(series)
    if x.size < min_points:
        return []
    d = np.diff(x)
    med = float(np.median(d))
    mad = float(np.median(np.abs(d - med))) * 1.4826
    scale = mad if mad > 0 else max(float(np.std(d)), 1e-12)
    z = np.abs(d - med) / scale
    idx = np.nonzero(z > z_threshold)[0]
    if idx.size == 0 or (mad == 0 and float(np.std(d)) == 0):
        return []
    worst = int(idx[np.argmax(z[idx])])
    return [Finding(
        "reward_spike", "warning",
        f"{idx.size} sudden jump(s); the largest at index {worst + 1}: {x[worst]:.4g} -> "
        f"{x[worst + 1]:.4g} ({z[worst]:.0f} times the usual change)",
        "a term may blow up in rare states (division by a small number, an unbounded "
        "velocity): clip it or use a bounded shape (tanh, tolerance, exp kernel)",
    )]


def range_edges(values: np.ndarray, low: Sequence[float] | np.ndarray,
                high: Sequence[float] | np.ndarray, what: str = "action",
                margin: float = 0.02, share: float = 0.5,
                names: Sequence[str] | None = None) -> list[Finding]:
    """The policy keeps ``values`` [T, D] at the ends of their range most of the time.

    A sample is at an edge when within ``margin`` of the range's width from ``low`` or
    ``high``; a dimension is flagged when more than ``share`` of its samples are.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v.reshape(v.shape[0], -1)
    lo = np.broadcast_to(np.asarray(low, dtype=np.float64), v.shape[1:])
    hi = np.broadcast_to(np.asarray(high, dtype=np.float64), v.shape[1:])
    if v.shape[0] == 0:
        return []
    width = np.maximum(hi - lo, 1e-12)
    at_edge = (v <= lo + margin * width) | (v >= hi - margin * width)
    frac = at_edge.mean(axis=0)
    flagged = np.nonzero(frac > share)[0]
    if flagged.size == 0:
        return []
    label = [names[int(i)] if names is not None else f"{what}[{i}]" for i in flagged]
    kind = "action_edges" if what == "action" else "state_edges"
    return [Finding(
        kind, "warning",
        f"{', '.join(label)} at the edge of the {what} range in "
        f"{', '.join(f'{f:.0%}' for f in frac[flagged])} of steps",
        ("bang-bang control often exploits the simulator: penalise effort (ctrl^2) or "
         "action changes" if what == "action" else
         "the policy pushes a state to its limit: check whether a term rewards it "
         "without bound and cap it with a tolerance shape"),
    )]


def run_detectors(*, design_return: Sequence[float] | None = None,
                  task_score: Sequence[float] | None = None,
                  term_returns: Mapping[str, Sequence[float]] | None = None,
                  actions: np.ndarray | None = None,
                  action_low: Any = None, action_high: Any = None,
                  states: np.ndarray | None = None,
                  reward: Sequence[float] | None = None) -> list[Finding]:
    """Every detector that the given data allows, findings in severity order."""
    found: list[Finding] = []
    if design_return is not None and task_score is not None:
        found += return_rises_task_falls(design_return, task_score)
    if term_returns:
        found += dominant_terms(term_returns)
        found += constant_terms(term_returns)
    if actions is not None or states is not None:
        found += repetitive_behaviour(actions, states)
    if reward is not None:
        found += reward_spikes(reward)
    if actions is not None and action_low is not None and action_high is not None:
        found += range_edges(actions, action_low, action_high)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda f: order.get(f.severity, 3))
