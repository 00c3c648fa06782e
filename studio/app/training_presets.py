"""The training settings a user picks from: each task's presets, as the app offers them.

The presets themselves live in :mod:`studio.train.presets` (RL Zoo's tuned PPO, its GPU
variant, the studio's earlier CleanRL settings, and SAC). This module lists them for a task
with the default first-class (the tuned preset for the device the run will use) and builds
the learner config a run starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from studio.train.ppo import PPOConfig
from studio.train.presets import apply_preset, default_preset, preset_names
from studio.train.sac import SACConfig

_WORDS = {"zoo": "tuned (RL Zoo)", "zoo-gpu": "tuned for a GPU", "cleanrl": "CleanRL (earlier default)"}


@dataclass(frozen=True)
class PresetChoice:
    """One entry of the training settings menu."""

    algo: str
    name: str
    label: str
    default: bool


def _device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def preset_choices(env_id: str, device: str = "auto") -> list[PresetChoice]:
    """PPO's presets for ``env_id`` then SAC's; the default is marked and listed first."""
    default = default_preset(env_id, _device(device))
    out = [PresetChoice("ppo", n, f"PPO · {_WORDS.get(n, n)}", n == default) for n in preset_names(env_id)]
    out += [PresetChoice("sac", n, f"SAC · {_WORDS.get(n, n)}", False) for n in preset_names(env_id, "sac")]
    return sorted(out, key=lambda c: not c.default)


def run_config(env_id: str, algo: str, preset: str, total_timesteps: int, num_envs: int | None = None,
               device: str = "auto", **overrides: Any) -> PPOConfig | SACConfig:
    """The config a run starts with: the preset for the task, the steps, then ``num_envs``
    (None: the preset's; for PPO the rollout in all stays the preset's) and ``overrides``."""
    if algo == "sac":
        sac = apply_preset(SACConfig(total_timesteps=total_timesteps, device=device), env_id, preset, "sac")
        return replace(sac, **({"num_envs": num_envs} if num_envs else {}), **overrides)
    c = apply_preset(PPOConfig(total_timesteps=total_timesteps, device=device), env_id, preset)
    if num_envs and num_envs != c.num_envs:
        c = replace(c, num_envs=num_envs, num_steps=max(8, c.batch_size // num_envs))
    return replace(c, **overrides)
