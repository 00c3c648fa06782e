"""Policies a rollout can run: random, zero, a trainer's snapshot or checkpoint.

Each is a callable ``obs [B, obs_dim] -> action [B, act_dim]`` (:data:`Policy`), evaluated
in numpy so that building one on the GUI thread costs no torch module initialisation.
:mod:`studio.app.rollouts` re-exports them.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

__all__ = [
    "CheckpointFileError", "Policy", "policy_from_checkpoint", "policy_from_snapshot",
    "random_policy", "zero_policy",
]

Policy = Callable[[np.ndarray], np.ndarray]
"""obs [B, obs_dim] -> action [B, act_dim]."""


def random_policy(low: np.ndarray, high: np.ndarray, seed: int = 0) -> Policy:
    """Uniform random actions within the action range."""
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    return lambda obs: rng.uniform(lo, hi, size=(obs.shape[0], lo.shape[0]))


def zero_policy(act_dim: int) -> Policy:
    """Always the zero action."""
    return lambda obs: np.zeros((obs.shape[0], act_dim))


def policy_from_snapshot(policy_state_dict: Mapping[str, Any], obs_rms: Mapping[str, Any],
                         deterministic: bool = True, seed: int = 0) -> Policy:
    """A policy callable from a trainer ``Snapshot`` (or a checkpoint's ``agent``/``obs_rms``).

    The actor is ``studio.train.ppo.Agent.actor_mean``: linear layers with tanh (or the
    snapshot's ``activation``) between them (``studio.train.ppo.mlp``); SAC's snapshots use the
    same layout plus a tanh squash into the action bounds. It is evaluated in numpy straight from the state dict:
    building the torch module would spend ~0.4 s in orthogonal initialisation, a visible
    freeze when a snapshot arrives on the GUI thread. Observations are normalised with the
    snapshot's running statistics, as the trainer did; ``deterministic`` acts with the mean.
    """
    def arr(v: Any) -> np.ndarray:
        if isinstance(v, torch.Tensor):
            return v.detach().cpu().double().numpy()
        return np.asarray(v, dtype=np.float64)

    weights = sorted((k for k in policy_state_dict
                      if k.startswith("actor_mean.") and k.endswith(".weight")),
                     key=lambda k: int(k.split(".")[1]))
    if not weights:
        raise KeyError("the snapshot has no actor_mean layers: is it a studio PPO policy?")
    layers = [(arr(policy_state_dict[k]), arr(policy_state_dict[k[:-len("weight")] + "bias"]))
              for k in weights]
    obs_dim = layers[0][0].shape[1]
    logstd = arr(policy_state_dict.get("actor_logstd", np.zeros((1, layers[-1][0].shape[0]))))
    mean = arr(obs_rms.get("mean", np.zeros(obs_dim)))
    std = np.sqrt(arr(obs_rms.get("var", np.ones(obs_dim))) + 1e-8)
    clip = float(obs_rms.get("clip", 10.0))
    hidden_act = np.tanh if obs_rms.get("activation", "tanh") == "tanh" else (lambda v: np.maximum(v, 0.0))
    squash = None
    if "squash_low" in obs_rms:  # SAC: tanh(mean) scaled into the action bounds
        squash = (arr(obs_rms["squash_low"]), arr(obs_rms["squash_high"]))
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray) -> np.ndarray:
        x = np.clip((np.asarray(obs, dtype=np.float64) - mean) / std, -clip, clip)
        for i, (w, b) in enumerate(layers):
            x = x @ w.T + b
            if i < len(layers) - 1:
                x = hidden_act(x)
        if not deterministic:
            x = x + rng.standard_normal(x.shape) * np.exp(logstd)
        if squash is not None:
            x = squash[0] + 0.5 * (np.tanh(x) + 1.0) * (squash[1] - squash[0])
        return np.asarray(x, dtype=np.float64)

    return act


class CheckpointFileError(ValueError):
    """A chosen checkpoint file cannot be played (shown to the user as it is)."""

    user_facing = True


def policy_from_checkpoint(path: str, deterministic: bool = True) -> Policy:
    """A policy callable from a trainer checkpoint file (``PPO.state_dict()`` saved by torch).

    The file is read with ``weights_only=True``: tensors and plain data only, so a file
    that holds pickled objects (code) is refused, never run.

    Raises:
        CheckpointFileError: the file is not a checkpoint the studio wrote.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointFileError(
            f"{path} is not a checkpoint the studio can play: it was not written by its trainer, "
            f"or it holds pickled objects, which are never loaded ({first[:160]})") from exc
    if not isinstance(state, dict) or "agent" not in state:
        raise CheckpointFileError(f"{path} is not a checkpoint the studio can play: no policy in it")
    obs_rms = dict(state.get("obs_rms", {}))
    obs_rms.setdefault("clip", state.get("config", {}).get("clip_obs", 10.0))
    obs_rms.setdefault("activation", state.get("config", {}).get("activation", "tanh"))
    return policy_from_snapshot(state["agent"], obs_rms, deterministic)
