"""SAC's replay buffer: transitions with the features a design reads, re-labelled on edits.

Each transition keeps the observations (float32: the states the learner sees, compactly),
the action, the termination flags, and the float32 feature values of s' (and of s, for
potential-based shaping) under the columns :attr:`ReplayBuffer.names`. The reward is then
a function of what is stored, so when the user applies an edited design the stored rewards
are recomputed under it (:meth:`ReplayBuffer.relabel`): batched, on the learner's device,
without a simulator step. A design that reads a feature the buffer did not store cannot be
re-labelled exactly; its stored transitions are dropped instead (and the marker says so).

Everything lives in preallocated torch tensors on the learner's device: sampling and
re-labelling move no data across the host boundary. :meth:`ReplayBuffer.state_dict` gives
the filled part on the CPU for a checkpoint, so that a resumed run keeps what it learned from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.core.compile import CompiledDesign

_STORED = ("obs", "next_obs", "actions", "rewards", "terminated", "truncated", "features", "prev")
"""The per-transition tensors a checkpoint of the buffer keeps."""


@dataclass
class Relabel:
    """What :meth:`ReplayBuffer.relabel` did."""

    relabelled: int
    """Transitions whose reward was recomputed."""
    dropped: int
    """Transitions thrown away because the new design reads features they lack."""
    seconds: float
    """Wall-clock time of the re-labelling (device work included)."""
    missing: tuple[str, ...] = ()
    """The features the buffer lacked (when transitions were dropped)."""


class ReplayBuffer:
    """A ring of ``capacity`` transitions on ``device``; feature columns named by ``names``."""

    def __init__(self, capacity: int, obs_dim: int, act_dim: int, names: Sequence[str],
                 device: torch.device) -> None:
        self.capacity, self.device = int(capacity), device
        self.obs_dim, self.act_dim = obs_dim, act_dim
        n, f32 = self.capacity, torch.float32
        self.obs = torch.zeros((n, obs_dim), dtype=f32, device=device)
        self.next_obs = torch.zeros((n, obs_dim), dtype=f32, device=device)
        self.actions = torch.zeros((n, act_dim), dtype=f32, device=device)
        self.rewards = torch.zeros(n, dtype=f32, device=device)
        self.terminated = torch.zeros(n, dtype=torch.bool, device=device)
        self.truncated = torch.zeros(n, dtype=torch.bool, device=device)
        self.pos = 0
        self.size = 0
        self._columns(list(names))

    def _columns(self, names: list[str]) -> None:
        self.names = names
        self.layout: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        """Feature -> (first column, end column, per-transition shape); array features take
        one column per value. Known from the first :meth:`add`."""
        self.features = torch.zeros((self.capacity, 0), dtype=torch.float32, device=self.device)
        self.prev = torch.zeros_like(self.features)

    def flatten(self, values: Mapping[str, np.ndarray], num: int) -> torch.Tensor:
        """Feature values of ``num`` transitions as one ``[num, width]`` float32 block."""
        if not self.layout:
            start = 0
            for n in self.names:
                per = tuple(np.shape(values[n])[1:])
                width = int(np.prod(per, dtype=int))
                self.layout[n] = (start, start + width, per)
                start += width
            self.features = torch.zeros((self.capacity, start), dtype=torch.float32, device=self.device)
            self.prev = torch.zeros_like(self.features)
        if not self.names:
            return torch.zeros((num, 0), dtype=torch.float32, device=self.device)
        block = np.concatenate([np.reshape(values[n], (num, -1)) for n in self.names], 1)
        return torch.as_tensor(block, dtype=torch.float32, device=self.device)

    def add(self, obs: torch.Tensor, next_obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
            terminated: torch.Tensor, truncated: torch.Tensor, features: Mapping[str, np.ndarray],
            prev: Mapping[str, np.ndarray] | None = None) -> None:
        """Append a batch of E transitions; ``features``/``prev``: name -> [E, ...] values of s'/s."""
        e = obs.shape[0]
        feats = self.flatten(features, e)
        before = self.flatten(prev, e) if prev else torch.zeros_like(feats)
        idx = (torch.arange(e, device=self.device) + self.pos) % self.capacity
        self.obs[idx], self.next_obs[idx], self.actions[idx] = obs, next_obs, actions
        self.rewards[idx], self.terminated[idx], self.truncated[idx] = rewards, terminated, truncated
        self.features[idx], self.prev[idx] = feats, before
        self.pos = (self.pos + e) % self.capacity
        self.size = min(self.size + e, self.capacity)

    def sample(self, batch: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """A uniform batch (with replacement, as SB3 samples): obs, actions, rewards, ..."""
        idx = torch.randint(0, self.size, (batch,), device=self.device, generator=generator)
        return {"index": idx, "obs": self.obs[idx], "next_obs": self.next_obs[idx], "actions": self.actions[idx],
                "rewards": self.rewards[idx], "terminated": self.terminated[idx].float()}

    def columns(self, rows: slice, prev: bool = False) -> dict[str, torch.Tensor]:
        """Feature name -> stored values of ``rows`` (of s', or of s with ``prev``)."""
        block = (self.prev if prev else self.features)[rows]
        return {n: block[:, a] if not per else block[:, a:b].reshape(-1, *per)
                for n, (a, b, per) in self.layout.items()}

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions on the CPU (tensors and plain data, for ``weights_only``)."""
        n = self.size
        return {
            "names": list(self.names), "pos": self.pos, "size": n,
            "layout": {k: [a, b, list(per)] for k, (a, b, per) in self.layout.items()},
            **{k: getattr(self, k)[:n].cpu() for k in _STORED},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Refill from :meth:`state_dict`; ValueError when it does not fit this buffer."""
        n = int(state["size"])
        if n > self.capacity:
            raise ValueError(f"it holds {n:,} transitions and this run's buffer {self.capacity:,}")
        obs, actions = state["obs"], state["actions"]
        if tuple(obs.shape) != (n, self.obs_dim) or tuple(actions.shape) != (n, self.act_dim):
            raise ValueError(f"its transitions have {obs.shape[-1]} observations and {actions.shape[-1]} "
                             f"actions, this task {self.obs_dim} and {self.act_dim}")
        self.names = [str(x) for x in state["names"]]
        self.layout = {str(k): (int(a), int(b), tuple(int(x) for x in per))
                       for k, (a, b, per) in state["layout"].items()}
        width = int(state["features"].shape[1])
        self.features = torch.zeros((self.capacity, width), dtype=torch.float32, device=self.device)
        self.prev = torch.zeros_like(self.features)
        for k in _STORED:
            getattr(self, k)[:n] = state[k].to(self.device)
        self.pos, self.size = int(state["pos"]) % self.capacity, n

    def relabel(self, compiled: CompiledDesign, step: int, chunk: int = 65_536) -> Relabel:
        """Recompute every stored reward under ``compiled`` at training step ``step``.

        Events that carry state between steps (``condition`` events) restart per transition:
        the buffer keeps transitions, not episodes.
        """
        start = time.perf_counter()
        missing = tuple(sorted(set(compiled.required_features) - set(self.names)))
        if missing:
            dropped = self.size
            self.pos = self.size = 0
            self._columns(sorted(compiled.required_features))
            return Relabel(0, dropped, time.perf_counter() - start, missing)
        for lo in range(0, self.size, chunk):
            rows = slice(lo, min(lo + chunk, self.size))
            out = compiled(
                self.columns(rows),
                prev_features=self.columns(rows, prev=True) if compiled.needs_previous else None,
                step=step, terminated=self.terminated[rows], truncated=self.truncated[rows],
            )
            self.rewards[rows] = out.total.to(torch.float32)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return Relabel(self.size, 0, time.perf_counter() - start)
