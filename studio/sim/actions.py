"""Action bounds: the one rule for where a policy's actions are clipped, and how to sample.

Training clips a policy's actions as CleanRL's ``ClipAction`` does: to the env's action
bounds (a ``VectorEnv``'s ``action_low``/``action_high``: the actuators' control ranges,
infinite for an actuator that is not ``ctrllimited``), else to the MuJoCo model's limited
control ranges, else nowhere. The viewer, rollouts and "play a checkpoint" clip with the
same bounds, so a policy acts there exactly as it acted in training. Random actions need a
finite range: :func:`sampling_bounds` gives [-1, 1] where a bound is infinite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["action_bounds", "sampling_bounds"]


def action_bounds(env: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` where actions are clipped; ``-inf``/``inf`` where they are not."""
    src = env if hasattr(env, "action_low") else getattr(env, "task", env)
    low, high = getattr(src, "action_low", None), getattr(src, "action_high", None)
    if low is None or high is None:
        model = getattr(env, "model", None)
        if model is not None and model.nu == env.act_dim:
            limited = np.asarray(model.actuator_ctrllimited, dtype=bool)
            rng = np.asarray(model.actuator_ctrlrange, dtype=np.float64)
            low = np.where(limited, rng[:, 0], -np.inf)
            high = np.where(limited, rng[:, 1], np.inf)
        else:
            low, high = np.full(env.act_dim, -np.inf), np.full(env.act_dim, np.inf)
    return (np.asarray(low, dtype=np.float64).reshape(-1),
            np.asarray(high, dtype=np.float64).reshape(-1))


def sampling_bounds(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A finite range for uniform random actions: [-1, 1] where a bound is infinite."""
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    return np.where(np.isfinite(low), low, -1.0), np.where(np.isfinite(high), high, 1.0)
