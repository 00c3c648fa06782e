"""Score many stored rollouts under a design at once, from features recomputed once.

A design edit changes the returns of every stored rollout. Simulating them again would
take seconds each; instead each rollout's features are recomputed from its stored
states once (:class:`studio.sim.trace.TraceFeatures`, exact to the last bit), kept here
per rollout and per feature name, and concatenated into one batch per rollout set, so
that a new design costs one compile and one batched evaluation over all steps of all
rollouts (``np.add.reduceat`` then sums each rollout's slice).

Designs whose condition events carry state from step to step are evaluated one step at
a time over all rollouts together (one row per rollout), which is slower but exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.app.rollouts import RolloutTrace
from studio.core.compile import compile_design
from studio.core.design import Design
from studio.sim.trace import TraceFeatures, stored_arrays

__all__ = ["FeatureCache", "RolloutBatch", "Scores", "score_batch"]


@dataclass
class RolloutBatch:
    """The steps of several rollouts laid end to end."""

    ids: tuple[int, ...]
    starts: np.ndarray
    """[R] index of each rollout's first step in the batch."""
    lengths: np.ndarray
    """[R] steps per rollout."""
    terminated: np.ndarray
    truncated: np.ndarray
    features: dict[str, np.ndarray]
    prev_features: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        """All steps of all rollouts."""
        return int(self.terminated.shape[0])

    def sums(self, per_step: np.ndarray) -> np.ndarray:
        """[R] the sum of ``per_step`` [steps] over each rollout."""
        if self.steps == 0:
            return np.zeros(len(self.ids))
        out = np.add.reduceat(per_step, self.starts)
        out[self.lengths == 0] = 0.0  # reduceat gives the next element for empty slices
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Scores:
    """A design's returns on a batch of rollouts."""

    total: np.ndarray
    """[R] the design's return of each rollout."""
    terms: dict[str, np.ndarray]
    """Component -> [R] its return."""


class FeatureCache:
    """Features of stored rollouts, recomputed from their states once and kept.

    Not thread-safe: use one cache from one thread (a worker, or the GUI thread for
    edits once everything needed is cached).
    """

    def __init__(self) -> None:
        self._features: dict[int, TraceFeatures] = {}
        self._flags: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._batches: dict[tuple[int, ...], RolloutBatch] = {}

    def __contains__(self, rollout_id: object) -> bool:
        return rollout_id in self._features

    def add(self, rollout_id: int, task: Any, trace: RolloutTrace) -> None:
        """Keep ``trace``'s states to recompute the features of rollout ``rollout_id``.

        Raises:
            KeyError: the trace holds no states (recorded before they were stored).
        """
        if trace.states is None:
            raise KeyError(f"rollout {rollout_id}'s trace holds no simulator states; "
                           "record it again")
        self._features[rollout_id] = TraceFeatures(task, stored_arrays(trace.states),
                                                   np.asarray(trace.actions, np.float64))
        self._flags[rollout_id] = (np.asarray(trace.terminated, bool),
                                   np.asarray(trace.truncated, bool))
        self._batches = {k: v for k, v in self._batches.items() if rollout_id not in k}

    def discard(self, rollout_id: int) -> None:
        """Forget one rollout (e.g. its states could not be recomputed)."""
        self._features.pop(rollout_id, None)
        self._flags.pop(rollout_id, None)
        self._batches = {k: v for k, v in self._batches.items() if rollout_id not in k}

    def trace_features(self, rollout_id: int) -> TraceFeatures:
        """The recomputed features of one rollout."""
        return self._features[rollout_id]

    def batch(self, ids: Sequence[int], names: Sequence[str]) -> RolloutBatch:
        """The rollouts ``ids`` (all added) end to end, with features ``names``."""
        key = tuple(int(i) for i in ids)
        batch = self._batches.get(key)
        if batch is None:
            lengths = np.array([self._features[i].length for i in key], dtype=np.int64)
            starts = (np.cumsum(lengths) - lengths).astype(np.int64)
            term = np.concatenate([self._flags[i][0] for i in key]) if key else np.zeros(0, bool)
            trunc = np.concatenate([self._flags[i][1] for i in key]) if key else np.zeros(0, bool)
            batch = RolloutBatch(key, starts, lengths, term, trunc, {}, {})
            self._batches[key] = batch
        missing = [n for n in names if n not in batch.features]
        if missing:
            parts = [self._features[i].features(missing) for i in key]
            for n in missing:
                batch.features[n] = np.concatenate([p[0][n] for p in parts]) if parts else np.zeros(0)
                batch.prev_features[n] = (np.concatenate([p[1][n] for p in parts])
                                          if parts else np.zeros(0))
        return batch


def score_batch(design: Design, batch: RolloutBatch, compiled: Any = None) -> Scores:
    """``design``'s return (and each component's) on every rollout of ``batch``.

    ``compiled``: ``compile_design(design, dtype=torch.float64)`` when the caller has it.
    Schedules are read at training step 0.
    """
    compiled = compiled if compiled is not None else compile_design(design, dtype=torch.float64)
    names = sorted(compiled.required_features)
    if batch.steps == 0:
        zeros = np.zeros(len(batch.ids))
        return Scores(zeros, {k: zeros.copy() for k in compiled.component_names})
    feats = {n: batch.features[n] for n in names}
    prev = {n: batch.prev_features[n] for n in names} if compiled.needs_previous else None
    if not compiled.initial_state(1):
        total, comps = _chunked(compiled, batch, feats, prev)
    else:
        total, comps = _stepwise(compiled, batch, feats, prev)
    return Scores(batch.sums(total), {k: batch.sums(v) for k, v in comps.items()})


CHUNK = 16_000
"""Steps evaluated per call: below torch's parallel grain (32768 elements), so each
elementwise operation runs on the calling thread. On a loaded machine a parallel region
waits for its slowest thread: one 51,000-step call took 208 ms where four chunks took
2.6 ms (HalfCheetah's task design, load 12 on 2 cores)."""


def _chunked(compiled: Any, batch: RolloutBatch, feats: dict[str, np.ndarray],
             prev: dict[str, np.ndarray] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-step rewards of a stateless design, evaluated :data:`CHUNK` steps at a time."""
    totals: list[np.ndarray] = []
    comps: dict[str, list[np.ndarray]] = {}
    for lo in range(0, batch.steps, CHUNK):
        cut = slice(lo, lo + CHUNK)
        out = compiled({k: v[cut] for k, v in feats.items()},
                       prev_features=None if prev is None else {k: v[cut] for k, v in prev.items()},
                       terminated=batch.terminated[cut], truncated=batch.truncated[cut],
                       check_finite=False)
        totals.append(out.total.numpy())
        for k, v in out.components.items():
            comps.setdefault(k, []).append(v.numpy())
    return np.concatenate(totals), {k: np.concatenate(v) for k, v in comps.items()}


def _stepwise(compiled: Any, batch: RolloutBatch, feats: dict[str, np.ndarray],
              prev: dict[str, np.ndarray] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-step rewards when events carry state: step t of every rollout in one call."""
    rows = len(batch.ids)
    total = np.zeros(batch.steps)
    comps: dict[str, np.ndarray] = {}
    state = compiled.initial_state(rows)
    for t in range(int(batch.lengths.max())):
        live = np.flatnonzero(batch.lengths > t)
        idx = batch.starts[live] + t
        step_state = {k: v[live] for k, v in state.items()}
        out = compiled({k: v[idx] for k, v in feats.items()},
                       prev_features=None if prev is None else {k: v[idx] for k, v in prev.items()},
                       terminated=batch.terminated[idx], truncated=batch.truncated[idx],
                       state=step_state, check_finite=False)
        for k, v in out.state.items():
            state[k][live] = v
        total[idx] = out.total.numpy()
        for k, v in out.components.items():
            comps.setdefault(k, np.zeros(batch.steps))[idx] = v.numpy()
    return total, comps
