"""Running statistics for observation normalisation and reward scaling (on the device).

Gymnasium's ``NormalizeObservation`` and ``NormalizeReward`` keep the same statistics; ours
stay on the training device as float64 tensors so that normalising costs no host round trip.

>>> import torch
>>> rms = RunningMeanStd((1,), "cpu")
>>> rms.update(torch.tensor([[1.0], [3.0]]))
>>> round(float(rms.mean[0]), 3), round(float(rms.var[0]), 3)
(2.0, 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update)."""

    def __init__(self, shape: tuple[int, ...], device: str | torch.device, epsilon: float = 1e-4) -> None:
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = epsilon

    def update(self, x: torch.Tensor) -> None:
        """Fold in a batch ``x[N, *shape]``."""
        x = x.to(self.mean.device, torch.float64)
        batch_mean = x.mean(0)
        batch_var = x.var(0, unbiased=False)
        n = x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + delta.square() * self.count * n / total
        self.var = m2 / total
        self.count = total

    def normalize(self, x: torch.Tensor, clip: float, eps: float = 1e-8) -> torch.Tensor:
        """``(x - mean) / std`` clipped to ``[-clip, clip]``, as float32."""
        out = (x.to(torch.float64) - self.mean) / torch.sqrt(self.var + eps)
        return out.clamp(-clip, clip).to(torch.float32)

    def state_dict(self) -> dict[str, Any]:
        """Plain CPU numbers: ``mean``, ``var`` (numpy) and ``count``."""
        return {"mean": self.mean.cpu().numpy(), "var": self.var.cpu().numpy(), "count": float(self.count)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave."""
        device = self.mean.device
        self.mean = torch.as_tensor(np.asarray(state["mean"]), dtype=torch.float64, device=device)
        self.var = torch.as_tensor(np.asarray(state["var"]), dtype=torch.float64, device=device)
        self.count = float(state["count"])
