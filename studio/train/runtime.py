"""What a training run needs from its surroundings: the device, random states, the env protocol.

Kept apart from :mod:`studio.train.ppo` so that the algorithm reads without them.
"""

from __future__ import annotations

import os
import random
from collections.abc import Collection, Mapping
from typing import Any, Protocol

import numpy as np
import torch

# The one action-bounds rule, re-exported for the learners.
from studio.sim.actions import action_bounds as action_bounds


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch sees no CUDA device; use auto or cpu")
    return torch.device(name)


def torch_threads(share: int = 1) -> int:
    """Torch intra-op threads for a learner: half the cores (the envs need the rest), 1 to 8,
    divided among ``share`` learners running at once."""
    return max(1, min(8, (os.cpu_count() or 2) // (2 * share)))


class VectorEnvLike(Protocol):
    """What the trainer needs of ``studio.sim.vector.VectorEnv``."""

    num_envs: int
    obs_dim: int
    act_dim: int

    def reset(self, seed: int | None = None) -> np.ndarray: ...
    def set_feature_names(self, names: Collection[str]) -> None: ...
    def step(self, actions: np.ndarray) -> Any: ...
    def close(self) -> None: ...


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch (CPU and CUDA) random states, for checkpoints."""
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` gave."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def plain_rng_state() -> dict[str, Any]:
    """:func:`rng_state` as tensors and plain numbers only (loads with ``weights_only=True``)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [str(name), torch.as_tensor(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss),
                  float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_plain_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`plain_rng_state` gave."""
    name, keys, pos, has_gauss, cached = state["numpy"]
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
