"""Compile a design into a batched torch function.

``compile_design(design)(features)`` takes the features of B transitions (name -> [B]) and
returns a :class:`RewardOutput`: ``total[B]`` and its signed, weighted ``components``, whose
sum in order *is* the total (as Gymnasium's ``_get_rew`` does), plus every term's shaped,
unweighted ``values`` for plots. A NaN or inf is reported with the name of the term that
produced it (:class:`RewardNaNError`); it is never propagated silently.

>>> import torch
>>> from studio.core.design import Design, Group, Term
>>> d = Design("d", "T", Group("reward", [Term("speed", "v"), Term("effort", "u * u", weight=-0.5)]))
>>> out = compile_design(d, dtype=torch.float64)({"v": torch.tensor([1.0, 2.0]), "u": torch.tensor([2.0, 0.0])})
>>> out.total.tolist(), {k: v.tolist() for k, v in out.components.items()}
([-1.0, 2.0], {'speed': [1.0, 2.0], 'effort': [-2.0, -0.0]})
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from studio.core.combine import COMBINERS, potential_shaping
from studio.core.design import Design, EventTerm, Group, Term, check
from studio.core.expr import Expression, parse
from studio.core.heron import HeronModel
from studio.core.schedule import Param, Schedule, param_value
from studio.core.shapes import SHAPES

EventState = dict[str, torch.Tensor]
"""Event name -> bool[B]: whether a ``condition`` event already paid in this episode."""


class RewardNaNError(ArithmeticError):
    """A term produced NaN or inf; ``term`` names it, ``index`` is the first bad row."""

    def __init__(self, term: str, count: int, index: int, kind: str) -> None:
        self.term = term
        self.count = count
        self.index = index
        self.kind = kind
        super().__init__(
            f"term '{term}' produced {kind} in {count} transition(s) (first at row {index}): "
            "check for division by zero, log or sqrt of negative values, or overflowing exp"
        )


@dataclass
class RewardOutput:
    """The reward of B transitions and where it comes from."""

    total: torch.Tensor
    """[B] total reward; equal to the in-order sum of ``components``."""
    components: dict[str, torch.Tensor]
    """Signed, weighted contributions [B], keyed by term, group, event or shaping name."""
    values: dict[str, torch.Tensor]
    """Shaped, unweighted value [B] of every enabled term (and combined value of non-sum groups)."""
    state: EventState = field(default_factory=dict)
    """Event state to pass to the next call."""


def _resolve(params: Mapping[str, Param | str], step: float) -> dict[str, Any]:
    return {k: (v if isinstance(v, str) else param_value(v, step)) for k, v in params.items()}


class CompiledDesign:
    """A design ready to evaluate on batches. Build with :func:`compile_design`."""

    def __init__(
        self,
        design: Design,
        features: Collection[str] | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        heron: Mapping[str, HeronModel] | None = None,
    ) -> None:
        check(design, features)
        self.design = design
        self.heron = dict(heron or {})
        """HERON group name -> its trained reward model (a group without one gives 0)."""
        self.device = torch.device(device)
        self.dtype = dtype
        self._exprs: dict[str, Expression] = {}
        names: set[str] = set()
        previous: set[str] = set()
        for term in _enabled_terms(design.root):
            self._exprs[term.name] = parse(term.source, features)
            names |= self._exprs[term.name].names
            previous |= self._exprs[term.name].previous
        self._events: list[tuple[EventTerm, Expression | None]] = []
        for ev in design.events:
            if ev.enabled:
                expr = parse(ev.condition, features) if ev.trigger == "condition" else None
                if expr is not None:
                    names |= expr.names
                self._events.append((ev, expr))
        self._potential: Expression | None = None
        if design.shaping is not None and design.shaping.enabled:
            self._potential = parse(design.shaping.potential, features)
            names |= self._potential.names
        for group in design.heron_groups():
            if group.name in self.heron:
                names |= set(self.heron[group.name].inputs)
        self.required_features: frozenset[str] = frozenset(names)
        """Feature names this design reads; compute only these."""
        self.previous_features: frozenset[str] = frozenset(previous)
        """Features terms read one step earlier (``prev(x)``), from ``prev_features``."""
        self.needs_previous = self._potential is not None or bool(previous)
        """True when calls need ``prev_features`` (potential shaping, ``prev(x)``)."""
        self.scheduled = any(
            isinstance(p, Schedule) and p.kind != "constant" for p in _all_params(design)
        )
        """True when a weight or parameter follows the training step."""

    @property
    def component_names(self) -> list[str]:
        """Names of the components, in the order they are summed."""
        out: list[str] = []
        self._names(self.design.root, out)
        out += [ev.name for ev, _ in self._events]
        if self._potential is not None and self.design.shaping is not None:
            out.append(self.design.shaping.name)
        return out

    def _names(self, node: Term | Group, out: list[str]) -> None:
        if not node.enabled:
            return
        if isinstance(node, Term) or node.combiner != "sum":
            out.append(node.name)
        else:
            for child in node.children:
                self._names(child, out)

    def initial_state(self, batch: int) -> EventState:
        """Event state at the start of an episode: nothing has fired."""
        return {
            ev.name: torch.zeros(batch, dtype=torch.bool, device=self.device)
            for ev, expr in self._events
            if expr is not None
        }

    def _tensor(self, v: Any) -> torch.Tensor:
        if isinstance(v, torch.Tensor):
            return v.to(device=self.device, dtype=self.dtype)
        return torch.as_tensor(np.asarray(v), dtype=self.dtype, device=self.device)

    def _features(self, features: Mapping[str, Any], names: Collection[str]) -> dict[str, torch.Tensor]:
        missing = [n for n in names if n not in features]
        if missing:
            raise KeyError(f"features missing from the batch: {', '.join(sorted(missing))}")
        return {n: self._tensor(features[n]) for n in names}

    def __call__(
        self,
        features: Mapping[str, Any],
        *,
        prev_features: Mapping[str, Any] | None = None,
        step: float = 0,
        terminated: Any = None,
        truncated: Any = None,
        state: EventState | None = None,
        check_finite: bool = True,
    ) -> RewardOutput:
        """Evaluate on a batch.

        ``features`` and ``prev_features`` map names to [B] arrays for s' and s;
        ``terminated``/``truncated`` are bool[B] for this step; ``step`` is the training step
        that schedules follow; ``state`` is the event state returned by the previous call.
        """
        feats = self._features(features, self.required_features)
        if self.previous_features:
            if prev_features is None:
                raise ValueError("this design reads prev(...): pass prev_features (the features of s)")
            # prev(x) reads 'prev:x' (see studio.core.expr)
            for name, value in self._features(prev_features, self.previous_features).items():
                feats[f"prev:{name}"] = value
        batch = _batch_size(feats, features, terminated)
        components: dict[str, torch.Tensor] = {}
        values: dict[str, torch.Tensor] = {}
        ones = torch.ones(batch, dtype=self.dtype, device=self.device)
        self._eval(self.design.root, feats, step, ones, components, values, 1.0)

        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        term_flags = done if terminated is None else torch.as_tensor(terminated, device=self.device).bool()
        trunc_flags = done if truncated is None else torch.as_tensor(truncated, device=self.device).bool()
        new_state: EventState = {}
        prev_state = state if state is not None else self.initial_state(batch)
        for ev, expr in self._events:
            w = param_value(ev.weight, step)
            if ev.trigger == "termination":
                fire = term_flags
            elif ev.trigger == "truncation":
                fire = trunc_flags & ~term_flags
            else:
                assert expr is not None
                holds = _as_batch(expr.evaluate(torch, feats), ones) != 0
                fired_before = prev_state.get(ev.name, done)
                fire = holds & ~fired_before
                # The episode ends here: the next call starts a fresh one.
                new_state[ev.name] = (fired_before | holds) & ~(term_flags | trunc_flags)
            components[ev.name] = w * fire.to(self.dtype)

        if self._potential is not None and self.design.shaping is not None:
            if prev_features is None:
                raise ValueError(
                    "this design uses potential shaping: pass prev_features (the features of s)"
                )
            s = self.design.shaping
            prev = self._features(prev_features, self._potential.names)
            phi_s = _as_batch(self._potential.evaluate(torch, prev), ones)
            phi_next = _as_batch(self._potential.evaluate(torch, feats), ones)
            # The potential of a terminal state is zero (Ng et al.), so shaping cannot pay
            # for ending an episode.
            phi_next = torch.where(term_flags, torch.zeros_like(phi_next), phi_next)
            f = potential_shaping(torch, phi_s, phi_next, s.gamma, s.negative_slope)
            components[s.name] = param_value(s.weight, step) * f

        total = torch.zeros(batch, dtype=self.dtype, device=self.device)
        for c in components.values():
            total = total + c
        if check_finite:
            _check_finite(total, values, components)
        return RewardOutput(total, components, values, new_state)

    def _eval(
        self,
        node: Term | Group,
        feats: Mapping[str, torch.Tensor],
        step: float,
        ones: torch.Tensor,
        components: dict[str, torch.Tensor],
        values: dict[str, torch.Tensor],
        outer: float | None,
    ) -> torch.Tensor | None:
        """The node's weighted value; sum groups flatten their children into ``components``.

        ``outer`` is the product of the weights of the enclosing sum groups (None when the
        node sits inside a non-sum group, which records the components itself).
        """
        if not node.enabled:
            return None
        w = param_value(node.weight, step)
        if isinstance(node, Term):
            raw = self._exprs[node.name].evaluate(torch, feats)
            if isinstance(raw, torch.Tensor) and raw.dim() > 1:
                raise ValueError(
                    f"term '{node.name}' gives {tuple(raw.shape[1:])} values per transition, not one: "
                    "reduce its array with sum, mean, norm, min or max"
                )
            raw = _as_batch(raw, ones)
            shaped = _as_batch(SHAPES[node.shape].fn(torch, raw, **{**SHAPES[node.shape].defaults(), **_resolve(node.params, step)}), ones)
            values[node.name] = shaped
            value = w * shaped
            if outer is not None:
                components[node.name] = outer * value
            return value
        if node.combiner == "sum":
            parts = []
            for child in node.children:
                v = self._eval(child, feats, step, ones, components, values, None if outer is None else outer * w)
                if v is not None:
                    parts.append(v)
            return w * _sum(parts, ones)
        parts = []
        for child in node.children:
            v = self._eval(child, feats, step, ones, {}, values, None)
            if v is not None:
                parts.append(v)
        if not parts:
            return None
        comb = COMBINERS[node.combiner]
        if node.combiner == "heron" and node.name in self.heron:
            combined = _as_batch(self.heron[node.name](feats, parts), ones)
        else:
            combined = _as_batch(comb.fn(torch, parts, **{**comb.defaults(), **_resolve(node.params, step)}), ones)
        values[node.name] = combined
        value = w * combined
        if outer is not None:
            components[node.name] = outer * value
        return value


def _sum(parts: list[torch.Tensor], ones: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(ones)
    for p in parts:
        out = out + p
    return out


def _as_batch(v: Any, ones: torch.Tensor) -> torch.Tensor:
    """Broadcast a constant (or a [B] tensor) to [B]."""
    if isinstance(v, torch.Tensor):
        return v.to(ones.dtype) if v.shape == ones.shape else v * ones
    return float(v) * ones


def _batch_size(feats: Mapping[str, torch.Tensor], raw: Mapping[str, Any], flags: Any) -> int:
    for t in feats.values():
        return int(t.shape[0])
    for v in raw.values():
        return int(np.shape(v)[0])
    if flags is not None:
        return int(np.shape(flags)[0])
    return 1


def _check_finite(
    total: torch.Tensor, values: Mapping[str, torch.Tensor], components: Mapping[str, torch.Tensor]
) -> None:
    # One device sync on the happy path; the search for the culprit only on failure.
    if bool(torch.isfinite(total).all()):
        return
    for name, v in list(values.items()) + list(components.items()):
        bad = ~torch.isfinite(v)
        if bool(bad.any()):
            idx = int(torch.nonzero(bad)[0, 0])
            kind = "NaN" if bool(torch.isnan(v[idx])) else "inf"
            raise RewardNaNError(name, int(bad.sum()), idx, kind)
    raise RewardNaNError("(total)", int((~torch.isfinite(total)).sum()), 0, "NaN")


def _enabled_terms(node: Term | Group) -> list[Term]:
    """Terms that take part: enabled, and not inside a disabled group."""
    if not node.enabled:
        return []
    if isinstance(node, Term):
        return [node]
    return [t for child in node.children for t in _enabled_terms(child)]


def _all_params(design: Design) -> list[Param | str]:
    out: list[Param | str] = []
    for _, node in design.walk():
        out.append(node.weight)
        out += list(node.params.values())
    out += [e.weight for e in design.events]
    if design.shaping is not None:
        out.append(design.shaping.weight)
    return out


def compile_design(
    design: Design,
    features: Collection[str] | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    heron: Mapping[str, HeronModel] | None = None,
) -> CompiledDesign:
    """Check and compile ``design``; ``features`` (names) rejects unknown feature names early.

    ``heron`` maps HERON group names to their trained reward models (see ``studio.core.heron``).
    """
    return CompiledDesign(design, features, device, dtype, heron)
