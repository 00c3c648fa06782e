"""The design's reward over a rollout, and per-episode statistics of its terms.

:class:`DesignReward` buffers each step's transition features (numpy, on the host, where
the simulator produced them) and evaluates the compiled design once per rollout on all
``num_steps * num_envs`` transitions: one batched call instead of one per step, and the
NaN check with the culprit term's name comes for free. Designs with ``condition`` events
carry state from step to step, so those are evaluated step by step instead.

:class:`EpisodeStats` sums the design's reward and each component per episode and reports
``charts/episodic_return``, ``charts/task_score`` and ``Episode_Reward/<term>``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any

import numpy as np
import torch

from studio.core.compile import EventState, compile_design
from studio.core.design import Design
from studio.sim.code_terms import CodeTerms


class DesignReward:
    """A compiled design plus the feature buffers of the current rollout."""

    def __init__(
        self,
        design: Design,
        version: str,
        catalog: Collection[str] | None,
        device: torch.device,
    ) -> None:
        self.design = design
        self.version = version
        self.device = device
        self.code = CodeTerms.of(design)
        """Imported code terms, computed in a sandbox worker once per rollout (or None)."""
        if self.code is not None and catalog is not None:
            catalog = [*catalog, *self.code.features]
        self.compiled = compile_design(design, features=catalog, device=device, dtype=torch.float32)
        required = self.compiled.required_features
        self.feature_names = self.code.feature_names(required) if self.code is not None else sorted(required)
        """Features the env must compute for this design (a code term's inputs, not the term)."""
        self.component_names = self.compiled.component_names
        self.stateful = bool(self.compiled.initial_state(1))
        self.state: EventState | None = None
        self.features = np.zeros((0, 0, 0))
        self.prev = np.zeros((0, 0, 0))
        self.columns: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        """Feature -> (first column, end column, per-transition shape) in the buffers; array
        features (``qpos``...) take one column per value. Known from the first step."""
        self._size = (0, 0)

    def begin(self, num_steps: int, num_envs: int) -> None:
        """Make room for a rollout of ``num_steps`` x ``num_envs`` transitions."""
        self._size = (num_steps, num_envs)
        if self.columns:
            self._allocate()
        if self.stateful and self.state is None:
            self.state = self.compiled.initial_state(num_envs)

    def _allocate(self) -> None:
        width = max((end for _, end, _ in self.columns.values()), default=0)
        shape = (*self._size, width)
        if self.features.shape != shape:
            self.features = np.zeros(shape)
            self.prev = np.zeros(shape) if self.compiled.needs_previous else self.prev

    def record(self, t: int, result: Any) -> None:
        """Copy the features of step ``t`` out of a ``StepResult``."""
        if not self.columns:
            start = 0
            for name in self.feature_names:
                per = tuple(np.shape(result.features[name])[1:])
                self.columns[name] = (start, start + int(np.prod(per, dtype=int)), per)
                start += int(np.prod(per, dtype=int))
            self._allocate()
        num_envs = self.features.shape[1]
        for name, (a, b, _) in self.columns.items():
            self.features[t, :, a:b] = np.reshape(result.features[name], (num_envs, -1))
        if self.compiled.needs_previous:
            for name, (a, b, _) in self.columns.items():
                self.prev[t, :, a:b] = np.reshape(result.prev_features[name], (num_envs, -1))

    def _batch(self, arr: np.ndarray, rows: slice | int) -> dict[str, torch.Tensor]:
        block = torch.as_tensor(arr[rows], device=self.device)
        block = block.reshape(-1, block.shape[-1])
        out = {}
        for name, (a, b, per) in self.columns.items():
            out[name] = block[:, a] if not per else block[:, a:b].reshape(-1, *per)
        if self.code is not None and arr is self.features:
            # one batched call of the sandbox worker for the whole rollout
            for name, value in self.code.compute(out).items():
                out[name] = torch.as_tensor(value, device=self.device)
        return out

    def evaluate(
        self, step: int, terminated: torch.Tensor, truncated: torch.Tensor
    ) -> tuple[torch.Tensor, np.ndarray]:
        """(reward [T, E] on the device, components [T, E, C] on the host) of the rollout.

        Raises ``RewardNaNError`` naming the term when any value is NaN or inf.
        """
        num_steps, num_envs = terminated.shape
        prev = self.compiled.needs_previous
        if not self.stateful:
            out = self.compiled(
                self._batch(self.features, slice(None)),
                prev_features=self._batch(self.prev, slice(None)) if prev else None,
                step=step,
                terminated=terminated.reshape(-1),
                truncated=truncated.reshape(-1),
            )
            total = out.total.reshape(num_steps, num_envs)
            comps = [out.components[n].reshape(num_steps, num_envs) for n in self.component_names]
        else:
            totals, per_step = [], []
            for t in range(num_steps):
                out = self.compiled(
                    self._batch(self.features, t),
                    prev_features=self._batch(self.prev, t) if prev else None,
                    step=step,
                    terminated=terminated[t],
                    truncated=truncated[t],
                    state=self.state,
                )
                self.state = out.state
                totals.append(out.total)
                per_step.append(torch.stack([out.components[n] for n in self.component_names], -1))
            total = torch.stack(totals)
            comps = list(torch.stack(per_step).unbind(-1))
        stacked = torch.stack(comps, -1) if comps else torch.zeros((num_steps, num_envs, 0))
        return total, stacked.cpu().numpy()


class EpisodeStats:
    """Per-episode sums of the design reward, its components and the task score."""

    def __init__(self, num_envs: int, window: int = 10) -> None:
        self.num_envs = num_envs
        self.design_acc = np.zeros(num_envs)
        self.term_acc = np.zeros((num_envs, 0))
        self.names: list[str] = []
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.recent_scores: deque[float] = deque(maxlen=window)
        self._returns: list[float] = []
        self._scores: list[float] = []
        self._terms: list[np.ndarray] = []
        self.last_scores: list[float] = []
        """Task scores of the episodes that ended in the latest rollout."""

    def reset_terms(self) -> None:
        """Forget the partial sums (the design changed: its terms and scale did too)."""
        self.design_acc[:] = 0.0
        self.term_acc = np.zeros((self.num_envs, 0))
        self.names = []

    def add(
        self,
        rewards: np.ndarray,
        components: np.ndarray,
        dones: np.ndarray,
        task_returns: list[float],
        names: list[str],
    ) -> None:
        """Fold in one rollout: rewards [T, E], components [T, E, C], dones [T, E]."""
        if names != self.names:
            self.names = list(names)
            self.term_acc = np.zeros((self.num_envs, len(names)))
        new: list[float] = []
        for t in range(rewards.shape[0]):
            self.design_acc += rewards[t]
            self.term_acc += components[t]
            ended = np.flatnonzero(dones[t])
            if ended.size:
                new += self.design_acc[ended].tolist()
                self._terms.append(self.term_acc[ended].copy())
                self.design_acc[ended] = 0.0
                self.term_acc[ended] = 0.0
        self._returns += new
        self.recent_returns.extend(new)
        self._scores += task_returns
        self.last_scores = list(task_returns)
        self.recent_scores.extend(task_returns)

    def pop_metrics(self) -> dict[str, float]:
        """Means over the episodes that ended since the last call (nothing if none did)."""
        out: dict[str, float] = {}
        if self._returns:
            out["charts/episodic_return"] = float(np.mean(self._returns))
            terms = np.concatenate(self._terms)
            for j, name in enumerate(self.names):
                out[f"Episode_Reward/{name}"] = float(terms[:, j].mean())
        if self._scores:
            out["charts/task_score"] = float(np.mean(self._scores))
        self._returns, self._scores, self._terms = [], [], []
        return out

    def mean_return(self) -> float:
        """Mean design return of the last ``window`` episodes (NaN before any)."""
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    def mean_score(self) -> float:
        """Mean task score of the last ``window`` episodes (NaN before any)."""
        return float(np.mean(self.recent_scores)) if self.recent_scores else float("nan")
